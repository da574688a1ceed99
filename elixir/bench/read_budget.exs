# Reads per minute for the whole cluster with the default options, beside Parameter
# Store's default quota. Run from elixir/:
#
#     mix run bench/read_budget.exs
#
# Each node's reads are scheduled with the library's own EcsPeers.ReadBudget (budgeted
# interval, ±10% jitter), simulated over 10 minutes of steady state (every node starts at
# a random phase of its interval); no AWS call is made. A second table simulates a
# deploy: every task boots within 10 s and reads at once, and the peak per-second rate
# of the reads after those boot reads is shown with the read after boot at a random
# point of the interval (ReadBudget.first_delay/2, as the poller does) and, for
# comparison, one interval ±10% after boot (phase-locked to the boot times).

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

header = [
  "nodes",
  "read every (s)",
  "cluster reads/min",
  "% of quota",
  "first read of a change (s)",
  "without sharing (s)",
  "before: every 5 s, reads/min"
]

rows =
  for nodes <- [10, 100, 500, 1_000] do
    {interval, per_min} = simulate.(nodes)

    [
      Integer.to_string(nodes),
      :erlang.float_to_binary(interval / 1000, decimals: 1),
      :erlang.float_to_binary(per_min, decimals: 0),
      :erlang.float_to_binary(100 * per_min / quota_per_min, decimals: 1) <> "%",
      # The cluster reads nodes / interval times a second: the first read after a write
      # comes interval / nodes s later on average, and is shared with every connected
      # node (EcsPeers.Share). Without sharing, the last node would read it up to one
      # jittered interval later.
      :erlang.float_to_binary(interval / nodes / 1000, decimals: 2),
      :erlang.float_to_binary(interval * 1.1 / 1000, decimals: 1),
      Integer.to_string(nodes * div(60_000, polling))
    ]
  end

table = fn header, rows ->
  widths =
    for i <- 0..(length(header) - 1),
        do: Enum.max(for r <- [header | rows], do: String.length(Enum.at(r, i)))

  line = fn row ->
    row
    |> Enum.zip(widths)
    |> Enum.map_join(" | ", fn {cell, w} -> String.pad_leading(cell, w) end)
  end

  IO.puts(line.(header))
  IO.puts(Enum.map_join(widths, "-|-", &String.duplicate("-", &1)))
  Enum.each(rows, &IO.puts(line.(&1)))
end

table.(header, rows)

# A deploy: boots uniform in 10 s; peak reads in any one second after the boot reads,
# over 15 minutes.
deploy_window = 15 * 60_000

deploy = fn nodes, second_read ->
  interval = ReadBudget.interval(polling, nodes, budget)

  1..nodes
  |> Enum.flat_map(fn _ ->
    boot = :rand.uniform(10_000) - 1

    Stream.iterate(boot + second_read.(interval), &(&1 + ReadBudget.jitter(interval)))
    |> Enum.take_while(&(&1 < deploy_window))
  end)
  |> Enum.frequencies_by(&div(&1, 1_000))
  |> Map.values()
  |> Enum.max(fn -> 0 end)
end

IO.puts(
  "\nA deploy: every task boots within 10 s and reads at once (one read each, to join); " <>
    "the reads after those, peak reads in one second over 15 minutes:\n"
)

table.(
  ["nodes", "budget (reads/s)", "random second read: peak/s", "interval ±10% after boot: peak/s"],
  for nodes <- [100, 500, 1_000] do
    [
      Integer.to_string(nodes),
      :erlang.float_to_binary(budget, decimals: 1),
      Integer.to_string(deploy.(nodes, &ReadBudget.first_delay(polling, &1))),
      Integer.to_string(deploy.(nodes, &ReadBudget.jitter/1))
    ]
  end
)

IO.puts(
  "\nHeal ticks (every #{polling} ms) need no read: cut links are repaired at that pace " <>
    "at every size. A deploy's new tasks each read once at boot, at once; a set read " <>
    "is shared with the connected nodes, so a change reaches all of them with the first read."
)
