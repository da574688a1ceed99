defmodule EcsPeers.Test.V2Encoder do
  @moduledoc """
  A v2 peer-set encoder for the reader's own tests (the real writer is the TypeScript
  reconciler, `lib/peerSet/v2.ts`; `EcsPeers.Test.TsEncoder` calls it): the manifest and
  the part values for a set of IPv4 addresses as the format says (see
  `EcsPeers.PeerSet.V2`), parts of `:part_chars` characters (4,096).
  """

  alias EcsPeers.JSON
  alias EcsPeers.PeerSet.V2

  @octets List.to_tuple(for(i <- 0..255, do: Integer.to_string(i)))

  @doc """
  `%{manifest: json, parts: [value], names: [name]}` for `addresses` (tuples or
  integers, any order, duplicates dropped); `names` sorted as byte strings.
  """
  def encode(basename, addresses, opts \\ []) do
    ints = addresses |> Enum.map(&to_int/1) |> Enum.sort() |> Enum.dedup()
    names = ints |> Enum.map(&name(basename, &1)) |> Enum.sort()
    parts = parts(ints, Keyword.get(opts, :part_chars, 4_096))

    manifest =
      JSON.encode(%{
        "version" => 2,
        "encoding" => "ipv4-delta-varint",
        "basename" => basename,
        "count" => length(ints),
        "digest" => V2.digest(names),
        "parts" => Enum.map(parts, &V2.part_hash/1)
      })

    %{manifest: manifest, parts: parts, names: names}
  end

  @doc "The part values for sorted, distinct integer addresses."
  def parts(ints, part_chars \\ 4_096) do
    ints |> deltas(nil, []) |> IO.iodata_to_binary() |> Base.encode64() |> split(part_chars)
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

  @doc "The node name of an integer address."
  def name(basename, int) do
    <<a, b, c, d>> = <<int::32>>
    o = @octets

    IO.iodata_to_binary([basename, ?@, elem(o, a), ?., elem(o, b), ?., elem(o, c), ?., elem(o, d)])
  end

  @doc "The dotted quad of an integer address."
  def ip(int) do
    <<a, b, c, d>> = <<int::32>>
    "#{a}.#{b}.#{c}.#{d}"
  end

  defp deltas([], _previous, acc), do: Enum.reverse(acc)
  defp deltas([x | rest], nil, acc), do: deltas(rest, x, [varint(x) | acc])
  defp deltas([x | rest], previous, acc), do: deltas(rest, x, [varint(x - previous) | acc])

  @doc "Unsigned LEB128."
  def varint(n) when n < 128, do: <<n>>
  def varint(n), do: <<1::1, Bitwise.band(n, 127)::7>> <> varint(Bitwise.bsr(n, 7))

  defp split(<<>>, _size), do: []
  defp split(text, size) when byte_size(text) <= size, do: [text]

  defp split(text, size) do
    <<chunk::binary-size(size), rest::binary>> = text
    [chunk | split(rest, size)]
  end
end
