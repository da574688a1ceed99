defmodule EcsPeers.AWS.SSMMotoTest do
  @moduledoc false
  # GetParameter against a real moto_server with IAM enforcement, through a proxy that
  # plays AWS's clock check and throttling (moto has neither), with task-role credentials
  # from a fake ECS credentials endpoint.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.AWS.{Credentials, Errors, SSM}
  alias EcsPeers.Test.{Moto, SsmProxy}
  alias EcsPeers.Test.FakeCredentialsServer, as: CredsServer

  @moduletag :moto
  @moduletag :capture_log

  @parameter "/ecs-peers/shop"
  @value ~s({"version":1,"nodes":["shop@10.0.1.5"]})
  @fifteen_minutes 15 * 60_000

  setup_all do
    moto = Moto.start!(no_auth_count: 4)
    on_exit(fn -> Moto.stop(moto) end)
    %{moto: moto, reader: Moto.setup_reader!(moto, @parameter, @value)}
  end

  defp client(endpoint, vars) do
    SSM.new(Map.merge(%{"AWS_REGION" => Moto.region(), "AWS_ENDPOINT_URL_SSM" => endpoint}, vars))
  end

  defp keys(reader) do
    %{
      "AWS_ACCESS_KEY_ID" => reader.access_key_id,
      "AWS_SECRET_ACCESS_KEY" => reader.secret_access_key
    }
  end

  defp answered(proxy), do: Enum.map(SsmProxy.requests(proxy), & &1.answered)

  describe "clock skew" do
    test "AWS 15 minutes ahead: corrected from the Date header, retried once, later reads succeed at once",
         ctx do
      proxy = SsmProxy.start!(ctx.moto.url, shift_ms: @fifteen_minutes)
      client = client(proxy.url, keys(ctx.reader))

      log =
        capture_log(fn ->
          assert {:ok, %{version: 1, value: @value}, client} =
                   SSM.get_parameter(client, @parameter)

          send(self(), {:client, client})
        end)

      assert_received {:client, client}
      assert answered(proxy) == [:skewed, :forwarded]
      assert log =~ ~r/this node's clock is about (899|900|901)s behind AWS's/
      assert log =~ "check the node's clock (NTP)"
      assert_in_delta client.clock_offset, @fifteen_minutes, 5_000

      # The offset is kept: every later read is signed right the first time.
      assert {:ok, _, client} = SSM.get_parameter(client, @parameter)
      assert {:ok, _, _client} = SSM.get_parameter(client, @parameter)
      assert answered(proxy) == [:skewed, :forwarded, :forwarded, :forwarded]
    end

    test "AWS 15 minutes behind: corrected the other way", ctx do
      proxy = SsmProxy.start!(ctx.moto.url, shift_ms: -@fifteen_minutes)
      client = client(proxy.url, keys(ctx.reader))

      assert {:ok, _, client} = SSM.get_parameter(client, @parameter)
      assert_in_delta client.clock_offset, -@fifteen_minutes, 5_000
      assert {:ok, _, _} = SSM.get_parameter(client, @parameter)
      assert answered(proxy) == [:skewed, :forwarded, :forwarded]
    end

    test "a clock that drifts again is corrected again", ctx do
      proxy = SsmProxy.start!(ctx.moto.url, shift_ms: @fifteen_minutes)
      assert {:ok, _, client} = SSM.get_parameter(client(proxy.url, keys(ctx.reader)), @parameter)

      SsmProxy.set(proxy, :shift_ms, 2 * @fifteen_minutes)
      assert {:ok, _, client} = SSM.get_parameter(client, @parameter)
      assert_in_delta client.clock_offset, 2 * @fifteen_minutes, 5_000
      assert answered(proxy) == [:skewed, :forwarded, :skewed, :forwarded]
    end

    test "a wrong secret with a right clock is not retried", ctx do
      proxy = SsmProxy.start!(ctx.moto.url)
      vars = %{keys(ctx.reader) | "AWS_SECRET_ACCESS_KEY" => "not-the-secret"}

      assert {:error, {:aws_error, 403, _type, _message}, client} =
               SSM.get_parameter(client(proxy.url, vars), @parameter)

      assert client.clock_offset == 0
      assert answered(proxy) == [:forwarded]
    end
  end

  test "a throttled read is returned at once, classified as throttled, not retried", ctx do
    proxy = SsmProxy.start!(ctx.moto.url, mode: :throttle)

    assert {:error, reason, _client} =
             SSM.get_parameter(client(proxy.url, keys(ctx.reader)), @parameter)

    assert {:aws_error, 400, "ThrottlingException", "Rate exceeded"} = reason
    assert Errors.throttled?(reason)
    assert answered(proxy) == [:throttled]
  end

  describe "task-role credentials" do
    setup ctx do
      proxy = SsmProxy.start!(ctx.moto.url)
      %{proxy: proxy}
    end

    defp container_client(proxy, creds_server),
      do:
        client(proxy.url, %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => creds_server.url <> "/creds"})

    test "cached credentials that have expired are refreshed before the request is signed", ctx do
      good = DateTime.add(DateTime.utc_now(), 3600, :second)
      body = CredsServer.body(ctx.reader.access_key_id, ctx.reader.secret_access_key, good, nil)
      server = CredsServer.start!([{200, body}])

      # What a client kept from an earlier read: the same key, expired a minute ago,
      # with a secret moto would refuse.
      expired = %Credentials{
        access_key_id: ctx.reader.access_key_id,
        secret_access_key: "old-secret",
        expires_at: DateTime.add(DateTime.utc_now(), -60, :second),
        source: :container
      }

      client = %{container_client(ctx.proxy, server) | credentials: expired}

      assert {:ok, %{value: @value}, client} = SSM.get_parameter(client, @parameter)
      assert client.credentials.expires_at == good
      assert length(CredsServer.requests(server)) == 1
      assert answered(ctx.proxy) == [:forwarded]
    end

    test "credentials about to expire (within 5 minutes) are refreshed", ctx do
      soon = DateTime.add(DateTime.utc_now(), 120, :second)
      later = DateTime.add(DateTime.utc_now(), 3600, :second)
      id = ctx.reader.access_key_id
      secret = ctx.reader.secret_access_key

      server =
        CredsServer.start!([
          {200, CredsServer.body(id, secret, soon, nil)},
          {200, CredsServer.body(id, secret, later, nil)}
        ])

      assert {:ok, _, client} = SSM.get_parameter(container_client(ctx.proxy, server), @parameter)
      assert {:ok, _, client} = SSM.get_parameter(client, @parameter)
      assert client.credentials.expires_at == later
      assert length(CredsServer.requests(server)) == 2
    end

    test "an endpoint handing out expired credentials, by a clock AWS has checked: an error, and nothing is signed with them",
         ctx do
      past = DateTime.add(DateTime.utc_now(), -30, :second)
      body = CredsServer.body(ctx.reader.access_key_id, ctx.reader.secret_access_key, past, nil)
      server = CredsServer.start!([{200, body}])
      client = %{container_client(ctx.proxy, server) | clock_checked?: true}

      assert {:error, {:credentials, :container_credentials_expired}, _client} =
               SSM.get_parameter(client, @parameter)

      assert SsmProxy.requests(ctx.proxy) == []
    end

    test "a node clock far ahead, not yet checked by AWS: credentials that look expired are sent, the answer's Date corrects the clock, and they are kept",
         ctx do
      expires = DateTime.add(DateTime.utc_now(), 1800, :second)

      body =
        CredsServer.body(ctx.reader.access_key_id, ctx.reader.secret_access_key, expires, nil)

      server = CredsServer.start!([{200, body}])
      # This node's clock reads two hours ahead: the credentials look expired by it.
      client = %{container_client(ctx.proxy, server) | clock_offset: 2 * 3600 * 1000}

      assert {:ok, %{version: _}, client} = SSM.get_parameter(client, @parameter)
      assert abs(client.clock_offset) < 60_000
      assert client.clock_checked?

      assert {:ok, _, _client} = SSM.get_parameter(client, @parameter)
      assert length(CredsServer.requests(server)) == 1
    end
  end
end
