defmodule EcsPeers.HealPruneClusterTest do
  @moduledoc """
  Heal and prune on real BEAM nodes, each `shop@<ip>` in its own network namespace,
  running `EcsPeers` against moto_server's SSM: cut links are repaired without a read,
  a stray is pruned only after the grace, and a set that names no live node changes
  nothing. Needs root; see `EcsPeers.Test.NetNS`.
  """
  use EcsPeers.Test.ClusterCase, async: false

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

    note(
      "heal: cut links back after #{Enum.join(took, ", ")} ms (polling_interval #{interval} ms)"
    )

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
    watching_from = now()

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
      "stray: cut for good #{watching_from + took - connected_at} ms after it connected (grace #{grace} ms)"
    )

    assert ClusterNode.nodes(stray) -- ["admin@10.2.0.8"] == []
    assert_discovery_alive(nodes)
  end

  test "a well-formed set naming no live node changes no connection, and cut links are still healed",
       %{net: net, moto: moto} do
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

    # While the wrong set stands, each node heals the last set that listed it.
    assert ClusterNode.disconnect(nodes["10.7.0.1"], node_name("10.7.0.2"))
    cut_at = now()

    eventually(fn -> full_mesh?(views(nodes)) end, 3_000, fn ->
      "a link cut under a wrong set was not healed within 3 s: #{inspect(views(nodes))}\n" <>
        outputs(nodes)
    end)

    note("wrong set: a cut link back after #{now() - cut_at} ms")
    assert ClusterNode.status(nodes["10.7.0.1"]) =~ "membership: :wrong_set"
    assert_discovery_alive(nodes)
  end
end
