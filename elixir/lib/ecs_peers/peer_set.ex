defmodule EcsPeers.PeerSet do
  @moduledoc """
  The peer set: the parameter value the ecs-peers Lambda writes, parsed and validated.

  The value is JSON of this shape (and only this shape; another `version` is malformed):

      {"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}

  Every entry is validated *before* it becomes an atom: it must be `basename@a.b.c.d`,
  where the basename is 1..64 letters, digits, `_` or `-` (and equal to the configured
  basename, if any) and the host a dotted-quad IPv4 address whose octets are 0..255
  written without leading zeros. Rejected entries are reported, never turned into atoms.
  At most `max_nodes` valid entries are kept.

  A valid entry whose atom already exists costs nothing; a new atom is made only while
  the `:max_new_atoms` budget the caller passes lasts (`EcsPeers.Poller` keeps one per
  process, default `10 * max_nodes`). Beyond it the entry is rejected with
  `:atom_budget_exhausted`, so even a publisher writing ever-new valid names cannot fill
  the atom table.

  This module is pure: no processes, no AWS.
  """

  alias EcsPeers.JSON

  @basename_max 64

  @type rejected :: {entry :: term(), reason :: atom()}
  @type result :: %{
          nodes: [node()],
          rejected: [rejected()],
          truncated: non_neg_integer(),
          new_atoms: non_neg_integer()
        }

  @doc """
  Parses and validates a parameter value.

  Returns `{:ok, %{nodes: nodes, rejected: rejected, truncated: n, new_atoms: n}}` where
  `nodes` is sorted and unique and `new_atoms` counts the atoms made, or
  `{:error, reason}` when the value is malformed (not JSON, not an object, unknown
  `version`, `nodes` missing or not a list), or when it lists entries but none of them is
  valid (`{:no_valid_nodes, count}`; `:atom_budget_exhausted` when the valid ones were
  all new names beyond the atom budget): a broken publisher must not look like an empty
  cluster.

  Options: `:basename` (string or nil), `:max_nodes` (default `EcsPeers.Options`' one), `:max_new_atoms`
  (default `:infinity`).
  """
  @spec parse(binary() | {:entries, [term()]}, keyword()) :: {:ok, result()} | {:error, term()}
  def parse(value, opts \\ [])

  # Entries already taken out of their store (a v2 set, Cloud Map's attributes).
  def parse({:entries, entries}, opts) when is_list(entries), do: validate(entries, opts)

  def parse(value, opts) when is_binary(value) do
    with {:ok, decoded} <- decode(value),
         {:ok, entries} <- entries(decoded) do
      validate(entries, opts)
    end
  end

  defp decode(value) do
    case JSON.decode(value) do
      {:ok, decoded} -> {:ok, decoded}
      {:error, _} -> {:error, :value_not_json}
    end
  end

  defp entries(%{"version" => 1, "nodes" => nodes}) when is_list(nodes), do: {:ok, nodes}
  defp entries(%{"version" => 1}), do: {:error, :nodes_not_a_list}
  defp entries(%{"version" => v}) when is_integer(v), do: {:error, {:unsupported_version, v}}
  defp entries(%{}), do: {:error, :missing_version}
  defp entries(_), do: {:error, :value_not_an_object}

  @doc """
  Validates a list of entries (see `parse/2`). Atoms are created only for valid entries,
  only for the first `max_nodes` of them, and at most `:max_new_atoms` of them.
  """
  @spec validate([term()], keyword()) :: {:ok, result()} | {:error, term()}
  def validate(entries, opts \\ []) when is_list(entries) do
    basename = Keyword.get(opts, :basename)
    max_nodes = Keyword.get_lazy(opts, :max_nodes, fn -> EcsPeers.Options.default(:max_nodes) end)
    budget = Keyword.get(opts, :max_new_atoms, :infinity)

    {valid, rejected} =
      Enum.reduce(entries, {[], []}, fn entry, {valid, rejected} ->
        case check(entry, basename) do
          :ok -> {[entry | valid], rejected}
          {:error, reason} -> {valid, [{entry, reason} | rejected]}
        end
      end)

    valid = valid |> Enum.reverse() |> Enum.uniq()
    {kept, dropped} = Enum.split(valid, max_nodes)

    {nodes, over_budget, new_atoms} = to_atoms(kept, budget)

    cond do
      entries != [] and kept == [] ->
        {:error, {:no_valid_nodes, length(entries)}}

      entries != [] and nodes == [] ->
        {:error, :atom_budget_exhausted}

      true ->
        {:ok,
         %{
           nodes: Enum.sort(nodes),
           rejected: Enum.reverse(rejected, over_budget),
           truncated: length(dropped),
           new_atoms: new_atoms
         }}
    end
  end

  # The only place a peer-set entry becomes an atom: validated and capped above, and a
  # new atom only within the budget.
  defp to_atoms(kept, budget) do
    {nodes, over, made} =
      Enum.reduce(kept, {[], [], 0}, fn entry, {nodes, over, made} ->
        case existing_atom(entry) do
          {:ok, atom} ->
            {[atom | nodes], over, made}

          :none when budget == :infinity or made < budget ->
            {[String.to_atom(entry) | nodes], over, made + 1}

          :none ->
            {nodes, [{entry, :atom_budget_exhausted} | over], made}
        end
      end)

    {nodes, Enum.reverse(over), made}
  end

  defp existing_atom(entry) do
    {:ok, String.to_existing_atom(entry)}
  rescue
    ArgumentError -> :none
  end

  @doc """
  Checks one entry. Returns `:ok` or `{:error, reason}`; never creates an atom.
  """
  @spec check(term(), String.t() | nil) :: :ok | {:error, atom()}
  def check(entry, basename \\ nil)

  def check(entry, basename) when is_binary(entry) and byte_size(entry) <= 80 do
    case :binary.split(entry, "@", [:global]) do
      [name, host] ->
        cond do
          not valid_basename?(name) -> {:error, :invalid_basename}
          basename != nil and name != basename -> {:error, :other_basename}
          not ipv4?(host) -> {:error, :invalid_ipv4}
          true -> :ok
        end

      _ ->
        {:error, :not_name_at_host}
    end
  end

  def check(entry, _basename) when is_binary(entry), do: {:error, :too_long}
  def check(_entry, _basename), do: {:error, :not_a_string}

  @doc "True for 1..#{@basename_max} ASCII letters, digits, `_` or `-`."
  @spec valid_basename?(term()) :: boolean()
  def valid_basename?(name) when is_binary(name) and byte_size(name) in 1..@basename_max,
    do: name =~ ~r/\A[A-Za-z0-9_-]+\z/

  def valid_basename?(_), do: false

  @doc "True for a dotted-quad IPv4 address, octets 0..255 with no leading zeros."
  @spec ipv4?(term()) :: boolean()
  def ipv4?(host) when is_binary(host) do
    case String.split(host, ".") do
      [_, _, _, _] = octets -> Enum.all?(octets, &octet?/1)
      _ -> false
    end
  end

  def ipv4?(_), do: false

  defp octet?("0"), do: true

  defp octet?(<<first, _::binary>> = text) when first in ?1..?9 and byte_size(text) <= 3 do
    text =~ ~r/\A[0-9]+\z/ and String.to_integer(text) <= 255
  end

  defp octet?(_), do: false

  @doc "The part of a node name before `@`, as a string."
  @spec basename(node()) :: String.t()
  def basename(node) when is_atom(node) do
    node |> Atom.to_string() |> :binary.split("@") |> hd()
  end
end
