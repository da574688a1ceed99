defmodule EcsPeers.ClusterTest do
  @moduledoc """
  Real BEAM nodes, each `shop@<ip>` in its own network namespace, running `EcsPeers`
  against moto_server's SSM. The test writes the parameter with boto3 and watches
  `Node.list/0` on every node. Needs root; see `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

  defp hosts(prefix, ips),
    do: ips |> Enum.with_index(1) |> Enum.map(fn {ip, i} -> {"#{prefix}#{i}", ip} end)

  defp now, do: System.monotonic_time(:millisecond)

  defp peers(ips), do: Enum.map(ips, &node_name/1)

  defp assert_discovery_alive(nodes) do
    for {ip, node} <- nodes do
      assert ClusterNode.discovery(node) in ["alive", "none"],
             "EcsPeers died on #{node_name(ip)}\n" <> ClusterNode.output(node)
    end
  end

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

  test "prune: true disconnects a same-basename node missing from the set, and only that one",
       %{net: net, moto: moto} do
    interval = 500
    # The reconciler does not rewrite an unchanged set, so a stray connection is found by
    # the periodic resync (default 60 s; shortened here).
    resync = 3 * interval
    parameter = "/ecs-peers/prune"
    ips = ["10.2.0.1", "10.2.0.2", "10.2.0.3"]
    cookie = cookie()

    discovery = [
      parameter: parameter,
      polling_interval: interval,
      prune: true,
      resync_interval: resync
    ]

    {nodes, _version} = start_mesh!(net, moto, "b", ips, cookie, discovery)

    # shop@10.2.0.9 is not in the set (say, a task the reconciler already dropped);
    # admin@10.2.0.8 has another basename (say, a remote console): prune must spare it.
    %{"10.2.0.9" => intruder} = start_nodes!(net, [{"bx", "10.2.0.9"}], cookie: cookie)

    %{"10.2.0.8" => admin} =
      start_nodes!(net, [{"by", "10.2.0.8"}], cookie: cookie, basename: "admin")

    for ip <- ips do
      assert ClusterNode.connect(intruder, node_name(ip))
      assert ClusterNode.connect(admin, node_name(ip))
    end

    converge = resync + 2 * interval
    window = resync + interval

    took =
      eventually_stable(
        fn -> views(nodes) end,
        &full_mesh?(&1, ["admin@10.2.0.8"]),
        converge + window,
        window,
        fn
          timeline ->
            "within #{converge + window} ms after they connected, shop@10.2.0.9 was not pruned for good " <>
              "(or admin@10.2.0.8 was pruned). What each node saw (Node.list/0):\n#{timeline}\n" <>
              outputs(nodes)
        end
      )

    note(
      "prune: shop@10.2.0.9 pruned for good #{took} ms after it connected (resync #{resync} ms)"
    )

    refute Enum.any?(ClusterNode.nodes(intruder), &(&1 in peers(ips))),
           "shop@10.2.0.9 still sees nodes of the set: #{inspect(ClusterNode.nodes(intruder))}"

    assert_discovery_alive(nodes)
  end

  # The draining task: ECS stops it, the reconciler drops it from the set, but its BEAM
  # (and its EcsPeers, with the same set) runs until the container exits, ~30 s later.
  # The others prune it; it must not reconnect, and the pruning must not break the mesh
  # of the nodes that stay. (OTP 25+'s global, with prevent_overlapping_partitions, may
  # cut a healthy link when a node is disconnected: the loop must repair it promptly.)
  test "prune: true leaves a node dropped from the set outside a stable mesh, though its EcsPeers still runs",
       %{net: net, moto: moto} do
    interval = 500
    resync = 3 * interval
    parameter = "/ecs-peers/drain"
    ips = ["10.5.0.1", "10.5.0.2", "10.5.0.3"]

    discovery = [
      parameter: parameter,
      polling_interval: interval,
      prune: true,
      resync_interval: resync
    ]

    {nodes, listed} = start_mesh!(net, moto, "e", ips, cookie(), discovery)

    # Every node has seen itself listed (so 10.5.0.3 is a member that leaves, not a new
    # node that is not listed yet).
    await_applied(nodes, listed, 10 * interval)
    ClusterMoto.put_peer_set!(moto, parameter, peers(["10.5.0.1", "10.5.0.2"]))

    settled = %{
      "shop@10.5.0.1" => ["shop@10.5.0.2"],
      "shop@10.5.0.2" => ["shop@10.5.0.1"],
      "shop@10.5.0.3" => []
    }

    # Transient cuts while the nodes react are tolerated; the end state must come within
    # two resyncs and then hold across another resync.
    converge = 2 * resync + 2 * interval
    window = resync + 2 * interval

    took =
      eventually_stable(
        fn -> views(nodes) end,
        &(&1 == settled),
        converge + window,
        window,
        fn timeline ->
          "within #{converge + window} ms after shop@10.5.0.3 left the set, the nodes did not hold " <>
            "#{inspect(settled)} for #{window} ms. What each node saw (Node.list/0):\n#{timeline}\n" <>
            outputs(nodes)
        end
      )

    note("drain: settled for good #{took} ms after the write")
  end

  test "prune: false leaves a same-basename node missing from the set connected",
       %{net: net, moto: moto} do
    interval = 500
    resync = 3 * interval
    parameter = "/ecs-peers/keep"
    ips = ["10.3.0.1", "10.3.0.2", "10.3.0.3"]
    cookie = cookie()

    discovery = [
      parameter: parameter,
      polling_interval: interval,
      prune: false,
      resync_interval: resync
    ]

    {nodes, _version} = start_mesh!(net, moto, "c", ips, cookie, discovery)

    %{"10.3.0.9" => intruder} = start_nodes!(net, [{"cx", "10.3.0.9"}], cookie: cookie)
    for ip <- ips, do: assert(ClusterNode.connect(intruder, node_name(ip)))

    # Across a resync and a new version of the same set: nothing is disconnected.
    always(fn -> full_mesh?(views(nodes), ["shop@10.3.0.9"]) end, resync + 2 * interval, fn ->
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
      resync_interval: 2 * interval,
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

  # Lists `ips` in the parameter, starts a node on each (host names `prefix1`, `prefix2`, ...)
  # running EcsPeers with `discovery`, and waits for the full mesh. Returns the nodes and the
  # parameter version that lists them.
  defp start_mesh!(net, moto, prefix, ips, cookie, discovery) do
    version = ClusterMoto.put_peer_set!(moto, discovery[:parameter], peers(ips))
    nodes = start_nodes!(net, hosts(prefix, ips), cookie: cookie, discovery: discovery)

    eventually(fn -> full_mesh?(views(nodes)) end, 10 * discovery[:polling_interval], fn ->
      "no full mesh: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    {nodes, version}
  end
end
