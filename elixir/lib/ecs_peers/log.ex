defmodule EcsPeers.Log do
  @moduledoc false
  # The loop's log lines, each written once per change (never per tick), with the
  # topology prefix. Node names come from validated sets or the distribution layer;
  # entries that failed validation are shown inspected and cut.

  require Logger

  alias EcsPeers.AWS.Errors
  alias EcsPeers.Connector

  def prefix(state), do: "[ecs_peers:#{state.topology}]"

  @doc false
  # A read failed: logged when its key differs from the last error's.
  def read_failed(state, reason, retry_in) do
    if Errors.key(reason) != Errors.key(state.last_error) do
      kept =
        if state.version == nil,
          do: "no peer set applied yet",
          else: "#{length(state.mesh.set || [])} peer(s) from version #{state.version}"

      Logger.error(
        "#{prefix(state)} #{Errors.describe(reason, state.parameter)}; keeping the current " <>
          "connections (#{kept}), reading again in about #{max(1, div(retry_in, 1000))}s"
      )
    end
  end

  def heal_failed(state, error) do
    banner =
      case error do
        {kind, reason} -> Exception.format_banner(kind, reason)
        e -> Exception.format_banner(:error, e)
      end

    Logger.error(
      "#{prefix(state)} a heal failed: #{banner}; " <>
        "trying again on the next tick"
    )
  end

  def recovered(state), do: Logger.info("#{prefix(state)} reading #{state.parameter} works again")

  # Why this node connects or prunes less than usual, when that changes.
  def membership(%{membership: same}, same), do: :ok

  def membership(%{mesh: %{member?: true}} = state, :draining) do
    Logger.info(
      "#{prefix(state)} #{node()} was dropped from the peer set (version #{state.version} " <>
        "lists its former peers, not it): its task is stopping? No longer connecting to " <>
        "peers, pruning nobody"
    )
  end

  def membership(state, :draining) do
    Logger.warning(
      "#{prefix(state)} #{node()} has never been in the peer set (version #{state.version}), " <>
        "for :prune_grace: the reconciler does not publish this task (check its TASK_TAGS " <>
        "and ECS_CLUSTER, and that the service propagates tags). No longer connecting to " <>
        "peers (they prune a node absent from the set), pruning nobody"
    )
  end

  def membership(state, :wrong_set) do
    Logger.warning(
      "#{prefix(state)} the peer set (version #{state.version}) names neither #{node()} nor " <>
        "any node of the last set that listed it: a set meant for another cluster, or a " <>
        "stale copy? Keeping the last set that listed this node, pruning nobody (check " <>
        "the reconciler's TASK_TAGS and ECS_CLUSTER)"
    )
  end

  def membership(state, :not_listed) do
    Logger.info(
      "#{prefix(state)} #{node()} is not in the peer set (version #{state.version}) yet: " <>
        "connecting to it, pruning nobody while a set omits this running node (a new task " <>
        "is published within the reconciler's batching window)"
    )
  end

  def membership(state, :empty) do
    Logger.warning(
      "#{prefix(state)} the peer set is empty although #{node()} is running: " <>
        "keeping the current connections (check the reconciler's TASK_TAGS and ECS_CLUSTER)"
    )
  end

  def membership(_state, _other), do: :ok

  @doc false
  # The loop's state with the AWS secrets of its client redacted.
  def redact(%{source: source} = state) when source != nil,
    do: %{state | source: EcsPeers.Source.redact(source)}

  def redact(state), do: state

  @doc false
  # What EcsPeers.status/1 answers.
  def status(state) do
    %{
      topology: state.topology,
      parameter: state.parameter,
      version: state.version,
      nodes: state.mesh.set || [],
      membership: state.membership,
      last_error: state.last_error,
      interval: state.interval
    }
  end

  def rejected(_state, _version, [], 0), do: :ok

  def rejected(state, version, rejected, truncated) do
    shown =
      rejected
      |> Enum.take(5)
      |> Enum.map_join(", ", fn {entry, why} ->
        "#{inspect(entry, limit: 5, printable_limit: 80)} (#{why})"
      end)

    more = if length(rejected) > 5, do: " and #{length(rejected) - 5} more", else: ""
    plural = if length(rejected) == 1, do: "y", else: "ies"

    parts = [
      if(rejected != [], do: "ignored #{length(rejected)} invalid entr#{plural}: #{shown}#{more}"),
      if(truncated > 0, do: "ignored #{truncated} node(s) beyond max_nodes (#{state.max_nodes})")
    ]

    Logger.warning(
      "#{prefix(state)} #{state.parameter} version #{version}: " <>
        Enum.join(Enum.reject(parts, &is_nil/1), "; ")
    )
  end

  # Logs the atom budget running out, once per process; returns the state.
  def atom_budget(%{atom_budget_logged?: false} = state, rejected) do
    if Enum.any?(rejected, &match?({_, :atom_budget_exhausted}, &1)) do
      atom_budget_exhausted(state)
      %{state | atom_budget_logged?: true}
    else
      state
    end
  end

  def atom_budget(state, _rejected), do: state

  def atom_budget_exhausted(state) do
    Logger.warning(
      "#{prefix(state)} #{state.parameter}: :atom_budget_exhausted, this process has made as many " <>
        "new node-name atoms as :max_new_atoms allows; new names are ignored from now on " <>
        "(names already known still work). A publisher writing ever-new names? " <>
        "Raise :max_new_atoms or restart the node"
    )
  end

  # Logged when the failed set changes; returns it.
  def connect_failed(_state, []), do: []

  def connect_failed(state, failed) do
    if failed != state.last_failed do
      hint =
        if node() == :nonode@nohost,
          do:
            " (this node is not alive: start it with a node name, e.g. RELEASE_DISTRIBUTION=name)",
          else: ""

      Logger.warning(
        "#{prefix(state)} could not connect to #{length(failed)} node(s): " <>
          "#{Connector.names(failed)}#{hint}; retrying on the next tick"
      )
    end

    failed
  end
end
