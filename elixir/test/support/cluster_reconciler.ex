defmodule EcsPeers.Test.ClusterReconciler do
  @moduledoc """
  Runs the reconciler Lambda's built handler (`dist/reconcile/index.mjs` at the repo
  top, from `npm run build`) once, inside the hub namespace against moto_server, the way
  Lambda would: import the module, call `handler(event, context)`, return its report.

  Node: `../node_modules/.bin/node` (the `node` npm package, Node 22, after `npm install`),
  else `node` on PATH. A missing build fails the test with "run npm run build first".
  """

  alias EcsPeers.Test.{ClusterJSON, ClusterMoto, ClusterNode, NetNS}

  @doc """
  Invokes the handler with `event` (default `{}`) and the Lambda environment `env`
  (`PEERS_PARAMETER`, `TASK_TAGS`, `NODE_BASENAME`, `ECS_CLUSTER`, ...). Returns the
  decoded report; raises with the reconciler's output when it fails.
  """
  def run!(%NetNS{hub: hub}, env, event \\ %{}) do
    entry = entry!()

    script = """
    const m = await import(#{ClusterJSON.encode!(entry)});
    const report = await m.handler(#{ClusterJSON.encode!(event)}, {awsRequestId: 'cluster-test', functionName: 'reconcile'});
    console.log('@@' + JSON.stringify(report));
    """

    lambda_env =
      [
        {"AWS_ENDPOINT_URL", ClusterMoto.local_endpoint()},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "test"}
      ] ++ Enum.map(env, fn {k, v} -> {to_string(k), v} end)

    # A clean environment, as in Lambda: no AWS_* of the test VM's can leak in.
    base = [
      {"PATH", System.get_env("PATH", "/usr/bin:/bin")},
      {"HOME", System.get_env("HOME", "/root")}
    ]

    argv =
      ["env", "-i"] ++
        Enum.map(base ++ lambda_env, fn {k, v} -> "#{k}=#{v}" end) ++
        [node!(), "--input-type=module", "-e", script]

    task =
      Task.async(fn ->
        System.cmd(NetNS.ip_path!(), NetNS.exec_args(hub, argv), stderr_to_stdout: true)
      end)

    {output, status} =
      case Task.yield(task, 60_000) || Task.shutdown(task) do
        {:ok, result} -> result
        nil -> raise "the reconciler did not finish within 60 s"
      end

    report =
      output
      |> String.split("\n")
      |> Enum.find_value(fn
        "@@" <> json -> json
        _ -> nil
      end)

    if status != 0 or report == nil do
      raise "the reconciler failed (exit #{status}):\n#{output}"
    end

    ClusterJSON.decode!(report)
  end

  defp repo_dir, do: Path.expand("..", ClusterNode.project_dir())

  defp entry! do
    entry = Path.join(repo_dir(), "dist/reconcile/index.mjs")

    unless File.exists?(entry) do
      raise "#{entry} is missing: run npm run build first (at the repo top, after npm install)"
    end

    entry
  end

  defp node! do
    local = Path.join(repo_dir(), "node_modules/.bin/node")

    cond do
      File.exists?(local) -> local
      path = System.find_executable("node") -> path
      true -> raise "node not found: run npm install at the repo top (it brings Node 22)"
    end
  end
end
