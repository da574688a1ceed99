defmodule EcsPeers.Source.SSM do
  @moduledoc """
  The peer set from an SSM parameter (option `:parameter`), in either format the
  reconciler writes:

    * **v1**, `{"version":1,"nodes":[...]}` in the parameter itself: one `GetParameter`
      per read;
    * **v2**, for sets larger than one value holds: the parameter is a manifest naming
      up to 10 parts (`NAME/part/0` ..), see `EcsPeers.PeerSet.V2`. Each read is still
      one `GetParameter` of the manifest; only when the manifest changed (its `Version`
      or its value) one `GetParameters` reads the parts, which must all exist, carry the
      manifest's digest prefix, decode to `count` addresses and hash to its digest.
      Otherwise the set is `{:inconsistent_set, version, why}` (a writer between its
      parts and its manifest, or parts of two runs): nothing of it is used, and the
      next read tries again.

  With the `:fetch` test seam instead of a client, the seam is called with the
  parameter's name, and for a v2 manifest with each part's name (`{:error, _}` for a
  part counts as a missing part).
  """

  @behaviour EcsPeers.Source

  alias EcsPeers.AWS.{Client, SSM}
  alias EcsPeers.{JSON, Source}
  alias EcsPeers.PeerSet.V2

  defstruct [:parameter, :client, :fetch, cache: nil, format: nil, parts: 0]

  @doc false
  def new(o) do
    client = if o.fetch == nil, do: Source.client(SSM, o)

    %__MODULE__{parameter: o.parameter, client: client, fetch: o.fetch}
  end

  @impl true
  def read(source) do
    case get(source, source.parameter) do
      {:ok, %{version: version, value: value}, source} ->
        hash = :crypto.hash(:sha256, value)

        case source.cache do
          %{version: ^version, hash: ^hash} = snapshot -> {:ok, snapshot, source}
          _ -> decode(source, version, hash, value)
        end

      {:error, reason, source} ->
        {:error, reason, source}
    end
  end

  defp decode(source, version, hash, value) do
    with {:ok, doc} <- JSON.decode(value),
         true <- V2.manifest?(doc) do
      read_v2(source, version, hash, doc)
    else
      # v1, or anything else: EcsPeers.PeerSet says what is wrong with it.
      _ -> took(%{source | format: :v1, parts: 0}, %{version: version, hash: hash, value: value})
    end
  end

  defp read_v2(source, version, hash, doc) do
    with {:manifest, {:ok, manifest}} <- {:manifest, V2.manifest(doc)},
         names = V2.part_names(source.parameter, manifest),
         {:ok, values, source} <- get_parts(source, names),
         {:set, {:ok, entries}} <- {:set, V2.assemble(manifest, values)} do
      source = %{source | format: :v2, parts: length(manifest.parts)}
      took(source, %{version: version, hash: hash, value: {:entries, entries}})
    else
      {:manifest, {:error, why}} -> {:error, {:malformed_value, version, why}, source}
      {:set, {:error, why}} -> {:error, {:inconsistent_set, version, why}, source}
      {:error, _reason, _source} = error -> error
    end
  end

  # A good snapshot is kept: the next read of the same manifest costs one call.
  defp took(source, snapshot), do: {:ok, snapshot, %{source | cache: snapshot}}

  defp get(%{fetch: nil} = source, name),
    do: Source.call(source, "GetParameter", &SSM.get_parameter(&1, name))

  defp get(%{fetch: fetch} = source, name) do
    case Source.apply_fun(fetch, [name]) do
      {:ok, %{version: _, value: value} = parameter} when is_binary(value) ->
        {:ok, parameter, source}

      {:error, reason} ->
        {:error, reason, source}

      other ->
        {:error, {:bad_fetch_result, other}, source}
    end
  end

  defp get_parts(source, []), do: {:ok, [], source}

  defp get_parts(%{fetch: nil} = source, names) do
    with {:ok, %{found: found}, source} <-
           Source.call(source, "GetParameters", &SSM.get_parameters(&1, names)),
         do: {:ok, Enum.map(names, &(found[&1] && found[&1].value)), source}
  end

  defp get_parts(source, names) do
    values =
      Enum.map(names, fn name ->
        case get(source, name) do
          {:ok, %{value: value}, _source} -> value
          {:error, _reason, _source} -> nil
        end
      end)

    {:ok, values, source}
  end

  @impl true
  def name(source), do: source.parameter

  @impl true
  def status(source),
    do: %{store: :ssm, parameter: source.parameter, format: source.format, parts: source.parts}

  @impl true
  def redact(%{client: %Client{} = client} = source),
    do: %{source | client: Client.redact(client)}

  def redact(source), do: source
end
