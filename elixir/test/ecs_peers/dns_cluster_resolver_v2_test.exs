defmodule EcsPeers.DNSClusterResolverV2Test do
  @moduledoc false
  # The resolver reading v2 sets (a manifest and its parts, as the reconciler writes them)
  # the way DNSCluster calls it, against moto_server with the reader's IAM policy
  # (ssm:GetParameter and ssm:GetParameters), through a proxy that counts the calls. The
  # v1 cases are in dns_cluster_resolver_test.exs.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.DNSClusterResolver, as: Resolver
  alias EcsPeers.Test.{Moto, SsmProxy, V2Encoder}

  @moduletag :moto

  setup_all do
    # The reader (4 requests) and the writer (3), then authentication is on.
    moto = Moto.start!(no_auth_count: 7)
    on_exit(fn -> Moto.stop(moto) end)
    reader = Moto.setup_reader!(moto, "/ecs-peers/shop", ~s({"version":1,"nodes":[]}))
    %{moto: moto, reader: reader, writer: Moto.setup_writer!(moto)}
  end

  setup ctx do
    proxy = SsmProxy.start!(ctx.moto.url)

    env = %{
      "AWS_REGION" => Moto.region(),
      "AWS_ENDPOINT_URL" => nil,
      "AWS_ENDPOINT_URL_SSM" => proxy.url,
      "AWS_ACCESS_KEY_ID" => ctx.reader.access_key_id,
      "AWS_SECRET_ACCESS_KEY" => ctx.reader.secret_access_key,
      "AWS_SESSION_TOKEN" => nil,
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => nil,
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => nil
    }

    Application.put_env(
      :ecs_peers,
      Resolver,
      Keyword.merge([env: env], Map.get(ctx, :config, []))
    )

    on_exit(fn -> Application.delete_env(:ecs_peers, Resolver) end)
    %{proxy: proxy}
  end

  defp put!(ctx, name, value) do
    put = %{"Name" => name, "Value" => value, "Type" => "String", "Overwrite" => true}
    {200, _} = Moto.ssm(ctx.moto, "PutParameter", put, ctx.writer)
  end

  # A v2 set as the reconciler writes one: its parts, then its manifest.
  defp put_parts!(ctx, name, %{parts: parts}) do
    for {value, i} <- Enum.with_index(parts), do: put!(ctx, "#{name}/part/#{i}", value)
  end

  defp publish!(ctx, name, encoded) do
    put_parts!(ctx, name, encoded)
    put!(ctx, name, encoded.manifest)
  end

  # Exactly n distinct addresses of a VPC's 10.0.0.0/16, and their v2 set.
  defp v2_set(seed, n) do
    :rand.seed(:exsss, seed)
    V2Encoder.encode("shop", Enum.take(Enum.shuffle(0x0A000000..0x0A00FFFF), n))
  end

  defp addresses(%{names: names}) do
    for "shop@" <> host <- names do
      {:ok, ip} = :inet.parse_ipv4strict_address(String.to_charlist(host))
      ip
    end
    |> Enum.sort()
  end

  defp targets(proxy), do: for(%{target: "AmazonSSM." <> op} <- SsmProxy.requests(proxy), do: op)

  # The default :max_nodes takes the reconciler's largest set whole.
  @tag config: [basename: "shop", polling_interval: 1_000, read_budget: 1.0e9]
  test "a v2 set (a manifest and its parts) resolves to all its addresses", ctx do
    set = v2_set({7, 7, 7}, 5_000)
    assert length(set.parts) >= 2
    publish!(ctx, "/ecs-peers/v2", set)

    # DNSCluster's init, then its names for the addresses: basename@address.
    assert Resolver.basename(:"shop@10.0.0.1") == "shop"
    names = for addr <- Resolver.lookup("/ecs-peers/v2", :a), do: "shop@#{:inet.ntoa(addr)}"
    assert Enum.sort(names) == set.names
    assert Enum.sort(Resolver.lookup("/ecs-peers/v2", :srv)) == addresses(set)
    assert targets(ctx.proxy) == ["GetParameter", "GetParameters"]

    # The manifest unchanged: one GetParameter per read, the same addresses.
    Process.sleep(1_100)
    assert length(Resolver.lookup("/ecs-peers/v2", :a)) == 5_000
    assert targets(ctx.proxy) == ["GetParameter", "GetParameters", "GetParameter"]
  end

  @tag config: [basename: "shop", polling_interval: 50, read_budget: 1.0e9]
  test "a torn v2 set keeps the previous addresses and is read again without backoff", ctx do
    c = v2_set({3, 3, 3}, 900)
    a = v2_set({4, 4, 4}, 900)
    b = v2_set({5, 5, 5}, 900)
    publish!(ctx, "/ecs-peers/torn", c)
    assert Enum.sort(Resolver.lookup("/ecs-peers/torn", :a)) == addresses(c)

    # A writer between its parts and its manifest: parts of A, the manifest of B.
    put_parts!(ctx, "/ecs-peers/torn", a)
    put!(ctx, "/ecs-peers/torn", b.manifest)

    log =
      capture_log(fn ->
        for _ <- 1..3 do
          Process.sleep(60)
          assert Enum.sort(Resolver.lookup("/ecs-peers/torn", :a)) == addresses(c)
        end
      end)

    # Each torn read was logged once in all, and each came at the budgeted 50 ms (a
    # backoff would have doubled it: 100 ms, then 200).
    assert [_] = Regex.scan(~r/parts do not make its set/, log)
    assert log =~ "keeping the last 900 address(es)"

    assert targets(ctx.proxy) |> Enum.drop(2) |> Enum.frequencies() ==
             %{"GetParameter" => 3, "GetParameters" => 3}

    # The writer finishes: the next read answers B.
    put_parts!(ctx, "/ecs-peers/torn", b)
    Process.sleep(60)

    log =
      capture_log(fn ->
        assert Enum.sort(Resolver.lookup("/ecs-peers/torn", :a)) == addresses(b)
      end)

    assert log =~ "reading /ecs-peers/torn works again"
  end
end
