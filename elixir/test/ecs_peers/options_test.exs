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
      {[parameter: "/p", env: []], ":env must be a map"},
      {[parameter: "/p", prune_grace: -1], ":prune_grace must be a non-negative integer"},
      {[parameter: "/p", read_budget: 0], ":read_budget must be a positive number"},
      {[parameter: "/p", read_budget: "4"], ":read_budget must be a positive number"}
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

  describe "the one schema" do
    alias EcsPeers.Options

    test "the defaults a process starts with are the schema's" do
      state = EcsPeers.Poller.new(parameter: "/p", fetch: fn _ -> {:error, :x} end)
      defaults = Map.new(Options.schema(), &{&1.key, &1.default})

      for key <-
            [:polling_interval, :read_budget, :prune, :prune_grace, :basename, :max_nodes] ++
              [:connect_timeout, :max_backoff, :topology, :connect, :disconnect, :list_nodes] do
        assert Map.fetch!(state, key) == defaults[key], "#{key}"
      end

      assert state.atoms_left == 10 * defaults.max_nodes
    end

    test "the strategy accepts the common keys, the standalone process all of them" do
      assert Options.common_keys() -- Options.standalone_keys() == []

      assert Options.standalone_keys() -- Options.common_keys() ==
               [:name, :topology, :connect, :disconnect, :list_nodes]
    end

    test "the moduledocs of EcsPeers and EcsPeers.Strategy list every option they take" do
      for {module, keys} <- [
            {EcsPeers, Options.standalone_keys()},
            {EcsPeers.Strategy, Options.common_keys()}
          ] do
        {:docs_v1, _, _, _, %{"en" => doc}, _, _} = Code.fetch_docs(module)

        for %{key: key, shown_default: default} <- Options.schema(), key in keys do
          assert doc =~ "`#{inspect(key)}` (default #{default})", "#{inspect(module)}: #{key}"
        end
      end
    end

    test "the README's option table is the schema's" do
      readme = File.read!(Path.join(__DIR__, "../../README.md"))

      [_, table] =
        Regex.run(~r/<!-- options:start -->\n(.*?)\n<!-- options:end -->/s, readme) ||
          flunk("README.md has no <!-- options:start --> ... <!-- options:end --> block")

      assert table == Options.readme_table(),
             "README.md's option table is out of date; replace it with the output of " <>
               "mix run -e 'IO.puts(EcsPeers.Options.readme_table())'"
    end
  end
end
