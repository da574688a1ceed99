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
  so a throttled cluster reads less, never more, than its budget.
  """

  @doc """
  The budgeted interval in ms between two reads of one node, for a cluster of `size`
  nodes (the size of the last good set; at least 1).
  """
  @spec interval(pos_integer(), non_neg_integer(), number()) :: pos_integer()
  def interval(polling_interval, size, read_budget) when read_budget > 0 do
    max(polling_interval, ceil(max(size, 1) * 1_000 / read_budget))
  end

  @doc """
  The interval after a failed read: double the current one, at most
  `max(max_backoff, budgeted)`, at least `budgeted`.
  """
  @spec backoff(pos_integer(), pos_integer(), pos_integer()) :: pos_integer()
  def backoff(current, budgeted, max_backoff) do
    current |> Kernel.*(2) |> min(max(max_backoff, budgeted)) |> max(budgeted)
  end

  @doc "±10% jitter, never below 1 ms."
  @spec jitter(pos_integer()) :: pos_integer()
  def jitter(interval) do
    spread = div(interval, 10)
    max(1, interval - spread + :rand.uniform(2 * spread + 1) - 1)
  end

  @doc """
  True for an answer that says the account is over its request rate: what
  `EcsPeers.AWS.SSM.throttled?/1` recognises (`ThrottlingException` and the SDKs'
  other throttling codes, HTTP 429), or an HTTP 503.
  """
  @spec throttled?(term()) :: boolean()
  def throttled?({:aws_error, 503, _type, _message}), do: true
  def throttled?(reason), do: EcsPeers.AWS.SSM.throttled?(reason)
end
