# What the tests need from outside the VM, started or checked before any test runs, so a clean clone's
# `mix test` either works or stops at once naming the command to run first.

# epmd, for the tests that make this VM a distributed node: started here and awaited (`epmd -daemon`
# returns before epmd listens).
epmd = System.find_executable("epmd") || Mix.raise("epmd not found on PATH (it comes with erlang)")
{_, 0} = System.cmd(epmd, ["-daemon"])

Enum.find_value(1..50, fn _ ->
  match?({_, 0}, System.cmd(epmd, ["-names"], stderr_to_stdout: true)) ||
    (Process.sleep(100) && nil)
end) || Mix.raise("epmd -daemon started, but epmd -names does not answer")

# The reconciler's built bundle, for test/cluster/reconciler_chain_test.exs (unless the cluster tests are
# excluded or not among the files asked for).
repo = Path.expand("..", File.cwd!())
bundle = Path.join(repo, "dist/reconcile/index.mjs")
files = Enum.filter(System.argv(), &String.starts_with?(&1, "test/"))

cluster_run? =
  :cluster not in Keyword.get(ExUnit.configuration(), :exclude, []) and
    (files == [] or Enum.any?(files, &String.starts_with?(&1, "test/cluster")))

if cluster_run? and not File.exists?(bundle) do
  if File.exists?(Path.join(repo, "node_modules/esbuild")) do
    IO.puts("test_helper: building #{bundle} (npm run build) for the reconciler chain test")
    node = Enum.find([Path.join(repo, "node_modules/.bin/node"), "node"], &System.find_executable/1)
    {out, status} = System.cmd(node, ["esbuild.config.mjs"], cd: repo, stderr_to_stdout: true)
    if status != 0, do: Mix.raise("npm run build failed:\n#{out}")
  else
    Mix.raise(
      "#{bundle} is missing: the reconciler chain test runs the built Lambda. " <>
        "Run `npm ci && npm run build` at the repo root first (or mix test --exclude cluster)"
    )
  end
end

ExUnit.start()
