defmodule EcsPeers.PeerSet.V2TsTest do
  # Cross-language: the TypeScript reconciler's encoder (lib/peerSet, run by tsx) writes,
  # the Elixir reader (EcsPeers.Source.SSM, as a poller reads) decodes. Needs `npm ci` at
  # the repository root. Not async: the tsx batch takes both cores for seconds, and the
  # loop's timing tests (connect phase bounds, status within 5 s) run in the async phase.
  use ExUnit.Case, async: false

  alias EcsPeers.Source
  alias EcsPeers.Test.{TsEncoder, V2Encoder}

  @parameter "/ecs-peers/shop"

  # What a poller's source reads from these values (the `:fetch` seam standing in for SSM):
  # `{:v1 | :v2, names}`, or `{:error, reason}`.
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

    case Source.read(Source.SSM.new(o)) do
      {:ok, %{value: {:entries, names}}, _source} ->
        {:v2, names}

      {:ok, %{value: json}, _source} ->
        case EcsPeers.JSON.decode(json) do
          {:ok, %{"version" => 1, "nodes" => names}} -> {:v1, names}
          other -> {:error, {:not_v1, other}}
        end

      {:error, reason, _source} ->
        {:error, reason}
    end
  end

  defp sha256(iodata), do: :sha256 |> :crypto.hash(iodata) |> Base.encode16(case: :lower)

  # The length of the set's v1 value, `{"version":1,"nodes":["shop@..",..]}`: the natural
  # choice is v1 exactly when it is at most 8,192 characters.
  defp v1_length(names),
    do: 24 + Enum.sum(Enum.map(names, &(byte_size(&1) + 3))) - min(length(names), 1)

  # What is wrong with a set's decoding (nothing: []), and the natural choice's format.
  defp check(%{size: size, digest: digest, forced: forced, natural: natural}) do
    exact? = fn names ->
      length(names) == size and sha256(Enum.intersperse(names, "\n")) == digest
    end

    {forced_problems, names} =
      case read(forced) do
        {:v2, names} -> {if(exact?.(names), do: [], else: [forced: :not_its_names]), names}
        other -> {[forced: other], []}
      end

    fits_v1? = v1_length(names) <= 8_192

    {format, natural_problems} =
      case natural do
        {:same_as_forced, hash} ->
          {main, parts} = forced
          same? = hash == sha256(Enum.intersperse([main | parts], "\t"))

          {:v2,
           if(same? and not fits_v1?, do: [], else: [natural: {:same_as_forced, same?, fits_v1?}])}

        values ->
          case read(values) do
            {format, names} when format in [:v1, :v2] ->
              right? = exact?.(names) and fits_v1? == (format == :v1)
              {format, if(right?, do: [], else: [natural: {format, :wrong}])}

            other ->
              {:error, [natural: other]}
          end
      end

    {format, forced_problems ++ natural_problems}
  end

  # Every size, one random set each, whole IPv4 space at even sizes, 10.0.0.0/16 at odd
  # ones: the TypeScript side makes and encodes the sets from the seed (random_sets.ts) and
  # streams them; two decoders read them as they come.
  test "random IPv4 sets of every size 0..5,000 the TypeScript encoder publishes decode to exactly their names, forced v2 and its natural choice (v1 while it fits)" do
    results =
      TsEncoder.random_sets(21, 0..5_000, ["all", "dense"])
      |> Task.async_stream(&{&1.size, &1.space, check(&1)},
        max_concurrency: System.schedulers_online(),
        timeout: 60_000
      )
      |> Enum.map(fn {:ok, result} -> result end)

    assert Enum.map(results, &elem(&1, 0)) == Enum.to_list(0..5_000)
    failures = for {size, space, {_, [_ | _] = problems}} <- results, do: {size, space, problems}
    assert failures == [], "#{length(failures)} sets: #{inspect(Enum.take(failures, 5))}"

    # The natural choice is v1 for the small sets and v2 from about 370 (whole space) or
    # 510 (10.0.0.0/16) names on: both seen in each space.
    for space <- ["all", "dense"], format <- [:v1, :v2] do
      assert Enum.any?(results, &match?({_, ^space, {^format, []}}, &1)), "#{space}: no #{format}"
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
