defmodule EcsPeers.SecretsTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.{Client, Credentials, Env, SSM}
  alias EcsPeers.Test.FakeCluster
  alias EcsPeers.Test.FakeCredentialsServer, as: CredsServer

  import ExUnit.CaptureLog

  @moduletag :capture_log

  @secret "wJalrXUtnFEMI-SECRET-KEY"
  @token "IQoJb3JpZ2luX2VjEXAMPLE-SESSION-TOKEN"

  test "the process state shows no secret: not by inspect, not by :sys.get_status" do
    env = %{
      "AWS_REGION" => "us-east-1",
      # Nothing listens on port 1: the poll fails at once, the client keeps its env.
      "AWS_ENDPOINT_URL" => "http://127.0.0.1:1",
      "AWS_ACCESS_KEY_ID" => "AKIDEXAMPLE",
      "AWS_SECRET_ACCESS_KEY" => @secret,
      "AWS_SESSION_TOKEN" => @token,
      "AWS_CONTAINER_AUTHORIZATION_TOKEN" => @token
    }

    opts = [parameter: "/p", env: env, polling_interval: 60_000, http_timeout: 500]
    pid = start_supervised!({EcsPeers, opts ++ FakeCluster.seams(FakeCluster.start!())})
    _ = EcsPeers.status(pid)

    state = :sys.get_state(pid)
    # The secrets are there (they are used), just not shown.
    assert state.source.client.env["AWS_SECRET_ACCESS_KEY"] == @secret

    # Crash reports get the redacted state.
    redacted = EcsPeers.Poller.format_status(:terminate, [[], state])
    assert redacted.source.client.env["AWS_SECRET_ACCESS_KEY"] == "[REDACTED]"
    refute inspect(redacted, structs: false, limit: :infinity) =~ @secret

    for text <- [inspect(state), inspect(:sys.get_status(pid), limit: :infinity)] do
      refute text =~ @secret
      refute text =~ @token
    end
  end

  test "only the AWS variables the client uses are kept from the OS environment" do
    env = Env.build(%{"AWS_REGION" => "eu-west-1", "UNRELATED_SECRET" => "x"})
    assert env["AWS_REGION"] == "eu-west-1"
    assert Map.keys(env) -- Env.names() == []
    refute Map.has_key?(env, "PATH")
  end

  test "credentials and clients hide their secrets from inspect" do
    creds = %Credentials{
      access_key_id: "AKIDEXAMPLE",
      secret_access_key: @secret,
      session_token: @token,
      source: :container
    }

    assert inspect(creds) =~ "AKIDEXAMPLE"
    refute inspect(creds) =~ @secret
    refute inspect(creds) =~ @token

    client = %{SSM.new(%{"AWS_SECRET_ACCESS_KEY" => @secret}) | credentials: creds}
    refute inspect(client) =~ @secret
    redacted = Client.redact(client)
    assert redacted.env["AWS_SECRET_ACCESS_KEY"] == "[REDACTED]"
    refute inspect(Map.from_struct(redacted), structs: false) =~ @secret
  end

  test "a credentials endpoint's answer is neither logged nor in telemetry: only its status" do
    leak = "LEAKED-#{System.unique_integer([:positive])}"
    # An error page quoting what it was sent, and a 200 that is not credentials.
    server = CredsServer.start!([{401, ~s({"message":"bad token #{leak}"})}])
    test = self()

    opts = [
      parameter: "/p",
      env: %{
        "AWS_REGION" => "us-east-1",
        "AWS_ENDPOINT_URL" => "http://127.0.0.1:1",
        "AWS_ACCESS_KEY_ID" => nil,
        "AWS_SECRET_ACCESS_KEY" => nil,
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => nil,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN" => leak
      },
      polling_interval: 60_000,
      telemetry: fn event, measurements, metadata ->
        send(test, {:telemetry, event, measurements, metadata})
      end
    ]

    log =
      capture_log(fn ->
        pid = start_supervised!({EcsPeers, opts ++ FakeCluster.seams(FakeCluster.start!())})

        assert %{error: {:credentials, {:container_credentials_http, 401}}} =
                 EcsPeers.poll_now(pid)

        CredsServer.respond_with(server, [{200, ~s({"Code":"Failure","Message":"#{leak}"})}])
        assert %{error: {:credentials, :container_credentials_malformed}} = EcsPeers.poll_now(pid)
        _ = EcsPeers.status(pid)
      end)

    assert log =~ "could not get AWS credentials"
    assert log =~ "401"
    refute log =~ leak

    events = collect_telemetry([])
    assert Enum.any?(events, &match?({[:ecs_peers, :poll], _, %{error: {:credentials, _}}}, &1))
    refute inspect(events, limit: :infinity, printable_limit: :infinity) =~ leak
  end

  defp collect_telemetry(acc) do
    receive do
      {:telemetry, event, measurements, metadata} ->
        collect_telemetry([{event, measurements, metadata} | acc])
    after
      0 -> Enum.reverse(acc)
    end
  end
end
