defmodule EcsPeers.Poller do
  @moduledoc """
  The loop shared by `EcsPeers` and `EcsPeers.Strategy`: one process per topology that
  reads the peer set and keeps this node connected to it. Four things drive it:

    * **reads** (`{:read, ref}`): one signed `GetParameter`, at once at boot, the second
      at a random point of the first interval (a deploy's tasks must not read in
      waves), then every `EcsPeers.ReadBudget.interval/3` (±10%). A value whose
      `Version` and hash (a re-created parameter restarts at version 1) are the applied
      ones is not decoded again; a new one is validated (`EcsPeers.PeerSet`, atoms only
      within `:max_new_atoms`), becomes the last good set (`EcsPeers.Mesh.read/4`) and
      is sent to the connected nodes of the basename (`EcsPeers.Share`);
    * **shares** from other nodes: a newer set, validated as a read value is, taken in
      as if read; a node that connects is told which version this node has;
    * **ticks** (`{:tick, ref}`), every `:polling_interval` (±10%): a heal, no AWS call;
    * **nodedown** (`:net_kernel.monitor_nodes/1`): a heal soon after (coalesced), so a
      link cut by OTP's `global` (`prevent_overlapping_partitions`) is re-made at once.

  A heal (`EcsPeers.Connector.heal/3`) asks `EcsPeers.Mesh.plan/2` what to do (grace,
  draining, a wrong set) and carries it out. A read runs a heal right after.

  A failed read (AWS, credentials, a malformed value) keeps the last good set: heals go
  on with it, the error is logged once (until its kind changes or it goes away), and the
  read interval backs off (`EcsPeers.ReadBudget.backoff/4`, more for a throttling
  answer), back to the budgeted one on the next success. Boot never waits on AWS (the
  first read runs from `handle_continue/2`) and every timer is always re-armed.
  """

  use GenServer

  alias EcsPeers.AWS.Errors
  alias EcsPeers.{Connector, Log, Mesh, Options, PeerSet, ReadBudget, Share, Source, Telemetry}

  require EcsPeers.Share

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
    :source,
    :interval,
    :inbox,
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

  @taken ~w(topology parameter polling_interval read_budget prune prune_grace basename
            max_nodes connect_timeout max_backoff connect disconnect list_nodes fetch)a

  @doc """
  Validates options (`EcsPeers.Options`) and builds the loop's state. Raises
  `ArgumentError` naming unknown or invalid options; `allowed` is the list of keys the
  caller accepts.
  """
  @spec new(keyword(), [atom()]) :: t()
  def new(opts, allowed \\ Options.standalone_keys()) do
    o = Options.validate!(opts, allowed)

    source = Source.new(o)

    # The options the loop uses as given; the others are derived from them.
    __MODULE__
    |> struct(Map.take(o, @taken))
    |> Map.merge(%{
      atoms_left: Options.max_new_atoms(o),
      telemetry: o.telemetry || (&Telemetry.execute/3),
      source: source,
      parameter: Source.name(source),
      interval: o.polling_interval
    })
  end

  ## GenServer

  @doc false
  def start_link(%__MODULE__{} = state, gen_opts \\ []) do
    GenServer.start_link(__MODULE__, state, gen_opts)
  end

  @impl true
  def init(state) do
    :ok = :net_kernel.monitor_nodes(true)
    {:ok, %{state | inbox: Share.inbox(state.topology)}, {:continue, :boot}}
  end

  @impl true
  def handle_continue(:boot, state) do
    {_report, state} = read_and_heal(state, :boot)
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

  def handle_info({:nodeup, node}, state) do
    Share.nodeup(state, node, basename(state))
    {:noreply, state}
  end

  def handle_info(msg, state) when Share.share?(msg),
    do: {:noreply, on_share(Share.handle(msg, state, basename(state)), state)}

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  # Crash reports and :sys.get_status/1 show the state without the AWS secrets.
  def format_status(:terminate, [_pdict, state]), do: Log.redact(state)
  def format_status(_normal, [_pdict, state]), do: [data: [{~c"State", Log.redact(state)}]]

  @impl true
  def handle_call(:poll_now, _from, state) do
    with {timer, _ref} <- state.read_timer, do: Process.cancel_timer(timer)
    {report, state} = read_and_heal(%{state | read_timer: nil})
    {:reply, report, state}
  end

  def handle_call(:status, _from, state),
    do: {:reply, Map.merge(Log.status(state), Source.status(state.source)), state}

  defp schedule_tick(state) do
    ref = make_ref()
    timer = Process.send_after(self(), {:tick, ref}, ReadBudget.jitter(state.polling_interval))
    %{state | tick_timer: {timer, ref}}
  end

  # After the boot read, the second one comes at a random point of the interval: a
  # deploy's boot reads come in a burst, the reads after them must not.
  defp schedule_read(state, which) do
    delay =
      if which == :boot,
        do: ReadBudget.first_delay(state.polling_interval, state.interval),
        else: ReadBudget.jitter(state.interval)

    ref = make_ref()
    %{state | read_timer: {Process.send_after(self(), {:read, ref}, delay), ref}}
  end

  ## A read, then a heal

  @doc """
  Reads once and heals; returns `{report, state}` and never raises. The report has
  `:result` (`:applied`, `:unchanged` or `:error`), `:version`, `:connected`,
  `:failed`, `:disconnected` and `:error`.
  """
  @spec read_and_heal(t(), :boot | :next) :: {map(), t()}
  def read_and_heal(state, which \\ :next) do
    {read, state} = read(state)
    # Before the heal, which may prune some of them: they learn they are out.
    if read.result == :applied, do: Share.send_set(state, peers(state))
    {heal, state} = heal(state)
    {Map.merge(heal, read), schedule_read(state, which)}
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
    case Source.read(state.source) do
      {:ok, %{version: version, hash: hash, value: value}, source} ->
        state = %{state | source: source}

        if version == state.version and hash == state.value_hash do
          {read_report(:unchanged, state), took(state, state.mesh.set)}
        else
          apply_value(state, version, hash, value)
        end

      {:error, reason, source} ->
        fail(%{state | source: source}, reason)
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
        state = Log.atom_budget(%{state | atoms_left: state.atoms_left - new_atoms}, rejected)
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
    %{take(state, set) | interval: budgeted(state, set), last_error: nil}
  end

  defp take(state, set), do: %{state | mesh: Mesh.read(state.mesh, set, node(), now())}

  # A newer set shared by another node (EcsPeers.Share): validated as a read value is,
  # within this process's atom budget, and taken in as if read (not shared again).
  defp on_share({:adopt, version, hash, nodes, new_atoms}, state) do
    state = %{state | atoms_left: state.atoms_left - new_atoms, version: version}
    {_heal, state} = heal(take(%{state | value_hash: hash}, nodes))
    state
  end

  defp on_share({:seen, node, creation}, state),
    do: %{state | mesh: Mesh.seen(state.mesh, node, creation)}

  defp on_share(:ignore, state), do: state

  # The cluster size the reads are budgeted for: a set can be empty or wrong (naming no
  # live node) while hundreds of nodes run, so the connected nodes count too.
  defp budgeted(state, set) do
    size = max(length(set || []), length(peers(state)) + 1)
    ReadBudget.interval(state.polling_interval, size, state.read_budget)
  end

  defp peers(state) do
    case Connector.safe_call(state.list_nodes, []) do
      nodes when is_list(nodes) -> Share.peers(nodes, basename(state))
      _error -> []
    end
  end

  defp basename(state), do: state.basename || PeerSet.basename(node())

  defp fail(state, reason) do
    reason = Errors.sanitize(reason)
    budgeted = budgeted(state, state.mesh.set)
    throttled? = ReadBudget.throttled?(reason)
    # A v2 set met mid-write is whole at the next read: no backoff (EcsPeers.Source).
    retry_in =
      if Source.retry_at_budget?(reason),
        do: budgeted,
        else: ReadBudget.backoff(state.interval, budgeted, state.max_backoff, throttled?)

    Log.read_failed(state, reason, retry_in)
    state = %{state | last_error: reason, interval: retry_in}
    {%{read_report(:error, state) | error: reason}, state}
  end

  defp read_report(result, state),
    do: %{result: result, version: state.version, error: nil}

  ## The heal: EcsPeers.Connector.heal/3 plans (EcsPeers.Mesh) and carries it out.

  defp heal(state), do: Connector.heal(state, basename(state), now())

  defp now, do: System.monotonic_time(:millisecond)
end
