defmodule EcsPeers.ReconcilerChainTest do
  @moduledoc """
  The whole chain: ECS tasks in moto -> the reconciler's built Lambda handler
  (`dist/reconcile/index.mjs`) -> the SSM parameter -> `EcsPeers` on a BEAM node in each
  task's network namespace, holding exactly the address moto gave the task.

  Needs root, moto_server and python with boto3, and `npm run build` at the repo top.
  """
  use EcsPeers.Test.ClusterCase, async: false

  alias EcsPeers.Test.ClusterReconciler

  @cluster "shop-chain"
  @parameter "/ecs-peers/shop"
  @lambda_env [
    PEERS_PARAMETER: @parameter,
    TASK_TAGS: ~s({"app":"shop"}),
    NODE_BASENAME: "shop",
    ECS_CLUSTER: @cluster
  ]
  @interval 1_000

  defp run_tasks!(moto, cluster, tasks, family \\ "shop") do
    %{"tasks" => described} =
      ClusterMoto.call!(moto, %{op: "run_tasks", cluster: cluster, family: family, tasks: tasks})

    assert length(described) == length(tasks)
    described
  end

  defp stop_task!(moto, cluster, task),
    do: ClusterMoto.call!(moto, %{op: "stop_task", cluster: cluster, task: task["arn"]})

  defp published(moto) do
    case ClusterMoto.get_parameter!(moto, @parameter) do
      nil -> nil
      value -> value |> ClusterJSON.decode!() |> Map.fetch!("nodes")
    end
  end

  test "tasks in moto -> reconciler -> SSM -> every task's node connected; a stopped task is pruned",
       %{net: net, moto: moto} do
    ClusterMoto.call!(moto, %{op: "pin_ecs_tasks"})

    peers = run_tasks!(moto, @cluster, List.duplicate(%{tags: %{app: "shop"}}, 3))

    # Tasks that must not become peers: untagged, another app, another cluster, stopped.
    decoys =
      run_tasks!(moto, @cluster, [%{}, %{tags: %{app: "other"}}], "other") ++
        run_tasks!(moto, "elsewhere", [%{tags: %{app: "shop"}}]) ++
        run_tasks!(moto, @cluster, [%{tags: %{app: "shop"}}])

    stop_task!(moto, @cluster, List.last(decoys))

    ips = Enum.map(peers, & &1["ip"])
    all_ips = ips ++ Enum.map(decoys, & &1["ip"])

    for ip <- all_ips do
      assert ip =~ ~r/^10\.\d+\.\d+\.\d+$/, "moto gave a task #{inspect(ip)}, not a 10.x address"
    end

    assert length(Enum.uniq(all_ips)) == length(all_ips),
           "moto gave two tasks one address: #{inspect(all_ips)}"

    refute NetNS.bridge_ip() in ips, "moto gave a task the hub's bridge address; run again"

    # The parameter exists before the first run (a stack creates it with an empty set):
    # the nodes poll it at their normal interval. (A missing parameter is an error they
    # back off from, doubling up to max_backoff.)
    ClusterMoto.put_peer_set!(moto, @parameter, [])

    # One namespace per peer task, holding the task's address; none for the decoys.
    cookie = cookie()
    discovery = [parameter: @parameter, polling_interval: @interval, prune: true]

    hosts = ips |> Enum.with_index(1) |> Enum.map(fn {ip, i} -> {"t#{i}", ip} end)
    nodes = start_nodes!(net, hosts, cookie: cookie, discovery: discovery)

    # First run: the parameter is written with exactly the peer tasks' nodes.
    report = ClusterReconciler.run!(net, @lambda_env)
    written_at = now()
    expected = ips |> Enum.map(&node_name/1) |> Enum.sort()

    assert Enum.sort(report["nodes"]) == expected, "report: #{inspect(report)}"
    assert Enum.sort(report["added"]) == expected
    assert report["removed"] == []
    assert report["changed"] == true
    assert report["written"] == true
    assert published(moto) |> Enum.sort() == expected

    eventually(fn -> full_mesh?(views(nodes)) end, 2 * @interval - (now() - written_at), fn ->
      "the task nodes did not mesh within two polling intervals of the reconciler's write of " <>
        "#{inspect(expected)}: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    note("chain: first run #{inspect(report)}; meshed #{now() - written_at} ms after it returned")

    # Nothing changed in ECS: the second run writes nothing.
    report = ClusterReconciler.run!(net, @lambda_env)
    assert report["changed"] == false, "report: #{inspect(report)}"
    assert report["written"] == false
    assert Enum.sort(report["nodes"]) == expected

    # The first task stops. Its container is draining: its BEAM node, EcsPeers included,
    # still runs (until ECS kills it) and is connected until the others prune it; having
    # seen itself listed, it must not reconnect once it is dropped.
    await_applied(nodes, report["version"], 3 * @interval)
    [gone | staying] = peers
    gone_node = node_name(gone["ip"])
    gone_server = nodes[gone["ip"]]
    stop_task!(moto, @cluster, gone)

    report = ClusterReconciler.run!(net, @lambda_env)
    staying_names = staying |> Enum.map(&node_name(&1["ip"])) |> Enum.sort()

    assert report["removed"] == [gone_node], "report: #{inspect(report)}"
    assert report["added"] == []
    assert report["written"] == true
    assert Enum.sort(report["nodes"]) == staying_names
    assert published(moto) |> Enum.sort() == staying_names

    staying_nodes = Map.delete(nodes, gone["ip"])
    staying_views = fn -> views(staying_nodes) end

    # OTP's global (prevent_overlapping_partitions) may cut the staying nodes' own link
    # when they disconnect the stopped one; the loop repairs it on its next poll. So: the
    # end state within three polling intervals, then held for two.
    converge = 3 * @interval
    window = 2 * @interval

    took =
      eventually_stable(staying_views, &full_mesh?/1, converge + window, window, fn timeline ->
        "within #{converge + window} ms after the reconciler dropped #{gone_node}, the staying nodes " <>
          "did not hold a mesh of their own for #{window} ms. What they saw:\n#{timeline}\n" <>
          outputs(nodes)
      end)

    note(
      "chain: after StopTask #{inspect(report)}; #{gone_node} pruned for good #{took} ms after it returned"
    )

    assert ClusterNode.nodes(gone_server) == [],
           "#{gone_node} still sees #{inspect(ClusterNode.nodes(gone_server))}"
  end
end
