defmodule EcsPeers.ReadBudgetTest do
  use ExUnit.Case, async: true

  alias EcsPeers.ReadBudget

  test "a node reads every max(polling_interval, cluster size / read_budget)" do
    assert ReadBudget.interval(5_000, 10, 4.0) == 5_000
    assert ReadBudget.interval(5_000, 100, 4.0) == 25_000
    assert ReadBudget.interval(5_000, 1_000, 4.0) == 250_000
    assert ReadBudget.interval(300, 4, 1.0) == 4_000
    # No set yet, or an empty one, counts as one node.
    assert ReadBudget.interval(300, 0, 1.0) == 1_000
  end

  test "the whole cluster stays within the budget whatever its size" do
    for size <- [1, 7, 20, 200, 1_000, 5_000], budget <- [0.5, 1.0, 4.0, 40.0] do
      per_second = size * 1_000 / ReadBudget.interval(100, size, budget)
      assert per_second <= budget + 1.0e-9, "#{size} nodes at #{budget}: #{per_second}/s"
    end
  end

  test "a failed read doubles the interval, between the budgeted one and max_backoff" do
    assert ReadBudget.backoff(1_000, 1_000, 5_000) == 2_000
    assert ReadBudget.backoff(4_000, 1_000, 5_000) == 5_000
    # A budgeted interval longer than max_backoff is never shortened by a failure.
    assert ReadBudget.backoff(250_000, 250_000, 60_000) == 250_000
  end

  test "a throttling answer always doubles the interval, past the budgeted one, even at 240 nodes or more" do
    # 1,000 nodes at 4 reads/s: budgeted 250 s, above max_backoff (60 s).
    assert ReadBudget.backoff(250_000, 250_000, 60_000, true) == 500_000
    assert ReadBudget.backoff(500_000, 250_000, 60_000, true) == 1_000_000
    # At most 8 × the budgeted interval (or max_backoff, if longer).
    assert ReadBudget.backoff(1_600_000, 250_000, 60_000, true) == 2_000_000
    assert ReadBudget.backoff(2_000_000, 250_000, 60_000, true) == 2_000_000
    assert ReadBudget.backoff(4_000, 1_000, 60_000, true) == 8_000
    # Other errors: as before.
    assert ReadBudget.backoff(250_000, 250_000, 60_000, false) == 250_000
  end

  test "the read after the boot read comes at a uniformly random point between polling_interval and the interval" do
    delays = for _ <- 1..2_000, do: ReadBudget.first_delay(5_000, 250_000)
    assert Enum.all?(delays, &(&1 in 5_000..250_000))
    # Spread over the whole interval, not bunched at its end (as interval ± 10% would be).
    assert Enum.count(delays, &(&1 < 127_500)) in 800..1_200
    assert Enum.min(delays) < 30_000 and Enum.max(delays) > 225_000
    # An interval no longer than polling_interval: the usual ±10%.
    assert ReadBudget.first_delay(5_000, 5_000) in 4_500..5_500
  end

  test "throttling answers: ThrottlingException, HTTP 429 and 503; other errors are not" do
    assert ReadBudget.throttled?({:aws_error, 400, "ThrottlingException", "Rate exceeded"})
    assert ReadBudget.throttled?({:aws_error, 429, "HTTP 429", ""})
    assert ReadBudget.throttled?({:aws_error, 503, "ServiceUnavailable", ""})
    refute ReadBudget.throttled?({:aws_error, 400, "ParameterNotFound", ""})
    refute ReadBudget.throttled?(:nxdomain)
    refute ReadBudget.throttled?(nil)
  end

  test "jitter is ±10%, never below 1 ms" do
    for _ <- 1..200, do: assert(ReadBudget.jitter(1_000) in 900..1_100)
    assert ReadBudget.jitter(1) == 1
  end
end
