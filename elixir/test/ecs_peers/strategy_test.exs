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
end
