defmodule EcsPeers.Test.V2Encoder do
  @moduledoc """
  A v2 peer-set encoder for the reader's tests only (the real writer is the TypeScript
  reconciler): the manifest and part values for a set of IPv4 addresses, as the format
  says (see `EcsPeers.PeerSet.V2`), with parts of at most `:part_chars` characters.
  """

  alias EcsPeers.JSON
  alias EcsPeers.PeerSet.V2

  @doc """
  `%{manifest: json, parts: [value], names: [name]}` for `addresses` (tuples or
  integers, any order, duplicates dropped).
  """
  def encode(basename, addresses, opts \\ []) do
    part_chars = Keyword.get(opts, :part_chars, 8_192)
    ints = addresses |> Enum.map(&to_int/1) |> Enum.uniq() |> Enum.sort()
    names = Enum.map(ints, &name(basename, &1))
    digest = V2.digest(names)

    parts = parts(digest, ints, part_chars)

    manifest =
      JSON.encode(%{
        "version" => 2,
        "basename" => basename,
        "count" => length(ints),
        "digest" => digest,
        "encoding" => "ipv4-delta-varint",
        "parts" => length(parts)
      })

    %{manifest: manifest, parts: parts, names: names}
  end

  @doc "The part values for sorted, distinct integer addresses."
  def parts(digest, ints, part_chars \\ 8_192) do
    prefix = binary_part(digest, 0, 16)
    payload = IO.iodata_to_binary(deltas(ints, nil, []))
    # base64 of 3n bytes is 4n characters; 17 characters go to "prefix:".
    chunk_bytes = div(part_chars - 17, 4) * 3
    for chunk <- split(payload, chunk_bytes), do: prefix <> ":" <> Base.encode64(chunk)
  end

  @doc """
  About `n` random IPv4 addresses (integers, sorted, distinct: a rare duplicate is
  dropped) from the current `:rand` state, in `base .. base + span`.
  """
  def random_addresses(n, opts \\ []) do
    base = Keyword.get(opts, :base, 0x0A000000)
    span = Keyword.get(opts, :span, 0xFFFFFF)
    for(_ <- 1..n//1, do: base + :rand.uniform(span + 1) - 1) |> Enum.sort() |> Enum.dedup()
  end

  defp to_int({a, b, c, d}), do: Bitwise.bsl(a, 24) + Bitwise.bsl(b, 16) + Bitwise.bsl(c, 8) + d
  defp to_int(int) when is_integer(int), do: int

  @octets List.to_tuple(for(i <- 0..255, do: Integer.to_string(i)))

  @doc "The node name of an integer address."
  def name(basename, int) do
    <<a, b, c, d>> = <<int::32>>
    o = @octets

    IO.iodata_to_binary([basename, ?@, elem(o, a), ?., elem(o, b), ?., elem(o, c), ?., elem(o, d)])
  end

  defp deltas([], _previous, acc), do: Enum.reverse(acc)
  defp deltas([x | rest], nil, acc), do: deltas(rest, x, [varint(x) | acc])
  defp deltas([x | rest], previous, acc), do: deltas(rest, x, [varint(x - previous) | acc])

  @doc "Unsigned LEB128."
  def varint(n) when n < 128, do: <<n>>
  def varint(n), do: <<1::1, Bitwise.band(n, 127)::7>> <> varint(Bitwise.bsr(n, 7))

  defp split(<<>>, _size), do: []
  defp split(bytes, size) when byte_size(bytes) <= size, do: [bytes]

  defp split(bytes, size) do
    <<chunk::binary-size(size), rest::binary>> = bytes
    [chunk | split(rest, size)]
  end
end
