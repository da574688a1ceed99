defmodule EcsPeers.SourceTest do
  use ExUnit.Case, async: true

  alias EcsPeers.{Options, Source}

  test "exactly one store: both :parameter and :cloud_map, or neither, is an error naming them" do
    cm = [namespace: "ecs-peers", service: "shop"]

    e = assert_raise ArgumentError, fn -> Options.validate!(parameter: "/p", cloud_map: cm) end
    assert e.message =~ ":parameter and :cloud_map exclude each other"

    e = assert_raise ArgumentError, fn -> Options.validate!([]) end
    assert e.message =~ ":parameter must be a non-empty string" and e.message =~ ":cloud_map"

    assert %{cloud_map: ^cm, parameter: nil} = Options.validate!(cloud_map: cm)
  end

  test ":cloud_map takes exactly a namespace and a service, non-empty strings" do
    for bad <- [
          [namespace: "n"],
          [namespace: "n", service: ""],
          [namespace: "n", service: "s", extra: 1],
          [namespace: :n, service: "s"],
          "n/s",
          %{namespace: "n", service: "s"}
        ] do
      e = assert_raise ArgumentError, fn -> Options.validate!(cloud_map: bad) end

      assert e.message =~
               "option :cloud_map must be nil or [namespace: \"NAME\", service: \"NAME\"]"
    end
  end

  test "the read budget's default follows the store; a given one is kept" do
    assert Options.validate!(parameter: "/p").read_budget == 4.0
    assert Options.validate!(cloud_map: [namespace: "n", service: "s"]).read_budget == 100.0

    assert Options.validate!(cloud_map: [service: "s", namespace: "n"], read_budget: 7).read_budget ==
             7
  end

  test "only a torn v2 set is retried at the budgeted interval; other errors back off" do
    assert Source.retry_at_budget?({:inconsistent_set, 3, {:missing_part, 1}})
    refute Source.retry_at_budget?({:malformed_value, 3, :value_not_json})

    refute Source.retry_at_budget?(
             {:call, "GetParameters", {:aws_error, 400, "ThrottlingException", ""}}
           )
  end

  test "errors of the other calls of a read name their call and are judged by their reason" do
    throttled =
      {:call, "DiscoverInstances", {:aws_error, 400, "RequestLimitExceeded", "slow down"}}

    assert EcsPeers.ReadBudget.throttled?(throttled)
    assert EcsPeers.ReadBudget.throttled?({:call, "GetParameters", {:aws_error, 503, "x", ""}})

    text = EcsPeers.AWS.Errors.describe(throttled, "ns/shop")
    assert text =~ "DiscoverInstances ns/shop failed: RequestLimitExceeded (HTTP 400) slow down"
    assert text =~ "Cloud Map's DiscoverInstances quota"

    denied = {:call, "GetParameters", {:aws_error, 400, "AccessDeniedException", "no"}}
    assert EcsPeers.AWS.Errors.describe(denied, "/p") =~ "GetParameters /p/part/* failed"
    assert EcsPeers.AWS.Errors.describe(denied, "/p") =~ "ssm:GetParameters"

    assert EcsPeers.AWS.Errors.key({:inconsistent_set, 3, {:missing_part, 1}}) ==
             EcsPeers.AWS.Errors.key({:inconsistent_set, 3, {:part_of_another_set, 0}})
  end

  test "a failed AWS call names its call, but the parameter's GetParameter, as the log wording expects" do
    # Port 1 of loopback refuses at once: the real request path, no AWS.
    env = %{
      "AWS_REGION" => "us-east-1",
      "AWS_ENDPOINT_URL" => "http://127.0.0.1:1",
      "AWS_ACCESS_KEY_ID" => "AKIDEXAMPLE",
      "AWS_SECRET_ACCESS_KEY" => "wJalrXUtnFEMIK7MDENG"
    }

    ssm = Source.new(Options.validate!(parameter: "/p", env: env))
    assert {:error, {:unreachable, "http://127.0.0.1:1", _}, %Source.SSM{}} = Source.read(ssm)

    cloud_map = Source.new(Options.validate!(cloud_map: [namespace: "n", service: "s"], env: env))

    assert {:error, {:call, "DiscoverInstancesRevision", {:unreachable, _, _}}, source} =
             Source.read(cloud_map)

    refute inspect(Source.redact(source)) =~ "wJalrXUtnFEMIK7MDENG"
  end

  test "a source's AWS call keeps the client it returns, whatever the answer" do
    source = %Source.SSM{client: :before}

    assert {:ok, 1, %{client: :after}} =
             Source.call(source, "GetParameter", fn :before -> {:ok, 1, :after} end)

    assert {:error, {:call, "GetParameters", :denied}, %{client: :after}} =
             Source.call(source, "GetParameters", fn :before -> {:error, :denied, :after} end)

    assert {:error, :denied, %{client: :after}} =
             Source.call(source, "GetParameter", fn :before -> {:error, :denied, :after} end)
  end
end
