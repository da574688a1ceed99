defmodule EcsPeers.ReadBudgetClusterTest do
  @moduledoc """
  The read budget on real BEAM nodes: their `GetParameter` calls are counted by a proxy
  in front of moto_server (`EcsPeers.Test.ClusterMoto.start_proxy!/1`). Needs root; see
  `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

  # The read budget, counted by a proxy in front of moto, and the draining task: ECS
  # stops it, the reconciler drops it from the set, but its BEAM (and its EcsPeers) runs
  # until the container exits. Every member must cut it off within 8 s (each reads only
  # every 4 s here) and no one may reconnect it for 30 s.
  test "read_budget 1.0: 4 nodes read at most ~34 times in 20 s; a node dropped from the set is cut off by all within 8 s, for 30 s",
       %{net: net, moto: moto} do
    interval = 300
    parameter = "/ecs-peers/budget"
    ips = ["10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4"]
    endpoint = ClusterMoto.start_proxy!(moto)
    discovery = [parameter: parameter, polling_interval: interval, prune: true, read_budget: 1.0]
    listed = ClusterMoto.put_peer_set!(moto, parameter, peers(ips))
    {before, _} = ClusterMoto.proxy_reads!(moto, parameter)
    started = now()

    nodes =
      start_nodes!(net, hosts("e", ips),
        cookie: cookie(),
        discovery: discovery,
        endpoint: endpoint
      )

    eventually(fn -> full_mesh?(views(nodes)) end, 10_000, fn ->
      "no full mesh: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    await_applied(nodes, listed, 5_000)
    Process.sleep(max(0, 20_000 - (now() - started)))
    {count, _times} = ClusterMoto.proxy_reads!(moto, parameter)
    reads = count - before

    note(
      "budget: #{reads} GetParameter in 20 s from 4 nodes (read_budget 1.0, polling_interval #{interval} ms)"
    )

    assert reads <= 34, "#{reads} reads in 20 s by 4 nodes with read_budget 1.0"
    assert reads >= 4, "the nodes did not read through the proxy (#{reads} reads)"

    ClusterMoto.put_peer_set!(moto, parameter, peers(Enum.take(ips, 3)))
    members = Map.take(nodes, Enum.take(ips, 3))
    dropped = node_name("10.5.0.4")

    window = 30_000
    took = assert_cut_off_by_all(nodes, dropped, window)

    note(
      "drain: #{dropped} cut off by all #{took} ms after the write, and stayed out #{window} ms"
    )

    assert took <= 8_000, "#{dropped} cut off by all only #{took} ms after the write"

    eventually(fn -> full_mesh?(views(members)) end, 3_000, fn ->
      "the members are not a full mesh after the drain: #{inspect(views(members))}"
    end)

    assert_discovery_alive(nodes)
  end
end
