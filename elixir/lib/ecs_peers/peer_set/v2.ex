defmodule EcsPeers.PeerSet.V2 do
  @moduledoc """
  The v2 peer-set format on SSM (pure: no processes, no AWS), for sets that no longer fit
  one v1 value. The format is specified in the repository's notes and the README; in
  short:

    * the main parameter holds a small manifest,
      `{"version":2,"basename":"shop","count":N,"digest":"<sha256 hex>",
      "encoding":"ipv4-delta-varint","parts":K}`, where the digest is the SHA-256 of the
      sorted node names joined by `"\\n"`;
    * the parts are the parameters `NAME/part/0` .. `NAME/part/K-1` (K <= 10, read
      with one `GetParameters`), each `<first 16 hex chars of the digest>:<base64>`;
    * the base64-decoded chunks, concatenated in order, are the sorted IPv4 addresses as
      unsigned 32-bit integers: the first one as an unsigned LEB128 varint, then each
      difference to the previous one as a varint. Node name = `basename@a.b.c.d`.

  The writer puts the parts first and the manifest last. A reader that finds a part
  missing, one carrying another set's digest prefix, a payload that does not decode, a
  count that differs or a digest that does not match has met a set being rewritten (or
  a broken one): `assemble/2` says which, and the caller keeps what it has.

  Node names made here are strings; they become atoms only in `EcsPeers.PeerSet`.
  """

  @max_parts 10
  # A sanity bound on the manifest's count: 10 parts of 8,192 characters hold at most
  # about 61,000 one-byte varints.
  @max_count 100_000
  @encoding "ipv4-delta-varint"
  @prefix_length 16

  @type manifest :: %{
          basename: String.t(),
          count: non_neg_integer(),
          digest: String.t(),
          parts: non_neg_integer()
        }

  @doc "True when a decoded JSON value is a v2 manifest (of any shape): `version` is 2."
  @spec manifest?(term()) :: boolean()
  def manifest?(%{"version" => 2}), do: true
  def manifest?(_), do: false

  @doc """
  Checks a decoded v2 manifest. Returns `{:ok, manifest}` or `{:error, reason}` for a
  manifest no v2 writer makes (`{:bad_manifest, field}` or
  `{:unsupported_encoding, text}`): that is a malformed value, not a set mid-write.
  """
  @spec manifest(map()) :: {:ok, manifest()} | {:error, term()}
  def manifest(%{"version" => 2} = doc) do
    with {:ok, basename} <- field(doc, "basename", &EcsPeers.PeerSet.valid_basename?/1),
         {:ok, count} <- field(doc, "count", &(is_integer(&1) and &1 in 0..@max_count)),
         {:ok, digest} <- field(doc, "digest", &hex64?/1),
         {:ok, parts} <- field(doc, "parts", &(is_integer(&1) and &1 in 0..@max_parts)),
         :ok <- encoding(doc["encoding"]) do
      {:ok, %{basename: basename, count: count, digest: digest, parts: parts}}
    end
  end

  def manifest(_other), do: {:error, {:bad_manifest, "version"}}

  defp field(doc, name, valid?) do
    value = doc[name]
    if valid?.(value), do: {:ok, value}, else: {:error, {:bad_manifest, name}}
  end

  defp encoding(@encoding), do: :ok

  defp encoding(other) when is_binary(other),
    do: {:error, {:unsupported_encoding, String.slice(other, 0, 40)}}

  defp encoding(_other), do: {:error, {:bad_manifest, "encoding"}}

  defp hex64?(text), do: is_binary(text) and text =~ ~r/\A[0-9a-f]{64}\z/

  @doc "The names of the parts a manifest refers to, in order."
  @spec part_names(String.t(), manifest()) :: [String.t()]
  def part_names(_parameter, %{parts: 0}), do: []

  def part_names(parameter, %{parts: parts}),
    do: for(i <- 0..(parts - 1), do: "#{parameter}/part/#{i}")

  @doc """
  Assembles the set from the parts' values (in order; `nil` for a part that does not
  exist). Returns `{:ok, names}` (the node names, sorted by address) or
  `{:error, reason}`, the reason being one of `{:missing_part, i}`,
  `{:part_of_another_set, i}`, `{:part_not_base64, i}`, `:payload_not_ipv4_deltas`,
  `{:count_mismatch, decoded, expected}`, `:digest_mismatch` or
  `{:parts_mismatch, given, expected}`.
  """
  @spec assemble(manifest(), [String.t() | nil]) :: {:ok, [String.t()]} | {:error, term()}
  def assemble(%{parts: parts} = manifest, values) when length(values) == parts do
    with {:ok, payload} <- payload(manifest.digest, values),
         {:ok, addresses} <- decode_payload(payload, manifest.count),
         names = Enum.map(addresses, &name(manifest.basename, &1)),
         :ok <- verify(names, manifest.digest) do
      {:ok, names}
    end
  end

  def assemble(%{parts: parts}, values), do: {:error, {:parts_mismatch, length(values), parts}}

  @doc """
  The payload of the parts' values: each must carry the digest's first
  #{@prefix_length} characters, then `:` and base64. `{:error, {:missing_part, i}}`,
  `{:part_of_another_set, i}` or `{:part_not_base64, i}` otherwise.
  """
  @spec payload(String.t(), [String.t() | nil]) :: {:ok, binary()} | {:error, term()}
  def payload(digest, values) do
    with {:ok, chunks} <- chunks(values, binary_part(digest, 0, @prefix_length), 0, []),
         do: {:ok, IO.iodata_to_binary(chunks)}
  end

  defp chunks([], _prefix, _i, acc), do: {:ok, Enum.reverse(acc)}
  defp chunks([nil | _], _prefix, i, _acc), do: {:error, {:missing_part, i}}

  defp chunks([value | rest], prefix, i, acc) when is_binary(value) do
    case value do
      <<^prefix::binary-size(@prefix_length), ?:, chunk::binary>> ->
        case Base.decode64(chunk, padding: false) do
          {:ok, bytes} -> chunks(rest, prefix, i + 1, [bytes | acc])
          :error -> {:error, {:part_not_base64, i}}
        end

      _ ->
        {:error, {:part_of_another_set, i}}
    end
  end

  defp chunks([_ | _], _prefix, i, _acc), do: {:error, {:part_not_base64, i}}

  @doc """
  Decodes a payload: the first address as a varint, then the deltas. Strictly
  ascending, within 32 bits, exactly `count` of them and no trailing bytes; otherwise
  `{:error, :payload_not_ipv4_deltas}` or `{:error, {:count_mismatch, decoded, count}}`.
  """
  @spec decode_payload(binary(), non_neg_integer()) ::
          {:ok, [non_neg_integer()]} | {:error, term()}
  def decode_payload(payload, count), do: decode(payload, nil, 0, count, [])

  defp decode(<<>>, _previous, n, count, acc) when n == count, do: {:ok, Enum.reverse(acc)}
  defp decode(<<>>, _previous, n, count, _acc), do: {:error, {:count_mismatch, n, count}}
  # More bytes than the manifest's count: a payload of another, larger set.
  defp decode(_more, _previous, n, count, _acc) when n >= count,
    do: {:error, {:count_mismatch, :more, count}}

  defp decode(bytes, previous, n, count, acc) do
    with {:ok, value, rest} <- varint(bytes, 0, 0),
         address = if(previous == nil, do: value, else: previous + value),
         true <- address <= 0xFFFFFFFF and (previous == nil or value > 0) do
      decode(rest, address, n + 1, count, [address | acc])
    else
      _ -> {:error, :payload_not_ipv4_deltas}
    end
  end

  # Unsigned LEB128, at most 5 bytes (32 bits).
  defp varint(<<1::1, low::7, rest::binary>>, shift, acc) when shift < 28,
    do: varint(rest, shift + 7, acc + Bitwise.bsl(low, shift))

  defp varint(<<0::1, low::7, rest::binary>>, shift, acc),
    do: {:ok, acc + Bitwise.bsl(low, shift), rest}

  defp varint(_bytes, _shift, _acc), do: :error

  @octets List.to_tuple(for(i <- 0..255, do: Integer.to_string(i)))

  defp name(basename, address) do
    <<a, b, c, d>> = <<address::32>>
    o = @octets

    IO.iodata_to_binary([
      basename,
      ?@,
      elem(o, a),
      ?.,
      elem(o, b),
      ?.,
      elem(o, c),
      ?.,
      elem(o, d)
    ])
  end

  defp verify(names, digest) do
    if digest(names) == digest, do: :ok, else: {:error, :digest_mismatch}
  end

  @doc "The digest of a set: SHA-256 (lower-case hex) of the sorted names joined by `\"\\n\"`."
  @spec digest([String.t()]) :: String.t()
  def digest(names) do
    sorted = Enum.sort(names)
    :sha256 |> :crypto.hash(Enum.intersperse(sorted, "\n")) |> Base.encode16(case: :lower)
  end
end
