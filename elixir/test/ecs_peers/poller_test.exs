defmodule EcsPeers.PollerTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  @moduletag :capture_log

  alias EcsPeers.Test.FakeCluster

  @v1 ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2"]})

  # A fetch seam whose answer the test sets; each call is reported as {:fetch, name}.
  defp fetcher(initial) do
    owner = self()
    {:ok, agent} = Agent.start_link(fn -> initial end)

    fun = fn name ->
      send(owner, {:fetch, name})

      case Agent.get(agent, & &1) do
        fun when is_function(fun, 0) -> fun.()
        answer -> answer
      end
    end

    {agent, fun}
  end

  defp set(agent, answer), do: Agent.update(agent, fn _ -> answer end)
  defp ok(version, value), do: {:ok, %{version: version, value: value}}

  # A server that polls only when told to (first poll at boot, then poll_now).
  defp start!(fetch, cluster, opts \\ []) do
    # The test's own options come first: the first of a repeated key wins.
    opts =
      opts ++
        [parameter: "/ecs-peers/shop", fetch: fetch, polling_interval: 60_000, topology: :test] ++
        FakeCluster.seams(cluster)

    pid = start_supervised!({EcsPeers, opts})
    # Wait for the boot poll to finish.
    _ = EcsPeers.status(pid)
    pid
  end

  defp flush_calls do
    receive do
      {tag, _} when tag in [:connect, :disconnect, :fetch] -> [tag | flush_calls()]
    after
      0 -> []
    end
  end

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
    assert_receive {:connect, :"shop@10.0.0.2"}, 500
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
    assert_receive {:connect, :"shop@10.0.0.1"}, 500
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
    Process.sleep(1_000)
    reads = Enum.count(flush_calls(), &(&1 == :fetch))
    assert reads in 4..6
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

  test "a malformed value keeps every connection and is logged once" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster, prune: true, basename: "shop")
    flush_calls()

    log =
      capture_log(fn ->
        for value <- ["not json", ~s({"version":2,"nodes":[]})] do
          set(agent, ok(2, value))
          assert %{result: :error, error: {:malformed_value, 2, _}} = EcsPeers.poll_now(pid)
          assert %{result: :error} = EcsPeers.poll_now(pid)
        end
      end)

    refute_received {:disconnect, _}
    refute_received {:connect, _}
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1", :"shop@10.0.0.2"]
    assert %{version: 1, nodes: [:"shop@10.0.0.1", :"shop@10.0.0.2"]} = EcsPeers.status(pid)
    assert count(log, "version 2 is malformed (:value_not_json)") == 1
    assert count(log, "version 2 is malformed ({:unsupported_version, 2})") == 1
    assert log =~ "keeping the current connections (2 peer(s) from version 1)"
  end

  test "a set with no valid entry is malformed, not empty: nothing is pruned" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster, prune: true)

    set(agent, ok(2, ~s({"version":1,"nodes":["shop@nowhere"]})))

    capture_log(fn ->
      assert %{error: {:malformed_value, 2, {:no_valid_nodes, 1}}} = EcsPeers.poll_now(pid)
    end)

    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1", :"shop@10.0.0.2"]
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

  test "an error backs off, is logged once, and never disconnects" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster, prune: true, polling_interval: 1_000, max_backoff: 5_000)
    set(agent, {:error, {:aws_error, 400, "ThrottlingException", "Rate exceeded"}})

    log =
      capture_log(fn ->
        intervals =
          for _ <- 1..4 do
            assert %{result: :error} = EcsPeers.poll_now(pid)
            EcsPeers.status(pid).interval
          end

        assert intervals == [2_000, 4_000, 5_000, 5_000]
      end)

    assert count(
             log,
             "GetParameter /ecs-peers/shop failed: ThrottlingException (HTTP 400) Rate exceeded"
           ) == 1

    refute_received {:disconnect, _}
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1", :"shop@10.0.0.2"]

    # A different error is logged; success resets the interval and says so.
    log =
      capture_log(fn ->
        set(agent, {:error, :nxdomain})
        EcsPeers.poll_now(pid)
        set(agent, ok(1, @v1))
        assert %{result: :unchanged} = EcsPeers.poll_now(pid)
      end)

    assert log =~ ":nxdomain"
    assert log =~ "reading /ecs-peers/shop works again"
    assert EcsPeers.status(pid).interval == 1_000
    assert EcsPeers.status(pid).last_error == nil
  end

  test "a crashing fetch or connect is an error, not a crash" do
    {agent, fetch} = fetcher(fn -> raise "kaboom" end)
    cluster = FakeCluster.start!()

    log =
      capture_log(fn ->
        pid = start!(fetch, cluster)
        assert %{result: :error, error: {:exception, "kaboom"}} = EcsPeers.poll_now(pid)

        set(agent, ok(1, @v1))

        pid2 =
          start_supervised!(
            {EcsPeers,
             parameter: "/p",
             name: :crashy_connect,
             fetch: fetch,
             polling_interval: 60_000,
             connect: fn _ -> raise "no" end,
             list_nodes: fn -> [] end},
            id: :crashy
          )

        # The boot read applied version 1 and failed both; this heal retries them.
        assert %{result: :unchanged, failed: [_, _]} = EcsPeers.poll_now(pid2)
        assert Process.alive?(pid) and Process.alive?(pid2)
      end)

    assert log =~ "kaboom"
    assert log =~ "could not connect to 2 node(s)"
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
    flush_calls()
    Process.sleep(200)
    assert Enum.count(flush_calls(), &(&1 == :fetch)) >= 4

    capture_log(fn ->
      set(agent, {:error, :nxdomain})
      Process.sleep(200)
    end)

    assert Enum.count(flush_calls(), &(&1 == :fetch)) >= 4
  end

  test "a throttling answer backs off and the log says why" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster, polling_interval: 1_000, max_backoff: 8_000)
    set(agent, {:error, {:aws_error, 400, "ThrottlingException", "Rate exceeded"}})

    log =
      capture_log(fn ->
        for expected <- [2_000, 4_000, 8_000, 8_000] do
          assert %{result: :error} = EcsPeers.poll_now(pid)
          assert EcsPeers.status(pid).interval == expected
        end

        set(agent, {:error, {:aws_error, 429, "HTTP 429", ""}})
        EcsPeers.poll_now(pid)
      end)

    assert count(log, "ThrottlingException (HTTP 400) Rate exceeded") == 1
    assert log =~ "request rate is shared by every app of the account"
    assert log =~ "HTTP 429 (HTTP 429)"
  end

  describe "AWS error messages" do
    # What AWS appends to a SignatureDoesNotMatch / InvalidSignatureException message.
    defp signature_error(i) do
      message =
        "The request signature we calculated does not match the signature you provided.\n\n" <>
          "The Canonical String for this request should have been\n'POST\n/\n\n" <>
          "x-amz-date:20261122T0300#{i}Z\nx-amz-security-token:SECRET-TOKEN-#{i}\n'"

      {:error, {:aws_error, 400, "InvalidSignatureException", message}}
    end

    test "a message that differs on every request is logged once, without the request" do
      {agent, fetch} = fetcher(signature_error(0))
      cluster = FakeCluster.start!()

      log =
        capture_log(fn ->
          pid = start!(fetch, cluster)

          for i <- 1..5 do
            set(agent, signature_error(i))

            assert %{result: :error, error: {:aws_error, 400, _, message}} =
                     EcsPeers.poll_now(pid)

            refute message =~ "SECRET-TOKEN"
          end

          refute inspect(EcsPeers.status(pid)) =~ "SECRET-TOKEN"
        end)

      assert count(log, "InvalidSignatureException (HTTP 400)") == 1
      assert log =~ "does not match the signature you provided."
      refute log =~ "SECRET-TOKEN"
      refute log =~ "x-amz-date"
    end

    test "a token in a message is never logged, even without a blank line before it" do
      message = "bad request x-amz-security-token:SECRET-TOKEN-1 more"
      {_agent, fetch} = fetcher({:error, {:aws_error, 400, "IncompleteSignature", message}})
      log = capture_log(fn -> start!(fetch, FakeCluster.start!()) end)
      assert log =~ "IncompleteSignature (HTTP 400) bad request [REDACTED]"
      refute log =~ "SECRET-TOKEN"
    end

    test "a message that is not a string is inspected, not a crash" do
      odd = {:error, {:aws_error, 400, "Odd", %{"detail" => [1, 2]}}}
      {_agent, fetch} = fetcher(odd)

      log =
        capture_log(fn ->
          pid = start!(fetch, FakeCluster.start!())
          assert %{result: :error} = EcsPeers.poll_now(pid)
          assert Process.alive?(pid)
        end)

      assert count(log, ~s|Odd (HTTP 400) %{"detail" => [1, 2]}|) == 1
    end
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

  defp count(log, text), do: log |> String.split(text) |> length() |> Kernel.-(1)
end
