defmodule EcsPeers.MotoTest do
  @moduledoc false
  # Against a real moto_server with IAM enforcement: requests are signed by
  # EcsPeers.AWS.SigV4 and verified by moto against the access keys it issued.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.Test.{FakeCluster, Moto}
  alias EcsPeers.Test.FakeCredentialsServer, as: CredsServer

  @moduletag :moto
  @moduletag :capture_log

  @parameter "/ecs-peers/shop"
  @value ~s({"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]})

  setup_all do
    # 4 + 3 unauthenticated requests for the setup; every later one is authenticated.
    moto = Moto.start!(no_auth_count: 7)
    on_exit(fn -> Moto.stop(moto) end)
    reader = Moto.setup_reader!(moto, @parameter, @value)
    role = Moto.assume_task_role!(moto)
    %{moto: moto, reader: reader, role: role}
  end

  # Only what the test sets: nothing from the developer's own AWS environment.
  defp env(vars) do
    Map.merge(
      %{
        "AWS_ACCESS_KEY_ID" => nil,
        "AWS_SECRET_ACCESS_KEY" => nil,
        "AWS_SESSION_TOKEN" => nil,
        "AWS_ENDPOINT_URL" => nil,
        "AWS_ENDPOINT_URL_SSM" => nil,
        "AWS_DEFAULT_REGION" => nil,
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => nil,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI" => nil,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN" => nil,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" => nil,
        "AWS_REGION" => Moto.region()
      },
      vars
    )
  end

  defp start!(cluster, env, opts \\ []) do
    start_supervised!(
      {EcsPeers,
       opts ++
         [parameter: @parameter, env: env, polling_interval: 60_000, basename: "shop"] ++
         FakeCluster.seams(cluster)}
    )
  end

  test "the read-only key reads the peer set and the nodes get connected", ctx do
    cluster = FakeCluster.start!()

    pid =
      start!(
        cluster,
        env(%{
          "AWS_ENDPOINT_URL" => ctx.moto.url,
          "AWS_ACCESS_KEY_ID" => ctx.reader.access_key_id,
          "AWS_SECRET_ACCESS_KEY" => ctx.reader.secret_access_key
        })
      )

    assert %{version: 1, nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9"], last_error: nil} =
             EcsPeers.status(pid)

    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.1.5", :"shop@10.0.2.9"]
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
  end

  test "moto enforces the policy: the reader may not write", ctx do
    write = %{"Name" => @parameter, "Value" => "x", "Type" => "String", "Overwrite" => true}
    assert {403, body} = Moto.ssm(ctx.moto, "PutParameter", write, ctx.reader)
    assert {:aws_error, 403, "AccessDenied", message} = EcsPeers.AWS.Request.aws_error(403, body)
    assert message =~ "not authorized to perform: ssm:PutParameter"
  end

  test "a wrong secret fails with a clear log; the process survives and keeps its state", ctx do
    # Task-role credentials from a fake ECS endpoint: right at first, then a wrong secret.
    expires = DateTime.add(DateTime.utc_now(), 120, :second)

    server =
      CredsServer.start!([
        {200,
         CredsServer.body(ctx.reader.access_key_id, ctx.reader.secret_access_key, expires, nil)}
      ])

    cluster = FakeCluster.start!()

    pid =
      start!(
        cluster,
        env(%{
          "AWS_ENDPOINT_URL_SSM" => ctx.moto.url,
          "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN" => "task-token"
        }),
        prune: true
      )

    assert %{version: 1, nodes: [_, _]} = EcsPeers.status(pid)

    CredsServer.respond_with(server, [
      {200, CredsServer.body(ctx.reader.access_key_id, "not-the-secret", expires, nil)}
    ])

    log =
      capture_log(fn ->
        assert %{result: :error, error: {:aws_error, 403, _type, _message}} =
                 EcsPeers.poll_now(pid)

        assert %{result: :error} = EcsPeers.poll_now(pid)
      end)

    assert Process.alive?(pid)
    assert %{version: 1, nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9"]} = EcsPeers.status(pid)
    assert FakeCluster.list_nodes(cluster) == [:"shop@10.0.1.5", :"shop@10.0.2.9"]
    refute_received {:disconnect, _}

    assert [line] =
             Regex.scan(
               ~r/\[ecs_peers:ecs_peers\] GetParameter \/ecs-peers\/shop failed: [^\n]*/,
               log
             )

    assert hd(line) =~ "(HTTP 403)"
    assert hd(line) =~ "keeping the current connections (2 peer(s) from version 1)"
    assert Enum.all?(CredsServer.requests(server), &(&1.headers["authorization"] == "task-token"))
  end

  test "task-role credentials from the ECS endpoint: the session token is sent and checked",
       ctx do
    expires = DateTime.add(DateTime.utc_now(), 3600, :second)
    role = ctx.role

    server =
      CredsServer.start!([
        {200,
         CredsServer.body(role.access_key_id, role.secret_access_key, expires, role.session_token)}
      ])

    {:ok, port} = :inet.port(server.listener)
    cluster = FakeCluster.start!()

    pid =
      start!(
        cluster,
        env(%{
          "AWS_ENDPOINT_URL_SSM" => ctx.moto.url,
          "AWS_CONTAINER_CREDENTIALS_FULL_URI" => "http://localhost:#{port}/v2/credentials"
        })
      )

    assert %{version: 1, nodes: [_, _], last_error: nil} = EcsPeers.status(pid)
    # Cached: the second poll does not ask the endpoint again.
    assert %{result: :unchanged} = EcsPeers.poll_now(pid)
    assert [%{path: "/v2/credentials"}] = CredsServer.requests(server)

    # The same keys with a forged session token are refused by moto.
    forged = %{
      "AWS_ENDPOINT_URL_SSM" => ctx.moto.url,
      "AWS_ACCESS_KEY_ID" => role.access_key_id,
      "AWS_SECRET_ACCESS_KEY" => role.secret_access_key,
      "AWS_SESSION_TOKEN" => "forged"
    }

    log =
      capture_log(fn ->
        pid =
          start_supervised!(
            {EcsPeers,
             parameter: @parameter,
             env: env(forged),
             polling_interval: 60_000,
             list_nodes: fn -> [] end},
            id: :forged
          )

        assert %{error: {:aws_error, 403, "InvalidClientTokenId", _}} = EcsPeers.poll_now(pid)
      end)

    assert log =~ "InvalidClientTokenId (HTTP 403)"
    assert log =~ "check the AWS credentials and the clock"
  end

  test "a missing parameter says so", ctx do
    cluster = FakeCluster.start!()

    log =
      capture_log(fn ->
        pid =
          start!(
            cluster,
            env(%{
              "AWS_ENDPOINT_URL_SSM" => ctx.moto.url,
              "AWS_ACCESS_KEY_ID" => ctx.reader.access_key_id,
              "AWS_SECRET_ACCESS_KEY" => ctx.reader.secret_access_key
            }),
            parameter: "/ecs-peers/nope"
          )

        assert %{result: :error, error: {:aws_error, 400, "ParameterNotFound", _}} =
                 EcsPeers.poll_now(pid)
      end)

    assert log =~ "GetParameter /ecs-peers/nope failed: ParameterNotFound (HTTP 400)"
    assert log =~ "check the :parameter name and region"
  end
end
