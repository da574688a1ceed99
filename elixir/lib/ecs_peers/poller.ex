defmodule EcsPeers.Poller do
  @moduledoc """
  The loop shared by `EcsPeers` and `EcsPeers.Strategy`: one process per topology that
  reads the peer set and keeps this node connected to it. Three things drive it:

    * **reads** (`{:read, ref}`): one signed `GetParameter`, at once at boot, then every
      `EcsPeers.ReadBudget.interval/3` (with jitter), so the whole cluster stays within
      `:read_budget`. A value whose `Version` and hash (a re-created parameter restarts
      at version 1) are the ones applied is not decoded again; a new one is parsed and
      validated (`EcsPeers.PeerSet`), making node-name atoms only within the process's
      `:max_new_atoms` budget, and becomes the last good set (`EcsPeers.Mesh.read/4`);
    * **ticks** (`{:tick, ref}`), every `:polling_interval` (with jitter): a heal, no AWS
      call;
    * **nodedown** (`:net_kernel.monitor_nodes/1`): a heal soon after (coalesced), so a
      cut link (OTP's `global` with `prevent_overlapping_partitions` cuts further links
      when one goes) is re-made within a tick.

  A heal lists the connected nodes, asks `EcsPeers.Mesh.plan/2` what to do (its rules
  are there: grace, draining, a set without this node) and carries it out with
  `EcsPeers.Connector`. A read runs a heal right after.

  A failed read (AWS, credentials, a malformed value) keeps the last good set: heals go
  on with it, the error is logged once (until its kind changes or it goes away), and the
  read interval doubles up to `max(:max_backoff, budgeted interval)` (a throttling answer
  says so in the log), back to the budgeted one on the next success. Boot never waits on
  AWS (the first read runs from `handle_continue/2`) and every timer is always re-armed.
  """

  use GenServer

  alias EcsPeers.AWS.{Env, Errors, SSM}
  alias EcsPeers.{Connector, Log, Mesh, Options, PeerSet, ReadBudget, Telemetry}

  # A burst of nodedowns (global cutting links) is healed once, this long after the first.
  @nodedown_delay 50

  defstruct [
    :topology,
    :parameter,
    :polling_interval,
    :read_budget,
    :prune,
    :prune_grace,
    :basename,
    :max_nodes,
    :atoms_left,
    :connect_timeout,
    :max_backoff,
    :connect,
    :disconnect,
    :list_nodes,
    :fetch,
    :telemetry,
    :client,
    :interval,
    read_timer: nil,
    tick_timer: nil,
    heal_pending?: false,
    mesh: %Mesh{},
    membership: :no_set,
    version: nil,
    value_hash: nil,
    last_error: nil,
    last_failed: [],
    tried_at: %{},
    atom_budget_logged?: false,
    libcluster_events?: false
  ]

  @type t :: %__MODULE__{}

  @doc """
  Validates options (`EcsPeers.Options`) and builds the loop's state. Raises
  `ArgumentError` naming unknown or invalid options; `allowed` is the list of keys the
  caller accepts.
  """
  @spec new(keyword(), [atom()]) :: t()
  def new(opts, allowed \\ Options.standalone_keys()) do
    o = Options.validate!(opts, allowed)

    client =
      if o.fetch == nil do
        SSM.new(Env.build(o.env), region: o.region, timeout: o.http_timeout)
      end

    %__MODULE__{
      topology: o.topology,
      parameter: o.parameter,
      polling_interval: o.polling_interval,
      read_budget: o.read_budget,
      prune: o.prune,
      prune_grace: o.prune_grace,
      basename: o.basename,
      max_nodes: o.max_nodes,
      atoms_left: o.max_new_atoms || 10 * o.max_nodes,
      connect_timeout: o.connect_timeout,
      max_backoff: o.max_backoff,
      connect: o.connect,
      disconnect: o.disconnect,
      list_nodes: o.list_nodes,
      fetch: o.fetch,
      telemetry: o.telemetry || (&Telemetry.execute/3),
      client: client,
      interval: o.polling_interval
    }
  end

  ## GenServer

  @doc false
  def start_link(%__MODULE__{} = state, gen_opts \\ []) do
    GenServer.start_link(__MODULE__, state, gen_opts)
  end

  @impl true
  def init(state) do
    :ok = :net_kernel.monitor_nodes(true)
    {:ok, state, {:continue, :boot}}
  end

  @impl true
  def handle_continue(:boot, state) do
    {_report, state} = read_and_heal(state)
    {:noreply, schedule_tick(state)}
  end

  @impl true
  # Only the timer last set counts: a stale one (cancelled by poll_now after it fired)
  # must not start a second chain.
  def handle_info({:read, ref}, %{read_timer: {_, ref}} = state) do
    {_report, state} = read_and_heal(%{state | read_timer: nil})
    {:noreply, state}
  end

  def handle_info({:tick, ref}, %{tick_timer: {_, ref}} = state) do
    {_report, state} = heal(%{state | tick_timer: nil})
    {:noreply, schedule_tick(state)}
  end

  def handle_info({:nodedown, _node}, %{heal_pending?: false} = state) do
    Process.send_after(self(), :heal, @nodedown_delay)
    {:noreply, %{state | heal_pending?: true}}
  end

  def handle_info(:heal, state) do
    {_report, state} = heal(%{state | heal_pending?: false})
    {:noreply, state}
  end

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
    with {timer, _ref} <- state.read_timer, do: Process.cancel_timer(timer)
    {report, state} = read_and_heal(%{state | read_timer: nil})
    {:reply, report, state}
  end

  def handle_call(:status, _from, state) do
    status = %{
      topology: state.topology,
      parameter: state.parameter,
      version: state.version,
      nodes: state.mesh.set || [],
      membership: state.membership,
      last_error: state.last_error,
      interval: state.interval
    }

    {:reply, status, state}
  end

  defp schedule_tick(state) do
    ref = make_ref()
    timer = Process.send_after(self(), {:tick, ref}, ReadBudget.jitter(state.polling_interval))
    %{state | tick_timer: {timer, ref}}
  end

  defp schedule_read(state) do
    ref = make_ref()
    timer = Process.send_after(self(), {:read, ref}, ReadBudget.jitter(state.interval))
    %{state | read_timer: {timer, ref}}
  end

  @doc false
  # Kept for callers of the former API: the wording lives in EcsPeers.AWS.Errors.
  def describe(reason, %{parameter: parameter}), do: Errors.describe(reason, parameter)

  ## A read, then a heal

  @doc """
  Reads once and heals; returns `{report, state}` and never raises. The report has
  `:result` (`:applied`, `:unchanged` or `:error`), `:version`, `:connected`,
  `:failed`, `:disconnected` and `:error`.
  """
  @spec read_and_heal(t()) :: {map(), t()}
  def read_and_heal(state) do
    {read, state} = read(state)
    {heal, state} = heal(state)
    {Map.merge(heal, read), schedule_read(state)}
  end

  defp read(state) do
    started = System.monotonic_time()

    {report, state} =
      try do
        do_read(state)
      rescue
        e -> fail(state, {:exception, Exception.message(e)})
      catch
        kind, reason -> fail(state, {kind, reason})
      end

    Telemetry.emit(state, [:ecs_peers, :poll], %{duration: System.monotonic_time() - started}, %{
      parameter: state.parameter,
      result: report.result,
      version: report.version,
      error: report.error,
      throttled: ReadBudget.throttled?(report.error)
    })

    {report, state}
  end

  defp do_read(state) do
    case fetch(state) do
      {:ok, %{version: version, value: value}, state} when is_binary(value) ->
        hash = :crypto.hash(:sha256, value)

        if version == state.version and hash == state.value_hash do
          {read_report(:unchanged, state), took(state, state.mesh.set)}
        else
          apply_value(state, version, hash, value)
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
    case Connector.call(fetch, [state.parameter]) do
      {:ok, parameter} -> {:ok, parameter, state}
      {:error, reason} -> {:error, reason, state}
      other -> {:error, {:bad_fetch_result, other}, state}
    end
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
        Log.rejected(state, version, rejected, truncated)
        state = log_atom_budget(%{state | atoms_left: state.atoms_left - new_atoms}, rejected)
        state = %{state | version: version, value_hash: hash}
        {read_report(:applied, state), took(state, nodes)}

      {:error, :atom_budget_exhausted} ->
        fail(%{state | atom_budget_logged?: true}, {:atom_budget_exhausted, version})

      {:error, reason} ->
        fail(state, {:malformed_value, version, reason})
    end
  end

  # A good read: the set (new or the same) is taken in and the interval is budgeted.
  defp took(state, set) do
    if state.last_error != nil, do: Log.recovered(state)
    mesh = Mesh.read(state.mesh, set, node(), now())
    interval = ReadBudget.interval(state.polling_interval, length(set), state.read_budget)
    %{state | mesh: mesh, interval: interval, last_error: nil}
  end

  defp fail(state, reason) do
    reason = Errors.sanitize(reason)
    size = length(state.mesh.set || [])
    budgeted = ReadBudget.interval(state.polling_interval, size, state.read_budget)
    retry_in = ReadBudget.backoff(state.interval, budgeted, state.max_backoff)
    Log.read_failed(state, reason, retry_in)
    state = %{state | last_error: reason, interval: retry_in}
    {%{read_report(:error, state) | error: reason}, state}
  end

  defp read_report(result, state),
    do: %{result: result, version: state.version, error: nil}

  defp log_atom_budget(%{atom_budget_logged?: false} = state, rejected) do
    if Enum.any?(rejected, &match?({_, :atom_budget_exhausted}, &1)) do
      Log.atom_budget_exhausted(state)
      %{state | atom_budget_logged?: true}
    else
      state
    end
  end

  defp log_atom_budget(state, _rejected), do: state

  ## The heal

  defp heal(state) do
    input = %{
      connected: Connector.call(state.list_nodes, []),
      self: node(),
      now: now(),
      prune: state.prune,
      basename: state.basename || PeerSet.basename(node()),
      grace: state.prune_grace
    }

    {plan, mesh} = Mesh.plan(state.mesh, input)
    Log.membership(state, plan.state)
    state = %{state | mesh: mesh, membership: plan.state}

    disconnected = Connector.disconnect(state, plan.disconnect)
    {ok, failed, tried_at} = Connector.connect(state, plan.connect)
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

  defp now, do: System.monotonic_time(:millisecond)
end
