defmodule EcsPeers.AWS.CredentialsTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.Credentials
  alias EcsPeers.Test.FakeCredentialsServer, as: Server

  @now ~U[2026-01-01 12:00:00Z]

  defp in_minutes(m), do: DateTime.add(@now, m * 60, :second)

  test "environment credentials come first and never touch the endpoint" do
    server = Server.start!([{200, Server.body("ASIACONTAINER", "c", in_minutes(60))}])

    env = %{
      "AWS_ACCESS_KEY_ID" => "AKIAENV",
      "AWS_SECRET_ACCESS_KEY" => "env-secret",
      "AWS_SESSION_TOKEN" => "env-token",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"
    }

    assert {:ok, creds, nil} = Credentials.fetch(env, nil, now: @now)
    assert %{access_key_id: "AKIAENV", secret_access_key: "env-secret"} = creds
    assert creds.session_token == "env-token"
    assert creds.source == :environment
    assert Server.requests(server) == []
  end

  test "container credentials from the relative URI, cached until 5 minutes before expiry" do
    server =
      Server.start!([
        {200, Server.body("ASIAONE", "secret-one", in_minutes(60), "token-one")},
        {200, Server.body("ASIATWO", "secret-two", in_minutes(120), "token-two")}
      ])

    env = %{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => "/v2/credentials/abc"}
    opts = [container_host: server.url]

    assert {:ok, one, cache} = Credentials.fetch(env, nil, [now: @now] ++ opts)

    assert %{
             access_key_id: "ASIAONE",
             secret_access_key: "secret-one",
             session_token: "token-one"
           } = one

    assert one.expires_at == in_minutes(60)
    assert [%{path: "/v2/credentials/abc"} = request] = Server.requests(server)
    refute Map.has_key?(request.headers, "authorization")

    # 54 minutes later: still more than 5 minutes left, the cache answers.
    assert {:ok, ^one, ^cache} = Credentials.fetch(env, cache, [now: in_minutes(54)] ++ opts)
    assert length(Server.requests(server)) == 1

    # 56 minutes later: less than 5 minutes left, refreshed.
    assert {:ok, two, _cache} = Credentials.fetch(env, cache, [now: in_minutes(56)] ++ opts)
    assert two.access_key_id == "ASIATWO"
    assert length(Server.requests(server)) == 2
  end

  test "the relative URI's host can come from the application environment" do
    server = Server.start!([{200, Server.body("ASIAAPPENV", "s", in_minutes(60))}])
    Application.put_env(:ecs_peers, :container_credentials_host, server.url)
    on_exit(fn -> Application.delete_env(:ecs_peers, :container_credentials_host) end)

    env = %{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => "/v2/credentials/xyz"}
    assert {:ok, %{access_key_id: "ASIAAPPENV"}, _} = Credentials.fetch(env, nil, now: @now)
    assert [%{path: "/v2/credentials/xyz"}] = Server.requests(server)
  end

  test "the full URI sends the authorization token from the environment" do
    server = Server.start!([{200, Server.body("ASIAFULL", "s", in_minutes(60))}])

    env = %{
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/get-credentials",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN" => "Basic c2VjcmV0"
    }

    assert {:ok, %{access_key_id: "ASIAFULL"}, _} = Credentials.fetch(env, nil, now: @now)

    assert [%{path: "/get-credentials", headers: %{"authorization" => "Basic c2VjcmV0"}}] =
             Server.requests(server)
  end

  test "the token file wins over the token variable and is read on every fetch" do
    file = Path.join(System.tmp_dir!(), "ecs-peers-token-#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm(file) end)
    File.write!(file, "from-file-1\n")

    server = Server.start!([{200, Server.body("ASIAFILE", "s", in_minutes(1))}])

    env = %{
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" => file,
      "AWS_CONTAINER_AUTHORIZATION_TOKEN" => "from-env"
    }

    assert {:ok, _, cache} = Credentials.fetch(env, nil, now: @now)
    File.write!(file, "from-file-2")
    # Expires within 5 minutes: fetched again, with the rotated token.
    assert {:ok, _, _} = Credentials.fetch(env, cache, now: @now)

    assert [
             %{headers: %{"authorization" => "from-file-1"}},
             %{headers: %{"authorization" => "from-file-2"}}
           ] = Server.requests(server)
  end

  test "a failed refresh keeps credentials that have not expired yet, never expired ones" do
    server =
      Server.start!([
        {200, Server.body("ASIAOLD", "s", in_minutes(3))},
        {500, "oops"}
      ])

    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"}
    assert {:ok, old, cache} = Credentials.fetch(env, nil, now: @now)
    assert {:ok, ^old, ^cache} = Credentials.fetch(env, cache, now: in_minutes(1))

    assert {:error, {:container_credentials_http, 500}, ^cache} =
             Credentials.fetch(env, cache, now: in_minutes(4))

    # 5 seconds left: they would expire in flight.
    almost = DateTime.add(in_minutes(3), -5, :second)

    assert {:error, {:container_credentials_http, 500}, ^cache} =
             Credentials.fetch(env, cache, now: almost)
  end

  test "an expired cache is refreshed before it is returned" do
    server = Server.start!([{200, Server.body("ASIANEW", "s", in_minutes(60))}])
    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"}
    expired = %Credentials{access_key_id: "ASIAOLD", secret_access_key: "s", source: :container}
    expired = %{expired | expires_at: in_minutes(-1)}

    assert {:ok, %{access_key_id: "ASIANEW"}, _} = Credentials.fetch(env, expired, now: @now)
    assert length(Server.requests(server)) == 1
  end

  test "credentials the endpoint hands out already expired are refused" do
    server = Server.start!([{200, Server.body("ASIASTALE", "s", in_minutes(-2))}])
    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"}

    assert {:error, :container_credentials_expired, nil} = Credentials.fetch(env, nil, now: @now)
  end

  test "an endpoint's error body is never part of the error, whatever the status" do
    body = ~s({"code":"x","message":"token Basic c2VjcmV0 rejected","AccessKeyId":"ASIALEAK"})
    server = Server.start!([{403, body}])
    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"}

    for status <- [400, 403, 404, 500, 503] do
      Server.respond_with(server, [{status, body}])
      assert {:error, reason, nil} = Credentials.fetch(env, nil, now: @now)
      assert reason == {:container_credentials_http, status}
    end

    # A 200 that is not credentials says so without quoting them either.
    Server.respond_with(server, [{200, body}])
    assert {:error, :container_credentials_malformed, nil} = Credentials.fetch(env, nil)
  end

  test "errors name what is missing or wrong" do
    assert {:error, :no_credentials, nil} = Credentials.fetch(%{}, nil)

    assert {:error, {:container_credentials_uri_not_allowed, "http://10.1.2.3/creds"}, nil} =
             Credentials.fetch(
               %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => "http://10.1.2.3/creds"},
               nil
             )

    server = Server.start!([{200, ~s({"AccessKeyId":"x"})}])
    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds"}
    assert {:error, :container_credentials_malformed, nil} = Credentials.fetch(env, nil)

    Server.respond_with(server, [{200, "<html>"}])
    assert {:error, :container_credentials_not_json, nil} = Credentials.fetch(env, nil)

    env = %{
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => server.url <> "/creds",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" => "/nonexistent/token"
    }

    assert {:error, {:authorization_token_file, "/nonexistent/token", :enoent}, nil} =
             Credentials.fetch(env, nil)

    {:ok, listener} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(listener)
    :gen_tcp.close(listener)
    env = %{"AWS_CONTAINER_CREDENTIALS_FULL_URI" => "http://127.0.0.1:#{port}/creds"}
    assert {:error, {:container_credentials_unreachable, _}, nil} = Credentials.fetch(env, nil)
  end

  test "every error has a fixed description" do
    for reason <- [
          :no_credentials,
          {:container_credentials_http, 503},
          {:container_credentials_unreachable, :econnrefused},
          :container_credentials_not_json,
          :container_credentials_malformed,
          :container_credentials_bad_expiration,
          :container_credentials_expired,
          {:container_credentials_uri_not_allowed, "http://10.0.0.1/x"},
          {:authorization_token_file, "/t", :enoent}
        ] do
      text = Credentials.describe(reason)
      assert is_binary(text) and text != ""
      refute text =~ "could not get AWS credentials:", inspect(reason)
    end

    assert Credentials.describe({:container_credentials_http, 503}) =~ "HTTP 503"
  end
end
