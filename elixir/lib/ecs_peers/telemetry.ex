defmodule EcsPeers.Telemetry do
  @moduledoc """
  Telemetry events, emitted only when the `:telemetry` library is loaded (ecs-peers does
  not depend on it).

    * `[:ecs_peers, :poll]`: measurements `%{duration: native_time}`; metadata
      `%{topology: atom, parameter: string, result: :applied | :unchanged | :resynced |
      :error, version: integer | nil, error: term | nil}`.
    * `[:ecs_peers, :connect]`: measurements `%{count: n, failed: n}`; metadata
      `%{topology: atom, nodes: [node], failed: [node]}`, only when a poll tried to
      connect to someone.
    * `[:ecs_peers, :disconnect]`: measurements `%{count: n}`; metadata
      `%{topology: atom, nodes: [node]}`, only when a poll pruned someone.

  As a libcluster strategy (`EcsPeers.Strategy`) it also emits libcluster's own events,
  one per node: `[:libcluster, :connect_node, :ok | :error | :ignored]` and
  `[:libcluster, :disconnect_node, :ok | :error | :ignored]`, measurements `%{}`,
  metadata `%{node: node, topology: atom}`.
  """

  @doc "Calls `:telemetry.execute/3` when `:telemetry` is loaded; otherwise does nothing."
  @spec execute([atom()], map(), map()) :: :ok
  def execute(event, measurements, metadata) do
    if Code.ensure_loaded?(:telemetry) and function_exported?(:telemetry, :execute, 3) do
      apply(:telemetry, :execute, [event, measurements, metadata])
    end

    :ok
  end
end
