defmodule EcsPeers.AWS.SSMTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.SSM

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

  test "the region: the option, then AWS_REGION, then AWS_DEFAULT_REGION" do
    assert SSM.new(%{"AWS_REGION" => "a", "AWS_DEFAULT_REGION" => "b"}, region: "c").region == "c"
    assert SSM.new(%{"AWS_REGION" => "a", "AWS_DEFAULT_REGION" => "b"}).region == "a"
    assert SSM.new(%{"AWS_DEFAULT_REGION" => "b"}).region == "b"
    assert {:error, :no_region, _} = SSM.get_parameter(SSM.new(%{}), "/p")
  end

  test "AWS errors are read from JSON 1.1 and query (XML) error bodies" do
    assert SSM.aws_error(400, ~s({"__type":"com.amazonaws#ParameterNotFound","message":"nope"})) ==
             {:aws_error, 400, "ParameterNotFound", "nope"}

    assert SSM.aws_error(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>") ==
             {:aws_error, 403, "AccessDenied", "no"}

    assert SSM.aws_error(502, "Bad Gateway") == {:aws_error, 502, "HTTP 502", "Bad Gateway"}
  end

  test "AWS error messages are cut before the canonical request, redacted and capped" do
    body =
      EcsPeers.JSON.encode(%{
        "__type" => "InvalidSignatureException",
        "message" =>
          "The request signature we calculated does not match.\n\nThe Canonical String " <>
            "for this request should have been\n'POST\nx-amz-date:20261122T030000Z\n" <>
            "x-amz-security-token:SECRET'"
      })

    assert SSM.aws_error(400, body) ==
             {:aws_error, 400, "InvalidSignatureException",
              "The request signature we calculated does not match."}

    assert SSM.sanitize_message("a\tb\r\nc\x00d") == "a b c d"
    assert SSM.sanitize_message("go X-Amz-Security-Token: abc") == "go [REDACTED]"
    assert SSM.sanitize_message(<<"ok", 0xFF, "!">>) == "ok!"

    long = SSM.sanitize_message(String.duplicate("é", 300))
    assert byte_size(long) <= 203
    assert String.valid?(long)
  end

  test "an AWS error message that is not a string is inspected" do
    body = ~s({"__type":"Odd","message":{"a":[1]}})
    assert SSM.aws_error(400, body) == {:aws_error, 400, "Odd", ~s|%{"a" => [1]}|}
    assert SSM.sanitize_message(nil) == "nil"
  end

  test "throttled? tells throttling apart from every other error" do
    assert SSM.throttled?({:aws_error, 400, "ThrottlingException", "Rate exceeded"})
    assert SSM.throttled?({:aws_error, 429, "HTTP 429", "Too Many Requests"})
    assert SSM.throttled?({:aws_error, 400, "TooManyRequestsException", ""})
    assert SSM.throttled?({:aws_error, 503, "SlowDown", ""})
    refute SSM.throttled?({:aws_error, 400, "ParameterNotFound", ""})
    refute SSM.throttled?({:aws_error, 503, "HTTP 503", "Service Unavailable"})
    refute SSM.throttled?({:unreachable, "http://x", :timeout})
    refute SSM.throttled?({:credentials, :no_credentials})
    refute SSM.throttled?(:anything)

    body = ~s({"__type":"com.amazonaws.ssm#ThrottlingException","message":"Rate exceeded"})
    assert SSM.throttled?(SSM.aws_error(400, body))
  end
end
