defmodule EcsPeers.PeerSet.V2TsTest do
  # Cross-language: the TypeScript reconciler's encoder (lib/peerSet, run by tsx) writes,
  # the Elixir reader (EcsPeers.Source.SSM, as a poller reads) decodes. The random sets are
  # made on the TypeScript side from a seed (test/support/random_sets.ts) and streamed
  # here, each with the script's own digest of its names. Needs `npm ci` at the repository
  # root. Not async: tsx and the two decoders take both cores for some 20 s, and the loop's
  # timing tests (connect phase bounds, status within 5 s) run in the async phase.
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

  # A set as read: the natural choice's format, its v1 length, and what is wrong with it
  # (nothing: []).
  defp check(%{size: size, digest: digest, forced: forced, natural: natural}) do
    wrong = fn names ->
      got = sha256(Enum.intersperse(names, "\n"))
      if length(names) == size and got == digest, do: [], else: [{length(names), got}]
    end

    {forced_problems, names} =
      case read(forced) do
        {:v2, names} -> {for(w <- wrong.(names), do: {:forced_v2, w}), names}
        other -> {[forced_v2: other], []}
      end

    length = v1_length(names)

    {format, natural_problems} =
      case natural do
        {:same_as_forced, hash} ->
          {main, parts} = forced
          same? = hash == sha256(Enum.intersperse([main | parts], "\t"))
          bytes = if same?, do: [], else: [natural: :v2_not_the_forced_bytes]
          {:v2, bytes ++ if(length > 8_192, do: [], else: [natural: {:v2, length}])}

        values ->
          case read(values) do
            {format, names} when format in [:v1, :v2] ->
              fits_v1? = length <= 8_192
              choice = if fits_v1? == (format == :v1), do: [], else: [natural: {format, length}]
              {format, choice ++ for(w <- wrong.(names), do: {:natural, w})}

            other ->
              {:error, [natural: other]}
          end
      end

    {format, length, forced_problems ++ natural_problems}
  end

  # The sets random_sets.ts makes and encodes, checked as they come on two decoders:
  # `[{size, space, format, v1_length}]`, after asserting that none is wrong.
  defp check_all(what) do
    results =
      TsEncoder.random_sets(21, what, ["all", "dense"])
      |> Task.async_stream(&{&1.size, &1.space, check(&1)},
        max_concurrency: System.schedulers_online(),
        timeout: 60_000
      )
      |> Enum.map(fn {:ok, result} -> result end)

    failures = for {size, space, {_, _, [_ | _] = why}} <- results, do: {size, space, why}
    assert failures == [], "#{length(failures)} sets: #{inspect(Enum.take(failures, 5))}"
    for {size, space, {format, length, []}} <- results, do: {size, space, format, length}
  end

  # Every size, one random set each, the whole IPv4 space at even sizes, 10.0.0.0/16 at
  # odd ones (both at every size would double the ~12.5 million names to decode).
  test "random IPv4 sets of every size 0..5,000 the TypeScript encoder publishes decode to exactly their names, forced v2 and its natural choice" do
    results = check_all({:sizes, 0..5_000})
    assert Enum.map(results, &elem(&1, 0)) == Enum.to_list(0..5_000)

    # The natural choice is v1 up to about 380 names (whole space) or 425 (10.0.0.0/16).
    for space <- ["all", "dense"], format <- [:v1, :v2] do
      assert Enum.any?(results, &match?({_, ^space, ^format, _}, &1)), "#{space}: no #{format}"
    end
  end

  test "the TypeScript encoder's natural choice is v1 up to a v1 value of exactly 8,192 characters, v2 from 8,193, and both decode to exactly their names" do
    results = check_all({:v1_lengths, 8_188..8_197})

    for space <- ["all", "dense"] do
      assert for({_, ^space, format, length} <- results, do: {length, format}) ==
               for(length <- 8_188..8_197, do: {length, if(length <= 8_192, do: :v1, else: :v2)})
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
