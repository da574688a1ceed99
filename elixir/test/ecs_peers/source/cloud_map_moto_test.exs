defmodule EcsPeers.Source.CloudMapMotoTest do
  @moduledoc false
  # A running EcsPeers reading a Cloud Map service of moto_server (registered as the
  # reconciler registers tasks), through a proxy that counts the calls and can throttle.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import EcsPeers.Test.Moto, only: [moto_without_iam: 1]

  alias EcsPeers.Test.{FakeCluster, Moto, SsmProxy}

  @moduletag :moto
  @moduletag :capture_log

  setup_all :moto_without_iam

  setup ctx do
    namespace = "peers-#{System.unique_integer([:positive])}"
    service_id = Moto.cloud_map_service!(ctx.moto, namespace, "shop")
    %{proxy: SsmProxy.start!(ctx.moto.url), namespace: namespace, service_id: service_id}
  end

  defp register!(ctx, task, ip, extra \\ %{}) do
    attributes =
      Map.merge(
        %{
          "AWS_INSTANCE_IPV4" => ip,
          "ECS_PEERS_NODE" => "shop@#{ip}",
          "AVAILABILITY_ZONE" => "us-east-1a",
          "REGION" => "us-east-1",
          "ECS_CLUSTER_NAME" => "prod",
          "ECS_SERVICE_NAME" => "shop",
          "ECS_TASK_DEFINITION_FAMILY" => "shop"
        },
        extra
      )

    payload = %{"ServiceId" => ctx.service_id, "InstanceId" => task, "Attributes" => attributes}
    {200, _} = Moto.servicediscovery(ctx.moto, "RegisterInstance", payload)
  end

  defp deregister!(ctx, task) do
    payload = %{"ServiceId" => ctx.service_id, "InstanceId" => task}
    {200, _} = Moto.servicediscovery(ctx.moto, "DeregisterInstance", payload)
  end

  defp start!(ctx, cluster, opts \\ []) do
    env = %{
      "AWS_REGION" => Moto.region(),
      "AWS_ENDPOINT_URL" => nil,
      "AWS_ENDPOINT_URL_SERVICEDISCOVERY" => ctx.proxy.url,
      "AWS_ACCESS_KEY_ID" => "AKIDTEST",
      "AWS_SECRET_ACCESS_KEY" => "test-secret",
      "AWS_SESSION_TOKEN" => nil
    }

    test = self()

    telemetry = fn event, measurements, meta ->
      send(test, {:telemetry, event, measurements, meta})
    end

    base = [
      cloud_map: [namespace: Keyword.get(opts, :namespace, ctx.namespace), service: "shop"],
      env: env,
      basename: "shop",
      polling_interval: 60_000,
      telemetry: telemetry
    ]

    start_supervised!(
      {EcsPeers, base ++ Keyword.delete(opts, :namespace) ++ FakeCluster.seams(cluster)}
    )
  end

  defp targets(proxy) do
    for %{target: "Route53AutoNaming_v20170314." <> op} <- SsmProxy.requests(proxy), do: op
  end

  test "the instances' ECS_PEERS_NODE become the set; DiscoverInstances only when the revision changed",
       ctx do
    register!(ctx, "task-a", "10.0.1.5")
    register!(ctx, "task-b", "10.0.2.9", %{"AVAILABILITY_ZONE" => "us-east-1b"})
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)

    assert %{nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9"], store: :cloud_map, last_error: nil} =
             status = EcsPeers.status(pid)

    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.1.5", :"shop@10.0.2.9"]
    assert status.parameter == "#{ctx.namespace}/shop"
    assert targets(ctx.proxy) == ["DiscoverInstancesRevision", "DiscoverInstances"]

    # The instances' metadata, for the app: in the status and in a telemetry event.
    assert %{"shop@10.0.2.9" => %{instance_id: "task-b", availability_zone: "us-east-1b"} = b} =
             status.instances

    assert b.cluster == "prod" and b.service == "shop" and b.task_definition_family == "shop"
    assert_received {:telemetry, [:ecs_peers, :instances], %{count: 2}, meta}
    assert meta.instances == status.instances and meta.namespace == ctx.namespace

    # Unchanged: one DiscoverInstancesRevision per read, nothing more.
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)

    assert Enum.drop(targets(ctx.proxy), 2) == [
             "DiscoverInstancesRevision",
             "DiscoverInstancesRevision"
           ]

    refute_received {:telemetry, [:ecs_peers, :instances], _, _}

    # A task started: read at the next poll.
    register!(ctx, "task-c", "10.0.3.7")
    assert %{result: :applied} = EcsPeers.poll_now(pid)
    assert %{nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9", :"shop@10.0.3.7"]} = EcsPeers.status(pid)
    assert Enum.drop(targets(ctx.proxy), 4) == ["DiscoverInstancesRevision", "DiscoverInstances"]
    assert_received {:telemetry, [:ecs_peers, :instances], %{count: 3}, _}

    # A task stopped: moto's revision goes down here (AWS's goes up); any change is read.
    deregister!(ctx, "task-a")
    assert %{result: :applied} = EcsPeers.poll_now(pid)
    assert %{nodes: [:"shop@10.0.2.9", :"shop@10.0.3.7"]} = EcsPeers.status(pid)
  end

  test "attributes are validated as SSM entries are: junk is logged and never becomes an atom",
       ctx do
    junk = "shop@10.0.0.999-#{System.unique_integer([:positive])}"
    register!(ctx, "task-a", "10.0.1.5")
    register!(ctx, "task-junk", "10.0.0.1", %{"ECS_PEERS_NODE" => junk})
    register!(ctx, "task-other", "10.0.0.2", %{"ECS_PEERS_NODE" => "admin@10.0.0.2"})

    log =
      capture_log(fn ->
        pid = start!(ctx, FakeCluster.start!())
        assert %{nodes: [:"shop@10.0.1.5"]} = EcsPeers.status(pid)
      end)

    assert log =~ "ignored 2 invalid entries"
    assert log =~ "(invalid_ipv4)" and log =~ "(other_basename)"
    assert_raise ArgumentError, fn -> String.to_existing_atom(junk) end
  end

  test "errors keep the connections, are logged once with a hint, and back off; throttling too",
       ctx do
    register!(ctx, "task-a", "10.0.1.5")
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)
    assert %{nodes: [:"shop@10.0.1.5"], interval: budgeted} = EcsPeers.status(pid)

    SsmProxy.set(ctx.proxy, :mode, :throttle)

    log =
      capture_log(fn ->
        assert %{
                 result: :error,
                 error:
                   {:call, "DiscoverInstancesRevision",
                    {:aws_error, 400, "ThrottlingException", _}}
               } = EcsPeers.poll_now(pid)

        assert %{result: :error} = EcsPeers.poll_now(pid)
      end)

    assert length(String.split(log, "DiscoverInstancesRevision #{ctx.namespace}/shop failed")) ==
             2

    assert log =~ "keeping the current connections (1 peer(s)"
    assert %{nodes: [:"shop@10.0.1.5"], interval: backed_off} = EcsPeers.status(pid)
    assert backed_off > budgeted
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.1.5"]

    SsmProxy.set(ctx.proxy, :mode, :forward)
    log = capture_log(fn -> assert %{result: :unchanged} = EcsPeers.poll_now(pid) end)
    assert log =~ "reading #{ctx.namespace}/shop works again"
  end

  test "a namespace that does not exist: the error names the call and the option to check", ctx do
    log =
      capture_log(fn ->
        pid = start!(ctx, FakeCluster.start!(), namespace: "no-such-namespace")

        assert %{last_error: {:call, "DiscoverInstancesRevision", {:aws_error, _, type, _}}} =
                 EcsPeers.status(pid)

        assert type == "NamespaceNotFound"
      end)

    assert log =~ "DiscoverInstancesRevision no-such-namespace/shop failed: NamespaceNotFound"
    assert log =~ "check the :cloud_map namespace and service names"
  end

  test "the read budget defaults to Cloud Map's (100 reads/s), :read_budget still wins", ctx do
    assert %{read_budget: 100.0} = EcsPeers.Poller.new(cloud_map: [namespace: "n", service: "s"])

    assert %{read_budget: 2.0} =
             EcsPeers.Poller.new(cloud_map: [namespace: "n", service: "s"], read_budget: 2.0)

    assert %{read_budget: 4.0} = EcsPeers.Poller.new(parameter: "/p")
    _ = ctx
  end
end
