defmodule EcsPeers.Options do
  @moduledoc """
  The one options schema of ecs-peers: every key with its default, its check and its
  doc. `EcsPeers`, `EcsPeers.Strategy`, their moduledocs and the README's option table
  are all made from it, so a default is written once.

  Keys are `:common` (accepted by `EcsPeers` and, under `config:`, by
  `EcsPeers.Strategy`) or `:standalone` (`EcsPeers` only: libcluster provides them).
  """

  alias EcsPeers.PeerSet

  # {key, scope, default, check, expected, shown default, doc}: the shown default is nil
  # for `inspect(default)`; a text only where the default is computed or described.
  @schema [
    {:parameter, :common, nil, :nil_or_non_empty_string, "a non-empty string",
     "required, or `:cloud_map`",
     ~s(the SSM parameter name, e.g. `"/ecs-peers/shop"`: a v1 value or a v2 manifest and ) <>
       "its parts (see `EcsPeers.Source.SSM`)."},
    {:cloud_map, :common, nil, :cloud_map,
     ~s(nil or [namespace: "NAME", service: "NAME"] \(non-empty strings\)), nil,
     ~s(read the set from AWS Cloud Map instead of SSM: `[namespace: "NAME", service: ) <>
       ~s("NAME"]`, the HTTP namespace and service the reconciler registers the tasks in ) <>
       "(see `EcsPeers.Source.CloudMap`). Excludes `:parameter`."},
    {:polling_interval, :common, 5_000, :pos_int, "a positive integer (ms)", nil,
     "ms between heal ticks (±10% jitter): each tick compares the connected nodes with " <>
       "the last good set and reconnects what is missing, without an AWS call. Reads " <>
       "happen at most this often (see `:read_budget`)."},
    {:read_budget, :common, 4.0, :pos_number, "a positive number (reads/s)",
     "`4.0`; `100.0` with `:cloud_map`",
     "reads per second for the whole cluster (a read is one `GetParameter`, or one " <>
       "`DiscoverInstancesRevision`): each node reads every " <>
       "`max(polling_interval, cluster size / read_budget)` (±10% jitter; the read after " <>
       "the boot read at a random point of that interval), the cluster size being the " <>
       "larger of the last good set's size and the connected nodes of the basename plus " <>
       "one. The default is 10% of Parameter Store's default 40 TPS per account and " <>
       "Region, shared with every other app; with `:cloud_map`, 10% of `DiscoverInstances`' " <>
       "1,000/s (every node makes one after a change). A set read is shared with the connected " <>
       "nodes (`EcsPeers.Share`), so a change reaches every member at once."},
    {:prune, :common, false, :boolean, "a boolean", nil,
     "also disconnect connected nodes of the pruned basename (`:basename` if set, else " <>
       "this node's) that are absent from the set. Set it on every node or on none: a " <>
       "member without prune keeps a dropped node connected, and OTP's `global` then " <>
       "re-links it to the members that prune it, again and again (flapping)."},
    {:prune_grace, :common, 30_000, :non_neg_int, "a non-negative integer (ms)", nil,
     "a connected node that was never in a set this node read is pruned only once a read " <>
       "made this long after it was first seen absent still omits it, so a task that has " <>
       "just started is not cut before the reconciler publishes it: the reconciler runs " <>
       "on task events gathered for `BatchingWindowSeconds` (default 20 s) plus a few " <>
       "seconds of run; keep the grace above that. `0` prunes at once. A node dropped " <>
       "from the set (in the previous set this node read) is pruned at the read that " <>
       "drops it, without grace, and kept out (pruned again at once if it reconnects) " <>
       "for `max(prune_grace, 2 × the read interval)` after the drop, or until it comes " <>
       "back as another incarnation (a new task given its address); then it is an " <>
       "ordinary stray, with the grace."},
    {:basename, :common, nil, :basename, "nil or 1..64 letters, digits, _ or -", "`nil`: any",
     "accept only entries with this basename."},
    {:region, :common, nil, :nil_or_string, "nil or a string",
     "`AWS_REGION`, then `AWS_DEFAULT_REGION`", "the AWS region."},
    {:max_nodes, :common, 1_000, :pos_int, "a positive integer", nil,
     "at most this many nodes are taken from the set."},
    {:max_new_atoms, :common, nil, :nil_or_non_neg_int, "nil or a non-negative integer",
     "`10 * max_nodes`",
     "how many new node-name atoms this process may make over its life. Names whose atom " <>
       "exists cost nothing; beyond the budget new names are ignored (logged once)."},
    {:connect_timeout, :common, 5_000, :pos_int, "a positive integer (ms)", nil,
     "ms the connect phase of a heal may take in all (attempts run concurrently; the " <>
       "ones still running then are cut and retried next tick)."},
    {:http_timeout, :common, 5_000, :pos_int, "a positive integer (ms)", nil,
     "ms for an AWS request."},
    {:max_backoff, :common, 60_000, :pos_int, "a positive integer (ms)", nil,
     "the longest interval between reads while they fail (throttled or otherwise); " <>
       "never shorter than the budgeted interval."},
    {:env, :common, %{}, :map, "a map of environment variables", nil,
     "environment variables laid over the OS environment for the AWS edge; a `nil` value " <>
       "hides a variable. Only the `AWS_*` variables the AWS edge reads are kept."},
    {:fetch, :common, nil, {:nil_or_callable, 1}, "nil, a 1-arity fun or {m, f, a}", "`nil`: SSM",
     "test seam: called with the parameter name (and, for a v2 manifest, each part's) " <>
       "instead of SSM, returns " <>
       "`{:ok, %{version: integer, value: string}}` or `{:error, reason}`."},
    {:telemetry, :common, nil, {:nil_or_callable, 3}, "nil, a 3-arity fun or {m, f, a}",
     "`:telemetry` when loaded",
     "called as `fun.(event, measurements, metadata)` (see `EcsPeers.Telemetry`)."},
    {:name, :standalone, nil, :any, "any term", "none", "a name to register the process under."},
    {:topology, :standalone, :ecs_peers, :atom, "an atom", nil,
     "the name in log lines and telemetry."},
    {:connect, :standalone, {:net_kernel, :connect_node, []}, {:callable, 1},
     "a 1-arity fun or {m, f, a}", nil,
     "test seam: called with one node, `true` when connected."},
    {:disconnect, :standalone, {:erlang, :disconnect_node, []}, {:callable, 1},
     "a 1-arity fun or {m, f, a}", nil, "test seam: called with one node."},
    {:list_nodes, :standalone, {:erlang, :nodes, [:connected]}, {:callable, 0},
     "a 0-arity fun or {m, f, a}", nil, "test seam: returns the connected nodes."}
  ]

  @type entry :: %{
          key: atom(),
          scope: :common | :standalone,
          default: term(),
          check: term(),
          expected: String.t(),
          shown_default: String.t(),
          doc: String.t()
        }

  @doc "Every option, in documentation order."
  @spec schema() :: [entry()]
  def schema do
    for {key, scope, default, check, expected, shown, doc} <- @schema do
      %{
        key: key,
        scope: scope,
        default: default,
        check: check,
        expected: expected,
        shown_default: shown || "`#{inspect(default)}`",
        doc: doc
      }
    end
  end

  @doc "The default of `key`, from the schema."
  @spec default(atom()) :: term()
  def default(key) do
    Enum.find_value(@schema, fn entry -> if elem(entry, 0) == key, do: {:ok, elem(entry, 2)} end)
    |> case do
      {:ok, default} -> default
      nil -> raise ArgumentError, "ecs_peers: no option #{inspect(key)}"
    end
  end

  @doc "The atom budget of validated options: `:max_new_atoms`, else `10 * :max_nodes`."
  @spec max_new_atoms(%{max_new_atoms: non_neg_integer() | nil, max_nodes: pos_integer()}) ::
          non_neg_integer()
  def max_new_atoms(%{max_new_atoms: nil, max_nodes: max_nodes}), do: 10 * max_nodes
  def max_new_atoms(%{max_new_atoms: budget}), do: budget

  @doc "The keys `EcsPeers.Strategy` accepts under `config:`."
  @spec common_keys() :: [atom()]
  def common_keys, do: for(%{key: k, scope: :common} <- schema(), do: k)

  @doc "The keys `EcsPeers.start_link/1` accepts."
  @spec standalone_keys() :: [atom()]
  def standalone_keys, do: for(%{key: k} <- schema(), do: k)

  @doc """
  Checks `opts` (a keyword list) against the schema, accepting only `allowed` keys, and
  returns a map of every key with its value or default. Raises `ArgumentError` naming
  the unknown or invalid option (never showing `:env`, which may hold secrets).
  """
  @spec validate!(term(), [atom()]) :: %{atom() => term()}
  def validate!(opts, allowed \\ standalone_keys()) do
    unless is_list(opts) and Keyword.keyword?(opts) do
      raise ArgumentError, "ecs_peers: expected a keyword list of options, got: #{shape(opts)}"
    end

    unknown = Enum.uniq(Keyword.keys(opts)) -- allowed

    cond do
      unknown == [] ->
        :ok

      :resync_interval in unknown ->
        raise ArgumentError,
              "ecs_peers: option :resync_interval was removed: connections are now compared " <>
                "with the set on every :polling_interval tick and every nodedown; delete it"

      true ->
        raise ArgumentError,
              "ecs_peers: unknown option(s) #{Enum.map_join(unknown, ", ", &inspect/1)}; " <>
                "known options: #{Enum.map_join(allowed, ", ", &inspect/1)}"
    end

    Map.new(schema(), fn %{key: key} = entry ->
      # The first of a repeated key wins, as Keyword.get/2 reads it.
      value = Keyword.get(opts, key, entry.default)

      unless valid?(entry.check, value) do
        shown = if key == :env, do: shape(value), else: inspect(value)

        raise ArgumentError,
              "ecs_peers: option #{inspect(key)} must be #{entry.expected}, got: #{shown}"
      end

      {key, value}
    end)
    |> EcsPeers.Source.resolve!(opts)
  end

  defp shape(value) when is_map(value), do: "a map"
  defp shape(value) when is_list(value), do: "a list"
  defp shape(value), do: inspect(value, limit: 5, printable_limit: 40)

  defp valid?(:non_empty_string, v), do: is_binary(v) and v != ""
  defp valid?(:nil_or_non_empty_string, v), do: v == nil or valid?(:non_empty_string, v)
  defp valid?(:cloud_map, v), do: EcsPeers.Source.valid_cloud_map?(v)
  defp valid?(:pos_int, v), do: is_integer(v) and v > 0
  defp valid?(:non_neg_int, v), do: is_integer(v) and v >= 0
  defp valid?(:pos_number, v), do: is_number(v) and v > 0
  defp valid?(:boolean, v), do: is_boolean(v)
  defp valid?(:basename, v), do: v == nil or PeerSet.valid_basename?(v)
  defp valid?(:nil_or_string, v), do: v == nil or is_binary(v)
  defp valid?(:nil_or_non_neg_int, v), do: v == nil or valid?(:non_neg_int, v)
  defp valid?(:map, v), do: is_map(v)
  defp valid?(:atom, v), do: is_atom(v)
  defp valid?(:any, _v), do: true
  defp valid?({:nil_or_callable, arity}, v), do: v == nil or valid?({:callable, arity}, v)
  defp valid?({:callable, _arity}, {m, f, a}), do: is_atom(m) and is_atom(f) and is_list(a)
  defp valid?({:callable, arity}, v), do: is_function(v, arity)

  @doc """
  The options of `scope` (`:common`, `:all` or a list of keys) as a Markdown bullet
  list, for moduledocs.
  """
  @spec bullets(:common | :all | [atom()]) :: String.t()
  def bullets(scope) do
    schema()
    |> Enum.filter(fn e ->
      case scope do
        :all -> true
        :common -> e.scope == :common
        keys when is_list(keys) -> e.key in keys
      end
    end)
    |> Enum.map_join("\n", fn e ->
      "  * `#{inspect(e.key)}` (#{default_text(e)}): #{e.doc}"
    end)
  end

  @doc false
  # "required", or "default X": how the moduledocs show an option's default.
  def default_text(%{shown_default: "required"}), do: "required"
  def default_text(%{shown_default: shown}), do: "default #{shown}"

  @doc "The README's option table (checked against the README by a test)."
  @spec readme_table() :: String.t()
  def readme_table do
    rows =
      Enum.map_join(schema(), "\n", fn e ->
        where = if e.scope == :common, do: "both", else: "`EcsPeers` only"
        "| `#{inspect(e.key)}` | #{e.shown_default} | #{where} | #{e.doc} |"
      end)

    "| option | default | accepted by | meaning |\n| --- | --- | --- | --- |\n" <> rows
  end
end
