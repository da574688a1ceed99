defmodule EcsPeers.Strategy do
  @moduledoc """
  A libcluster strategy that connects the nodes listed in the SSM parameter the
  ecs-peers Lambda writes.

  It takes the same options as `EcsPeers` under `config:` (all but `:name`, `:topology`,
  `:connect`, `:disconnect` and `:list_nodes`, which libcluster provides), and works the
  same way (see `EcsPeers.Poller` and `EcsPeers.Mesh`):

  #{EcsPeers.Options.bullets(:common)}

  Connections go through the topology's `connect`, `disconnect` and `list_nodes`
  `{m, f, a}` (libcluster's defaults are `:net_kernel.connect_node/1`,
  `:erlang.disconnect_node/1` and `:erlang.nodes([:connected])`), called as
  `apply(m, f, a ++ [node])`. libcluster is not needed to compile this module.

  The child id is the topology's name, so several topologies may use this strategy.
  Besides the `EcsPeers.Telemetry` events, it emits libcluster's own per-node events,
  with the measurements and metadata libcluster's strategies give them:
  `[:libcluster, :connect_node, :ok | :error]` and
  `[:libcluster, :disconnect_node, :ok | :error]` (see `EcsPeers.Telemetry`).

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

  alias EcsPeers.{Options, Poller}

  @doc false
  def child_spec([state]) do
    poller = build(state)
    # One child per topology: two topologies of this strategy in one app must not collide.
    %{id: poller.topology, start: {__MODULE__, :start_link, [[state]]}, type: :worker}
  end

  @doc "Starts the strategy from libcluster's state (`%Cluster.Strategy.State{}` or a map)."
  @spec start_link([map()]) :: GenServer.on_start()
  def start_link([state]), do: Poller.start_link(build(state))

  defp build(
         %{topology: topology, config: config, connect: connect, disconnect: disconnect} = state
       ) do
    list_nodes = Map.get(state, :list_nodes) || {:erlang, :nodes, [:connected]}
    config = config || []

    unless is_list(config) and Keyword.keyword?(config) do
      raise ArgumentError,
            "ecs_peers: the #{inspect(topology)} topology's config must be a keyword list " <>
              "(config: [parameter: \"/ecs-peers/app\", ...]), got #{kind(config)}"
    end

    opts =
      Keyword.merge(config,
        topology: topology,
        connect: connect,
        disconnect: disconnect,
        list_nodes: list_nodes
      )

    unknown = Keyword.keys(config) -- Options.common_keys()

    if unknown != [] do
      raise ArgumentError,
            "ecs_peers: unknown option(s) #{Enum.map_join(unknown, ", ", &inspect/1)} " <>
              "in the #{inspect(topology)} topology's config; known options: " <>
              Enum.map_join(Options.common_keys(), ", ", &inspect/1)
    end

    poller =
      Poller.new(opts, Options.common_keys() ++ [:topology, :connect, :disconnect, :list_nodes])

    %{poller | libcluster_events?: true}
  end

  defp build(other) do
    # Names the shape, never the value: a state's config may hold credentials in :env.
    got = if is_map(other), do: "a map with keys #{inspect(Map.keys(other))}", else: kind(other)

    raise ArgumentError,
          "ecs_peers: expected libcluster's strategy state (a map with :topology, :config, " <>
            ":connect, :disconnect, :list_nodes), got #{got}"
  end

  # Not the value itself: a config may hold credentials in :env.
  defp kind(config) when is_map(config), do: "a map"
  defp kind(config) when is_list(config), do: "a list that is not a keyword list"
  defp kind(config) when is_binary(config), do: "a string"
  defp kind(config) when is_atom(config), do: "an atom"
  defp kind(config) when is_tuple(config), do: "a tuple"
  defp kind(_config), do: "another term"
end
