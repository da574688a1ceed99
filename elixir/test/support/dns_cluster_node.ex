defmodule EcsPeers.Test.DNSClusterNode do
  @moduledoc """
  A real BEAM node for the DNSCluster resolver's cluster test: `<basename>@<ip>` in its
  own network namespace, running `test/cluster/dns_cluster_peer.exs` (a loop that calls
  `EcsPeers.DNSClusterResolver` as DNSCluster does) with this project's compiled code.
  It speaks the `nodes` command of `EcsPeers.Test.ClusterNode`'s line protocol, so
  `ClusterNode.nodes/1` and `ClusterNode.await_ready!/1` work on it.

      node = start_supervised!(DNSClusterNode.child_spec(ns: ns, name: "shop@10.20.0.1",
               cookie: cookie, query: "/ecs-peers/dns", interval: 300,
               config: [polling_interval: 300, read_budget: 100.0]))
  """

  alias EcsPeers.Test.{ClusterMoto, ClusterNode, ClusterPort}

  @doc """
  Child spec. Options: `:ns`, `:name`, `:cookie`, `:query` (the SSM parameter),
  `:interval` (ms between DNSCluster-style ticks), `:config` (the resolver's
  configuration).
  """
  def child_spec(opts) do
    name = Keyword.fetch!(opts, :name)

    env = [
      {"AWS_ENDPOINT_URL", ClusterMoto.endpoint()},
      {"AWS_REGION", "us-east-1"},
      {"AWS_ACCESS_KEY_ID", "test"},
      {"AWS_SECRET_ACCESS_KEY", "test"},
      # Inherited from the test VM's environment, they would override the above.
      {"AWS_ENDPOINT_URL_SSM", false},
      {"AWS_SESSION_TOKEN", false},
      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false},
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", false},
      {"ECSP_QUERY", Keyword.fetch!(opts, :query)},
      {"ECSP_INTERVAL", Integer.to_string(Keyword.fetch!(opts, :interval))},
      {"ECSP_RESOLVER_CONFIG", inspect(Keyword.get(opts, :config, []))}
    ]

    elixir =
      System.find_executable("elixir") ||
        raise "`elixir` is not on PATH; the cluster tests start nodes with it"

    script = Path.join(ClusterNode.project_dir(), "test/cluster/dns_cluster_peer.exs")
    argv = [elixir, "--name", name, "--cookie", Keyword.fetch!(opts, :cookie)]
    argv = argv ++ Enum.flat_map(code_paths(), &["-pa", &1]) ++ [script]

    ClusterPort.child_spec(
      id: {__MODULE__, name},
      label: name,
      ns: Keyword.fetch!(opts, :ns),
      argv: argv,
      env: env
    )
  end

  # Consolidated protocols first, as `mix run` does, then every compiled app.
  defp code_paths do
    consolidated = Mix.Project.consolidation_path()
    apps = Path.wildcard(Path.join(Mix.Project.build_path(), "lib/*/ebin"))
    if File.dir?(consolidated), do: [consolidated | apps], else: apps
  end
end
