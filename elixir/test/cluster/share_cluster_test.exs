defmodule EcsPeers.ShareClusterTest do
  @moduledoc """
  Sharing a newly read set (`EcsPeers.Share`) on real BEAM nodes, each `shop@<ip>` in
  its own network namespace, running `EcsPeers` against moto_server's SSM. Needs root;
  see `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

  # Members read at very different intervals, as in a large cluster where each node reads
  # every n / read_budget seconds: two read every 4 s, one member and the node to be
  # dropped every ~4,000 s, so within this test they read only at boot. Without sharing,
  # the slow member would reconnect the dropped node on every heal, and the dropped node
  # would reconnect everyone from its old set, until their next reads.
  test "a node dropped from the set is cut off by all within 8 s, for 30 s, while a member and the dropped node read only every ~4,000 s",
       %{net: net, moto: moto} do
    interval = 300
    parameter = "/ecs-peers/share"
    fast = ["10.8.0.1", "10.8.0.3"]
    slow = ["10.8.0.2", "10.8.0.4"]
    ips = Enum.sort(fast ++ slow)
    cookie = cookie()
    discovery = [parameter: parameter, polling_interval: interval, prune: true]
    listed = ClusterMoto.put_peer_set!(moto, parameter, peers(ips))

    nodes =
      Map.merge(
        start_nodes!(net, hosts("f", fast),
          cookie: cookie,
          discovery: discovery ++ [read_budget: 1.0]
        ),
        start_nodes!(net, hosts("s", slow),
          cookie: cookie,
          discovery: discovery ++ [read_budget: 0.001]
        )
      )

    eventually(fn -> full_mesh?(views(nodes)) end, 10_000, fn ->
      "no full mesh: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    await_applied(nodes, listed, 5_000)
    dropped = node_name("10.8.0.4")
    members = Map.drop(nodes, ["10.8.0.4"])
    written = ClusterMoto.put_peer_set!(moto, parameter, peers(ips -- ["10.8.0.4"]))

    window = 30_000
    took = assert_cut_off_by_all(nodes, dropped, window)

    note(
      "share: #{dropped} cut off by all #{took} ms after the write, and stayed out #{window} ms"
    )

    assert took <= 8_000, "#{dropped} cut off by all only #{took} ms after the write"

    # The slow member and the dropped node hold the new version without having read it
    # (their next read is about an hour away): it was shared with them.
    for ip <- slow do
      status = ClusterNode.status(nodes[ip])
      assert ClusterNode.applied_version(nodes[ip]) == written, "#{ip}: #{status}"
    end

    assert ClusterNode.status(nodes["10.8.0.4"]) =~ "membership: :draining"

    eventually(fn -> full_mesh?(views(members)) end, 3_000, fn ->
      "the members are not a full mesh after the drain: #{inspect(views(members))}"
    end)

    assert_discovery_alive(nodes)
  end
end
