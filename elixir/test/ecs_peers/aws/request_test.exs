defmodule EcsPeers.AWS.RequestTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.Request

  test "AWS errors are read from JSON 1.1 and query (XML) error bodies" do
    assert Request.aws_error(
             400,
             ~s({"__type":"com.amazonaws#ParameterNotFound","message":"nope"})
           ) ==
             {:aws_error, 400, "ParameterNotFound", "nope"}

    assert Request.aws_error(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>") ==
             {:aws_error, 403, "AccessDenied", "no"}

    assert Request.aws_error(502, "Bad Gateway") == {:aws_error, 502, "HTTP 502", "Bad Gateway"}
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

    assert Request.aws_error(400, body) ==
             {:aws_error, 400, "InvalidSignatureException",
              "The request signature we calculated does not match."}

    assert Request.sanitize_message("a\tb\r\nc\x00d") == "a b c d"
    assert Request.sanitize_message("go X-Amz-Security-Token: abc") == "go [REDACTED]"
    assert Request.sanitize_message(<<"ok", 0xFF, "!">>) == "ok!"

    long = Request.sanitize_message(String.duplicate("é", 300))
    assert byte_size(long) <= 203
    assert String.valid?(long)
  end

  test "an AWS error message that is not a string is inspected" do
    body = ~s({"__type":"Odd","message":{"a":[1]}})
    assert Request.aws_error(400, body) == {:aws_error, 400, "Odd", ~s|%{"a" => [1]}|}
    assert Request.sanitize_message(nil) == "nil"
  end
end
