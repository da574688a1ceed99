defmodule EcsPeers.DNSClusterResolverClusterTest do
  @moduledoc """
  Real BEAM nodes, each `shop@<ip>` in its own network namespace, each running a loop that
  calls `EcsPeers.DNSClusterResolver` the way DNSCluster calls its resolver (see
  `test/cluster/dns_cluster_peer.exs`), against moto_server's SSM. Needs root; see
  `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

  alias EcsPeers.Test.DNSClusterNode

  @interval 300

  defp start_dns_cluster_nodes!(net, parameter, ips, cookie) do
    servers =
      ips
      |> Enum.with_index(1)
      |> Enum.map(fn {ip, i} ->
        ns = NetNS.add_host!(net, "d#{i}", ip)
        ExUnit.Callbacks.on_exit(fn -> NetNS.remove(ns) end)

        spec =
          DNSClusterNode.child_spec(
            ns: ns,
            name: node_name(ip),
            cookie: cookie,
            query: parameter,
            interval: @interval,
            config: [polling_interval: @interval, read_budget: 100.0]
          )

        {ip, start_supervised!(spec)}
      end)

    servers
    |> Task.async_stream(fn {_ip, server} -> ClusterNode.await_ready!(server) end,
      timeout: 60_000
    )
    |> Stream.run()

    Map.new(servers)
  end

  test "DNSCluster with the resolver meshes the nodes of the set, and never prunes",
       %{net: net, moto: moto} do
    parameter = "/ecs-peers/dns-cluster"
    ips = ["10.20.0.1", "10.20.0.2", "10.20.0.3"]
    ClusterMoto.put_peer_set!(moto, parameter, [])
    nodes = start_dns_cluster_nodes!(net, parameter, ips, cookie())

    always(
      fn -> Enum.all?(views(nodes), fn {_, seen} -> seen == [] end) end,
      2 * @interval,
      fn -> "nodes connected before they were listed: #{inspect(views(nodes))}" end
    )

    written_at = System.monotonic_time(:millisecond)
    ClusterMoto.put_peer_set!(moto, parameter, Enum.map(ips, &node_name/1))

    # A read is due every 300 ms (±10%) and happens at the next tick: within 3 ticks.
    eventually(
      fn -> full_mesh?(views(nodes)) end,
      10 * @interval,
      fn -> "no full mesh after the write: #{inspect(views(nodes))}\n" <> outputs(nodes) end
    )

    note(
      "dns_cluster: full mesh #{System.monotonic_time(:millisecond) - written_at} ms after the write"
    )

    # Dropped from the set, shop@10.20.0.3 stays connected: DNSCluster has no prune.
    ClusterMoto.put_peer_set!(moto, parameter, Enum.map(Enum.take(ips, 2), &node_name/1))

    always(
      fn -> full_mesh?(views(nodes)) end,
      5 * @interval,
      fn -> "a node dropped from the set was disconnected: #{inspect(views(nodes))}" end
    )
  end
end
