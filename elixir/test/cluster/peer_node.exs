# One BEAM node of the cluster tests, started by EcsPeers.Test.ClusterNode as
#
#     ip netns exec NS elixir --name shop@IP --cookie C -pa EBIN... test/cluster/peer_node.exs
#
# Environment:
#   ECSP_DISCOVERY  "standalone" (EcsPeers.start_link/1) or "none" (an intruder that only
#                   connects by hand)
#   ECSP_PARAMETER, ECSP_POLLING_INTERVAL, ECSP_PRUNE ("true"/"false"), ECSP_BASENAME
#   ECSP_OPTIONS    more EcsPeers options as an Elixir keyword list, e.g. "[prune_grace: 1500]"
#   AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  (read by the library)
#
# Line protocol on stdin/stdout (replies start with "@@", everything else is log output):
#   (on start)        -> @@ready NODE
#   nodes             -> @@nodes N1 N2 ...     (Node.list/0, sorted)
#   connect NODE      -> @@connect true|false|ignored
#   disconnect NODE   -> @@disconnect true|false|ignored
#   discovery         -> @@discovery alive|dead|none
#   status            -> @@status <inspect(EcsPeers.status/1)>
#   state             -> @@state <inspect(:sys.get_state/1) of the EcsPeers process>   (debugging)
#   stop_discovery    -> @@stop_discovery ok      (as when the app shuts down: the node stays up)
#   EOF on stdin      -> the node halts (the test closed the Port or died)

defmodule EcsPeers.Test.PeerNode do
  def main do
    discovery = start_discovery(System.get_env("ECSP_DISCOVERY", "none"))
    reply("ready", Atom.to_string(node()))
    loop(discovery)
  end

  defp start_discovery("none"), do: nil

  defp start_discovery("standalone") do
    {:ok, _} = Application.ensure_all_started(:ecs_peers)

    opts = [
      parameter: System.get_env("ECSP_PARAMETER", ""),
      polling_interval: String.to_integer(System.fetch_env!("ECSP_POLLING_INTERVAL")),
      prune: System.get_env("ECSP_PRUNE") == "true",
      basename: System.fetch_env!("ECSP_BASENAME")
    ]

    {extra, _} = Code.eval_string(System.get_env("ECSP_OPTIONS", "[]"))
    opts = Keyword.merge(opts, extra)
    # No parameter: the store is :cloud_map, given in ECSP_OPTIONS.
    opts = if opts[:parameter] == "", do: Keyword.delete(opts, :parameter), else: opts

    # Not linked: if the library crashes, the node stays up and `discovery` says `dead`,
    # so the test reports it instead of losing the node and its output.
    {:ok, pid} = EcsPeers.start_link(opts)
    Process.unlink(pid)
    pid
  end

  defp loop(discovery) do
    case IO.gets("") do
      line when is_binary(line) ->
        line |> String.trim() |> String.split(" ", trim: true) |> handle(discovery)
        loop(discovery)

      _eof_or_error ->
        System.halt(0)
    end
  end

  defp handle(["nodes"], _),
    do:
      reply("nodes", Node.list() |> Enum.map(&Atom.to_string/1) |> Enum.sort() |> Enum.join(" "))

  defp handle(["connect", name], _),
    do: reply("connect", inspect(Node.connect(String.to_atom(name))))

  defp handle(["disconnect", name], _),
    do: reply("disconnect", inspect(Node.disconnect(String.to_atom(name))))

  defp handle(["discovery"], nil), do: reply("discovery", "none")

  defp handle(["discovery"], pid),
    do: reply("discovery", if(Process.alive?(pid), do: "alive", else: "dead"))

  defp handle(["status"], pid) when is_pid(pid),
    do:
      reply("status", inspect(EcsPeers.status(pid), limit: :infinity, printable_limit: :infinity))

  defp handle(["state"], pid) when is_pid(pid),
    do: reply("state", inspect(:sys.get_state(pid), limit: :infinity, printable_limit: 4096))

  defp handle(["stop_discovery"], pid) when is_pid(pid) do
    GenServer.stop(pid)
    reply("stop_discovery", "ok")
  end

  defp handle(other, _), do: reply("error", "unknown command #{inspect(other)}")

  defp reply(tag, payload), do: IO.puts("@@#{tag} #{payload}")
end

EcsPeers.Test.PeerNode.main()
