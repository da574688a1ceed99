defmodule EcsPeers.AWS.ErrorsTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.{Errors, Request}

  test "throttled? tells throttling apart from every other error" do
    assert Errors.throttled?({:aws_error, 400, "ThrottlingException", "Rate exceeded"})
    assert Errors.throttled?({:aws_error, 429, "HTTP 429", "Too Many Requests"})
    assert Errors.throttled?({:aws_error, 400, "TooManyRequestsException", ""})
    assert Errors.throttled?({:aws_error, 503, "SlowDown", ""})
    refute Errors.throttled?({:aws_error, 400, "ParameterNotFound", ""})
    refute Errors.throttled?({:aws_error, 503, "HTTP 503", "Service Unavailable"})
    refute Errors.throttled?({:unreachable, "http://x", :timeout})
    refute Errors.throttled?({:credentials, :no_credentials})
    refute Errors.throttled?(:anything)

    body = ~s({"__type":"com.amazonaws.ssm#ThrottlingException","message":"Rate exceeded"})
    assert Errors.throttled?(Request.aws_error(400, body))
  end

  test "throttled? knows Cloud Map's code and judges another call of a read by its reason" do
    assert Errors.throttled?({:aws_error, 400, "RequestLimitExceeded", ""})
    assert Errors.throttled?({:call, "DiscoverInstances", {:aws_error, 429, "HTTP 429", ""}})
    refute Errors.throttled?({:call, "GetParameters", {:aws_error, 400, "AccessDenied", ""}})
  end

  test "missing credentials are told as the credentials module tells them, with what to set" do
    text = Errors.describe({:credentials, :no_credentials}, "/p")
    assert text == EcsPeers.AWS.Credentials.describe(:no_credentials)
    assert text =~ "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
  end
end
