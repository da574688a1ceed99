defmodule EcsPeers.PeerSet.V2Test do
  # The reader's v2 decoding against the reader's own test encoder; the TypeScript
  # writer's vectors are in v2_ts_test.exs.
  # async: false: CPU-heavy (thousands of encodings), run apart from the timing-sensitive async tests.
  use ExUnit.Case, async: false

  alias EcsPeers.JSON
  alias EcsPeers.PeerSet.V2
  alias EcsPeers.Test.V2Encoder

  defp manifest(encoded) do
    {:ok, doc} = JSON.decode(encoded.manifest)
    {:ok, m} = V2.manifest(doc)
    m
  end

  defp decode(encoded), do: V2.assemble(manifest(encoded), encoded.parts)

  # Property-style, seeded per size: a failure names the seed to replay.
  test "every size from 0 to 5,000: random address sets round-trip through the parts' payload" do
    for n <- 0..5_000 do
      seed = {n, 5_000, 11}
      :rand.seed(:exsss, seed)
      addresses = V2Encoder.random_addresses(n, base: 0, span: 0xFFFFFFFF)
      parts = V2Encoder.parts(addresses)
      assert length(parts) <= 10 and Enum.all?(parts, &(byte_size(&1) <= 4_096))
      assert {:ok, payload} = V2.payload(parts), "seed #{inspect(seed)}"

      assert {:ok, ^addresses} = V2.decode_payload(payload, length(addresses)),
             "seed #{inspect(seed)}"
    end
  end

  test "random sets of sizes across 0..5,000 round-trip as node names, digest and part hashes included" do
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

  test "the extremes of the address space decode, across many small parts" do
    addresses = [0, 1, 2, 127, 128, 16_383, 16_384, 0xFFFFFFFE, 0xFFFFFFFF]
    encoded = V2Encoder.encode("a", addresses, part_chars: 4)
    assert length(encoded.parts) == 5
    assert {:ok, names} = decode(encoded)
    assert "a@0.0.0.0" in names and "a@255.255.255.255" in names and length(names) == 9
  end

  test "5,000 addresses of a VPC's /16 take 2 parts of 4,096 characters; of the whole space 5" do
    :rand.seed(:exsss, {1, 2, 3})
    vpc = V2Encoder.encode("shop", V2Encoder.random_addresses(5_000, span: 0xFFFF))
    assert length(vpc.parts) == 2
    wide = V2Encoder.encode("shop", V2Encoder.random_addresses(5_000, base: 0, span: 0xFFFFFFFF))
    assert length(wide.parts) == 5
    assert {:ok, _} = decode(vpc)
    assert {:ok, _} = decode(wide)
  end

  describe "a torn or broken set is refused, saying why" do
    setup do
      :rand.seed(:exsss, {7, 7, 7})
      a = V2Encoder.encode("shop", V2Encoder.random_addresses(3_000), part_chars: 1_000)
      b = V2Encoder.encode("shop", V2Encoder.random_addresses(3_000), part_chars: 1_000)
      %{a: a, b: b}
    end

    test "parts of set A under the manifest of set B", %{a: a, b: b} do
      assert {:error, {:part_of_another_set, 0}} = V2.assemble(manifest(b), a.parts)
    end

    test "one part of another set among the right ones", %{a: a, b: b} do
      parts = List.replace_at(a.parts, 2, Enum.at(b.parts, 2))
      assert {:error, {:part_of_another_set, 2}} = V2.assemble(manifest(a), parts)
    end

    test "a missing part, or fewer values than parts", %{a: a} do
      assert {:error, {:missing_part, 1}} =
               V2.assemble(manifest(a), List.replace_at(a.parts, 1, nil))

      assert {:error, {:missing_part, 1}} = V2.assemble(manifest(a), [hd(a.parts)])
    end

    test "parts swapped", %{a: a} do
      [p0, p1 | rest] = a.parts
      assert {:error, {:part_of_another_set, 0}} = V2.assemble(manifest(a), [p1, p0 | rest])
    end

    test "part hashes that match but a payload of another count or set (a writer bug)", %{a: a} do
      m = manifest(a)
      assert {:error, {:count_mismatch, :more, 2_999}} = V2.assemble(%{m | count: 2_999}, a.parts)
      assert {:error, {:count_mismatch, 3_000, 3_001}} = V2.assemble(%{m | count: 3_001}, a.parts)
      other = String.duplicate("0", 64)
      assert {:error, :digest_mismatch} = V2.assemble(%{m | digest: other}, a.parts)
      assert {:error, :digest_mismatch} = V2.assemble(%{m | basename: "other"}, a.parts)
    end

    test "a payload that is not base64", %{a: a} do
      m = %{manifest(a) | parts: [V2.part_hash("no base64!")]}
      assert {:error, :payload_not_base64} = V2.assemble(m, ["no base64!"])
    end
  end

  test "payloads no v2 writer makes: duplicates, beyond 32 bits, a cut or over-long varint" do
    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<5, 0>>, 2)
    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<255, 255, 255, 255, 31>>, 1)

    assert {:error, :payload_not_ipv4_deltas} =
             V2.decode_payload(<<255, 255, 255, 255, 255, 1>>, 1)

    assert {:error, :payload_not_ipv4_deltas} = V2.decode_payload(<<128>>, 1)
    assert {:ok, [0xFFFFFFFF]} = V2.decode_payload(<<255, 255, 255, 255, 15>>, 1)

    assert {:error, :payload_not_ipv4_deltas} =
             V2.decode_payload(<<255, 255, 255, 255, 15, 1>>, 2)

    assert {:ok, []} = V2.decode_payload(<<>>, 0)
  end

  test "manifests no v2 writer makes are malformed, naming the field; unknown keys are ignored" do
    good = %{
      "version" => 2,
      "encoding" => "ipv4-delta-varint",
      "basename" => "shop",
      "count" => 1,
      "digest" => String.duplicate("ab", 32),
      "parts" => [String.duplicate("cd", 8)],
      "written_by" => "a future writer"
    }

    assert {:ok, %{basename: "shop", count: 1}} = V2.manifest(good)

    for {field, bad, reason} <- [
          {"basename", "a b", {:bad_manifest, "basename"}},
          {"basename", nil, {:bad_manifest, "basename"}},
          {"count", -1, {:bad_manifest, "count"}},
          {"count", "1", {:bad_manifest, "count"}},
          {"count", 0, {:bad_manifest, "parts"}},
          {"digest", "ab", {:bad_manifest, "digest"}},
          {"digest", String.duplicate("AB", 32), {:bad_manifest, "digest"}},
          {"parts", List.duplicate(String.duplicate("cd", 8), 11), {:bad_manifest, "parts"}},
          {"parts", [], {:bad_manifest, "parts"}},
          {"parts", ["CDCDCDCDCDCDCDCD"], {:bad_manifest, "parts"}},
          {"parts", 1, {:bad_manifest, "parts"}},
          {"encoding", "zstd", {:unsupported_encoding, "zstd"}},
          {"encoding", 1, {:bad_manifest, "encoding"}}
        ] do
      assert V2.manifest(Map.put(good, field, bad)) == {:error, reason},
             "#{field}: #{inspect(bad)}"
    end
  end

  test "the part names follow the main parameter's name, with a leading / added" do
    assert V2.part_names("/ecs-peers/shop", %{parts: ["a", "b"]}) ==
             ["/ecs-peers/shop/part/0", "/ecs-peers/shop/part/1"]

    assert V2.part_names("peers", %{parts: ["a"]}) == ["/peers/part/0"]
    assert V2.part_names("/ecs-peers/shop", %{parts: []}) == []
  end
end
