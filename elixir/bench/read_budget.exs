# Reads per minute for the whole cluster with the default options, beside Parameter
# Store's default quota. Run from elixir/:
#
#     mix run bench/read_budget.exs
#
# Each node's reads are scheduled with the library's own EcsPeers.ReadBudget (budgeted
# interval, ±10% jitter), simulated over 10 minutes of steady state (every node starts at
# a random phase of its interval); no AWS call is made.

alias EcsPeers.{Options, ReadBudget}

defaults = Map.new(Options.schema(), &{&1.key, &1.default})
polling = defaults.polling_interval
budget = defaults.read_budget
quota_per_min = 40 * 60
minutes = 10
window = minutes * 60_000

simulate = fn nodes ->
  interval = ReadBudget.interval(polling, nodes, budget)

  reads =
    Enum.reduce(1..nodes, 0, fn _, total ->
      first = :rand.uniform(interval) - 1

      Stream.iterate(first, &(&1 + ReadBudget.jitter(interval)))
      |> Enum.take_while(&(&1 < window))
      |> length()
      |> Kernel.+(total)
    end)

  {interval, reads / minutes}
end

IO.puts(
  "defaults: polling_interval #{polling} ms, read_budget #{budget} reads/s; " <>
    "Parameter Store default quota 40 TPS = #{quota_per_min} reads/min per account and Region\n"
)

header = ["nodes", "read every (s)", "cluster reads/min", "% of quota", "set change reaches all (s)", "before: every 5 s, reads/min"]
rows =
  for nodes <- [10, 100, 500, 1_000] do
    {interval, per_min} = simulate.(nodes)

    [
      Integer.to_string(nodes),
      :erlang.float_to_binary(interval / 1000, decimals: 1),
      :erlang.float_to_binary(per_min, decimals: 0),
      :erlang.float_to_binary(100 * per_min / quota_per_min, decimals: 1) <> "%",
      # The last node to read after a write reads at most one jittered interval later.
      :erlang.float_to_binary(interval * 1.1 / 1000, decimals: 1),
      Integer.to_string(nodes * div(60_000, polling))
    ]
  end

widths =
  for i <- 0..(length(header) - 1), do: Enum.max(for r <- [header | rows], do: String.length(Enum.at(r, i)))

line = fn row ->
  row
  |> Enum.zip(widths)
  |> Enum.map_join(" | ", fn {cell, w} -> String.pad_leading(cell, w) end)
end

IO.puts(line.(header))
IO.puts(Enum.map_join(widths, "-|-", &String.duplicate("-", &1)))
Enum.each(rows, &IO.puts(line.(&1)))

IO.puts(
  "\nHeal ticks (every #{polling} ms) need no read: cut links are repaired at that pace " <>
    "at every size. A deploy's new tasks each read once at boot, at once."
)
