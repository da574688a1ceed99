defmodule EcsPeers.PeerSet.V2Test do
  use ExUnit.Case, async: true

  alias EcsPeers.JSON
  alias EcsPeers.PeerSet.V2
  alias EcsPeers.Test.V2Encoder

  defp decode(%{manifest: manifest, parts: parts}) do
    {:ok, doc} = JSON.decode(manifest)
    {:ok, m} = V2.manifest(doc)
    V2.assemble(m, parts)
  end

  defp manifest(encoded) do
    {:ok, doc} = JSON.decode(encoded.manifest)
    {:ok, m} = V2.manifest(doc)
    m
  end

  # Property-style, seeded: print the seed with a failure to replay it.
  test "every size from 0 to 5,000: random address sets round-trip through parts and payload" do
    digest = String.duplicate("5e", 32)

    for n <- 0..5_000 do
      seed = {n, 5_000, 11}
      :rand.seed(:exsss, seed)
      addresses = V2Encoder.random_addresses(n, base: 0, span: 0xFFFFFFFF)
      parts = V2Encoder.parts(digest, addresses)
      assert length(parts) <= 10 and Enum.all?(parts, &(byte_size(&1) <= 8_192))
      assert {:ok, payload} = V2.payload(digest, parts), "seed #{inspect(seed)}"

      assert {:ok, ^addresses} = V2.decode_payload(payload, length(addresses)),
             "seed #{inspect(seed)}"
    end
  end

  test "random sets of sizes across 0..5,000 round-trip as node names, digest included" do
    sizes = Enum.to_list(0..40) ++ Enum.to_list(41..5_000//37) ++ [4_999, 5_000]

    # The whole address space, and a VPC's /16 (small deltas: one-byte varints).
    for n <- sizes, {base, span} <- [{0, 0xFFFFFFFF}, {0x0A000000, 0xFFFF}] do
      seed = {n, span, 12}
      :rand.seed(:exsss, seed)
      encoded = V2Encoder.encode("shop", V2Encoder.random_addresses(n, base: base, span: span))
      assert {:ok, names} = decode(encoded), "seed #{inspect(seed)}"
      assert names == encoded.names, "seed #{inspect(seed)}"
    end
  end

  test "the extremes of the address space and every part boundary decode" do
    addresses = [0, 1, 2, 127, 128, 16_383, 16_384, 0xFFFFFFFE, 0xFFFFFFFF]
    encoded = V2Encoder.encode("a", addresses, part_chars: 21)
    assert length(encoded.parts) == 5
    assert {:ok, names} = decode(encoded)
    assert hd(names) == "a@0.0.0.0" and List.last(names) == "a@255.255.255.255"
  end

  test "5,000 addresses of a VPC's /16 fit in fewer than 10 parts of 8,192 characters" do
    :rand.seed(:exsss, {1, 2, 3})
    encoded = V2Encoder.encode("shop", V2Encoder.random_addresses(5_000, span: 0xFFFF))
    assert length(encoded.parts) == 1
    assert Enum.all?(encoded.parts, &(String.length(&1) <= 8_192))
    assert {:ok, _} = decode(encoded)
  end

  describe "a torn or broken set is refused, saying why" do
    setup do
      :rand.seed(:exsss, {7, 7, 7})
      a = V2Encoder.encode("shop", V2Encoder.random_addresses(3_000), part_chars: 2_000)
      b = V2Encoder.encode("shop", V2Encoder.random_addresses(3_000), part_chars: 2_000)
      %{a: a, b: b}
    end

    test "parts of set A under the manifest of set B", %{a: a, b: b} do
      assert {:error, {:part_of_another_set, 0}} = V2.assemble(manifest(b), a.parts)
    end

    test "one part of another set among the right ones", %{a: a, b: b} do
      parts = List.replace_at(a.parts, 2, Enum.at(b.parts, 2))
      assert {:error, {:part_of_another_set, 2}} = V2.assemble(manifest(a), parts)
    end

    test "a missing part", %{a: a} do
      parts = List.replace_at(a.parts, 1, nil)
      assert {:error, {:missing_part, 1}} = V2.assemble(manifest(a), parts)
    end

    test "the right prefix on a payload of another set (a writer bug): the digest catches it",
         %{a: a, b: b} do
      prefix = binary_part(manifest(a).digest, 0, 16)
      swap = fn value -> prefix <> ":" <> (value |> String.split(":") |> List.last()) end
      assert {:error, reason} = V2.assemble(manifest(a), Enum.map(b.parts, swap))

      assert reason in [:digest_mismatch, :payload_not_ipv4_deltas] or
               match?({:count_mismatch, _, _}, reason)
    end

    test "parts swapped", %{a: a} do
      [p0, p1 | rest] = a.parts
      assert {:error, _} = V2.assemble(manifest(a), [p1, p0 | rest])
    end

    test "a count that differs", %{a: a} do
      m = %{manifest(a) | count: 2_999}
      assert {:error, {:count_mismatch, :more, 2_999}} = V2.assemble(m, a.parts)
      m = %{manifest(a) | count: 3_001}
      assert {:error, {:count_mismatch, 3_000, 3_001}} = V2.assemble(m, a.parts)
    end

    test "a part that is not base64, and fewer parts than the manifest names", %{a: a} do
      prefix = binary_part(manifest(a).digest, 0, 16)
      parts = List.replace_at(a.parts, 0, prefix <> ":not base64!")
      assert {:error, {:part_not_base64, 0}} = V2.assemble(manifest(a), parts)
      assert {:error, {:parts_mismatch, 1, _}} = V2.assemble(manifest(a), [hd(a.parts)])
    end
  end

  test "payloads no v2 writer makes: duplicates, beyond 32 bits, a cut varint" do
    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<5, 0>>, 2)
    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<255, 255, 255, 255, 31>>, 1)

    assert {:error, :payload_not_ipv4_deltas} =
             V2.decode_payload(<<255, 255, 255, 255, 255, 1>>, 1)

    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<128>>, 1)
    assert {:ok, [0xFFFFFFFF]} = V2.decode_payload(<<255, 255, 255, 255, 15>>, 1)

    assert {:error, :payload_not_ipv4_deltas} =
             V2.decode_payload(<<255, 255, 255, 255, 15, 1>>, 2)
  end

  test "manifests no v2 writer makes are malformed, naming the field" do
    good = %{
      "version" => 2,
      "basename" => "shop",
      "count" => 1,
      "digest" => String.duplicate("ab", 32),
      "encoding" => "ipv4-delta-varint",
      "parts" => 1
    }

    assert {:ok, %{basename: "shop", parts: 1}} = V2.manifest(good)

    for {field, bad, reason} <- [
          {"basename", "a b", {:bad_manifest, "basename"}},
          {"basename", nil, {:bad_manifest, "basename"}},
          {"count", -1, {:bad_manifest, "count"}},
          {"count", "1", {:bad_manifest, "count"}},
          {"digest", "AB", {:bad_manifest, "digest"}},
          {"digest", String.duplicate("AB", 32), {:bad_manifest, "digest"}},
          {"parts", 11, {:bad_manifest, "parts"}},
          {"encoding", "zstd", {:unsupported_encoding, "zstd"}},
          {"encoding", 1, {:bad_manifest, "encoding"}}
        ] do
      assert V2.manifest(Map.put(good, field, bad)) == {:error, reason},
             "#{field}: #{inspect(bad)}"
    end
  end

  test "the part names follow the main parameter's name" do
    assert V2.part_names("/ecs-peers/shop", %{parts: 2}) ==
             ["/ecs-peers/shop/part/0", "/ecs-peers/shop/part/1"]

    assert V2.part_names("/ecs-peers/shop", %{parts: 0}) == []
  end
end
