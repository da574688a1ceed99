defmodule EcsPeers.PruneTest do
  # This VM runs as a distributed node so that it can be in the set (the prune rules
  # act only then): not async.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.Test.{Distributed, FakeCluster}

  @moduletag :capture_log

  setup_all do
    Distributed.start!()
  end

  setup do
    me = node()
    a = Distributed.peer("10.0.0.2")
    {:ok, answer} = Agent.start_link(fn -> {1, [me, a]} end)

    fetch = fn _ ->
      {version, nodes} = Agent.get(answer, & &1)
      {:ok, %{version: version, value: Distributed.value(nodes)}}
    end

    %{me: me, a: a, answer: answer, fetch: fetch}
  end

  defp start!(ctx, cluster, opts) do
    opts = opts ++ [parameter: "/p", fetch: ctx.fetch, polling_interval: 60_000, topology: :prune]

    pid = start_supervised!({EcsPeers, opts ++ FakeCluster.seams(cluster)})
    _ = EcsPeers.status(pid)
    pid
  end

  defp flush do
    receive do
      {tag, _} when tag in [:connect, :disconnect] -> flush()
    after
      0 -> :ok
    end
  end

  defp publish(ctx, version, nodes), do: Agent.update(ctx.answer, fn _ -> {version, nodes} end)

  test "a node dropped from the set is pruned at once and stays out until re-added", ctx do
    b = Distributed.peer("10.0.0.3")
    publish(ctx, 1, [ctx.me, ctx.a, b])
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster, prune: true)
    assert FakeCluster.list_nodes(cluster) == [ctx.a, b]

    publish(ctx, 2, [ctx.me, ctx.a])
    log = capture_log(fn -> assert %{disconnected: [^b]} = EcsPeers.poll_now(pid) end)
    assert log =~ "disconnected from 1 node(s) absent from the peer set: #{b}"

    # It comes back (its own loop, or global through a peer that has not read yet): it
    # is cut again at once, and a nodedown heal does not connect it.
    flush()
    FakeCluster.set_connected(cluster, [ctx.a, b])
    send(pid, {:nodedown, b})
    assert_receive {:disconnect, ^b}, 2_000
    refute_received {:connect, ^b}

    publish(ctx, 3, [ctx.me, ctx.a, b])
    assert %{connected: [^b]} = EcsPeers.poll_now(pid)
  end

  test "a stray of the basename is kept for prune_grace, then pruned; another basename never",
       ctx do
    stray = Distributed.peer("10.0.0.9")
    cluster = FakeCluster.start!(connected: [stray, :"admin@10.0.0.8"])
    pid = start!(ctx, cluster, prune: true, prune_grace: 300)

    assert %{disconnected: []} = EcsPeers.poll_now(pid)
    Process.sleep(150)
    assert %{disconnected: []} = EcsPeers.poll_now(pid)
    Process.sleep(200)
    assert %{disconnected: [^stray]} = EcsPeers.poll_now(pid)
    assert FakeCluster.list_nodes(cluster) == [:"admin@10.0.0.8", ctx.a]
  end

  test "without prune: nobody is disconnected", ctx do
    stray = Distributed.peer("10.0.0.9")
    cluster = FakeCluster.start!(connected: [stray])
    pid = start!(ctx, cluster, prune_grace: 0)
    publish(ctx, 2, [ctx.me])
    assert %{disconnected: []} = EcsPeers.poll_now(pid)
    refute_received {:disconnect, _}
  end

  test "a well-formed set without this node prunes nobody and says why, once", ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster, prune: true, prune_grace: 0)
    before = FakeCluster.list_nodes(cluster)

    # A reconciler pointed at the wrong cluster: a set naming no live node.
    publish(ctx, 2, [Distributed.peer("10.9.9.9")])

    log =
      capture_log(fn ->
        for _ <- 1..3, do: assert(%{disconnected: []} = EcsPeers.poll_now(pid))
      end)

    refute_received {:disconnect, _}
    assert FakeCluster.list_nodes(cluster) == before
    assert EcsPeers.status(pid).membership == :wrong_set
    assert length(String.split(log, "names neither #{ctx.me} nor any node")) == 2
  end

  test "an empty set prunes nobody", ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster, prune: true, prune_grace: 0)
    before = FakeCluster.list_nodes(cluster)
    publish(ctx, 2, [])

    log = capture_log(fn -> assert %{disconnected: []} = EcsPeers.poll_now(pid) end)
    assert FakeCluster.list_nodes(cluster) == before
    assert log =~ "the peer set is empty although"
  end

  test "after a prune, links global cut are healed on nodedown", ctx do
    b = Distributed.peer("10.0.0.3")
    publish(ctx, 1, [ctx.me, ctx.a, b])
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster, prune: true)
    publish(ctx, 2, [ctx.me, ctx.a])
    assert %{disconnected: [^b]} = EcsPeers.poll_now(pid)

    # As global does (prevent_overlapping_partitions): a healthy link dropped too.
    flush()
    FakeCluster.set_connected(cluster, [])
    send(pid, {:nodedown, ctx.a})
    a = ctx.a
    assert_receive {:connect, ^a}, 2_000
    refute_received {:connect, ^b}
  end

  test "telemetry for a prune", ctx do
    owner = self()
    telemetry = fn event, m, meta -> send(owner, {:t, event, m, meta}) end
    b = Distributed.peer("10.0.0.3")
    publish(ctx, 1, [ctx.me, ctx.a, b])
    pid = start!(ctx, FakeCluster.start!(), prune: true, telemetry: telemetry)
    publish(ctx, 2, [ctx.me, ctx.a])
    EcsPeers.poll_now(pid)
    assert_received {:t, [:ecs_peers, :disconnect], %{count: 1}, %{nodes: [^b], topology: :prune}}
  end
end
