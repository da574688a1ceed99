defmodule EcsPeers.Strategy do
  @moduledoc """
  A libcluster strategy that connects the nodes listed in the SSM parameter the
  ecs-peers Lambda writes.

  It takes the same options as `EcsPeers` under `config:` (all but `:name`, `:topology`,
  `:connect`, `:disconnect` and `:list_nodes`, which libcluster provides), and works the
  same way (see `EcsPeers.Poller`):

    * `:parameter` (required): the SSM parameter name.
    * `:polling_interval` (default `5000` ms, with jitter), `:prune` (default `false`),
      `:basename` (default `nil`: any), `:region` (default `AWS_REGION` /
      `AWS_DEFAULT_REGION`), `:max_nodes` (default `1000`), `:connect_timeout` (default
      `5000` ms), `:http_timeout` (default `5000` ms), `:max_backoff` (default `60000`
      ms), `:resync_interval` (default `60000` ms), `:env` (default `%{}`), `:fetch`
      (default `nil`), `:telemetry` (default: `:telemetry` when loaded).

  Connections go through the topology's `connect`, `disconnect` and `list_nodes`
  `{m, f, a}` (libcluster's defaults are `:net_kernel.connect_node/1`,
  `:erlang.disconnect_node/1` and `:erlang.nodes([:connected])`), called as
  `apply(m, f, a ++ [node])`. libcluster is not needed to compile this module.

  ## Example

      config :libcluster,
        topologies: [
          ecs: [
            strategy: EcsPeers.Strategy,
            config: [
              parameter: "/ecs-peers/shop",
              basename: "shop",
              polling_interval: 5_000,
              prune: true
            ]
          ]
        ]
  """

  alias EcsPeers.Poller

  @doc false
  def child_spec([state]) do
    _ = build(state)
    %{id: __MODULE__, start: {__MODULE__, :start_link, [[state]]}, type: :worker}
  end

  @doc "Starts the strategy from libcluster's state (`%Cluster.Strategy.State{}` or a map)."
  @spec start_link([map()]) :: GenServer.on_start()
  def start_link([state]), do: Poller.start_link(build(state))

  defp build(
         %{topology: topology, config: config, connect: connect, disconnect: disconnect} = state
       ) do
    list_nodes = Map.get(state, :list_nodes) || {:erlang, :nodes, [:connected]}

    opts =
      Keyword.merge(List.wrap(config),
        topology: topology,
        connect: connect,
        disconnect: disconnect,
        list_nodes: list_nodes
      )

    unknown = Keyword.keys(List.wrap(config)) -- Poller.common_keys()

    if unknown != [] do
      raise ArgumentError,
            "ecs_peers: unknown option(s) #{Enum.map_join(unknown, ", ", &inspect/1)} " <>
              "in the #{inspect(topology)} topology's config; known options: " <>
              Enum.map_join(Poller.common_keys(), ", ", &inspect/1)
    end

    Poller.new(opts, Poller.common_keys() ++ [:topology, :connect, :disconnect, :list_nodes])
  end

  defp build(other) do
    raise ArgumentError,
          "ecs_peers: expected libcluster's strategy state (a map with :topology, :config, " <>
            ":connect, :disconnect, :list_nodes), got: #{inspect(other)}"
  end
end
