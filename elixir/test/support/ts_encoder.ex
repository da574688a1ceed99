defmodule EcsPeers.Test.TsEncoder do
  @moduledoc """
  Runs the TypeScript reconciler's peer-set encoder (`lib/peerSet`, through
  `test/support/encode_sets.ts` and the repository's `tsx`) on many sets at once, for
  the cross-language tests. Needs `npm ci` at the repository root; raises saying so
  otherwise (never skips).
  """

  @root Path.expand("../../..", __DIR__)

  @doc """
  The published values of each set, in order: `[{main, [part]}]`. `sets` are
  `{basename, [ip_string]}`; `v2: true` forces the v2 form even where v1 fits.
  """
  def encode!(sets, opts \\ []) do
    tsx = Path.join(@root, "node_modules/.bin/tsx")

    unless File.exists?(tsx) do
      raise "the TypeScript encoder needs the repository's Node dependencies: " <>
              "run `npm ci` in #{@root}"
    end

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
end
