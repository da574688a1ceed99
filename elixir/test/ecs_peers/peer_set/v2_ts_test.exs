defmodule EcsPeers.PeerSet.V2TsTest do
  # Cross-language: the TypeScript reconciler's encoder (lib/peerSet, run by tsx) writes,
  # the Elixir reader (EcsPeers.Source.SSM, as a poller reads) decodes. Needs `npm ci` at
  # the repository root. Not async: the tsx batch takes both cores for seconds, and the
  # loop's timing tests (connect phase bounds, status within 5 s) run in the async phase.
  use ExUnit.Case, async: false

  alias EcsPeers.Source
  alias EcsPeers.Test.{TsEncoder, V2Encoder}

  @parameter "/ecs-peers/shop"

  # What a poller's source reads from these values (the `:fetch` seam standing in for SSM).
  defp read({main, parts}) do
    values = Map.new(Enum.with_index(parts), fn {v, i} -> {"#{@parameter}/part/#{i}", v} end)
    values = Map.put(values, @parameter, main)

    fetch = fn name ->
      case values do
        %{^name => value} -> {:ok, %{version: 1, value: value}}
        _ -> {:error, :parameter_not_found}
      end
    end

    o = %{parameter: @parameter, fetch: fetch, env: %{}, region: nil, http_timeout: 1_000}
    assert {:ok, %{value: value}, source} = Source.read(Source.SSM.new(o))

    case value do
      {:entries, names} ->
        {:v2, names, length(parts), source}

      json when is_binary(json) ->
        {:ok, %{"nodes" => names}} = EcsPeers.JSON.decode(json)
        {:v1, names, 0, source}
    end
  end

  # Sizes across 0..5,000: all up to 64, then every 97th, the sizes around the v1/v2 switch
  # (about 400 to 520 names), and 5,000. Every size 0..5,000 round-trips in the Elixir-only
  # test (v2_test.exs) and in the TypeScript codec's own test; here each vector costs a
  # TypeScript encoding, so a sample.
  @sizes Enum.uniq(
           Enum.to_list(0..64) ++
             Enum.to_list(65..5_000//97) ++ Enum.to_list(380..540//8) ++ [4_999, 5_000]
         )

  test "random IPv4 sets the TypeScript encoder publishes decode to exactly their names, v1 and v2" do
    sets =
      for n <- @sizes, {base, span} <- [{0, 0xFFFFFFFF}, {0x0A000000, 0xFFFF}] do
        :rand.seed(:exsss, {n, span, 21})
        ips = V2Encoder.random_addresses(n, base: base, span: span) |> Enum.map(&V2Encoder.ip/1)
        {"shop", Enum.shuffle(ips)}
      end

    forced = TsEncoder.encode!(sets, v2: true)
    natural = TsEncoder.encode!(sets)

    for {{_basename, ips}, v2, plain} <- Enum.zip([sets, forced, natural]) do
      expected = ips |> Enum.map(&("shop@" <> &1)) |> Enum.sort()
      assert {:v2, ^expected, _parts, _} = read(v2), "#{length(ips)} addresses, forced v2"

      case read(plain) do
        {:v1, names, 0, _} ->
          assert names == expected and length(ips) <= 540

        {:v2, names, parts, _} ->
          assert names == expected and length(ips) >= 370 and parts in 1..10
      end
    end
  end

  test "a torn TypeScript-written set (parts of A, manifest of B) is refused" do
    :rand.seed(:exsss, {9, 9, 9})

    ips = fn ->
      V2Encoder.random_addresses(3_000, base: 0, span: 0xFFFFFFFF) |> Enum.map(&V2Encoder.ip/1)
    end

    [{_, parts_a}, {main_b, _}] = TsEncoder.encode!([{"shop", ips.()}, {"shop", ips.()}])

    fetch = fn
      @parameter ->
        {:ok, %{version: 2, value: main_b}}

      "/ecs-peers/shop/part/" <> i ->
        {:ok, %{version: 1, value: Enum.at(parts_a, String.to_integer(i))}}
    end

    o = %{parameter: @parameter, fetch: fetch, env: %{}, region: nil, http_timeout: 1_000}

    assert {:error, {:inconsistent_set, 2, {:part_of_another_set, 0}}, _} =
             Source.read(Source.SSM.new(o))
  end
end
