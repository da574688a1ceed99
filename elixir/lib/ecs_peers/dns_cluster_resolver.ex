defmodule EcsPeers.DNSClusterResolver do
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
  every `:interval` (5 s by default), once per record type of its `:dns_rr_types`
  (default `[:a, :aaaa, :srv]`), and names each address it gets back `basename@address`
  with its own basename (this node's, from `basename/1`, or the one of a
  `{basename, query}` tuple), then connects to the names it is not yet connected to.

  ## What a lookup returns

  The addresses of the valid entries of the set, as `:inet` tuples, for `:a` and
  `:srv` (the same addresses: DNSCluster drops the duplicates, and one read answers
  both); `[]` for `:aaaa` (the set holds IPv4 addresses only), without a read. Only the
  entries of one basename count: `:basename` when configured, else the one DNSCluster
  got from `basename/1` (this node's; remembered in the calling process), since
  DNSCluster names every address with it: an address of another basename's entry (a
  remote console, another app) would be dialled under the wrong name. With a
  `{basename, query}` query, configure that `:basename`. The value is validated by
  `EcsPeers.PeerSet`, so an entry becomes an atom only when it is a valid
  `basename@a.b.c.d` of that basename, and new atoms only within `:max_new_atoms`; the
  names DNSCluster builds from the addresses are those same atoms. Any error (AWS, credentials, a
  malformed value, a torn v2 set) returns the last good addresses (`[]` before the first) and is
  logged once, until it changes or goes away.

  ## Reads

  The parameter is read as `EcsPeers` reads it (`EcsPeers.Source.SSM`): a v1 value, or a
  v2 manifest with its parts (one `GetParameters`, only when the manifest changed); a
  v2 set met mid-write (`:inconsistent_set`) is not used and is read again at the
  budgeted spacing, without backoff.

  A read answers every lookup of the same query until the next one is due, at most
  once per `max(:polling_interval, cluster size / :read_budget)` seconds (±10% jitter;
  the second read at a random point of the first interval), as `EcsPeers` spaces its
  reads (`EcsPeers.ReadBudget`), the cluster size being the larger of the last set's
  size and the connected nodes of the basename plus one (an empty or wrong set does not
  shrink it): so the whole cluster stays near `:read_budget` reads per second whatever
  DNSCluster's `:interval` (a read happens at the first lookup after it is due). A
  failed read doubles the spacing, up to `:max_backoff` (or the budgeted spacing, if
  longer); a throttled one (see `EcsPeers.AWS.Errors.throttled?/1`) up to 8 times the
  budgeted spacing. The state (the credentials
  cache, the clock offset, the last addresses, the atom budget) lives in the calling
  process, DNSCluster's, under this module's key: it goes away with it, and each
  DNSCluster instance has its own. No AWS secret from the environment is kept there.

  ## Configuration

  From the application environment, read on every lookup, with the names, defaults and
  checks of `EcsPeers`' options (`EcsPeers.Options`):

      config :ecs_peers, EcsPeers.DNSClusterResolver,
        region: "eu-west-1",
        basename: "shop"

  The keys it takes:

  #{EcsPeers.Options.bullets(@keys)}

  (`:max_new_atoms` counts per DNSCluster process; `:polling_interval` is here only the
  shortest spacing of reads: DNSCluster's `:interval` paces the lookups.)

  An unknown key or a bad value raises `ArgumentError` from `basename/1`, which
  DNSCluster calls when it starts: a misconfigured app fails at boot, with the reason.

  Unlike `EcsPeers`, it never disconnects anyone (DNSCluster has no prune): a node that
  leaves the set stays connected until its task stops.
  """

  require Logger

  @prefix "[ecs_peers:dns_cluster]"

  alias EcsPeers.AWS.Errors
  alias EcsPeers.{Options, PeerSet, ReadBudget, Source}

  @doc """
  The basename DNSCluster joins to each address: the part of `node` before `@`.
  Checks the configuration first (DNSCluster calls this once, when it starts).
  """
  @spec basename(node()) :: String.t()
  def basename(node) when is_atom(node) do
    config!()
    basename = PeerSet.basename(node)
    # DNSCluster names every address of a plain query with it: lookups keep its entries.
    Process.put({__MODULE__, :basename}, basename)
    basename
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
      clock_checked?: false,
      snapshot: nil,
      addresses: [],
      # Monotonic time may be negative: nil is "read at once".
      next_read_at: nil,
      backoff: nil,
      read_once?: false,
      atoms_left: Options.max_new_atoms(config),
      last_error: nil
    }
  end

  defp read(state, query, config, now) do
    case fetch(state, query, config) do
      {:ok, parameter, state} -> apply_value(state, query, parameter, config, now)
      {:error, reason, state} -> fail(state, query, reason, config, now)
    end
  end

  # A source (EcsPeers.Source, as the poller reads: a v1 value, or a v2 manifest and its
  # parts) made for each read from the environment of the moment, with the credentials
  # cache, the clock offset and the last good snapshot of the last one. Only those are
  # kept between reads, so the calling process holds no AWS secret from the environment.
  defp fetch(state, query, config) do
    source =
      Source.new(%{
        parameter: query,
        fetch: nil,
        env: config.env,
        region: config.region,
        http_timeout: config.http_timeout
      })

    client = %{
      source.client
      | credentials: state.credentials,
        clock_offset: state.clock_offset,
        clock_checked?: state.clock_checked?
    }

    {result, source} =
      case Source.read(%{source | client: client, cache: state.snapshot}) do
        {:ok, snapshot, source} -> {{:ok, snapshot}, source}
        {:error, reason, source} -> {{:error, reason}, source}
      end

    state = %{
      state
      | credentials: source.client.credentials,
        clock_offset: source.client.clock_offset,
        clock_checked?: source.client.clock_checked?,
        snapshot: source.cache
    }

    Tuple.append(result, state)
  end

  defp apply_value(state, query, %{version: version, value: value}, config, now) do
    parsed =
      PeerSet.parse(value,
        basename: basename_of(config),
        max_nodes: config.max_nodes,
        max_new_atoms: state.atoms_left
      )

    case parsed do
      {:ok, %{nodes: nodes, new_atoms: new_atoms}} ->
        if state.last_error != nil, do: Logger.info("#{@prefix} reading #{query} works again")
        addresses = Enum.map(nodes, &address/1)
        budgeted = budgeted(length(addresses), config)

        # The second read at a random point of the interval, as EcsPeers does: a
        # deploy's first lookups come in a burst, the reads after them must not.
        delay =
          if state.read_once?,
            do: ReadBudget.jitter(budgeted),
            else: ReadBudget.first_delay(config.polling_interval, budgeted)

        %{
          state
          | addresses: addresses,
            atoms_left: state.atoms_left - new_atoms,
            last_error: nil,
            backoff: nil,
            read_once?: true,
            next_read_at: now + delay
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

  # As EcsPeers: max(polling_interval, size / read_budget), see EcsPeers.ReadBudget, the
  # size counting the connected nodes of the basename too.
  defp budgeted(nodes, config) do
    basename = basename_of(config)
    connected = Enum.count(list_nodes(), &(basename == nil or PeerSet.basename(&1) == basename))
    ReadBudget.interval(config.polling_interval, max(nodes, connected + 1), config.read_budget)
  end

  # The configured basename, else the one DNSCluster got from basename/1.
  defp basename_of(config), do: config.basename || Process.get({__MODULE__, :basename})

  defp fail(state, query, reason, config, now) do
    reason = Errors.sanitize(reason)
    budgeted = budgeted(length(state.addresses), config)
    throttled? = ReadBudget.throttled?(reason)

    # A v2 set met mid-write is whole at the next read: no backoff (EcsPeers.Source).
    backoff =
      if Source.retry_at_budget?(reason),
        do: budgeted,
        else:
          ReadBudget.backoff(state.backoff || budgeted, budgeted, config.max_backoff, throttled?)

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
