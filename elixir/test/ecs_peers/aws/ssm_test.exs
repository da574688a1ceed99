defmodule EcsPeers.AWS.SSMTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.{Client, SSM}

  test "the endpoint: AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, then the regional one" do
    assert SSM.new(%{"AWS_REGION" => "eu-west-1"}).endpoint ==
             "https://ssm.eu-west-1.amazonaws.com"

    assert SSM.new(%{"AWS_REGION" => "cn-north-1"}).endpoint ==
             "https://ssm.cn-north-1.amazonaws.com.cn"

    assert SSM.new(%{"AWS_REGION" => "x", "AWS_ENDPOINT_URL" => "http://127.0.0.1:1/"}).endpoint ==
             "http://127.0.0.1:1"

    env = %{"AWS_ENDPOINT_URL" => "http://a:1", "AWS_ENDPOINT_URL_SSM" => "http://b:2"}
    assert SSM.new(env, region: "us-east-1").endpoint == "http://b:2"
  end

  test "the client's options are the shared client's: region, timeout" do
    client = SSM.new(%{"AWS_REGION" => "a"}, region: "c", timeout: 500)
    assert %Client{service: "ssm", region: "c", timeout: 500} = client
  end

  test "GetParameters takes 1 to 10 names" do
    client = SSM.new(%{})
    assert {:error, :no_region, _} = SSM.get_parameters(client, Enum.map(1..10, &"/p/#{&1}"))
    assert_raise FunctionClauseError, fn -> SSM.get_parameters(client, []) end

    assert_raise FunctionClauseError, fn ->
      SSM.get_parameters(client, Enum.map(1..11, &"/p/#{&1}"))
    end
  end
end
