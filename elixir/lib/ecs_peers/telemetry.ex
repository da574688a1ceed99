defmodule EcsPeers.Telemetry do
  @moduledoc """
  Telemetry events, emitted through `:telemetry` when it is loaded (ecs-peers does not
  depend on it), or through the `:telemetry` option's function.

  ecs-peers' own events:

    * `[:ecs_peers, :poll]`: one read of the parameter. Measurements
      `%{duration: native_time}`; metadata `%{topology: atom, parameter: string,
      result: :applied | :unchanged | :error, version: integer | nil, error: term | nil,
      throttled: boolean}`.
    * `[:ecs_peers, :connect]`: measurements `%{count: n, failed: n}`; metadata
      `%{topology: atom, nodes: [node], failed: [node]}`, only when a heal tried to
      connect to someone.
    * `[:ecs_peers, :disconnect]`: measurements `%{count: n}`; metadata
      `%{topology: atom, nodes: [node]}`, only when a heal pruned someone.

  As a libcluster strategy (`EcsPeers.Strategy`) it also emits, one per node, exactly
  the events libcluster 3.5's own strategies emit (`Cluster.Strategy.connect_nodes/4`
  and `disconnect_nodes/4`), and no other event of libcluster's namespace:

    * `[:libcluster, :connect_node, :ok]`: `%{duration: native_time}`,
      `%{node: node, topology: atom}`;
    * `[:libcluster, :connect_node, :error]`: `%{}`, `%{node: node, topology: atom,
      reason: :unreachable | :not_part_of_network}`, the only two libcluster gives (a
      connect cut at `:connect_timeout`, a crashing connect function or any other
      answer is `:unreachable`, the detail logged);
    * `[:libcluster, :disconnect_node, :ok]`: `%{duration: native_time}`,
      `%{node: node, topology: atom}`;
    * `[:libcluster, :disconnect_node, :error]`: `%{}`, `%{node: node, topology: atom,
      reason: :already_disconnected | :not_part_of_network | String.t()}`.
  """

  alias EcsPeers.Connector

  @doc "Calls `:telemetry.execute/3` when `:telemetry` is loaded; otherwise does nothing."
  @spec execute([atom()], map(), map()) :: :ok
  def execute(event, measurements, metadata) do
    if Code.ensure_loaded?(:telemetry) and function_exported?(:telemetry, :execute, 3) do
      apply(:telemetry, :execute, [event, measurements, metadata])
    end

    :ok
  end

  @doc false
  # An ecs_peers event through the configured function, with the topology added.
  def emit(ctx, event, measurements, metadata) do
    Connector.safe_call(ctx.telemetry, [
      event,
      measurements,
      Map.put(metadata, :topology, ctx.topology)
    ])

    :ok
  end

  @doc false
  # libcluster's per-node event, only when running as a libcluster strategy.
  def libcluster(%{libcluster_events?: false}, _what, _outcome, _node), do: :ok

  def libcluster(ctx, what, {:ok, duration}, node) do
    Connector.safe_call(ctx.telemetry, [
      [:libcluster, what, :ok],
      %{duration: duration},
      %{node: node, topology: ctx.topology}
    ])

    :ok
  end

  def libcluster(ctx, what, {:error, reason}, node) do
    Connector.safe_call(ctx.telemetry, [
      [:libcluster, what, :error],
      %{},
      %{node: node, topology: ctx.topology, reason: reason}
    ])

    :ok
  end
end
