defmodule EcsPeers.Poller do
  @moduledoc """
  The reconcile loop shared by `EcsPeers` and `EcsPeers.Strategy`: one process per
  topology that reads the peer set from SSM and connects this node to it.

  Each poll:

    1. fetches the parameter (one signed `GetParameter`);
    2. stops there when its `Version` and value (compared by hash: a parameter deleted
       and re-created restarts at version 1) are the ones last applied, unless the last
       poll failed to connect someone or disconnected someone, or `:resync_interval`
       has passed: then the last applied set is reconciled again, without decoding
       anything;
    3. parses and validates the value (`EcsPeers.PeerSet`), making new node-name atoms
       only within the process's `:max_new_atoms` budget;
    4. with `prune: true`, disconnects the connected nodes with the pruned basename that
       are no longer in the set;
    5. connects, concurrently, to every node of the set that is not connected (never to
       itself); the whole connect phase is bounded by `:connect_timeout`, attempts still
       running then are cut and retried on the next poll (nodes never tried go first,
       then those tried in vain longest ago).

  A node that has been in an applied set and is no longer in it is *draining* (ECS is
  stopping its task and the Lambda dropped it): it stops connecting to anyone, so the
  others' prune keeps it out. A node that has not yet appeared in the set (a new task,
  before the Lambda publishes it) connects as usual.

  After a poll that disconnected someone, the next poll reconciles again: OTP's
  `global` (with `prevent_overlapping_partitions`, the default since OTP 25) may cut
  healthy links when a node is disconnected, and they are re-made at once.

  Any error (AWS, credentials, a malformed value) keeps the last good state: nothing is
  disconnected, the error is logged once (until it changes or goes away; an AWS error
  counts as the same while its HTTP status and type are, and its message is cut and
  redacted, see `EcsPeers.AWS.SSM.sanitize_message/1`), and the interval doubles up to
  `:max_backoff`, back to `:polling_interval` on the next success. The first poll runs
  from `handle_continue/2`, so boot never waits on AWS, and every poll reschedules the
  next one, with ±10% jitter, whatever happened.

  Start it through `EcsPeers.start_link/1` or `EcsPeers.Strategy`; the options are
  documented in `EcsPeers`.
  """

  use GenServer

  require Logger

  alias EcsPeers.AWS.{Env, SSM}
  alias EcsPeers.PeerSet

  @common_defaults [
    parameter: nil,
    polling_interval: 5_000,
    prune: false,
    basename: nil,
    region: nil,
    max_nodes: 1_000,
    max_new_atoms: nil,
    connect_timeout: 5_000,
    http_timeout: 5_000,
    max_backoff: 60_000,
    resync_interval: 60_000,
    env: %{},
    fetch: nil,
    telemetry: nil
  ]

  @standalone_defaults [
    name: nil,
    topology: :ecs_peers,
    connect: {:net_kernel, :connect_node, []},
    disconnect: {:erlang, :disconnect_node, []},
    list_nodes: {:erlang, :nodes, [:connected]}
  ]

  @max_concurrency 32

  defstruct [
    :topology,
    :parameter,
    :polling_interval,
    :prune,
    :basename,
    :max_nodes,
    :atoms_left,
    :connect_timeout,
    :max_backoff,
    :resync_interval,
    :connect,
    :disconnect,
    :list_nodes,
    :fetch,
    :telemetry,
    :client,
    :interval,
    :timer,
    version: nil,
    value_hash: nil,
    nodes: [],
    applied_at: nil,
    retry?: false,
    member?: false,
    draining?: false,
    last_error: nil,
    last_failed: [],
    tried_at: %{},
    atom_budget_logged?: false,
    libcluster_events?: false
  ]

  @type t :: %__MODULE__{}

  @doc false
  def common_keys, do: Keyword.keys(@common_defaults)
  @doc false
  def standalone_keys, do: Keyword.keys(@common_defaults) ++ Keyword.keys(@standalone_defaults)

  @doc """
  Validates options and builds the loop's state. Raises `ArgumentError` naming unknown
  or invalid options. `allowed` is the list of keys the caller accepts.
  """
  @spec new(keyword(), [atom()]) :: t()
  def new(opts, allowed \\ standalone_keys()) do
    unless Keyword.keyword?(opts) do
      raise ArgumentError, "ecs_peers: expected a keyword list of options, got: #{inspect(opts)}"
    end

    case Enum.uniq(Keyword.keys(opts)) -- allowed do
      [] ->
        :ok

      unknown ->
        raise ArgumentError,
              "ecs_peers: unknown option(s) #{Enum.map_join(unknown, ", ", &inspect/1)}; " <>
                "known options: #{Enum.map_join(allowed, ", ", &inspect/1)}"
    end

    o = Keyword.merge(@common_defaults ++ @standalone_defaults, opts)

    check!(o, :parameter, is_binary(o[:parameter]) and o[:parameter] != "", "a non-empty string")
    check!(o, :polling_interval, pos_int?(o[:polling_interval]), "a positive integer (ms)")
    check!(o, :prune, is_boolean(o[:prune]), "a boolean")

    check!(
      o,
      :basename,
      o[:basename] == nil or PeerSet.valid_basename?(o[:basename]),
      "nil or 1..64 letters, digits, _ or -"
    )

    check!(o, :region, o[:region] == nil or is_binary(o[:region]), "nil or a string")
    check!(o, :max_nodes, pos_int?(o[:max_nodes]), "a positive integer")

    check!(
      o,
      :max_new_atoms,
      o[:max_new_atoms] == nil or (is_integer(o[:max_new_atoms]) and o[:max_new_atoms] >= 0),
      "nil or a non-negative integer"
    )

    check!(o, :connect_timeout, pos_int?(o[:connect_timeout]), "a positive integer (ms)")
    check!(o, :http_timeout, pos_int?(o[:http_timeout]), "a positive integer (ms)")
    check!(o, :max_backoff, pos_int?(o[:max_backoff]), "a positive integer (ms)")

    check!(
      o,
      :resync_interval,
      pos_int?(o[:resync_interval]) or o[:resync_interval] == :infinity,
      "a positive integer (ms) or :infinity"
    )

    check!(o, :env, is_map(o[:env]), "a map of environment variables")

    check!(
      o,
      :fetch,
      o[:fetch] == nil or callable?(o[:fetch], 1),
      "nil, a 1-arity fun or {m, f, a}"
    )

    check!(
      o,
      :telemetry,
      o[:telemetry] == nil or callable?(o[:telemetry], 3),
      "nil, a 3-arity fun or {m, f, a}"
    )

    check!(o, :topology, is_atom(o[:topology]), "an atom")
    check!(o, :connect, callable?(o[:connect], 1), "a 1-arity fun or {m, f, a}")
    check!(o, :disconnect, callable?(o[:disconnect], 1), "a 1-arity fun or {m, f, a}")
    check!(o, :list_nodes, callable?(o[:list_nodes], 0), "a 0-arity fun or {m, f, a}")

    client =
      if o[:fetch] == nil do
        SSM.new(Env.build(o[:env]), region: o[:region], timeout: o[:http_timeout])
      end

    %__MODULE__{
      topology: o[:topology],
      parameter: o[:parameter],
      polling_interval: o[:polling_interval],
      prune: o[:prune],
      basename: o[:basename],
      max_nodes: o[:max_nodes],
      atoms_left: o[:max_new_atoms] || 10 * o[:max_nodes],
      connect_timeout: o[:connect_timeout],
      max_backoff: max(o[:max_backoff], o[:polling_interval]),
      resync_interval: o[:resync_interval],
      connect: o[:connect],
      disconnect: o[:disconnect],
      list_nodes: o[:list_nodes],
      fetch: o[:fetch],
      telemetry: o[:telemetry] || (&EcsPeers.Telemetry.execute/3),
      client: client,
      interval: o[:polling_interval]
    }
  end

  defp check!(_opts, _key, true, _expected), do: :ok

  defp check!(opts, key, false, expected) do
    raise ArgumentError,
          "ecs_peers: option #{inspect(key)} must be #{expected}, got: #{inspect(opts[key])}"
  end

  defp pos_int?(value), do: is_integer(value) and value > 0

  defp callable?({m, f, a}, _arity), do: is_atom(m) and is_atom(f) and is_list(a)
  defp callable?(fun, arity), do: is_function(fun, arity)

  ## GenServer

  @doc false
  def start_link(%__MODULE__{} = state, gen_opts \\ []) do
    GenServer.start_link(__MODULE__, state, gen_opts)
  end

  @impl true
  def init(state), do: {:ok, state, {:continue, :poll}}

  @impl true
  def handle_continue(:poll, state), do: {:noreply, run(state) |> elem(1)}

  @impl true
  # Only the timer last set counts: a stale one (cancelled by poll_now after it fired)
  # must not start a second chain of polls.
  def handle_info({:poll, ref}, %{timer: {_, ref}} = state),
    do: {:noreply, run(%{state | timer: nil}) |> elem(1)}

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  # Crash reports and :sys.get_status/1 show the state without the AWS secrets.
  def format_status(:terminate, [_pdict, state]), do: redact(state)
  def format_status(_normal, [_pdict, state]), do: [data: [{~c"State", redact(state)}]]

  @doc false
  def redact(%__MODULE__{client: %SSM{} = client} = state),
    do: %{state | client: SSM.redact(client)}

  def redact(state), do: state

  @impl true
  def handle_call(:poll_now, _from, state) do
    with {timer, _ref} <- state.timer, do: Process.cancel_timer(timer)
    {report, state} = run(%{state | timer: nil})
    {:reply, report, state}
  end

  def handle_call(:status, _from, state) do
    status = %{
      topology: state.topology,
      parameter: state.parameter,
      version: state.version,
      nodes: state.nodes,
      last_error: state.last_error,
      interval: state.interval
    }

    {:reply, status, state}
  end

  defp run(state) do
    {report, state} = poll(state)
    {report, schedule(state)}
  end

  defp schedule(state) do
    ref = make_ref()
    %{state | timer: {Process.send_after(self(), {:poll, ref}, jitter(state.interval)), ref}}
  end

  @doc false
  # ±10%, never below 1 ms.
  def jitter(interval) do
    spread = div(interval, 10)
    max(1, interval - spread + :rand.uniform(2 * spread + 1) - 1)
  end

  ## The poll

  @doc """
  Runs one poll on a state and returns `{report, state}`. Never raises.

  The report is a map with `:result` (`:applied`, `:unchanged`, `:resynced` or
  `:error`), `:version`, `:connected`, `:failed`, `:disconnected` and `:error`.
  """
  @spec poll(t()) :: {map(), t()}
  def poll(state) do
    started = System.monotonic_time()

    {report, state} =
      try do
        do_poll(state)
      rescue
        e -> fail(state, {:exception, Exception.message(e)})
      catch
        kind, reason -> fail(state, {kind, reason})
      end

    emit(state, [:ecs_peers, :poll], %{duration: System.monotonic_time() - started}, %{
      parameter: state.parameter,
      result: report.result,
      version: report.version,
      error: report.error
    })

    {report, state}
  end

  defp do_poll(state) do
    case fetch(state) do
      {:ok, %{version: version, value: value}, state} when is_binary(value) ->
        # The parameter may be deleted and re-created (versions restart at 1): an
        # already-seen version with a different value is a new set.
        hash = :crypto.hash(:sha256, value)

        cond do
          version != state.version or hash != state.value_hash ->
            apply_value(state, version, hash, value)

          resync_due?(state) ->
            state |> recover() |> reconcile(state.nodes, :resynced)

          true ->
            {report(:unchanged, state), recover(state)}
        end

      {:ok, other, state} ->
        fail(state, {:bad_fetch_result, other})

      {:error, reason, state} ->
        fail(state, reason)
    end
  end

  defp fetch(%{fetch: nil, client: client} = state) do
    case SSM.get_parameter(client, state.parameter) do
      {:ok, parameter, client} -> {:ok, parameter, %{state | client: client}}
      {:error, reason, client} -> {:error, reason, %{state | client: client}}
    end
  end

  defp fetch(%{fetch: fetch} = state) do
    case call(fetch, [state.parameter]) do
      {:ok, parameter} -> {:ok, parameter, state}
      {:error, reason} -> {:error, reason, state}
      other -> {:error, {:bad_fetch_result, other}, state}
    end
  end

  defp resync_due?(%{retry?: true}), do: true
  defp resync_due?(%{resync_interval: :infinity}), do: false
  defp resync_due?(%{applied_at: nil}), do: false

  defp resync_due?(state) do
    System.monotonic_time(:millisecond) - state.applied_at >= state.resync_interval
  end

  defp apply_value(state, version, hash, value) do
    parsed =
      PeerSet.parse(value,
        basename: state.basename,
        max_nodes: state.max_nodes,
        max_new_atoms: state.atoms_left
      )

    case parsed do
      {:ok, %{nodes: nodes, rejected: rejected, truncated: truncated, new_atoms: new_atoms}} ->
        log_rejected(state, version, rejected, truncated)
        state = log_atom_budget(%{state | atoms_left: state.atoms_left - new_atoms}, rejected)

        %{state | version: version, value_hash: hash}
        |> recover()
        |> reconcile(nodes, :applied)

      {:error, :atom_budget_exhausted} ->
        fail(%{state | atom_budget_logged?: true}, {:atom_budget_exhausted, version})

      {:error, reason} ->
        fail(state, {:malformed_value, version, reason})
    end
  end

  defp reconcile(state, desired, result) do
    me = node()
    member? = me in desired
    # An empty set read by a running node is wrong at least about that node (tags removed,
    # a reconciler pointed elsewhere): it never prunes or drains, so it cannot split the cluster.
    empty? = desired == []
    log_empty(state, empty?)
    # A node that was in the set and has left it is draining (its task is stopping): it
    # stops connecting, so the others' prune keeps it out instead of fighting it.
    draining? = state.member? and not member? and not empty?
    log_draining(state, draining?)
    connected = call(state.list_nodes, [])

    to_disconnect =
      if state.prune and not empty? do
        prune_basename = state.basename || PeerSet.basename(me)

        Enum.filter(connected, fn n ->
          n != me and n not in desired and PeerSet.basename(n) == prune_basename
        end)
      else
        []
      end

    disconnected = disconnect_all(state, to_disconnect)
    to_connect = if draining?, do: [], else: (desired -- connected) -- [me]
    {ok, failed, tried_at} = connect_all(state, to_connect)

    state = %{
      state
      | nodes: desired,
        applied_at: System.monotonic_time(:millisecond),
        # Look again next poll after a failed connect, or after a disconnect: OTP's
        # global (prevent_overlapping_partitions) may cut healthy links in response.
        retry?: failed != [] or disconnected != [],
        member?: state.member? or member?,
        draining?: draining?,
        last_failed: log_failed(state, failed),
        tried_at: tried_at
    }

    report = %{
      report(result, state)
      | connected: ok,
        failed: failed,
        disconnected: disconnected
    }

    {report, state}
  end

  defp log_draining(%{draining?: false} = state, true) do
    Logger.info(
      "#{prefix(state)} #{node()} has left the peer set (its task is stopping?): " <>
        "no longer connecting to peers"
    )
  end

  defp log_draining(_state, _draining?), do: :ok

  defp log_empty(%{nodes: nodes} = state, true) when nodes != [] do
    Logger.warning(
      "#{prefix(state)} the peer set is empty although #{node()} is running: " <>
        "keeping the current connections (check the reconciler's TASK_TAGS and ECS_CLUSTER)"
    )
  end

  defp log_empty(_state, _empty?), do: :ok

  defp connect_all(_state, []), do: {[], [], %{}}

  defp connect_all(state, nodes) do
    # One deadline bounds the whole connect phase (not each attempt), so many dead
    # addresses cannot hold the loop for rounds x connect_timeout. Nodes never tried come
    # first, then the ones tried in vain longest ago, so dead ones cannot starve the rest.
    order =
      Enum.sort_by(nodes, fn n ->
        case Map.fetch(state.tried_at, n) do
          {:ok, at} -> {1, at}
          :error -> {0, 0}
        end
      end)

    deadline = System.monotonic_time(:millisecond) + state.connect_timeout
    results = connect_loop(state.connect, order, %{}, [], deadline)

    ok = Enum.sort(for {n, true} <- results, do: n)
    failed = Enum.sort(nodes -- ok)
    now = System.monotonic_time()

    tried_at =
      state.tried_at
      |> Map.take(failed)
      |> Map.merge(Map.new(for {n, r} <- results, r not in [true, :not_tried], do: {n, now}))

    for {n, result} <- results, result != :not_tried do
      emit_libcluster(state, :connect_node, result, n)
    end

    if ok != [] do
      Logger.info("#{prefix(state)} connected to #{length(ok)} node(s): #{names(ok)}")
    end

    emit(state, [:ecs_peers, :connect], %{count: length(ok), failed: length(failed)}, %{
      nodes: ok,
      failed: failed
    })

    {ok, failed, tried_at}
  end

  # At most @max_concurrency attempts at a time; at the deadline the running ones are
  # killed and the ones not yet started count as failed (retried on the next poll).
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
    task = Task.async(fn -> safe_call(connect, [n]) end)
    start_connects(connect, rest, Map.put(running, task.ref, {task, n}))
  end

  defp start_connects(_connect, pending, running), do: {pending, running}

  defp disconnect_all(_state, []), do: []

  defp disconnect_all(state, nodes) do
    results = for n <- nodes, do: {n, safe_call(state.disconnect, [n])}
    for {n, result} <- results, do: emit_libcluster(state, :disconnect_node, result, n)
    done = for {n, true} <- results, do: n

    Logger.info(
      "#{prefix(state)} disconnected from #{length(done)} node(s) no longer in the peer set: #{names(done)}"
    )

    emit(state, [:ecs_peers, :disconnect], %{count: length(done)}, %{nodes: done})
    done
  end

  # As a libcluster strategy, also libcluster's own per-node events.
  defp emit_libcluster(%{libcluster_events?: false}, _what, _result, _node), do: :ok

  defp emit_libcluster(state, what, result, n) do
    outcome =
      case result do
        true -> :ok
        :ignored -> :ignored
        _ -> :error
      end

    safe_call(state.telemetry, [
      [:libcluster, what, outcome],
      %{},
      %{node: n, topology: state.topology}
    ])

    :ok
  end

  defp safe_call(fun, args) do
    call(fun, args)
  rescue
    e -> {:error, e}
  catch
    kind, reason -> {kind, reason}
  end

  defp call({m, f, a}, args), do: apply(m, f, a ++ args)
  defp call(fun, args) when is_function(fun), do: apply(fun, args)

  defp report(result, state) do
    %{
      result: result,
      version: state.version,
      connected: [],
      failed: [],
      disconnected: [],
      error: nil
    }
  end

  ## Errors and logging

  defp fail(state, reason) do
    reason = sanitize(reason)
    retry_in = min(state.interval * 2, state.max_backoff)

    if error_key(reason) != error_key(state.last_error) do
      kept =
        if state.version == nil,
          do: "no peer set applied yet",
          else: "#{length(state.nodes)} peer(s) from version #{state.version}"

      Logger.error(
        "#{prefix(state)} #{describe(reason, state)}; keeping the current connections " <>
          "(#{kept}), retrying in about #{max(1, div(retry_in, 1000))}s"
      )
    end

    state = %{state | last_error: reason, interval: retry_in}
    {%{report(:error, state) | error: reason}, state}
  end

  # AWS error messages can embed the signed request (x-amz-date, the session token):
  # they are cut and redacted before they are kept, logged or reported.
  defp sanitize({:aws_error, status, type, message}) do
    status = if is_integer(status), do: status, else: SSM.sanitize_message(status)
    {:aws_error, status, SSM.sanitize_message(type), SSM.sanitize_message(message)}
  end

  defp sanitize(reason), do: reason

  # What "the same error" means for log-once: an AWS error's message may differ on every
  # request (it can quote the request's date), so only its status and type count.
  defp error_key({:aws_error, status, type, _message}), do: {:aws_error, status, type}
  defp error_key({:atom_budget_exhausted, _version}), do: :atom_budget_exhausted
  defp error_key(reason), do: reason

  defp recover(%{last_error: nil} = state), do: %{state | interval: state.polling_interval}

  defp recover(state) do
    Logger.info("#{prefix(state)} reading #{state.parameter} works again")
    %{state | last_error: nil, interval: state.polling_interval}
  end

  defp log_rejected(_state, _version, [], 0), do: :ok

  defp log_rejected(state, version, rejected, truncated) do
    shown =
      rejected
      |> Enum.take(5)
      |> Enum.map_join(", ", fn {entry, why} ->
        "#{inspect(entry, limit: 5, printable_limit: 80)} (#{why})"
      end)

    more = if length(rejected) > 5, do: " and #{length(rejected) - 5} more", else: ""

    rejected_text =
      if rejected != [],
        do:
          "ignored #{length(rejected)} invalid entr#{if length(rejected) == 1, do: "y", else: "ies"}: #{shown}#{more}",
        else: nil

    truncated_text =
      if truncated > 0,
        do: "ignored #{truncated} node(s) beyond max_nodes (#{state.max_nodes})",
        else: nil

    Logger.warning(
      "#{prefix(state)} #{state.parameter} version #{version}: " <>
        Enum.join(Enum.reject([rejected_text, truncated_text], &is_nil/1), "; ")
    )
  end

  defp log_atom_budget(%{atom_budget_logged?: false} = state, rejected) do
    if Enum.any?(rejected, &match?({_, :atom_budget_exhausted}, &1)) do
      log_atom_budget_exhausted(state)
      %{state | atom_budget_logged?: true}
    else
      state
    end
  end

  defp log_atom_budget(state, _rejected), do: state

  defp log_atom_budget_exhausted(state) do
    Logger.warning(
      "#{prefix(state)} #{state.parameter}: :atom_budget_exhausted, this process has made as many " <>
        "new node-name atoms as :max_new_atoms allows; new names are ignored from now on " <>
        "(names already known still work). A publisher writing ever-new names? " <>
        "Raise :max_new_atoms or restart the node"
    )
  end

  defp log_failed(_state, []), do: []

  defp log_failed(state, failed) do
    if failed != state.last_failed do
      hint =
        if node() == :nonode@nohost,
          do:
            " (this node is not alive: start it with a node name, e.g. RELEASE_DISTRIBUTION=name)",
          else: ""

      Logger.warning(
        "#{prefix(state)} could not connect to #{length(failed)} node(s): #{names(failed)}#{hint}; " <>
          "retrying on the next poll"
      )
    end

    failed
  end

  defp names(nodes) do
    shown = nodes |> Enum.take(10) |> Enum.map_join(", ", &Atom.to_string/1)
    if length(nodes) > 10, do: shown <> " and #{length(nodes) - 10} more", else: shown
  end

  defp prefix(state), do: "[ecs_peers:#{state.topology}]"

  defp emit(state, event, measurements, metadata) do
    safe_call(state.telemetry, [event, measurements, Map.put(metadata, :topology, state.topology)])

    :ok
  end

  @doc false
  def describe(reason, state) do
    name = state.parameter

    case reason do
      :no_region ->
        "no AWS region: set the :region option or AWS_REGION"

      {:credentials, :no_credentials} ->
        "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run in an ECS task with a task role"

      {:credentials, why} ->
        "could not get AWS credentials: #{inspect(why)}"

      {:aws_error, status, type, message} ->
        "GetParameter #{name} failed: #{type} (HTTP #{status}) #{message}" <> aws_hint(type)

      {:unreachable, endpoint, {:no_ca_store, why}} ->
        "GetParameter #{name} failed: no CA certificates to verify #{endpoint} " <>
          "(#{inspect(why)}): install ca-certificates in the image"

      {:unreachable, endpoint, why} ->
        "GetParameter #{name} failed: cannot reach #{endpoint}: #{inspect(why)}"

      {:atom_budget_exhausted, version} ->
        "#{name} version #{version} lists only new node names and the atom budget " <>
          "(:max_new_atoms) is used up: ignoring it"

      {:malformed_value, version, why} ->
        "#{name} version #{version} is malformed (#{inspect(why)}), expected " <>
          ~s({"version":1,"nodes":["name@a.b.c.d", ...]})

      :unexpected_response ->
        "GetParameter #{name} returned a response without Parameter.Value/Version"

      other ->
        "polling #{name} failed: #{inspect(other)}"
    end
  end

  defp aws_hint("ParameterNotFound"), do: " (check the :parameter name and region)"

  defp aws_hint(type)
       when type in ["AccessDeniedException", "AccessDenied"],
       do: " (the task role needs ssm:GetParameter on this parameter)"

  defp aws_hint(type)
       when type in [
              "SignatureDoesNotMatch",
              "UnrecognizedClientException",
              "InvalidSignatureException",
              "InvalidClientTokenId",
              "ExpiredTokenException"
            ],
       do: " (check the AWS credentials and the clock)"

  defp aws_hint(_), do: ""
end
