defmodule EcsPeers.AWS.SigV4Test do
  # Vectors from AWS's published SigV4 test suite (aws-sig-v4-test-suite) and the IAM
  # example in the AWS General Reference; the expected values are AWS's, typed in here.
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.SigV4

  @creds %{
    access_key_id: "AKIDEXAMPLE",
    secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
  }
  @datetime ~U[2015-08-30 12:36:00Z]
  @empty_hash "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  @scope "20150830/us-east-1/service/aws4_request"

  defp sign(method, target, headers \\ [], body \\ "", creds \\ @creds) do
    SigV4.sign(
      %{
        method: method,
        url: "https://example.amazonaws.com" <> target,
        headers: headers,
        body: body
      },
      credentials: creds,
      region: "us-east-1",
      service: "service",
      datetime: @datetime
    )
  end

  defp authorization(headers) do
    {_, value} = List.keyfind(headers, "authorization", 0)
    value
  end

  defp expected(signed_headers, signature) do
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/#{@scope}, " <>
      "SignedHeaders=#{signed_headers}, Signature=#{signature}"
  end

  describe "get-vanilla" do
    test "builds the published canonical request, string to sign and signature" do
      creq =
        SigV4.canonical_request(
          "GET",
          "/",
          "",
          [{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}],
          @empty_hash
        )

      assert creq ==
               "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" <>
                 "host;x-amz-date\n" <> @empty_hash

      sts = SigV4.string_to_sign("20150830T123600Z", @scope, creq)

      assert sts ==
               "AWS4-HMAC-SHA256\n20150830T123600Z\n#{@scope}\n" <>
                 "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"

      key = SigV4.signing_key(@creds.secret_access_key, @datetime, "us-east-1", "service")

      assert SigV4.signature(key, sts) ==
               "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    end

    test "sign/2 adds host, x-amz-date and the published Authorization header" do
      headers = sign("GET", "/")
      assert {"host", "example.amazonaws.com"} in headers
      assert {"x-amz-date", "20150830T123600Z"} in headers

      assert authorization(headers) ==
               expected(
                 "host;x-amz-date",
                 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
               )
    end
  end

  test "get-vanilla-query-order-key-case sorts the query by name" do
    creq =
      SigV4.canonical_request(
        "GET",
        "/",
        "Param2=value2&Param1=value1",
        [{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}],
        @empty_hash
      )

    assert creq ==
             "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n" <>
               "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" <> @empty_hash

    assert SigV4.hash_hex(creq) ==
             "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"

    assert authorization(sign("GET", "/?Param2=value2&Param1=value1")) ==
             expected(
               "host;x-amz-date",
               "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
             )
  end

  test "post-x-www-form-urlencoded signs the content type and the body hash" do
    headers = [{"Content-Type", "application/x-www-form-urlencoded"}]
    body = "Param1=value1"

    creq =
      SigV4.canonical_request(
        "POST",
        "/",
        "",
        headers ++ [{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}],
        SigV4.hash_hex(body)
      )

    assert creq ==
             Enum.join(
               [
                 "POST",
                 "/",
                 "",
                 "content-type:application/x-www-form-urlencoded",
                 "host:example.amazonaws.com",
                 "x-amz-date:20150830T123600Z",
                 "",
                 "content-type;host;x-amz-date",
                 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
               ],
               "\n"
             )

    assert SigV4.string_to_sign("20150830T123600Z", @scope, creq) ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n#{@scope}\n" <>
               "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"

    assert authorization(sign("POST", "/", headers, body)) ==
             expected(
               "content-type;host;x-amz-date",
               "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
             )
  end

  @vectors [
    {"post-vanilla", "POST", "/", [], "host;x-amz-date",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"get-unreserved", "GET",
     "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", [], "host;x-amz-date",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-slashes", "GET", "//example//", [], "host;x-amz-date",
     "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=value1", [],
     "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-utf8-query", "GET", "/?\u1234=bar", [], "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-header-value-order", "GET", "/",
     [
       {"My-Header1", "value4"},
       {"My-Header1", "value1"},
       {"My-Header1", "value3"},
       {"My-Header1", "value2"}
     ], "host;my-header1;x-amz-date",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-header-key-duplicate", "GET", "/",
     [{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}],
     "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-trim", "GET", "/",
     [{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}],
     "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"}
  ]

  for {name, method, target, headers, signed, signature} <- @vectors do
    test "#{name} signs to the published Authorization header" do
      assert authorization(sign(unquote(method), unquote(target), unquote(Macro.escape(headers)))) ==
               expected(unquote(signed), unquote(signature))
    end
  end

  test "get-vanilla-with-session-token signs and sends x-amz-security-token" do
    token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    headers = sign("GET", "/", [], "", Map.put(@creds, :session_token, token))
    assert {"x-amz-security-token", token} in headers

    assert authorization(headers) ==
             expected(
               "host;x-amz-date;x-amz-security-token",
               "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
             )
  end

  test "canonical paths: get-space, get-utf8, dot segments" do
    assert SigV4.canonical_path("/example space/") == "/example%20space/"
    assert SigV4.canonical_path("/\u1234") == "/%E1%88%B4"
    assert SigV4.canonical_path("/./") == "/"
    assert SigV4.canonical_path("/example/..") == "/"
    assert SigV4.canonical_path("/example1/example2/../..") == "/"
    assert SigV4.canonical_path("/./example") == "/example"
    assert SigV4.canonical_path("") == "/"
  end

  test "the AWS docs IAM ListUsers example signs to its published signature" do
    headers =
      SigV4.sign(
        %{
          method: "GET",
          url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
          headers: [{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}],
          body: ""
        },
        credentials: @creds,
        region: "us-east-1",
        service: "iam",
        datetime: @datetime
      )

    creq =
      SigV4.canonical_request(
        "GET",
        "/",
        "Action=ListUsers&Version=2010-05-08",
        Enum.reject(headers, &(elem(&1, 0) == "authorization")),
        @empty_hash
      )

    assert SigV4.hash_hex(creq) ==
             "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"

    assert authorization(headers) ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " <>
               "SignedHeaders=content-type;host;x-amz-date, " <>
               "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
  end

  test "host keeps a non-default port" do
    assert SigV4.host_header(URI.parse("http://127.0.0.1:4566/")) == "127.0.0.1:4566"

    assert SigV4.host_header(URI.parse("https://ssm.eu-west-1.amazonaws.com/")) ==
             "ssm.eu-west-1.amazonaws.com"
  end
end
