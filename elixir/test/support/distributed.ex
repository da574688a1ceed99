defmodule EcsPeers.Test.Distributed do
  @moduledoc """
  Makes the test VM a distributed node (`selftest<OS pid>@127.0.0.1`: two `mix test`
  runs on one machine share epmd), for tests where this node must be in the peer set
  (the prune rules only act then). Call `start!/0` from `setup_all` of a test module
  that is not async; the node stops when the module ends.
  """

  import ExUnit.Callbacks, only: [on_exit: 1]

  def start! do
    unless Node.alive?() do
      epmd =
        System.find_executable("epmd") || raise "epmd not found on PATH (it comes with erlang)"

      {_, 0} = System.cmd(epmd, ["-daemon"])
      {:ok, _} = Node.start(:"selftest#{System.pid()}@127.0.0.1", :longnames)
      on_exit(fn -> Node.stop() end)
    end

    :ok
  end

  @doc "A peer-set value listing `nodes` (atoms or strings)."
  def value(nodes),
    do: ~s({"version":1,"nodes":[) <> Enum.map_join(nodes, ",", &~s("#{&1}")) <> "]}"

  @doc "This node's basename."
  def basename, do: node() |> Atom.to_string() |> String.split("@") |> hd()

  @doc "A node name with this node's basename at `ip`."
  def peer(ip) do
    [base, _] = node() |> Atom.to_string() |> String.split("@")
    :"#{base}@#{ip}"
  end
end
