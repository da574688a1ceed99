defmodule EcsPeers.Source.SSMV2MotoTest do
  @moduledoc false
  # v2 sets (a manifest and its parts) read by a running EcsPeers from moto_server, through
  # a proxy that counts the calls: one GetParameter per read in steady state, one
  # GetParameters only when the manifest changed, and a torn set never acted on.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import EcsPeers.Test.Moto, only: [moto_without_iam: 1]

  alias EcsPeers.Test.{FakeCluster, Moto, SsmProxy, V2Encoder}

  @moduletag :moto
  @moduletag :capture_log

  @parameter "/ecs-peers/shop"

  setup_all :moto_without_iam

  setup ctx do
    proxy = SsmProxy.start!(ctx.moto.url)
    %{proxy: proxy}
  end

  defp put!(moto, name, value) do
    payload = %{"Name" => name, "Value" => value, "Type" => "String", "Overwrite" => true}
    {200, _} = Moto.ssm(moto, "PutParameter", payload)
  end

  defp put_parts!(moto, %{parts: parts}) do
    for {value, i} <- Enum.with_index(parts), do: put!(moto, "#{@parameter}/part/#{i}", value)
  end

  defp publish!(moto, encoded) do
    put_parts!(moto, encoded)
    put!(moto, @parameter, encoded.manifest)
  end

  # Exactly n distinct addresses of a VPC's 10.0.0.0/16.
  defp set(seed, n) do
    :rand.seed(:exsss, seed)
    addresses = Enum.take(Enum.shuffle(0x0A000000..0x0A00FFFF), n)
    V2Encoder.encode("shop", addresses)
  end

  defp start!(ctx, cluster) do
    env = %{
      "AWS_REGION" => Moto.region(),
      "AWS_ENDPOINT_URL" => nil,
      "AWS_ENDPOINT_URL_SSM" => ctx.proxy.url,
      "AWS_ACCESS_KEY_ID" => "AKIDTEST",
      "AWS_SECRET_ACCESS_KEY" => "test-secret",
      "AWS_SESSION_TOKEN" => nil
    }

    opts = [
      parameter: @parameter,
      env: env,
      basename: "shop",
      max_nodes: 5_000,
      polling_interval: 60_000
    ]

    start_supervised!({EcsPeers, opts ++ FakeCluster.seams(cluster)})
  end

  defp targets(proxy) do
    for %{target: "AmazonSSM." <> op} <- SsmProxy.requests(proxy), do: op
  end

  defp names(nodes), do: Enum.map(nodes, &Atom.to_string/1)

  test "2,000 peers: read whole, then one GetParameter per read until the manifest changes",
       ctx do
    a = set({1, 1, 1}, 2_000)
    b = set({2, 2, 2}, 2_001)
    publish!(ctx.moto, a)
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)

    assert %{nodes: nodes, format: :v2, parts: 1, store: :ssm, last_error: nil} =
             EcsPeers.status(pid)

    assert names(nodes) == a.names and length(nodes) == 2_000
    assert length(FakeCluster.list_nodes(cluster)) == 2_000
    assert targets(ctx.proxy) == ["GetParameter", "GetParameters"]

    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
    assert targets(ctx.proxy) == ["GetParameter", "GetParameters", "GetParameter", "GetParameter"]

    publish!(ctx.moto, b)
    assert %{result: :applied} = EcsPeers.poll_now(pid)
    assert names(EcsPeers.status(pid).nodes) == b.names
    assert Enum.drop(targets(ctx.proxy), 4) == ["GetParameter", "GetParameters"]
  end

  test "a torn set (parts of set A, manifest of set B) is never acted on; the next read after the repair is",
       ctx do
    c = set({3, 3, 3}, 1_500)
    a = set({4, 4, 4}, 1_500)
    b = set({5, 5, 5}, 1_500)
    publish!(ctx.moto, c)
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)
    assert %{version: version_c, nodes: nodes_c, interval: budgeted} = EcsPeers.status(pid)
    assert names(nodes_c) == c.names
    flush_calls()

    put_parts!(ctx.moto, a)
    put!(ctx.moto, @parameter, b.manifest)

    log =
      capture_log(fn ->
        for _ <- 1..3 do
          assert %{result: :error, error: {:inconsistent_set, _, {:part_of_another_set, 0}}} =
                   EcsPeers.poll_now(pid)
        end
      end)

    # Nothing of A or B was taken in: the connections and the set are C's.
    refute_received {:disconnect, _}
    refute_received {:connect, _}
    assert %{version: ^version_c, nodes: ^nodes_c, interval: interval} = EcsPeers.status(pid)
    assert length(FakeCluster.list_nodes(cluster)) == 1_500
    # Logged once, and tried again at the next read, not backed off.
    assert length(String.split(log, "parts do not make its set")) == 2
    assert log =~ "keeping the current connections (1500 peer(s) from version #{version_c})"
    assert_in_delta interval, budgeted, budgeted * 0.01 + 1

    # Every torn read read the parts again (the manifest was not taken as read).
    assert targets(ctx.proxy) |> Enum.drop(2) |> Enum.frequencies() ==
             %{"GetParameter" => 3, "GetParameters" => 3}

    # The writer finishes (B's parts): the next read applies B, and says it works again.
    put_parts!(ctx.moto, b)

    log = capture_log(fn -> assert %{result: :applied} = EcsPeers.poll_now(pid) end)
    assert log =~ "reading #{@parameter} works again"
    assert names(EcsPeers.status(pid).nodes) == b.names
    # (prune is off: C's nodes stay connected beside B's.)
    assert b.names -- names(FakeCluster.list_nodes(cluster)) == []
  end

  test "a part missing (a slot never written) is a torn set too", ctx do
    c = set({6, 6, 6}, 900)
    publish!(ctx.moto, c)
    pid = start!(ctx, FakeCluster.start!())
    assert names(EcsPeers.status(pid).nodes) == c.names

    # A manifest naming a second part that does not exist yet.
    big = V2Encoder.encode("shop", V2Encoder.random_addresses(3_000, base: 0, span: 0xFFFFFFFF))
    assert length(big.parts) >= 3
    put!(ctx.moto, "#{@parameter}/part/0", hd(big.parts))
    put!(ctx.moto, @parameter, big.manifest)

    assert %{result: :error, error: {:inconsistent_set, _, why}} = EcsPeers.poll_now(pid)
    assert why in [{:missing_part, 1}, {:part_of_another_set, 1}]
    assert names(EcsPeers.status(pid).nodes) == c.names
  end

  test "a v1 value in the parameter is read as before, in one call", ctx do
    put!(ctx.moto, @parameter, ~s({"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}))
    pid = start!(ctx, FakeCluster.start!())
    assert %{nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9"], format: :v1} = EcsPeers.status(pid)
    assert targets(ctx.proxy) == ["GetParameter"]
  end

  defp flush_calls do
    receive do
      {tag, _} when tag in [:connect, :disconnect] -> flush_calls()
    after
      0 -> :ok
    end
  end
end
