# One BEAM node of the DNSCluster resolver's cluster test, started by
# EcsPeers.Test.DNSClusterNode as
#
#     ip netns exec NS elixir --name shop@IP --cookie C -pa EBIN... test/cluster/dns_cluster_peer.exs
#
# It runs a loop that calls EcsPeers.DNSClusterResolver the way DNSCluster
# (phoenixframework/dns_cluster, lib/dns_cluster.ex) calls its :resolver, DNSCluster
# itself not being a dependency: basename(node()) once at start, then every interval,
# from the loop's own process, list_nodes(), lookup(query, type) for :a and :aaaa,
# "basename@" <> :inet.ntoa(addr) for each address, and connect_node(:"name") in tasks
# for the names not connected yet. It never disconnects anyone, as DNSCluster.
#
# Environment: ECSP_QUERY (the SSM parameter), ECSP_INTERVAL (ms), ECSP_RESOLVER_CONFIG
# (an Elixir keyword list for config :ecs_peers, EcsPeers.DNSClusterResolver), and the
# AWS_* variables the library reads.
#
# Line protocol (replies start with "@@"): on start "@@ready NODE"; "nodes" ->
# "@@nodes N1 N2 ..." (Node.list/0, sorted); EOF on stdin halts the node.

defmodule EcsPeers.Test.DNSClusterLoop do
  use GenServer

  alias EcsPeers.DNSClusterResolver, as: Resolver

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl true
  def init(opts) do
    state = %{
      basename: Resolver.basename(node()),
      query: Keyword.fetch!(opts, :query),
      interval: Keyword.fetch!(opts, :interval)
    }

    {:ok, state, {:continue, :discover}}
  end

  @impl true
  def handle_continue(:discover, state), do: {:noreply, discover(state)}

  @impl true
  def handle_info(:discover, state), do: {:noreply, discover(state)}

  defp discover(state) do
    connected = for name <- Resolver.list_nodes(), into: MapSet.new(), do: to_string(name)

    ips =
      for type <- [:a, :aaaa, :srv], addr <- Resolver.lookup(state.query, type), uniq: true do
        to_string(:inet.ntoa(addr))
      end

    ips
    |> Enum.map(&"#{state.basename}@#{&1}")
    |> Enum.reject(&MapSet.member?(connected, &1))
    |> Task.async_stream(&Resolver.connect_node(:"#{&1}"),
      max_concurrency: max(1, length(ips)),
      timeout: 10_000
    )
    |> Stream.run()

    Process.send_after(self(), :discover, state.interval)
    state
  end
end

defmodule EcsPeers.Test.DNSClusterPeer do
  def main do
    {:ok, _} = Application.ensure_all_started(:ecs_peers)
    {config, _} = Code.eval_string(System.get_env("ECSP_RESOLVER_CONFIG", "[]"))
    Application.put_env(:ecs_peers, EcsPeers.DNSClusterResolver, config)

    {:ok, _} =
      EcsPeers.Test.DNSClusterLoop.start_link(
        query: System.fetch_env!("ECSP_QUERY"),
        interval: String.to_integer(System.fetch_env!("ECSP_INTERVAL"))
      )

    reply("ready", Atom.to_string(node()))
    loop()
  end

  defp loop do
    case IO.gets("") do
      line when is_binary(line) ->
        handle(String.trim(line))
        loop()

      _eof_or_error ->
        System.halt(0)
    end
  end

  defp handle("nodes"),
    do:
      reply("nodes", Node.list() |> Enum.map(&Atom.to_string/1) |> Enum.sort() |> Enum.join(" "))

  defp handle(other), do: reply("error", "unknown command #{inspect(other)}")

  defp reply(tag, payload), do: IO.puts("@@#{tag} #{payload}")
end

EcsPeers.Test.DNSClusterPeer.main()
