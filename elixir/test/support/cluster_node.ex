defmodule EcsPeers.Test.ClusterNode do
  @moduledoc """
  A real BEAM node for the cluster tests, `<basename>@<ip>` in its own network namespace,
  running `test/cluster/peer_node.exs` with this project's compiled code (`-pa` every
  `ebin` under `Mix.Project.build_path/0`).

  The test VM is not distributed; it drives each node through the script's line protocol
  over the Port (`nodes/1`, `connect/2`, `discovery/1`), see `EcsPeers.Test.ClusterPort`.

  Start nodes with `start_supervised!/1` so ExUnit stops them after each test:

      node = start_supervised!(ClusterNode.child_spec(ns: ns, name: "shop@10.1.0.1",
               cookie: cookie, moto: moto_endpoint,
               discovery: [parameter: "/ecs-peers/shop", polling_interval: 500, prune: true]))
  """

  alias EcsPeers.Test.ClusterPort

  @doc """
  Child spec. Options: `:ns`, `:name` (`basename@ip`), `:cookie`, `:endpoint` (moto URL as
  the nodes see it), `:discovery` (`EcsPeers` options: `:parameter`, `:polling_interval`,
  `:prune`, `:basename` and any other, e.g. `:prune_grace`; nil starts a node
  without discovery).
  """
  def child_spec(opts) do
    name = Keyword.fetch!(opts, :name)
    [basename, _host] = String.split(name, "@")

    discovery_env =
      case Keyword.get(opts, :discovery) do
        nil ->
          [{"ECSP_DISCOVERY", "none"}]

        d ->
          [
            {"ECSP_DISCOVERY", "standalone"},
            # Empty with :cloud_map (in ECSP_OPTIONS) instead of a parameter.
            {"ECSP_PARAMETER", Keyword.get(d, :parameter, "")},
            {"ECSP_POLLING_INTERVAL", Integer.to_string(Keyword.fetch!(d, :polling_interval))},
            {"ECSP_PRUNE", to_string(Keyword.get(d, :prune, false))},
            {"ECSP_BASENAME", Keyword.get(d, :basename, basename)},
            {"ECSP_OPTIONS",
             inspect(Keyword.drop(d, [:parameter, :polling_interval, :prune, :basename]))}
          ]
      end

    env =
      [
        {"AWS_ENDPOINT_URL", Keyword.fetch!(opts, :endpoint)},
        {"AWS_REGION", "us-east-1"},
        {"AWS_DEFAULT_REGION", "us-east-1"},
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "test"},
        # Inherited from the test VM's environment, they would override the endpoint or
        # the credentials above.
        {"AWS_ENDPOINT_URL_SSM", false},
        {"AWS_ENDPOINT_URL_SERVICEDISCOVERY", false},
        {"AWS_SESSION_TOKEN", false},
        {"AWS_PROFILE", false},
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", false},
        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", false}
      ] ++ discovery_env

    argv =
      [elixir!(), "--name", name, "--cookie", Keyword.fetch!(opts, :cookie)] ++
        Enum.flat_map(code_paths(), &["-pa", &1]) ++ [script()]

    ClusterPort.child_spec(
      id: {__MODULE__, name},
      label: name,
      ns: Keyword.fetch!(opts, :ns),
      argv: argv,
      env: env
    )
  end

  @doc "Waits until the node printed `@@ready`; raises with its output otherwise."
  def await_ready!(node, timeout \\ 30_000) do
    case ClusterPort.await_reply(node, timeout) do
      {:ok, "ready " <> _} -> node
      other -> raise "node did not start: #{format(other, node)}"
    end
  end

  @doc "The node's `Node.list/0`, sorted, as strings."
  @spec nodes(GenServer.server()) :: [String.t()]
  def nodes(node) do
    case ClusterPort.request(node, "nodes") do
      {:ok, "nodes" <> list} -> String.split(list, " ", trim: true)
      other -> raise "nodes failed: #{format(other, node)}"
    end
  end

  @doc "`Node.connect/1` on the node."
  def connect(node, other) do
    case ClusterPort.request(node, "connect #{other}", 15_000) do
      {:ok, "connect " <> result} -> result == "true"
      other -> raise "connect failed: #{format(other, node)}"
    end
  end

  @doc "`Node.disconnect/1` on the node (a cut link)."
  def disconnect(node, other) do
    case ClusterPort.request(node, "disconnect #{other}", 15_000) do
      {:ok, "disconnect " <> result} -> result == "true"
      other -> raise "disconnect failed: #{format(other, node)}"
    end
  end

  @doc "Whether the node's EcsPeers process is alive: `\"alive\"`, `\"dead\"` or `\"none\"`."
  def discovery(node) do
    case ClusterPort.request(node, "discovery") do
      {:ok, "discovery " <> state} -> state
      other -> raise "discovery failed: #{format(other, node)}"
    end
  end

  @doc "`EcsPeers.status/1` on the node, as inspected text (for failure messages)."
  def status(node) do
    case ClusterPort.request(node, "status") do
      {:ok, "status " <> status} -> status
      other -> "(no status: #{inspect(other)})"
    end
  end

  @doc "The parameter version the node's EcsPeers has applied (`EcsPeers.status/1`), or nil."
  def applied_version(node) do
    case Regex.run(~r/version: (\d+)/, status(node)) do
      [_, version] -> String.to_integer(version)
      nil -> nil
    end
  end

  @doc "Stops the node's EcsPeers process, as an app shutting down would; the node stays up."
  def stop_discovery(node) do
    case ClusterPort.request(node, "stop_discovery") do
      {:ok, "stop_discovery ok"} -> :ok
      other -> raise "stop_discovery failed: #{format(other, node)}"
    end
  end

  @doc "Recent output of the node (logs of the library), for failure messages."
  defdelegate output(node), to: ClusterPort

  defp format({:error, {:timeout, output}}, _), do: "timed out\n" <> output
  defp format({:error, {:exited, status, output}}, _), do: "exited with #{status}\n" <> output
  defp format(other, node), do: inspect(other) <> "\n" <> ClusterPort.output(node)

  defp elixir! do
    System.find_executable("elixir") ||
      raise "`elixir` is not on PATH; the cluster tests start nodes with it"
  end

  defp script, do: Path.join(project_dir(), "test/cluster/peer_node.exs")

  @doc "The Mix project's directory (`elixir/`)."
  def project_dir, do: Path.dirname(Mix.Project.project_file())

  # Consolidated protocols first, as `mix run` does, then every compiled app.
  defp code_paths do
    consolidated = Mix.Project.consolidation_path()
    apps = Path.wildcard(Path.join(Mix.Project.build_path(), "lib/*/ebin"))
    if File.dir?(consolidated), do: [consolidated | apps], else: apps
  end
end
