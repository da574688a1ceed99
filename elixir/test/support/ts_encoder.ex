defmodule EcsPeers.Test.TsEncoder do
  @moduledoc """
  Runs the TypeScript reconciler's peer-set encoder (`lib/peerSet`, through the scripts
  in `elixir/test/support` and the repository's `tsx`), for the cross-language tests.
  Needs `npm ci` at the repository root; raises saying so otherwise (never skips).
  """

  @root Path.expand("../../..", __DIR__)

  # How many sets random_sets.ts may run ahead of their reader.
  @ahead 64
  @line_max 1_048_576

  @doc """
  The published values of each set, in order: `[{main, [part]}]`. `sets` are
  `{basename, [ip_string]}`; `v2: true` forces the v2 form even where v1 fits.
  """
  def encode!(sets, opts \\ []) do
    tsx = tsx!()
    dir = Path.join(System.tmp_dir!(), "ecs_peers_ts_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    input = Path.join(dir, "sets.txt")
    output = Path.join(dir, "encoded.txt")

    try do
      File.write!(
        input,
        Enum.map(sets, fn {basename, ips} -> [Enum.join([basename | ips], " "), ?\n] end)
      )

      args =
        ["elixir/test/support/encode_sets.ts", input, output] ++
          if(opts[:v2], do: ["--v2"], else: [])

      {out, status} = System.cmd(tsx, args, cd: @root, stderr_to_stdout: true)

      if status != 0,
        do: raise("the TypeScript encoder failed (#{status}): #{String.slice(out, 0, 2_000)}")

      output
      |> File.read!()
      |> String.split("\n", trim: true)
      |> Enum.map(fn line ->
        [main | parts] = String.split(line, "\t")
        {main, parts}
      end)
    after
      File.rm_rf!(dir)
    end
  end

  @doc """
  Random sets `elixir/test/support/random_sets.ts` makes from `seed` and encodes with
  the reconciler's `lib/peerSet`, in the order made, as a lazy stream. `what` is
  `{:sizes, range}`, one set of each size, drawn from `spaces` in turn (size `n` from
  `Enum.at(spaces, rem(n, length(spaces)))`), or `{:v1_lengths, range}`, for each length
  (at least 130) one set in every space whose v1 value is that many characters. Spaces:
  `"all"`, the whole IPv4 space, and `"dense"`, 10.0.0.0/16. Each set is

      %{size: n, space: space, digest: hex, forced: {main, [part]},
        natural: {main, [part]} | {:same_as_forced, hex}}

  where `digest` is the script's own SHA-256 of the set's names (sorted, joined by
  `"\\n"`), `forced` the values of the v2 form and `natural` those the reconciler
  publishes (v1 while it fits), or, when they are the forced values' bytes, the SHA-256
  of those joined by tabs. The script runs at most #{@ahead} sets ahead of the stream's
  consumer, so memory stays flat whatever the range. To be enumerated by one process.
  """
  def random_sets(seed, {mode, first..last//1}, spaces)
      when is_integer(seed) and mode in [:sizes, :v1_lengths] do
    # Exactly as many sets as the script writes are allowed: writing to it once it is done
    # would end its port with :epipe, and this process with it.
    {mode, sets} =
      if mode == :sizes,
        do: {"sizes", Range.size(first..last)},
        else: {"v1-lengths", Range.size(first..last) * length(spaces)}

    args =
      ["elixir/test/support/random_sets.ts", "#{seed}", mode, "#{first}", "#{last}"] ++
        [Enum.join(spaces, ",")]

    Stream.resource(
      fn ->
        port =
          Port.open({:spawn_executable, tsx!()}, [
            :binary,
            :exit_status,
            line: @line_max,
            cd: @root,
            args: args,
            # As `npx tsx` runs it: with the repository's Node.
            env: [
              {~c"PATH", ~c"#{Path.join(@root, "node_modules/.bin")}:#{System.get_env("PATH")}"}
            ]
          ])

        allowed = min(@ahead, sets)
        if allowed > 0, do: Port.command(port, :binary.copy(".", allowed))
        {port, allowed, sets}
      end,
      &next_set/1,
      &close/1
    )
  end

  defp next_set(:done), do: {:halt, :done}

  defp next_set({port, allowed, sets}) do
    receive do
      {^port, {:data, {:eol, "error\t" <> message}}} ->
        raise "random_sets.ts failed: #{message}"

      {^port, {:data, {:eol, line}}} ->
        if allowed < sets, do: Port.command(port, ".")
        {[parse(line)], {port, min(allowed + 1, sets), sets}}

      {^port, {:data, {:noeol, _}}} ->
        raise "random_sets.ts wrote a line over #{@line_max} bytes"

      {^port, {:exit_status, 0}} ->
        {:halt, :done}

      {^port, {:exit_status, status}} ->
        raise "random_sets.ts failed (exit status #{status}; its stderr is above)"
    after
      60_000 -> raise "random_sets.ts wrote no set for 60 s"
    end
  end

  defp close(:done), do: :ok

  defp close({port, _allowed, _sets}) do
    Port.close(port)
  rescue
    ArgumentError -> :ok
  end

  defp parse(line) do
    [size, space, digest, k | values] = String.split(line, "\t")
    {[main | parts], natural} = Enum.split(values, String.to_integer(k))

    natural =
      case natural do
        ["=", hash] -> {:same_as_forced, hash}
        [natural_main | natural_parts] -> {natural_main, natural_parts}
      end

    %{
      size: String.to_integer(size),
      space: space,
      digest: digest,
      forced: {main, parts},
      natural: natural
    }
  end

  defp tsx! do
    tsx = Path.join(@root, "node_modules/.bin/tsx")

    unless File.exists?(tsx) do
      raise "the TypeScript encoder needs the repository's Node dependencies: " <>
              "run `npm ci` in #{@root}"
    end

    tsx
  end
end
