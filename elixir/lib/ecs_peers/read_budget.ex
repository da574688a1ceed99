defmodule EcsPeers.ReadBudget do
  @moduledoc """
  How often a node reads the parameter, so that the whole cluster stays within
  `:read_budget` reads per second (pure: no processes, no AWS).

  Parameter Store's default throughput is 40 `GetParameter`/`GetParameters`/
  `GetParametersByPath` calls per second per account and Region, shared by every
  application of the account. If each of `n` nodes reads every `n / read_budget`
  seconds, the cluster makes `read_budget` reads per second whatever its size; nodes
  never read more often than `:polling_interval`, so a small cluster reads less.

      interval(n) = max(polling_interval, n / read_budget)   (then ±10% jitter)

  With the defaults (5 s, 4.0 reads/s): 10 nodes read 2 times a second in all, 20 or
  more nodes 4 times a second (240 a minute, 10% of the default quota); a change of the
  set reaches every node within `n / 4` seconds (250 s at 1,000 nodes), while heal
  ticks keep repairing links every `:polling_interval` without reading.

  Failed reads back off: the interval doubles up to `max(max_backoff, interval(n))`,
  so a failing cluster reads less, never more, than its budget; a throttling answer
  (the account is over its quota) always doubles it, up to
  `max(max_backoff, 8 × interval(n))`, however large the cluster.

  After the boot read (at once, so a new task joins in one read), the second read comes
  at a uniformly random point between `polling_interval` and `interval(n)`
  (`first_delay/2`): the tasks of a deploy boot within seconds of each other, and
  without it their later reads would stay in step with their boot times, in waves.
  """

  @doc """
  The budgeted interval in ms between two reads of one node, for a cluster of `size`
  nodes (at least 1; `EcsPeers.Poller` passes the larger of the set's size and the
  connected nodes of the basename plus this one, so an empty or wrong set does not
  shrink it).
  """
  @spec interval(pos_integer(), non_neg_integer(), number()) :: pos_integer()
  def interval(polling_interval, size, read_budget) when read_budget > 0 do
    max(polling_interval, ceil(max(size, 1) * 1_000 / read_budget))
  end

  @doc """
  The interval after a failed read: double the current one, at least `budgeted`, at
  most `max(max_backoff, budgeted)`; for a throttling answer (`throttled? == true`) at
  most `max(max_backoff, 8 × budgeted)`.
  """
  @spec backoff(pos_integer(), pos_integer(), pos_integer(), boolean()) :: pos_integer()
  def backoff(current, budgeted, max_backoff, throttled? \\ false) do
    cap = if throttled?, do: max(max_backoff, 8 * budgeted), else: max(max_backoff, budgeted)
    current |> Kernel.*(2) |> min(cap) |> max(budgeted)
  end

  @doc """
  When the second read comes after the boot read: uniformly random in
  `[polling_interval, interval]` (full jitter).
  """
  @spec first_delay(pos_integer(), pos_integer()) :: pos_integer()
  def first_delay(polling_interval, interval) when interval <= polling_interval,
    do: jitter(interval)

  def first_delay(polling_interval, interval),
    do: polling_interval + :rand.uniform(interval - polling_interval + 1) - 1

  @doc "±10% jitter, never below 1 ms."
  @spec jitter(pos_integer()) :: pos_integer()
  def jitter(interval) do
    spread = div(interval, 10)
    max(1, interval - spread + :rand.uniform(2 * spread + 1) - 1)
  end

  @doc """
  True for an answer that says the account is over its request rate: what
  `EcsPeers.AWS.Errors.throttled?/1` recognises (`ThrottlingException` and the SDKs'
  other throttling codes, HTTP 429), or an HTTP 503.
  """
  @spec throttled?(term()) :: boolean()
  def throttled?({:aws_error, 503, _type, _message}), do: true
  def throttled?({:call, _operation, reason}), do: throttled?(reason)
  def throttled?(reason), do: EcsPeers.AWS.Errors.throttled?(reason)
end
