defmodule EcsPeers.StrategyTest do
  # This VM runs as a distributed node so that it can be in the set (prune acts only
  # then): not async.
  use ExUnit.Case, async: false

  alias EcsPeers.Test.{Distributed, FakeCluster}

  @moduletag :capture_log

  setup_all do
    Distributed.start!()
  end

  # What libcluster hands a strategy: %Cluster.Strategy.State{}, here as a plain map (the
  # strategy matches on fields, so libcluster is not needed).
  defp state(cluster, config) do
    seams = FakeCluster.seams(cluster)

    %{
      topology: :ecs,
      connect: seams[:connect],
      disconnect: seams[:disconnect],
      list_nodes: seams[:list_nodes],
      config: config,
      meta: nil
    }
  end

  test "starts from libcluster's state and connects through its {m, f, a}" do
    [base, _] = node() |> Atom.to_string() |> String.split("@")
    stray = Distributed.peer("10.0.0.9")
    peer = Distributed.peer("10.0.0.1")
    cluster = FakeCluster.start!(connected: [stray])
    value = Distributed.value([node(), peer])

    config = [
      parameter: "/ecs-peers/shop",
      basename: base,
      prune: true,
      prune_grace: 0,
      fetch: fn "/ecs-peers/shop" -> {:ok, %{version: 3, value: value}} end
    ]

    spec = EcsPeers.Strategy.child_spec([state(cluster, config)])
    assert %{start: {EcsPeers.Strategy, :start_link, [[_]]}} = spec
    pid = start_supervised!(spec)

    nodes = Enum.sort([peer, node()])
    assert %{topology: :ecs, version: 3, nodes: ^nodes} = EcsPeers.status(pid)

    assert_received {:connect, ^peer}
    assert_received {:disconnect, ^stray}
    assert FakeCluster.list_nodes(cluster) == [peer]
  end

  test "unknown config keys are an ArgumentError naming them and the topology" do
    cluster = FakeCluster.start!()

    error =
      assert_raise ArgumentError, fn ->
        EcsPeers.Strategy.start_link([state(cluster, parameter: "/p", pollinginterval: 5)])
      end

    assert error.message =~ ":pollinginterval"
    assert error.message =~ ":ecs topology"

    assert_raise ArgumentError, ~r/:resync_interval was removed/, fn ->
      EcsPeers.Strategy.child_spec([state(cluster, parameter: "/p", resync_interval: 60_000)])
    end

    # Keys libcluster provides are not config keys.
    assert_raise ArgumentError, ~r/:connect/, fn ->
      EcsPeers.Strategy.child_spec([state(cluster, parameter: "/p", connect: {M, :f, []})])
    end

    assert_raise ArgumentError, ~r/libcluster's strategy state/, fn ->
      EcsPeers.Strategy.start_link([%{config: []}])
    end
  end

  test "the child id is the topology: two topologies of the strategy start side by side" do
    cluster = FakeCluster.start!()
    fetch = fn _ -> {:ok, %{version: 1, value: ~s({"version":1,"nodes":["shop@10.0.0.1"]})}} end
    config = [parameter: "/ecs-peers/shop", fetch: fetch]

    a = EcsPeers.Strategy.child_spec([state(cluster, config)])
    b = EcsPeers.Strategy.child_spec([%{state(cluster, config) | topology: :other}])
    assert a.id == :ecs
    assert b.id == :other

    pid_a = start_supervised!(a)
    pid_b = start_supervised!(b)
    assert pid_a != pid_b
    assert %{topology: :other} = EcsPeers.status(pid_b)
  end

  # The shapes libcluster 3.5's Cluster.Strategy.connect_nodes/4 and disconnect_nodes/4
  # emit (lib/strategy/strategy.ex): :ok with %{duration: native}, :error with %{} and
  # a :reason; metadata %{node, topology}; no other event of the :libcluster namespace.
  test "libcluster's own connect_node and disconnect_node events, with libcluster's shapes" do
    owner = self()

    telemetry = fn event, measurements, metadata ->
      send(owner, {:t, event, measurements, metadata})
    end

    [ok, refused, ignored, crashing, pruned, gone] =
      for i <- [1, 2, 3, 4, 9, 8], do: Distributed.peer("10.0.0.#{i}")

    connect = fn
      ^ok -> true
      ^refused -> false
      ^ignored -> :ignored
      ^crashing -> raise "boom"
    end

    disconnect = fn
      ^pruned -> true
      # Gone by the time of the disconnect: libcluster's :already_disconnected.
      ^gone -> false
    end

    value = Distributed.value([node(), ok, refused, ignored, crashing])

    state = %{
      topology: :ecs,
      connect: connect,
      disconnect: disconnect,
      list_nodes: fn -> [pruned, gone] end,
      meta: nil,
      config: [
        parameter: "/ecs-peers/shop",
        prune: true,
        prune_grace: 0,
        telemetry: telemetry,
        fetch: fn _ -> {:ok, %{version: 1, value: value}} end
      ]
    }

    pid = start_supervised!({EcsPeers.Strategy, [state]})
    _ = EcsPeers.status(pid)

    events = collect()
    libcluster = for {[:libcluster | _] = e, m, meta} <- events, do: {e, m, meta}

    assert [{%{duration: d}, %{node: ^ok, topology: :ecs} = meta}] =
             for({[:libcluster, :connect_node, :ok], m, meta} <- libcluster, do: {m, meta})

    assert is_integer(d) and d >= 0
    assert Map.keys(meta) |> Enum.sort() == [:node, :topology]

    errors = for {[:libcluster, :connect_node, :error], m, meta} <- libcluster, do: {m, meta}

    assert Enum.sort_by(errors, fn {_, meta} -> meta.node end) == [
             {%{}, %{node: refused, topology: :ecs, reason: :unreachable}},
             {%{}, %{node: ignored, topology: :ecs, reason: :not_part_of_network}},
             # libcluster gives only these two reasons: a crash is :unreachable.
             {%{}, %{node: crashing, topology: :ecs, reason: :unreachable}}
           ]

    assert [{%{duration: _}, %{node: ^pruned, topology: :ecs} = meta}] =
             for({[:libcluster, :disconnect_node, :ok], m, meta} <- libcluster, do: {m, meta})

    assert Map.keys(meta) |> Enum.sort() == [:node, :topology]

    assert [{%{}, %{node: ^gone, topology: :ecs, reason: :already_disconnected}}] =
             for({[:libcluster, :disconnect_node, :error], m, meta} <- libcluster, do: {m, meta})

    # Nothing else in libcluster's namespace (it has no :ignored outcome, no other event).
    for {event, _, _} <- libcluster do
      assert event in [
               [:libcluster, :connect_node, :ok],
               [:libcluster, :connect_node, :error],
               [:libcluster, :disconnect_node, :ok],
               [:libcluster, :disconnect_node, :error]
             ]
    end

    assert length(libcluster) == 6

    # The standalone process emits only its own events.
    cluster2 = FakeCluster.start!()

    start_supervised!(
      {EcsPeers,
       [parameter: "/p", fetch: state.config[:fetch], telemetry: telemetry, name: :standalone_t] ++
         FakeCluster.seams(cluster2)}
    )
    |> EcsPeers.status()

    events = collect()
    assert Enum.any?(events, &match?({[:ecs_peers, :connect], _, %{topology: :ecs_peers}}, &1))
    refute Enum.any?(events, &match?({[:libcluster | _], _, _}, &1))
  end

  defp collect do
    receive do
      {:t, event, measurements, metadata} -> [{event, measurements, metadata} | collect()]
    after
      0 -> []
    end
  end

  test "a config that is not a keyword list is a clear ArgumentError" do
    cluster = FakeCluster.start!()

    for config <- [%{parameter: "/p"}, "/p", [{"parameter", "/p"}]] do
      error =
        assert_raise ArgumentError, fn ->
          EcsPeers.Strategy.child_spec([state(cluster, config)])
        end

      assert error.message =~ "the :ecs topology's config must be a keyword list"
    end
  end

  test "a state that is not libcluster's is an ArgumentError that names its keys, not its values" do
    bad = %{topology: :ecs, config: [env: %{"AWS_SECRET_ACCESS_KEY" => "s3cr3t-value"}]}
    error = assert_raise ArgumentError, fn -> EcsPeers.Strategy.start_link([bad]) end
    assert error.message =~ "expected libcluster's strategy state"
    assert error.message =~ "a map with keys [:config, :topology]"
    refute error.message =~ "s3cr3t-value"
  end
end
