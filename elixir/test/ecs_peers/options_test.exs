defmodule EcsPeers.OptionsTest do
  use ExUnit.Case, async: true

  @moduletag :capture_log

  test "an unknown option is an ArgumentError naming it, from start_link and child_spec" do
    for start <- [&EcsPeers.start_link/1, &EcsPeers.child_spec/1] do
      error =
        assert_raise ArgumentError, fn ->
          start.(parameter: "/p", polling_intervall: 10, prunne: true)
        end

      assert error.message =~ "unknown option(s) :polling_intervall, :prunne"
      assert error.message =~ ":polling_interval"
    end
  end

  test "invalid values name the option" do
    cases = [
      {[], ":parameter must be a non-empty string"},
      {[parameter: ""], ":parameter must be a non-empty string"},
      {[parameter: "/p", polling_interval: 0], ":polling_interval must be a positive integer"},
      {[parameter: "/p", prune: "yes"], ":prune must be a boolean"},
      {[parameter: "/p", basename: "a b"], ":basename must be nil or 1..64"},
      {[parameter: "/p", max_nodes: -1], ":max_nodes must be a positive integer"},
      {[parameter: "/p", max_new_atoms: -1], ":max_new_atoms must be nil or a non-negative"},
      {[parameter: "/p", connect: fn -> true end], ":connect must be a 1-arity fun"},
      {[parameter: "/p", fetch: "x"], ":fetch must be nil, a 1-arity fun"},
      {[parameter: "/p", env: []], ":env must be a map"}
    ]

    for {opts, message} <- cases do
      error = assert_raise ArgumentError, fn -> EcsPeers.child_spec(opts) end
      assert error.message =~ message
    end

    assert_raise ArgumentError, ~r/keyword list/, fn ->
      EcsPeers.start_link(%{parameter: "/p"})
    end
  end

  test "child_spec uses the name as id" do
    assert %{id: EcsPeers, start: {EcsPeers, :start_link, [_]}} =
             EcsPeers.child_spec(parameter: "/p")

    assert %{id: :peers_a} = EcsPeers.child_spec(parameter: "/p", name: :peers_a)
  end

  test "a registered name, and AWS settings from :env" do
    env = %{
      "AWS_REGION" => "eu-west-1",
      "AWS_ENDPOINT_URL_SSM" => nil,
      "AWS_ENDPOINT_URL" => nil,
      "AWS_ACCESS_KEY_ID" => nil,
      "AWS_SECRET_ACCESS_KEY" => nil,
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" => nil,
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" => nil
    }

    {:ok, pid} =
      EcsPeers.start_link(
        parameter: "/p",
        name: :named_peers,
        env: env,
        polling_interval: 60_000,
        list_nodes: fn -> [] end
      )

    assert Process.whereis(:named_peers) == pid

    assert %{result: :error, error: {:credentials, :no_credentials}} =
             EcsPeers.poll_now(:named_peers)

    GenServer.stop(pid)
  end
end
