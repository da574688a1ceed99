defmodule EcsPeers.CloudMapChainTest do
  @moduledoc """
  The whole chain with the Cloud Map store: ECS tasks in moto -> the reconciler's built
  Lambda handler (`dist/reconcile/index.mjs`, `CLOUD_MAP_SERVICE_ID`) -> one Cloud Map
  instance per task -> `EcsPeers` with `cloud_map:` on a BEAM node in each task's network
  namespace, holding exactly the address moto gave the task.

  Needs root, moto_server and python with boto3, and `npm run build` at the repo top.
  """
  use EcsPeers.Test.ClusterCase, async: false

  alias EcsPeers.Test.ClusterReconciler

  @cluster "shop-cloud-map"
  @namespace "ecs-peers"
  @service "shop"
  @interval 1_000

  defp run_tasks!(moto, tasks) do
    command = %{op: "run_tasks", cluster: @cluster, family: "shop", tasks: tasks}
    %{"tasks" => described} = ClusterMoto.call!(moto, command)
    assert length(described) == length(tasks)
    described
  end

  defp registered(moto, service_id) do
    ClusterMoto.call!(moto, %{op: "registered_nodes", service_id: service_id})
    |> Map.fetch!("nodes")
    |> Enum.sort()
  end

  test "tasks in moto -> reconciler -> Cloud Map -> every task's node connected; a stopped task is pruned",
       %{net: net, moto: moto} do
    ClusterMoto.call!(moto, %{op: "pin_ecs_tasks"})

    %{"service_id" => service_id} =
      ClusterMoto.call!(moto, %{
        op: "create_cloud_map_service",
        namespace: @namespace,
        service: @service
      })

    env = [
      CLOUD_MAP_SERVICE_ID: service_id,
      TASK_TAGS: ~s({"app":"shop"}),
      NODE_BASENAME: "shop",
      ECS_CLUSTER: @cluster
    ]

    peers = run_tasks!(moto, List.duplicate(%{tags: %{app: "shop"}}, 3))
    decoy = run_tasks!(moto, [%{tags: %{app: "other"}}])
    ips = Enum.map(peers, & &1["ip"])
    all = ips ++ Enum.map(decoy, & &1["ip"])

    assert length(Enum.uniq(all)) == length(all),
           "moto gave two tasks one address: #{inspect(all)}"

    refute NetNS.bridge_ip() in ips, "moto gave a task the hub's bridge address; run again"

    discovery = [
      cloud_map: [namespace: @namespace, service: @service],
      polling_interval: @interval,
      prune: true
    ]

    hosts = ips |> Enum.with_index(1) |> Enum.map(fn {ip, i} -> {"c#{i}", ip} end)
    nodes = start_nodes!(net, hosts, cookie: cookie(), discovery: discovery)

    report = ClusterReconciler.run!(net, env)
    written_at = now()
    expected = ips |> Enum.map(&node_name/1) |> Enum.sort()
    assert Enum.sort(report["nodes"]) == expected, "report: #{inspect(report)}"
    assert report["written"] == true
    assert registered(moto, service_id) == expected

    eventually(fn -> full_mesh?(views(nodes)) end, 3 * @interval - (now() - written_at), fn ->
      "the task nodes did not mesh within three polling intervals of the reconciler's " <>
        "registration of #{inspect(expected)}: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    note("cloud map chain: meshed #{now() - written_at} ms after the first run returned")

    # Unchanged ECS: nothing written.
    report = ClusterReconciler.run!(net, env)
    assert report["written"] == false, "report: #{inspect(report)}"

    # The first task stops: deregistered, then pruned by the others.
    [gone | staying] = peers
    gone_server = nodes[gone["ip"]]
    ClusterMoto.call!(moto, %{op: "stop_task", cluster: @cluster, task: gone["arn"]})
    report = ClusterReconciler.run!(net, env)

    # moto's revision is the sum of the remaining instances' counters (one per id), so a
    # deregistration lowers it (AWS's only goes up) and nodes sharing sets (EcsPeers.Share)
    # would take the higher, older one for the newer. As AWS would on any write, raise it
    # above its value before the stop (3, one per task): register a staying task's
    # instance twice more (AWS updates it in place; moto lists it again, read as one node).
    [%{"arn" => arn} | _] = staying
    task_id = arn |> String.split("/") |> List.last()
    bump = %{op: "reregister_instance", service_id: service_id, instance_id: task_id}
    for _ <- 1..2, do: ClusterMoto.call!(moto, bump)

    staying_names = staying |> Enum.map(&node_name(&1["ip"])) |> Enum.sort()
    assert Enum.sort(report["nodes"]) == staying_names, "report: #{inspect(report)}"
    assert Enum.uniq(registered(moto, service_id)) == staying_names

    staying_nodes = Map.delete(nodes, gone["ip"])
    window = 2 * @interval

    took =
      eventually_stable(
        fn -> views(staying_nodes) end,
        &full_mesh?/1,
        5 * @interval,
        window,
        fn t ->
          "the staying nodes did not hold a mesh of their own:\n#{t}\nreport: #{inspect(report)}\n" <>
            "registered: #{inspect(registered(moto, service_id))}\nstatus: " <>
            Enum.map_join(nodes, "\n", fn {_, n} -> ClusterNode.status(n) end) <>
            "\n" <> outputs(nodes)
        end
      )

    note("cloud map chain: #{node_name(gone["ip"])} pruned for good #{took} ms after the run")

    eventually(fn -> ClusterNode.nodes(gone_server) == [] end, 3 * @interval, fn ->
      "#{node_name(gone["ip"])} still sees #{inspect(ClusterNode.nodes(gone_server))}"
    end)
  end
end
