defmodule EcsPeers.StrategyTest do
  use ExUnit.Case, async: true

  alias EcsPeers.Test.FakeCluster

  @moduletag :capture_log

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
    cluster = FakeCluster.start!(connected: [:"shop@10.0.0.9"])
    value = ~s({"version":1,"nodes":["shop@10.0.0.1"]})

    config = [
      parameter: "/ecs-peers/shop",
      basename: "shop",
      prune: true,
      fetch: fn "/ecs-peers/shop" -> {:ok, %{version: 3, value: value}} end
    ]

    spec = EcsPeers.Strategy.child_spec([state(cluster, config)])
    assert %{start: {EcsPeers.Strategy, :start_link, [[_]]}} = spec
    pid = start_supervised!(spec)

    assert %{topology: :ecs, version: 3, nodes: [:"shop@10.0.0.1"]} = EcsPeers.status(pid)
    assert_received {:connect, :"shop@10.0.0.1"}
    assert_received {:disconnect, :"shop@10.0.0.9"}
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.0.1"]
  end

  test "unknown config keys are an ArgumentError naming them and the topology" do
    cluster = FakeCluster.start!()

    error =
      assert_raise ArgumentError, fn ->
        EcsPeers.Strategy.start_link([state(cluster, parameter: "/p", pollinginterval: 5)])
      end

    assert error.message =~ ":pollinginterval"
    assert error.message =~ ":ecs topology"

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

  test "libcluster's own connect_node and disconnect_node events, per node" do
    owner = self()

    telemetry = fn event, measurements, metadata ->
      send(owner, {:t, event, measurements, metadata})
    end

    cluster = FakeCluster.start!(connected: [:"shop@10.0.0.9"], refuse: [:"shop@10.0.0.2"])
    value = ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2"]})

    config = [
      parameter: "/ecs-peers/shop",
      basename: "shop",
      prune: true,
      telemetry: telemetry,
      fetch: fn _ -> {:ok, %{version: 1, value: value}} end
    ]

    pid = start_supervised!({EcsPeers.Strategy, [state(cluster, config)]})
    _ = EcsPeers.status(pid)

    assert_received {:t, [:libcluster, :connect_node, :ok], %{},
                     %{node: :"shop@10.0.0.1", topology: :ecs}}

    assert_received {:t, [:libcluster, :connect_node, :error], %{},
                     %{node: :"shop@10.0.0.2", topology: :ecs}}

    assert_received {:t, [:libcluster, :disconnect_node, :ok], %{},
                     %{node: :"shop@10.0.0.9", topology: :ecs}}

    # The standalone process emits only its own events.
    cluster2 = FakeCluster.start!()

    start_supervised!(
      {EcsPeers,
       [parameter: "/p", fetch: config[:fetch], telemetry: telemetry, name: :standalone_t] ++
         FakeCluster.seams(cluster2)}
    )
    |> EcsPeers.status()

    assert_received {:t, [:ecs_peers, :connect], _, %{topology: :ecs_peers}}
    refute_received {:t, [:libcluster | _], _, %{topology: :ecs_peers}}
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
