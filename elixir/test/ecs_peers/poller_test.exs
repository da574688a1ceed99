defmodule EcsPeers.PollerTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  @moduletag :capture_log

  import EcsPeers.Test.Fetcher

  alias EcsPeers.Test.FakeCluster

  @v1 ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2"]})

  test "boot does not wait for AWS" do
    {_agent, fetch} = fetcher(fn -> Process.sleep(2_000) && ok(1, @v1) end)
    cluster = FakeCluster.start!()

    {micros, {:ok, _pid}} =
      :timer.tc(fn ->
        EcsPeers.start_link([parameter: "/p", fetch: fetch] ++ FakeCluster.seams(cluster))
      end)

    assert micros < 500_000
  end

  test "connects to every node of the set" do
    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    log = capture_log(fn -> start!(fetch, cluster) end)

    assert_received {:connect, :"shop@10.0.0.1"}
    assert_received {:connect, :"shop@10.0.0.2"}
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1", :"shop@10.0.0.2"]
    assert log =~ "[ecs_peers:test] connected to 2 node(s)"
  end

  test "an empty or wrong set does not shrink the read interval: the connected nodes of the basename count" do
    connected = for i <- 1..399, do: :"shop@10.1.#{div(i, 250)}.#{rem(i, 250) + 1}"
    cluster = FakeCluster.start!(connected: [:"admin@10.9.9.9" | connected])

    for value <- [~s({"version":1,"nodes":[]}), ~s({"version":1,"nodes":["shop@10.0.0.9"]})] do
      {_agent, fetch} = fetcher(ok(1, value))
      pid = start!(fetch, cluster, basename: "shop", polling_interval: 5_000, topology: :size)
      # 399 connected nodes of the basename and this one, at 4 reads/s: 100 s.
      assert EcsPeers.status(pid).interval == 100_000
      stop_supervised!(EcsPeers)
    end
  end

  test "an unchanged version is not decoded again, and the heal after it reconnects" do
    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster)
    flush_calls()

    FakeCluster.set_connected(cluster, [:"shop@10.0.0.1"])

    assert %{result: :unchanged, version: 1, connected: [:"shop@10.0.0.2"]} =
             EcsPeers.poll_now(pid)

    assert flush_calls() == [:fetch, :connect]
  end

  test "every tick heals without reading: a lost link is back within a tick" do
    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    # A budget so small that no read follows the boot read during the test.
    start!(fetch, cluster, polling_interval: 50, read_budget: 0.001)
    flush_calls()

    FakeCluster.set_connected(cluster, [:"shop@10.0.0.1"])
    assert_receive {:connect, :"shop@10.0.0.2"}, 2_000
    Process.sleep(200)
    refute_received {:fetch, _}
  end

  test "a nodedown heals at once, without a read" do
    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster)
    flush_calls()

    FakeCluster.set_connected(cluster, [:"shop@10.0.0.2"])
    # What :net_kernel.monitor_nodes/1 sends; a burst of them is healed once.
    for _ <- 1..5, do: send(pid, {:nodedown, :"shop@10.0.0.1"})
    assert_receive {:connect, :"shop@10.0.0.1"}, 2_000
    Process.sleep(100)
    assert flush_calls() == []
  end

  test "reads are spaced to cluster size / read_budget, ticks to polling_interval" do
    nodes = for i <- 1..10, do: ~s("shop@10.0.1.#{i}")
    value = ~s({"version":1,"nodes":[#{Enum.join(nodes, ",")}]})
    {_agent, fetch} = fetcher(ok(1, value))
    cluster = FakeCluster.start!()
    # 10 nodes at 50 reads/s: one read per 200 ms per node, though ticks come every 20 ms.
    pid = start!(fetch, cluster, polling_interval: 20, read_budget: 50.0)
    assert EcsPeers.status(pid).interval == 200
    flush_calls()
    assert_receive {:fetch, _}, 1_000
    Process.sleep(1_000)
    # At most one read per 200 ms (±10%); a loaded machine can only make it fewer.
    reads = Enum.count(flush_calls(), &(&1 == :fetch))
    assert reads <= 6
  end

  test "a new version connects the newcomers only" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster)
    flush_calls()

    set(agent, ok(2, ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2","shop@10.0.0.3"]})))
    assert %{result: :applied, version: 2, connected: [:"shop@10.0.0.3"]} = EcsPeers.poll_now(pid)
    assert_received {:connect, :"shop@10.0.0.3"}
    refute_received {:connect, _}
  end

  test "invalid entries are skipped and summarised in one log line per version" do
    value = ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.300","evil@10.0.0.4","x y"]})
    {_agent, fetch} = fetcher(ok(1, value))
    cluster = FakeCluster.start!()

    log =
      capture_log(fn ->
        pid = start!(fetch, cluster, basename: "shop")
        EcsPeers.poll_now(pid)
      end)

    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1"]

    assert count(log, "ignored 3 invalid entries") == 1
    assert log =~ ~s|"shop@10.0.0.300" (invalid_ipv4)|
    assert log =~ ~s|"evil@10.0.0.4" (other_basename)|
  end

  test "a hanging connect times out without stalling the others, and is retried" do
    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!(hang: [:"shop@10.0.0.1"])

    log =
      capture_log(fn ->
        {micros, pid} = :timer.tc(fn -> start!(fetch, cluster, connect_timeout: 300) end)
        assert micros < 2_000_000
        assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.2"]
        flush_calls()

        # The failed node is retried by the next heal though the version is the same.
        assert %{result: :unchanged, failed: [:"shop@10.0.0.1"]} = EcsPeers.poll_now(pid)
        assert flush_calls() == [:fetch, :connect]
      end)

    assert count(log, "could not connect to 1 node(s): shop@10.0.0.1") == 1
  end

  test "telemetry events for a read and a connect (disconnect: see PruneTest)" do
    owner = self()

    telemetry = fn event, measurements, metadata ->
      send(owner, {:telemetry, event, measurements, metadata})
    end

    {_agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    capture_log(fn -> start!(fetch, cluster, telemetry: telemetry) end)

    assert_received {:telemetry, [:ecs_peers, :connect], %{count: 2, failed: 0},
                     %{topology: :test, nodes: [:"shop@10.0.0.1", :"shop@10.0.0.2"]}}

    assert_received {:telemetry, [:ecs_peers, :poll], %{duration: d},
                     %{
                       topology: :test,
                       result: :applied,
                       version: 1,
                       parameter: "/ecs-peers/shop",
                       throttled: false
                     }}

    assert is_integer(d)
  end

  test "every read reschedules the next one, whatever happened" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    # 2 nodes at 100 reads/s: the budget allows one read per 20 ms per node.
    start!(fetch, cluster, polling_interval: 20, read_budget: 100.0, max_backoff: 20)
    for _ <- 1..4, do: assert_receive({:fetch, _}, 1_000)

    capture_log(fn ->
      set(agent, {:error, :nxdomain})
      for _ <- 1..4, do: assert_receive({:fetch, _}, 1_000)
    end)
  end

  test "a re-created parameter (same version, new value) is applied" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster)
    flush_calls()

    # Deleted and re-created: versions restart at 1, with a different set.
    set(agent, ok(1, ~s({"version":1,"nodes":["shop@10.0.0.3"]})))

    assert %{result: :applied, version: 1, connected: [:"shop@10.0.0.3"]} = EcsPeers.poll_now(pid)

    assert %{nodes: [:"shop@10.0.0.3"]} = EcsPeers.status(pid, 1_000)
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
  end

  test "many hanging connects: the connect phase is bounded by connect_timeout overall" do
    nodes = for i <- 1..200, do: "shop@10.0.3.#{i}"
    value = ~s({"version":1,"nodes":[) <> Enum.map_join(nodes, ",", &~s("#{&1}")) <> "]}"
    {_agent, fetch} = fetcher(ok(1, value))
    # 199 dead addresses and one live one at the end of the sorted set.
    hang = for n <- Enum.drop(nodes, -1), do: String.to_atom(n)
    cluster = FakeCluster.start!(hang: hang)

    capture_log(fn ->
      # Before: ceil(200 / 32) rounds x connect_timeout = 2.1 s.
      {micros, pid} = :timer.tc(fn -> start!(fetch, cluster, connect_timeout: 300) end)
      assert micros < 1_000_000

      # Addresses tried in vain go last, so the live one is reached within a few heals.
      reports =
        for _ <- 1..7 do
          {micros, report} = :timer.tc(fn -> EcsPeers.poll_now(pid) end)
          assert micros < 1_000_000
          report
        end

      assert Enum.any?(reports, &(&1.connected == [:"shop@10.0.3.200"]))
      assert length(List.last(reports).failed) == 199
    end)
  end
end
