defmodule EcsPeers.AWS.CloudMapTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.{Client, CloudMap}

  test "the endpoint: AWS_ENDPOINT_URL_SERVICEDISCOVERY, then AWS_ENDPOINT_URL, then the data plane" do
    assert CloudMap.new(%{"AWS_REGION" => "eu-west-1"}).endpoint ==
             "https://data-servicediscovery.eu-west-1.amazonaws.com"

    assert CloudMap.new(%{"AWS_REGION" => "cn-north-1"}).endpoint ==
             "https://data-servicediscovery.cn-north-1.amazonaws.com.cn"

    # A custom endpoint is used as given: no "data-" before its host (moto, VPC endpoints).
    env = %{
      "AWS_ENDPOINT_URL" => "http://a:1",
      "AWS_ENDPOINT_URL_SERVICEDISCOVERY" => "http://b:2/"
    }

    assert CloudMap.new(env, region: "us-east-1").endpoint == "http://b:2"

    assert CloudMap.new(Map.delete(env, "AWS_ENDPOINT_URL_SERVICEDISCOVERY")).endpoint ==
             "http://a:1"

    # SSM's variable is not Cloud Map's.
    assert CloudMap.new(%{"AWS_REGION" => "x", "AWS_ENDPOINT_URL_SSM" => "http://c:3"}).endpoint ==
             "https://data-servicediscovery.x.amazonaws.com"
  end

  test "the client signs for servicediscovery and targets Route53AutoNaming_v20170314" do
    assert %Client{
             service: "servicediscovery",
             target_prefix: "Route53AutoNaming_v20170314.",
             content_type: "application/x-amz-json-1.1"
           } = CloudMap.new(%{"AWS_REGION" => "eu-west-1"})
  end
end
