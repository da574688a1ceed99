defmodule EcsPeers.Test.Fetcher do
  @moduledoc """
  Helpers for the loop's tests: a `:fetch` seam whose answer the test sets (each call is
  reported to the test process as `{:fetch, name}`), and a server that reads only when
  told to (the boot read, then `EcsPeers.poll_now/1`).
  """

  import ExUnit.Callbacks, only: [start_supervised!: 1]

  alias EcsPeers.Test.FakeCluster

  @doc "`{agent, fun}`: `fun` answers what `set/2` last put in `agent` (or calls it)."
  def fetcher(initial) do
    owner = self()
    {:ok, agent} = Agent.start_link(fn -> initial end)

    fun = fn name ->
      send(owner, {:fetch, name})

      case Agent.get(agent, & &1) do
        fun when is_function(fun, 0) -> fun.()
        answer -> answer
      end
    end

    {agent, fun}
  end

  def set(agent, answer), do: Agent.update(agent, fn _ -> answer end)
  def ok(version, value), do: {:ok, %{version: version, value: value}}

  @doc "Starts `EcsPeers` on `cluster`'s seams; returns once the boot read is done."
  def start!(fetch, cluster, opts \\ []) do
    # The test's own options come first: the first of a repeated key wins.
    opts =
      opts ++
        [parameter: "/ecs-peers/shop", fetch: fetch, polling_interval: 60_000, topology: :test] ++
        FakeCluster.seams(cluster)

    pid = start_supervised!({EcsPeers, opts})
    _ = EcsPeers.status(pid)
    pid
  end

  @doc "The `:connect`, `:disconnect` and `:fetch` calls received so far, in order."
  def flush_calls do
    receive do
      {tag, _} when tag in [:connect, :disconnect, :fetch] -> [tag | flush_calls()]
    after
      0 -> []
    end
  end

  @doc "How often `text` occurs in `log`."
  def count(log, text), do: log |> String.split(text) |> length() |> Kernel.-(1)
end
