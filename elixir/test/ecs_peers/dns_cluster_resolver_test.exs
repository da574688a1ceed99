defmodule EcsPeers.DNSClusterResolverTest do
  @moduledoc false
  # The resolver called the way DNSCluster (phoenixframework/dns_cluster, lib/dns_cluster.ex)
  # calls it: basename(node()) once at start; then on every tick, from its GenServer
  # process, list_nodes(), lookup(query, type) for each resource type and query, names
  # "basename@" <> :inet.ntoa(addr), and connect_node(:"name") for the unconnected
  # ones (in tasks). Against moto_server, through a proxy that counts the reads.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.DNSClusterResolver, as: Resolver
  alias EcsPeers.Test.{Moto, SsmProxy}

  @moduletag :moto

  @values %{
    "/ecs-peers/shop" => ~s({"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}),
    "/ecs-peers/five" =>
      ~s({"version":1,"nodes":["shop@10.0.3.1","shop@10.0.3.2","shop@10.0.3.3","shop@10.0.3.4","shop@10.0.3.5"]}),
    "/ecs-peers/bad" => ~s({"nodes":"shop@10.0.1.5"}),
    "/ecs-peers/mixed" =>
      ~s({"version":1,"nodes":["shop@10.0.1.5","shop@10.0.0.300","evil name@10.0.0.1","other@10.0.0.7",) <>
        ~s("shop@010.0.0.1",42,"fresh_#{System.unique_integer([:positive])}@10.0.9.9"]}),
    "/ecs-peers/fresh" =>
      ~s({"version":1,"nodes":["new_#{System.unique_integer([:positive])}@10.0.8.1",) <>
        ~s("new_#{System.unique_integer([:positive])}@10.0.8.2"]})
  }

  setup_all do
    extra = map_size(@values) - 1
    moto = Moto.start!(no_auth_count: 4 + extra)
    on_exit(fn -> Moto.stop(moto) end)
    reader = Moto.setup_reader!(moto, "/ecs-peers/shop", @values["/ecs-peers/shop"])

    for {name, value} <- Map.delete(@values, "/ecs-peers/shop") do
      put = %{"Name" => name, "Value" => value, "Type" => "String", "Overwrite" => true}
      {200, _} = Moto.ssm(moto, "PutParameter", put)
    end

    %{moto: moto, reader: reader}
  end

  setup ctx do
    proxy = SsmProxy.start!(ctx.moto.url, Map.get(ctx, :proxy, []))
    configure(proxy, ctx.reader, Map.get(ctx, :config, []))
    on_exit(fn -> Application.delete_env(:ecs_peers, Resolver) end)
    %{proxy: proxy}
  end

  defp configure(proxy, reader, config) do
    env = %{
      "AWS_REGION" => Moto.region(),
      "AWS_ENDPOINT_URL" => nil,
      "AWS_ENDPOINT_URL_SSM" => proxy.url,
      "AWS_ACCESS_KEY_ID" => reader.access_key_id,
      "AWS_SECRET_ACCESS_KEY" => reader.secret_access_key,
      "AWS_SESSION_TOKEN" => nil,
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => nil,
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => nil
    }

    Application.put_env(:ecs_peers, Resolver, Keyword.merge([env: env], config))
  end

  # DNSCluster's init: the basename of this node, once; its default :dns_rr_types.
  defp dns_cluster_init(queries, opts \\ []) do
    %{
      basename: Resolver.basename(node()),
      query: List.wrap(queries),
      resource_types: Keyword.get(opts, :resource_types, [:a, :aaaa, :srv])
    }
  end

  # One DNSCluster tick: the names it would connect to, and what connect_node said.
  defp dns_cluster_tick(state) do
    connected = for name <- Resolver.list_nodes(), into: MapSet.new(), do: to_string(name)

    ips =
      for type <- state.resource_types,
          query <- state.query,
          basename = basename(query, state),
          addr <- Resolver.lookup(query_of(query), type) do
        {basename, addr}
      end
      |> Enum.uniq()
      |> Enum.map(fn {basename, addr} -> {basename, to_string(:inet.ntoa(addr))} end)

    ips
    |> Enum.map(fn {basename, ip} -> "#{basename}@#{ip}" end)
    |> Enum.reject(&MapSet.member?(connected, &1))
    |> Task.async_stream(fn name -> {name, Resolver.connect_node(:"#{name}")} end,
      max_concurrency: max(1, length(ips))
    )
    |> Enum.map(fn {:ok, result} -> result end)
  end

  defp basename({basename, _query}, _state), do: basename
  defp basename(_query, state), do: state.basename
  defp query_of({_basename, query}), do: query
  defp query_of(query), do: query

  defp reads(proxy), do: length(SsmProxy.requests(proxy))

  # A {basename, query} query names addresses with that basename: configured as :basename.
  @tag config: [basename: "shop"]
  test "DNSCluster connects to the nodes of the set, named with its basename", %{proxy: proxy} do
    state = dns_cluster_init([{"shop", "/ecs-peers/shop"}])
    # This test node is not distributed: Node.connect/1 says :ignored, as it would to DNSCluster.
    assert dns_cluster_tick(state) == [{"shop@10.0.1.5", :ignored}, {"shop@10.0.2.9", :ignored}]
    assert Resolver.lookup("/ecs-peers/shop", :a) == [{10, 0, 1, 5}, {10, 0, 2, 9}]
    assert Resolver.lookup("/ecs-peers/shop", :aaaa) == []
    assert Resolver.lookup("/ecs-peers/shop", :srv) == [{10, 0, 1, 5}, {10, 0, 2, 9}]
    assert reads(proxy) == 1

    # A plain query takes this node's basename, as DNSCluster does.
    assert Resolver.basename(:"shop@10.0.0.1") == "shop"
    plain = %{dns_cluster_init("/ecs-peers/shop") | basename: "shop"}
    assert Enum.map(dns_cluster_tick(plain), &elem(&1, 0)) == ["shop@10.0.1.5", "shop@10.0.2.9"]
    assert Resolver.list_nodes() == Node.list(:visible)
  end

  @tag config: [polling_interval: 300, read_budget: 1000.0, basename: "shop"]
  test "one read serves every lookup until the next is due; :aaaa never reads", %{proxy: proxy} do
    state = dns_cluster_init([{"shop", "/ecs-peers/shop"}])

    for _ <- 1..5, do: dns_cluster_tick(state)
    assert reads(proxy) == 1

    Process.sleep(400)
    dns_cluster_tick(state)
    assert reads(proxy) == 2
    assert Enum.all?(1..3, fn _ -> Resolver.lookup("/ecs-peers/shop", :aaaa) == [] end)
    assert reads(proxy) == 2
  end

  @tag config: [polling_interval: 50, read_budget: 10.0]
  test "reads are spaced by the set's size over the read budget", %{proxy: proxy} do
    # 5 nodes at 10 reads/s for the cluster: one read per 500 ms (±10%) on each node;
    # the second at a random point between 50 and 500 ms after the first.
    assert length(Resolver.lookup("/ecs-peers/five", :a)) == 5
    assert reads(proxy) == 1
    Process.sleep(520)
    assert length(Resolver.lookup("/ecs-peers/five", :a)) == 5
    assert reads(proxy) == 2

    Process.sleep(200)
    Resolver.lookup("/ecs-peers/five", :a)
    assert reads(proxy) == 2

    Process.sleep(400)
    Resolver.lookup("/ecs-peers/five", :a)
    assert reads(proxy) == 3
  end

  @tag config: [polling_interval: 200, read_budget: 1000.0]
  test "a throttled read keeps the last addresses, is logged once and backs off", %{proxy: proxy} do
    assert [_, _] = Resolver.lookup("/ecs-peers/shop", :a)
    SsmProxy.set(proxy, :mode, :throttle)

    log =
      capture_log(fn ->
        Process.sleep(300)
        # Throttled: the last good addresses, and the next read is 400 ms (±10%) away.
        assert Resolver.lookup("/ecs-peers/shop", :a) == [{10, 0, 1, 5}, {10, 0, 2, 9}]
        assert reads(proxy) == 2
        Process.sleep(240)
        Resolver.lookup("/ecs-peers/shop", :a)
        assert reads(proxy) == 2

        Process.sleep(300)
        assert [_, _] = Resolver.lookup("/ecs-peers/shop", :a)
        assert reads(proxy) == 3
      end)

    assert [_] = Regex.scan(~r/ThrottlingException/, log)

    assert log =~
             "[ecs_peers:dns_cluster] GetParameter /ecs-peers/shop failed: ThrottlingException"

    assert log =~ "keeping the last 2 address(es)"

    assert SsmProxy.requests(proxy) |> Enum.map(& &1.answered) == [
             :forwarded,
             :throttled,
             :throttled
           ]
  end

  @tag config: [max_new_atoms: 0]
  test "only valid entries are used, and no atom is made beyond the budget" do
    # Names whose atoms exist cost no budget.
    _known = [:"shop@10.0.1.5", :"other@10.0.0.7"]
    [fresh] = Regex.run(~r/fresh_\d+@10\.0\.9\.9/, @values["/ecs-peers/mixed"])

    # Before basename/1 (not how DNSCluster calls it), entries of any basename count.
    assert Resolver.lookup("/ecs-peers/mixed", :a) == [{10, 0, 0, 7}, {10, 0, 1, 5}]
    assert_raise ArgumentError, fn -> String.to_existing_atom(fresh) end
  end

  test "after basename/1, as DNSCluster's init calls it, only entries of that basename count" do
    # DNSCluster would dial other@10.0.0.7's address as shop@10.0.0.7.
    assert Resolver.basename(:"shop@10.0.0.1") == "shop"
    assert Resolver.lookup("/ecs-peers/mixed", :a) == [{10, 0, 1, 5}]
    assert Resolver.lookup("/ecs-peers/mixed", :srv) == [{10, 0, 1, 5}]
  end

  @tag config: [max_new_atoms: 0]
  test "a set of only new names beyond the atom budget is refused, and said so" do
    log = capture_log(fn -> assert Resolver.lookup("/ecs-peers/fresh", :a) == [] end)
    assert log =~ "/ecs-peers/fresh version 1 lists only new node names"
  end

  @tag config: [basename: "shop"]
  test "with :basename, entries of another basename are left out" do
    assert Resolver.lookup("/ecs-peers/mixed", :a) == [{10, 0, 1, 5}]
  end

  @tag config: [polling_interval: 1, max_backoff: 1, read_budget: 1000.0]
  test "a malformed value is logged once, however often it is read", %{proxy: proxy} do
    log =
      capture_log(fn ->
        for _ <- 1..3 do
          assert Resolver.lookup("/ecs-peers/bad", :a) == []
          Process.sleep(5)
        end
      end)

    assert reads(proxy) == 3
    assert [_] = Regex.scan(~r/\/ecs-peers\/bad version 1 is malformed/, log)
  end

  @tag proxy: [shift_ms: 15 * 60_000]
  test "AWS's clock 15 minutes ahead: the first tick already succeeds, and the offset is kept",
       %{proxy: proxy} do
    Application.put_env(
      :ecs_peers,
      Resolver,
      Keyword.merge(Application.get_env(:ecs_peers, Resolver),
        polling_interval: 1,
        read_budget: 1000.0
      )
    )

    assert [_, _] = Resolver.lookup("/ecs-peers/shop", :a)
    Process.sleep(5)
    assert [_, _] = Resolver.lookup("/ecs-peers/shop", :a)
    assert Enum.map(SsmProxy.requests(proxy), & &1.answered) == [:skewed, :forwarded, :forwarded]
  end

  test "bad configuration fails DNSCluster's start with the reason, never showing :env" do
    Application.put_env(:ecs_peers, Resolver, read_budgit: 1.0)

    assert_raise ArgumentError,
                 ~r/EcsPeers.DNSClusterResolver: ecs_peers: unknown option\(s\) :read_budgit/,
                 fn ->
                   Resolver.basename(node())
                 end

    Application.put_env(:ecs_peers, Resolver, read_budget: 0)

    assert_raise ArgumentError, ~r/option :read_budget must be a positive number/, fn ->
      Resolver.basename(node())
    end

    Application.put_env(:ecs_peers, Resolver, basename: "no spaces")
    assert_raise ArgumentError, ~r/option :basename must be/, fn -> Resolver.basename(node()) end

    Application.put_env(:ecs_peers, Resolver, parameter: "/ecs-peers/shop")
    assert_raise ArgumentError, ~r/DNSCluster's :query/, fn -> Resolver.basename(node()) end

    Application.put_env(:ecs_peers, Resolver, %{read_budget: 1.0})
    assert_raise ArgumentError, ~r/expected a keyword list/, fn -> Resolver.basename(node()) end

    Application.put_env(:ecs_peers, Resolver, env: [{"AWS_SECRET_ACCESS_KEY", "s3cr3t"}])
    error = assert_raise ArgumentError, fn -> Resolver.basename(node()) end
    refute Exception.message(error) =~ "s3cr3t"
  end
end
