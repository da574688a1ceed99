defmodule EcsPeers.PollerErrorsTest do
  @moduledoc "A failed read keeps the last good set, is logged once, backs off, shows no secret."
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog
  import EcsPeers.Test.Fetcher

  @moduletag :capture_log

  alias EcsPeers.Test.FakeCluster

  @v1 ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2"]})

  test "a malformed value keeps every connection and is logged once" do
    {agent, fetch} = fetcher(ok(1, @v1))
    cluster = FakeCluster.start!()
    pid = start!(fetch, cluster, prune: true, basename: "shop")
    flush_calls()

    log =
      capture_log(fn ->
        for value <- ["not json", ~s({"version":3,"nodes":[]})] do
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
    assert count(log, "version 2 is malformed ({:unsupported_version, 3})") == 1
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

        # Throttled: doubling up to max(max_backoff, 8 × the budgeted 1 s).
        assert intervals == [2_000, 4_000, 8_000, 8_000]
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
end
