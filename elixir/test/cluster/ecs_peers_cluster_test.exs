defmodule EcsPeers.ClusterTest do
  @moduledoc """
  Real BEAM nodes, each `shop@<ip>` in its own network namespace, running `EcsPeers`
  against moto_server's SSM. The test writes the parameter with boto3 and watches
  `Node.list/0` on every node. Needs root; see `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

  test "nodes in the parameter connect to each other within two polling intervals of the write",
       %{net: net, moto: moto} do
    interval = 1_000
    parameter = "/ecs-peers/connect"
    ips = ["10.1.0.1", "10.1.0.2", "10.1.0.3"]

    # The steady state before the nodes are listed: a valid, empty set. (A missing
    # parameter is an error the poller backs off from, so it would not show the interval.)
    ClusterMoto.put_peer_set!(moto, parameter, [])

    cookie = cookie()

    opts = [
      cookie: cookie,
      discovery: [parameter: parameter, polling_interval: interval, prune: false]
    ]

    nodes = start_nodes!(net, hosts("a", ips), opts)

    always(
      fn -> Enum.all?(views(nodes), fn {_, seen} -> seen == [] end) end,
      interval,
      fn -> "nodes connected before they were listed: #{inspect(views(nodes))}" end
    )

    written_at = now()
    ClusterMoto.put_peer_set!(moto, parameter, peers(ips))

    eventually(
      fn -> full_mesh?(views(nodes)) end,
      2 * interval - (now() - written_at),
      fn ->
        "no full mesh #{2 * interval} ms after the write: #{inspect(views(nodes))}\n" <>
          outputs(nodes)
      end
    )

    note("connect: full mesh #{now() - written_at} ms after the write (interval #{interval} ms)")

    # A node added to the set later is connected by the others just as fast. It runs no
    # discovery itself, so only the others' polling can connect it.
    new_ip = "10.1.0.4"
    nodes = Map.merge(nodes, start_nodes!(net, [{"a4", new_ip}], cookie: cookie))
    written_at = now()
    ClusterMoto.put_peer_set!(moto, parameter, peers(ips ++ [new_ip]))

    eventually(
      fn -> full_mesh?(views(nodes)) end,
      2 * interval - (now() - written_at),
      fn ->
        "#{new_ip} not connected #{2 * interval} ms after the write: #{inspect(views(nodes))}\n" <>
          outputs(nodes)
      end
    )

    note("connect: #{new_ip} connected #{now() - written_at} ms after the write")
    assert_discovery_alive(nodes)
  end

  test "prune: false leaves a same-basename node missing from the set connected",
       %{net: net, moto: moto} do
    interval = 500
    parameter = "/ecs-peers/keep"
    ips = ["10.3.0.1", "10.3.0.2", "10.3.0.3"]
    cookie = cookie()

    discovery = [parameter: parameter, polling_interval: interval, prune: false, prune_grace: 0]

    {nodes, _version} = start_mesh!(net, moto, "c", ips, cookie, discovery)

    %{"10.3.0.9" => intruder} = start_nodes!(net, [{"cx", "10.3.0.9"}], cookie: cookie)
    for ip <- ips, do: assert(ClusterNode.connect(intruder, node_name(ip)))

    # Across several heals and reads, and a new version of the same set: nothing is
    # disconnected.
    always(fn -> full_mesh?(views(nodes), ["shop@10.3.0.9"]) end, 5 * interval, fn ->
      "a node with prune: false dropped shop@10.3.0.9: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)

    ClusterMoto.put_peer_set!(moto, parameter, peers(ips))

    always(fn -> full_mesh?(views(nodes), ["shop@10.3.0.9"]) end, 3 * interval, fn ->
      "a node with prune: false dropped shop@10.3.0.9: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)

    assert ClusterNode.nodes(intruder) == peers(ips)
    assert_discovery_alive(nodes)
  end

  test "a malformed parameter value leaves every connection intact", %{net: net, moto: moto} do
    interval = 500
    parameter = "/ecs-peers/malformed"
    ips = ["10.4.0.1", "10.4.0.2", "10.4.0.3"]
    cookie = cookie()

    # prune: true is the dangerous case: a value misread as "no peers" would cut every
    # link. The poller backs off on errors; max_backoff bounds how late the good value
    # at the end is picked up.
    discovery = [
      parameter: parameter,
      polling_interval: interval,
      prune: true,
      max_backoff: 2 * interval
    ]

    {nodes, _version} = start_mesh!(net, moto, "d", ips, cookie, discovery)

    malformed = [
      "not json",
      ~s({"version":1,"nodes":"x"}),
      ~s({"version":1}),
      ~s({"version":2,"nodes":["shop@10.4.0.1"]}),
      ~s({"version":1,"nodes":["not a node", 42]}),
      ~s(["shop@10.4.0.1"]),
      ~s({"version":1,"nodes":["shop@10.4.0.1")
    ]

    for value <- malformed do
      ClusterMoto.put_parameter!(moto, parameter, value)

      always(fn -> full_mesh?(views(nodes)) end, 3 * interval, fn ->
        "the mesh broke after the value #{inspect(value)}: #{inspect(views(nodes))}\n" <>
          outputs(nodes)
      end)

      assert_discovery_alive(nodes)
    end

    # A good value after the bad ones is followed again: it adds shop@10.4.0.4, which
    # runs no discovery itself, so the others must connect it.
    new_ip = "10.4.0.4"
    nodes = Map.merge(nodes, start_nodes!(net, [{"d4", new_ip}], cookie: cookie))
    ClusterMoto.put_peer_set!(moto, parameter, peers(ips ++ [new_ip]))

    eventually(fn -> full_mesh?(views(nodes)) end, 4 * interval, fn ->
      "the good value after the bad ones was not applied: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)
  end
end
