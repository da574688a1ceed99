defmodule EcsPeers.Connector do
  @moduledoc """
  Carries out an `EcsPeers.Mesh` plan through the `:connect` and `:disconnect` seams,
  and reports each attempt as libcluster's own strategies do (for `EcsPeers.Strategy`)
  and as `[:ecs_peers, :connect | :disconnect]` (see `EcsPeers.Telemetry`).

  Connects run concurrently (at most #{32} at a time) and the whole connect phase is
  bounded by `:connect_timeout`: attempts still running then are cut and count as
  failed; nodes never tried go first, then the ones tried in vain longest ago, so dead
  addresses cannot starve the rest.
  """

  require Logger

  alias EcsPeers.{Log, Mesh, Telemetry}

  @max_concurrency 32

  @doc """
  A heal: lists the connected nodes, asks `EcsPeers.Mesh.plan/2` what to do, and carries
  it out. `state` is the poller's; returns `{report, state}` (`:connected`, `:failed`,
  `:disconnected`) and never raises: a failure is logged and tried again next tick.
  """
  @spec heal(map(), String.t(), integer()) :: {map(), map()}
  def heal(state, basename, now) do
    input = %{
      connected: call(state.list_nodes, []),
      self: node(),
      now: now,
      prune: state.prune,
      basename: basename,
      grace: state.prune_grace,
      keep_out: max(state.prune_grace, 2 * state.interval)
    }

    {plan, mesh} = Mesh.plan(state.mesh, input)
    Log.membership(state, plan.state)
    state = %{state | mesh: mesh, membership: plan.state}

    disconnected = disconnect(state, plan.disconnect)
    {ok, failed, tried_at} = connect(state, plan.connect)
    state = %{state | last_failed: Log.connect_failed(state, failed), tried_at: tried_at}
    {%{connected: ok, failed: failed, disconnected: disconnected}, state}
  rescue
    e ->
      Log.heal_failed(state, e)
      {%{connected: [], failed: [], disconnected: []}, state}
  catch
    kind, reason ->
      Log.heal_failed(state, {kind, reason})
      {%{connected: [], failed: [], disconnected: []}, state}
  end

  @doc """
  Connects `nodes`. `ctx` holds `:connect`, `:connect_timeout`, `:telemetry`,
  `:topology`, `:libcluster_events?` and `:tried_at` (node => when it was last tried in
  vain). Returns `{connected, failed, tried_at}`.
  """
  @spec connect(map(), [node()]) :: {[node()], [node()], map()}
  def connect(_ctx, []), do: {[], [], %{}}

  def connect(ctx, nodes) do
    order =
      Enum.sort_by(nodes, fn n ->
        case Map.fetch(ctx.tried_at, n) do
          {:ok, at} -> {1, at}
          :error -> {0, 0}
        end
      end)

    deadline = System.monotonic_time(:millisecond) + ctx.connect_timeout
    results = connect_loop(ctx.connect, order, %{}, [], deadline)

    ok = Enum.sort(for {n, {true, _}} <- results, do: n)
    failed = Enum.sort(nodes -- ok)
    now = System.monotonic_time()

    tried_at =
      ctx.tried_at
      |> Map.take(failed)
      |> Map.merge(Map.new(for {n, r} <- results, tried_in_vain?(r), do: {n, now}))

    for {n, result} <- results, result != :not_tried do
      Telemetry.libcluster(ctx, :connect_node, connect_outcome(result), n)
    end

    odd = for {n, result} <- results, odd?(result), do: {n, result}

    if odd != [] do
      shown =
        odd
        |> Enum.take(3)
        |> Enum.map_join(", ", fn {n, r} -> "#{n}: #{inspect(r, limit: 5)}" end)

      Logger.warning(
        "#{prefix(ctx)} the connect function answered neither true, false nor :ignored (#{shown})"
      )
    end

    if ok != [] do
      Logger.info("#{prefix(ctx)} connected to #{length(ok)} node(s): #{names(ok)}")
    end

    Telemetry.emit(ctx, [:ecs_peers, :connect], %{count: length(ok), failed: length(failed)}, %{
      nodes: ok,
      failed: failed
    })

    {ok, failed, tried_at}
  end

  defp tried_in_vain?({true, _duration}), do: false
  defp tried_in_vain?(:not_tried), do: false
  defp tried_in_vain?(_result), do: true

  # libcluster 3.5's only reasons for connect_node :error: false is :unreachable,
  # :ignored is :not_part_of_network. An attempt cut at the deadline, a crash or any
  # other answer never connected either: :unreachable, with the detail in the log.
  defp connect_outcome({true, duration}), do: {:ok, duration}
  defp connect_outcome({:ignored, _}), do: {:error, :not_part_of_network}
  defp connect_outcome(_other), do: {:error, :unreachable}

  defp odd?({result, _duration}) when is_boolean(result) or result == :ignored, do: false
  defp odd?(:timeout), do: false
  defp odd?(:not_tried), do: false
  defp odd?(_other), do: true

  defp connect_loop(connect, pending, running, done, deadline) do
    {pending, running} = start_connects(connect, pending, running)

    if running == %{} do
      done
    else
      remaining = max(0, deadline - System.monotonic_time(:millisecond))

      receive do
        {ref, result} when is_map_key(running, ref) ->
          Process.demonitor(ref, [:flush])
          {{_task, n}, running} = Map.pop(running, ref)
          connect_loop(connect, pending, running, [{n, result} | done], deadline)

        {:DOWN, ref, :process, _pid, reason} when is_map_key(running, ref) ->
          {{_task, n}, running} = Map.pop(running, ref)
          connect_loop(connect, pending, running, [{n, {:exit, reason}} | done], deadline)
      after
        remaining ->
          timed_out =
            for {_ref, {task, n}} <- running do
              case Task.shutdown(task, :brutal_kill) do
                {:ok, result} -> {n, result}
                _ -> {n, :timeout}
              end
            end

          done ++ timed_out ++ Enum.map(pending, &{&1, :not_tried})
      end
    end
  end

  defp start_connects(connect, [n | rest], running)
       when map_size(running) < @max_concurrency do
    task =
      Task.async(fn ->
        started = System.monotonic_time()
        result = safe_call(connect, [n])
        {result, System.monotonic_time() - started}
      end)

    start_connects(connect, rest, Map.put(running, task.ref, {task, n}))
  end

  defp start_connects(_connect, pending, running), do: {pending, running}

  @doc """
  Disconnects `nodes` (pruned: absent from the set). `ctx` as for `connect/2`, with
  `:disconnect`. Returns the nodes disconnected.
  """
  @spec disconnect(map(), [node()]) :: [node()]
  def disconnect(_ctx, []), do: []

  def disconnect(ctx, nodes) do
    results =
      for n <- nodes do
        started = System.monotonic_time()
        result = safe_call(ctx.disconnect, [n])
        {n, result, System.monotonic_time() - started}
      end

    for {n, result, duration} <- results do
      Telemetry.libcluster(ctx, :disconnect_node, disconnect_outcome(result, duration), n)
    end

    done = for {n, true, _} <- results, do: n

    Logger.info(
      "#{prefix(ctx)} disconnected from #{length(done)} node(s) absent from the peer set: #{names(done)}"
    )

    Telemetry.emit(ctx, [:ecs_peers, :disconnect], %{count: length(done)}, %{nodes: done})
    done
  end

  defp disconnect_outcome(true, duration), do: {:ok, duration}
  defp disconnect_outcome(false, _), do: {:error, :already_disconnected}
  defp disconnect_outcome(:ignored, _), do: {:error, :not_part_of_network}
  defp disconnect_outcome(other, _), do: {:error, inspect(other)}

  @doc false
  def safe_call(fun, args) do
    call(fun, args)
  rescue
    e -> {:error, e}
  catch
    kind, reason -> {kind, reason}
  end

  @doc false
  def call({m, f, a}, args), do: apply(m, f, a ++ args)
  def call(fun, args) when is_function(fun), do: apply(fun, args)

  @doc false
  def names(nodes) do
    shown = nodes |> Enum.take(10) |> Enum.map_join(", ", &Atom.to_string/1)
    if length(nodes) > 10, do: shown <> " and #{length(nodes) - 10} more", else: shown
  end

  defp prefix(ctx), do: "[ecs_peers:#{ctx.topology}]"
end
