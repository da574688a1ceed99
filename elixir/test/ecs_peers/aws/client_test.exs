defmodule EcsPeers.AWS.ClientTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.{Client, CloudMap, Credentials, SSM}

  @api %{
    service: "example",
    target_prefix: "Example_2026.",
    content_type: "application/x-amz-json-1.1",
    endpoint_variable: "AWS_ENDPOINT_URL_EXAMPLE",
    host: "api.example"
  }

  test "the endpoint: the API's variable, then AWS_ENDPOINT_URL, as given, else the regional host" do
    assert Client.new(%{"AWS_REGION" => "eu-west-1"}, @api).endpoint ==
             "https://api.example.eu-west-1.amazonaws.com"

    assert Client.new(%{"AWS_REGION" => "cn-north-1"}, @api).endpoint ==
             "https://api.example.cn-north-1.amazonaws.com.cn"

    env = %{"AWS_ENDPOINT_URL" => "http://a:1/", "AWS_ENDPOINT_URL_EXAMPLE" => "http://b:2/"}
    assert Client.new(env, @api, region: "us-east-1").endpoint == "http://b:2"
    assert Client.new(%{env | "AWS_ENDPOINT_URL_EXAMPLE" => ""}, @api).endpoint == "http://a:1"
    assert Client.new(%{}, @api).endpoint == nil
  end

  test "the region: the option, then AWS_REGION, then AWS_DEFAULT_REGION; an empty one is none" do
    env = %{"AWS_REGION" => "a", "AWS_DEFAULT_REGION" => "b"}
    assert Client.new(env, @api, region: "c").region == "c"
    assert Client.new(env, @api).region == "a"
    assert Client.new(%{"AWS_DEFAULT_REGION" => "b"}, @api).region == "b"
    assert Client.new(%{"AWS_REGION" => ""}, @api).region == nil
  end

  test "the timeout: the option, else the :http_timeout default; no clock learnt yet" do
    client = Client.new(%{}, @api, timeout: 1_234, container_host: "127.0.0.1:9")
    assert %{timeout: 1_234, container_host: "127.0.0.1:9"} = client
    assert Client.new(%{}, @api).timeout == EcsPeers.Options.default(:http_timeout)

    assert %{service: "example", target_prefix: "Example_2026.", clock_offset: 0} = client
    refute client.clock_checked?
  end

  test "inspect never shows the environment; redact replaces every secret" do
    secret = "SECRET-#{System.unique_integer([:positive])}"

    creds = %Credentials{
      access_key_id: "AKIDEXAMPLE",
      secret_access_key: secret,
      session_token: secret,
      source: :container
    }

    env = %{"AWS_SECRET_ACCESS_KEY" => secret, "AWS_REGION" => "eu-west-1"}
    client = %{Client.new(env, @api) | credentials: creds}
    refute inspect(client) =~ secret

    redacted = Client.redact(client)
    assert redacted.env == %{"AWS_SECRET_ACCESS_KEY" => "[REDACTED]", "AWS_REGION" => "eu-west-1"}
    refute inspect(Map.from_struct(redacted), structs: false, limit: :infinity) =~ secret
  end

  test "each service module makes clients of its own API and refuses another one's" do
    env = %{"AWS_REGION" => "eu-west-1"}
    ssm = SSM.new(env)
    cloud_map = CloudMap.new(env)

    assert %Client{service: "ssm", target_prefix: "AmazonSSM."} = ssm
    assert ssm.endpoint == "https://ssm.eu-west-1.amazonaws.com"

    assert %Client{service: "servicediscovery", target_prefix: "Route53AutoNaming_v20170314."} =
             cloud_map

    assert cloud_map.endpoint == "https://data-servicediscovery.eu-west-1.amazonaws.com"

    assert_raise FunctionClauseError, fn -> SSM.get_parameter(cloud_map, "/p") end
    assert_raise FunctionClauseError, fn -> CloudMap.discover_instances(ssm, "ns", "shop") end
  end

  test "a client without a region fails every call with :no_region, sending nothing" do
    assert {:error, :no_region, %Client{}} = SSM.get_parameter(SSM.new(%{}), "/p")
    assert {:error, :no_region, _} = SSM.get_parameters(SSM.new(%{}), ["/p/part/0"])

    assert {:error, :no_region, _} =
             CloudMap.discover_instances_revision(CloudMap.new(%{}), "ns", "shop")
  end
end
