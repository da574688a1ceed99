defmodule EcsPeers.DNSClusterResolver do
  @moduledoc """
  A `:resolver` for [DNSCluster](https://hexdocs.pm/dns_cluster), the clustering a new
  Phoenix app starts with, that reads the ecs-peers set from SSM instead of DNS. The
  app keeps its `DNSCluster` child and only names the parameter as the query:

      # lib/my_app/application.ex
      {DNSCluster,
       query: Application.get_env(:my_app, :dns_cluster_query) || :ignore,
       resolver: EcsPeers.DNSClusterResolver}

      # config/runtime.exs
      config :my_app, dns_cluster_query: "/ecs-peers/shop"

  The query is the SSM parameter name, verbatim. DNSCluster calls `lookup/2` with it
  every `:interval` (5 s by default), once per record type (`:a`, `:aaaa`), and names
  each address it gets back `basename@address` with its own basename (this node's, or
  the one of a `{basename, query}` tuple), then connects to the names it is not yet
  connected to.

  ## What a lookup returns

  The addresses of the valid entries of the set, as `:inet` tuples, for `:a` (and
  `:srv`); `[]` for `:aaaa` (the set holds IPv4 addresses only), without a read. The
  value is validated by `EcsPeers.PeerSet`, so an entry becomes an atom only when it is
  a valid `basename@a.b.c.d`, and new atoms only within `:max_new_atoms`; the names
  DNSCluster builds from the addresses are as bounded. Any error (AWS, credentials, a
  malformed value) returns the last good addresses (`[]` before the first) and is
  logged once, until it changes or goes away.

  ## Reads

  A read answers every lookup of the same query until the next one is due, at most
  once per `max(:polling_interval, nodes in the last set / :read_budget)` seconds
  (±10% jitter), as `EcsPeers` spaces its reads (`EcsPeers.ReadBudget`): so the whole
  cluster stays near `:read_budget` reads per second whatever DNSCluster's `:interval`
  (a read happens at the first lookup after it is due). A throttled read (see
  `EcsPeers.AWS.SSM.throttled?/1`) or any other error doubles the spacing, up to
  `:max_backoff` (or the budgeted spacing, if longer). The state (the credentials
  cache, the clock offset, the last addresses, the atom budget) lives in the calling
  process, DNSCluster's, under this module's key: it goes away with it, and each
  DNSCluster instance has its own. No AWS secret from the environment is kept there.

  ## Configuration

  From the application environment, read on every lookup, with the names, defaults and
  checks of `EcsPeers`' options (`EcsPeers.Options`):

      config :ecs_peers, EcsPeers.DNSClusterResolver,
        region: "eu-west-1",       # default AWS_REGION, then AWS_DEFAULT_REGION
        basename: nil,             # accept only basename@... entries; default any
        max_nodes: 1000,           # at most this many entries are used
        max_new_atoms: nil,        # default 10 * max_nodes, per DNSCluster process
        read_budget: 4.0,          # reads per second for the whole cluster
        polling_interval: 5_000,   # ms, the shortest spacing of reads
        max_backoff: 60_000,       # ms, the longest spacing while failing
        http_timeout: 5_000,       # ms for an AWS request
        env: %{}                   # AWS_* variables laid over the OS environment

  An unknown key or a bad value raises `ArgumentError` from `basename/1`, which
  DNSCluster calls when it starts: a misconfigured app fails at boot, with the reason.

  Unlike `EcsPeers`, it never disconnects anyone (DNSCluster has no prune): a node that
  leaves the set stays connected until its task stops.
  """

  require Logger

  @prefix "[ecs_peers:dns_cluster]"

  alias EcsPeers.AWS.{Env, Errors, SSM}
  alias EcsPeers.{Options, PeerSet, ReadBudget}

  @doc """
  The basename DNSCluster joins to each address: the part of `node` before `@`.
  Checks the configuration first (DNSCluster calls this once, when it starts).
  """
  @spec basename(node()) :: String.t()
  def basename(node) when is_atom(node) do
    config!()
    PeerSet.basename(node)
  end

  @doc "Connects to `node` (`Node.connect/1`): `true`, `false` or `:ignored`."
  @spec connect_node(node()) :: boolean() | :ignored
  def connect_node(node) when is_atom(node), do: Node.connect(node)

  @doc "The connected visible nodes, which DNSCluster does not connect again."
  @spec list_nodes() :: [node()]
  def list_nodes, do: Node.list(:visible)

  @doc """
  The IPv4 addresses of the peer set in the SSM parameter `query`, for `:a` and `:srv`;
  `[]` for `:aaaa`. Never raises for AWS errors or a bad value: see the moduledoc.
  """
  @spec lookup(String.t(), :a | :aaaa | :srv) :: [:inet.ip4_address()]
  def lookup(query, :aaaa) when is_binary(query), do: []

  def lookup(query, type) when is_binary(query) and type in [:a, :srv] do
    config = config!()
    key = {__MODULE__, query}
    state = Process.get(key) || new_state(config)
    now = System.monotonic_time(:millisecond)

    state =
      if state.next_read_at == nil or now >= state.next_read_at,
        do: read(state, query, config, now),
        else: state

    Process.put(key, state)
    state.addresses
  end

  defp new_state(config) do
    %{
      credentials: nil,
      clock_offset: 0,
      addresses: [],
      # Monotonic time may be negative: nil is "read at once".
      next_read_at: nil,
      backoff: nil,
      atoms_left: config.max_new_atoms || 10 * config.max_nodes,
      last_error: nil
    }
  end

  defp read(state, query, config, now) do
    case fetch(state, query, config) do
      {:ok, parameter, state} -> apply_value(state, query, parameter, config, now)
      {:error, reason, state} -> fail(state, query, reason, config, now)
    end
  end

  # A client made for each read from the environment of the moment, with the credentials
  # cache and the clock offset of the last one. Only those two are kept between reads,
  # so the calling process holds no AWS secret from the environment.
  defp fetch(state, query, config) do
    client = SSM.new(Env.build(config.env), region: config.region, timeout: config.http_timeout)

    client = %{client | credentials: state.credentials, clock_offset: state.clock_offset}

    {result, client} =
      case SSM.get_parameter(client, query) do
        {:ok, parameter, client} -> {{:ok, parameter}, client}
        {:error, reason, client} -> {{:error, reason}, client}
      end

    state = %{state | credentials: client.credentials, clock_offset: client.clock_offset}
    Tuple.append(result, state)
  end

  defp apply_value(state, query, %{version: version, value: value}, config, now) do
    parsed =
      PeerSet.parse(value,
        basename: config.basename,
        max_nodes: config.max_nodes,
        max_new_atoms: state.atoms_left
      )

    case parsed do
      {:ok, %{nodes: nodes, new_atoms: new_atoms}} ->
        if state.last_error != nil, do: Logger.info("#{@prefix} reading #{query} works again")
        addresses = Enum.map(nodes, &address/1)

        %{
          state
          | addresses: addresses,
            atoms_left: state.atoms_left - new_atoms,
            last_error: nil,
            backoff: nil,
            next_read_at: now + ReadBudget.jitter(budgeted(length(addresses), config))
        }

      {:error, :atom_budget_exhausted} ->
        fail(state, query, {:atom_budget_exhausted, version}, config, now)

      {:error, reason} ->
        fail(state, query, {:malformed_value, version, reason}, config, now)
    end
  end

  # Validated by PeerSet: basename@a.b.c.d, each octet 0..255.
  defp address(node) do
    [_name, host] = node |> Atom.to_string() |> :binary.split("@")
    {:ok, ip} = :inet.parse_ipv4strict_address(String.to_charlist(host))
    ip
  end

  # As EcsPeers: max(polling_interval, nodes / read_budget), see EcsPeers.ReadBudget.
  defp budgeted(nodes, config),
    do: ReadBudget.interval(config.polling_interval, nodes, config.read_budget)

  defp fail(state, query, reason, config, now) do
    reason = Errors.sanitize(reason)
    budgeted = budgeted(length(state.addresses), config)
    backoff = ReadBudget.backoff(state.backoff || budgeted, budgeted, config.max_backoff)

    if Errors.key(reason) != Errors.key(state.last_error) do
      Logger.error(
        "#{@prefix} #{Errors.describe(reason, query)}; keeping the last " <>
          "#{length(state.addresses)} address(es), next read in about " <>
          "#{max(1, div(backoff, 1000))}s"
      )
    end

    %{
      state
      | last_error: reason,
        backoff: backoff,
        next_read_at: now + ReadBudget.jitter(backoff)
    }
  end

  ## Configuration

  # The keys of EcsPeers' one options schema (EcsPeers.Options) that mean something here.
  @keys [
    :region,
    :basename,
    :max_nodes,
    :max_new_atoms,
    :read_budget,
    :polling_interval,
    :max_backoff,
    :http_timeout,
    :env
  ]

  @doc false
  # The checked configuration (a map, defaults filled in) by EcsPeers.Options; raises
  # ArgumentError naming the key, never showing :env.
  @spec config!() :: %{atom() => term()}
  def config! do
    given = Application.get_env(:ecs_peers, __MODULE__, [])

    cond do
      not (is_list(given) and Keyword.keyword?(given)) ->
        Options.validate!(given, @keys)

      Keyword.has_key?(given, :parameter) ->
        raise ArgumentError, "no :parameter here: the parameter is DNSCluster's :query"

      true ->
        # The schema requires :parameter; here it is the query of each lookup.
        Options.validate!([parameter: "(the query)"] ++ given, [:parameter | @keys])
    end
  rescue
    e in ArgumentError ->
      reraise ArgumentError,
              [message: "config :ecs_peers, #{inspect(__MODULE__)}: " <> Exception.message(e)],
              __STACKTRACE__
  end
end
