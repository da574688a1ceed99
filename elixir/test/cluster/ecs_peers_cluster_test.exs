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

  # One :erlang.disconnect_node/1 (OTP's global, with prevent_overlapping_partitions,
  # may cut further links in response): the set is unchanged, so only the heal on
  # nodedown and on every tick can repair it, with no AWS read.
  test "a cut link is back within 3 s with polling_interval 300", %{net: net, moto: moto} do
    interval = 300
    parameter = "/ecs-peers/heal"
    ips = ["10.6.0.1", "10.6.0.2", "10.6.0.3"]
    discovery = [parameter: parameter, polling_interval: interval, prune: true]
    {nodes, _version} = start_mesh!(net, moto, "h", ips, cookie(), discovery)

    took =
      for {from, to} <- [
            {"10.6.0.1", "10.6.0.2"},
            {"10.6.0.2", "10.6.0.3"},
            {"10.6.0.3", "10.6.0.1"}
          ] do
        cut_at = now()
        assert ClusterNode.disconnect(nodes[from], node_name(to))

        eventually(fn -> full_mesh?(views(nodes)) end, 3_000, fn ->
          "the link #{from} -> #{to} was not back within 3 s: #{inspect(views(nodes))}\n" <>
            outputs(nodes)
        end)

        now() - cut_at
      end

    note("heal: cut links back after #{inspect(took)} ms (polling_interval #{interval} ms)")
    assert_discovery_alive(nodes)
  end

  test "a stray node of the basename is kept for prune_grace, then cut by all; another basename never",
       %{net: net, moto: moto} do
    interval = 300
    grace = 4_000
    parameter = "/ecs-peers/stray"
    ips = ["10.2.0.1", "10.2.0.2", "10.2.0.3"]
    cookie = cookie()

    discovery = [
      parameter: parameter,
      polling_interval: interval,
      prune: true,
      prune_grace: grace
    ]

    {nodes, _version} = start_mesh!(net, moto, "b", ips, cookie, discovery)

    # shop@10.2.0.9 is not in the set (a task the reconciler has not published yet, or
    # one that is not tagged); admin@10.2.0.8 has another basename (a remote console).
    %{"10.2.0.9" => stray} = start_nodes!(net, [{"bx", "10.2.0.9"}], cookie: cookie)

    %{"10.2.0.8" => admin} =
      start_nodes!(net, [{"by", "10.2.0.8"}], cookie: cookie, basename: "admin")

    connected_at = now()

    for ip <- ips do
      assert ClusterNode.connect(stray, node_name(ip))
      assert ClusterNode.connect(admin, node_name(ip))
    end

    extra = ["admin@10.2.0.8", "shop@10.2.0.9"]

    # Not cut within the grace (minus the time the connects above took, and a margin).
    always(fn -> full_mesh?(views(nodes), extra) end, grace - (now() - connected_at) - 500, fn ->
      "shop@10.2.0.9 was cut within the #{grace} ms grace: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)

    # Cut after it: within a read (750 ms for 3 nodes at 4 reads/s) and a tick more.
    window = 2_000

    took =
      eventually_stable(
        fn -> views(nodes) end,
        &full_mesh?(&1, ["admin@10.2.0.8"]),
        grace + 3_000 + window - (now() - connected_at),
        window,
        fn timeline ->
          "shop@10.2.0.9 was not cut for good after the grace (or admin@10.2.0.8 was cut). " <>
            "What each node saw:\n#{timeline}\n" <> outputs(nodes)
        end
      )

    note(
      "stray: cut for good #{now() - connected_at - window} ms after it connected (grace #{grace} ms, took #{took})"
    )

    assert ClusterNode.nodes(stray) -- ["admin@10.2.0.8"] == []
    assert_discovery_alive(nodes)
  end

  test "a well-formed set naming no live node changes no connection", %{net: net, moto: moto} do
    interval = 300
    parameter = "/ecs-peers/wrong"
    ips = ["10.7.0.1", "10.7.0.2", "10.7.0.3"]
    # prune_grace 0 is the dangerous case: nothing waits before a prune.
    discovery = [parameter: parameter, polling_interval: interval, prune: true, prune_grace: 0]
    {nodes, listed} = start_mesh!(net, moto, "w", ips, cookie(), discovery)
    await_applied(nodes, listed, 20 * interval)

    # A reconciler pointed at the wrong cluster, or a stale copy.
    wrong = ClusterMoto.put_peer_set!(moto, parameter, ["shop@10.7.0.99"])
    await_applied(nodes, wrong, 20 * interval)

    always(fn -> full_mesh?(views(nodes)) end, 10 * interval, fn ->
      "a set naming no live node changed connections: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)

    assert_discovery_alive(nodes)
  end

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

    cut_off? = fn views ->
      views[dropped] == [] and Enum.all?(views, fn {_, seen} -> dropped not in seen end)
    end

    window = 30_000

    took =
      eventually_stable(
        fn -> views(nodes) end,
        cut_off?,
        8_000 + window + 1_000,
        window,
        fn timeline ->
          "#{dropped} was not cut off by all within 8 s for #{window} ms. What each node saw:\n" <>
            "#{timeline}\n" <> outputs(nodes)
        end
      )

    note(
      "drain: #{dropped} cut off by all #{took} ms after the write, and stayed out #{window} ms"
    )

    assert took <= 8_000, "#{dropped} cut off by all only #{took} ms after the write"

    eventually(fn -> full_mesh?(views(members)) end, 3_000, fn ->
      "the members are not a full mesh after the drain: #{inspect(views(members))}"
    end)

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
