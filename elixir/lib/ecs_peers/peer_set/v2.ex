defmodule EcsPeers.PeerSet.V2 do
  @moduledoc """
  The v2 peer-set format on SSM (pure: no processes, no AWS), for sets that no longer fit
  one v1 value. The specification is the repository's `ssm-v2-format` note (the writer
  is the TypeScript reconciler's `lib/peerSet/v2.ts`); in short:

    * the main parameter `NAME` holds a manifest,
      `{"version":2,"encoding":"ipv4-delta-varint","basename":"shop","count":N,
      "digest":"<sha256 hex>","parts":["<16 hex>", ...]}`, where the digest is the
      SHA-256 of the node names sorted as byte strings and joined by `"\n"`, and
      `parts[i]` the first 16 hex characters of the SHA-256 of part i's value;
    * part i is the parameter `NAME/part/i` (a leading `/` added to a NAME without
      one), at most 10 of them, read with one `GetParameters`;
    * the parts' values, concatenated in order, are standard base64 (with padding) of
      the sorted IPv4 addresses as unsigned 32-bit integers: the first as an unsigned
      LEB128 varint, then each difference to the previous one (>= 1). Node name =
      `basename@a.b.c.d`.

  The writer puts every part before the manifest that names their hashes. A reader that
  finds a part missing or with another hash (parts of two runs: a torn set), a payload
  that does not decode to `count` addresses, or a digest that does not match, has met a
  set being rewritten (or a broken one): `assemble/2` says which, and the caller keeps
  what it has and tries again at its next read.

  Node names made here are strings; they become atoms only in `EcsPeers.PeerSet`.
  """

  @max_parts 10
  @encoding "ipv4-delta-varint"

  @type manifest :: %{
          basename: String.t(),
          count: non_neg_integer(),
          digest: String.t(),
          parts: [String.t()]
        }

  @doc "True when a decoded JSON value is a v2 manifest (of any shape): `version` is 2."
  @spec manifest?(term()) :: boolean()
  def manifest?(%{"version" => 2}), do: true
  def manifest?(_), do: false

  @doc """
  Checks a decoded v2 manifest (any key order; unknown keys ignored). Returns
  `{:ok, manifest}` or `{:error, reason}` for a manifest no v2 writer makes
  (`{:bad_manifest, field}` or `{:unsupported_encoding, text}`).
  """
  @spec manifest(map()) :: {:ok, manifest()} | {:error, term()}
  def manifest(%{"version" => 2} = doc) do
    with :ok <- encoding(doc["encoding"]),
         {:ok, basename} <- field(doc, "basename", &EcsPeers.PeerSet.valid_basename?/1),
         {:ok, count} <- field(doc, "count", &(is_integer(&1) and &1 >= 0)),
         {:ok, digest} <- field(doc, "digest", &hex?(&1, 64)),
         {:ok, parts} <- field(doc, "parts", &part_hashes?/1),
         true <- parts == [] == (count == 0) || {:error, {:bad_manifest, "parts"}} do
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

  defp part_hashes?(parts),
    do: is_list(parts) and length(parts) <= @max_parts and Enum.all?(parts, &hex?(&1, 16))

  defp hex?(text, length),
    do: is_binary(text) and byte_size(text) == length and text =~ ~r/\A[0-9a-f]+\z/

  @doc "The names of the parts a manifest refers to, in order."
  @spec part_names(String.t(), manifest()) :: [String.t()]
  def part_names(parameter, %{parts: parts}) do
    base = if String.starts_with?(parameter, "/"), do: parameter, else: "/" <> parameter
    for {_hash, i} <- Enum.with_index(parts), do: "#{base}/part/#{i}"
  end

  @doc """
  Assembles the set from the parts' values (in order; `nil` for a part that does not
  exist). Returns `{:ok, names}` (the node names, sorted as byte strings) or
  `{:error, reason}`, the reason being one of `{:missing_part, i}`,
  `{:part_of_another_set, i}` (its hash is not the manifest's), `:payload_not_base64`,
  `:payload_not_ipv4_deltas`, `{:count_mismatch, decoded, expected}` or
  `:digest_mismatch`.
  """
  @spec assemble(manifest(), [String.t() | nil]) :: {:ok, [String.t()]} | {:error, term()}
  def assemble(manifest, values) do
    with :ok <- check_parts(manifest.parts, values, 0),
         {:ok, payload} <- payload(values),
         {:ok, addresses} <- decode_payload(payload, manifest.count),
         sorted = addresses |> Enum.map(&name(manifest.basename, &1)) |> Enum.sort(),
         :ok <- verify(sorted, manifest.digest) do
      {:ok, sorted}
    end
  end

  defp check_parts([], _values, _i), do: :ok
  defp check_parts([_ | _], [], i), do: {:error, {:missing_part, i}}
  defp check_parts([_ | _], [nil | _], i), do: {:error, {:missing_part, i}}

  defp check_parts([hash | hashes], [value | values], i) when is_binary(value) do
    if part_hash(value) == hash,
      do: check_parts(hashes, values, i + 1),
      else: {:error, {:part_of_another_set, i}}
  end

  @doc "What the manifest lists for a part: the first 16 hex characters of its SHA-256."
  @spec part_hash(String.t()) :: String.t()
  def part_hash(value),
    do: :sha256 |> :crypto.hash(value) |> binary_part(0, 8) |> Base.encode16(case: :lower)

  @doc "The bytes of the concatenated part values (standard base64 with padding, strict)."
  @spec payload([String.t()]) :: {:ok, binary()} | {:error, :payload_not_base64}
  def payload(values) do
    case values |> IO.iodata_to_binary() |> Base.decode64() do
      {:ok, bytes} -> {:ok, bytes}
      :error -> {:error, :payload_not_base64}
    end
  end

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

  defp verify(sorted, digest) do
    if sorted_digest(sorted) == digest, do: :ok, else: {:error, :digest_mismatch}
  end

  @doc "The digest of a set: SHA-256 (lower-case hex) of the sorted names joined by `\"\\n\"`."
  @spec digest([String.t()]) :: String.t()
  def digest(names), do: names |> Enum.sort() |> sorted_digest()

  defp sorted_digest(sorted),
    do: :sha256 |> :crypto.hash(Enum.intersperse(sorted, "\n")) |> Base.encode16(case: :lower)
end
