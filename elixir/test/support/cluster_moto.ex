defmodule EcsPeers.Test.ClusterMoto do
  @moduledoc """
  moto_server inside the hub namespace, plus `test/cluster/moto_helper.py` (boto3) to
  write parameters and seed ECS tasks.

  moto listens on `0.0.0.0:#{5000}` in the hub: the BEAM nodes reach it at
  `http://10.255.255.254:5000` (the bridge), the helper and the reconciler at
  `http://127.0.0.1:5000` (the hub's loopback). Being alone in its namespace, the port
  never collides with another run.

  Executables (the tests fail, never skip, when one is missing):

    * moto_server: `$MOTO_SERVER`, else `../.venv/bin/moto_server`, else `PATH`
    * python with boto3: `$PYTHON`, else `../.venv/bin/python`, else `python3`

  Start it with `start!/2` from `setup_all`; both processes are `EcsPeers.Test.ClusterPort`s
  under ExUnit's supervisor.
  """

  import ExUnit.Callbacks, only: [start_supervised!: 1]

  alias EcsPeers.Test.{ClusterJSON, ClusterNode, ClusterPort, NetNS}

  @port 5000
  @install "pip install 'moto[server]' (it brings boto3), or set MOTO_SERVER and PYTHON"

  defstruct [:server, :helper, :ns]

  @doc "The endpoint as the node namespaces see it."
  def endpoint, do: "http://#{NetNS.bridge_ip()}:#{@port}"

  @proxy_port 5001

  @doc """
  Starts the helper's counting proxy in front of moto (once per module); returns the
  endpoint the node namespaces use to go through it.
  """
  def start_proxy!(moto) do
    call!(moto, %{op: "start_proxy", port: @proxy_port})
    "http://#{NetNS.bridge_ip()}:#{@proxy_port}"
  end

  @doc "The GetParameter requests for `name` the proxy has seen: `{count, [ms]}`."
  def proxy_reads!(moto, name) do
    reply = call!(moto, %{op: "proxy_reads", name: name})
    {reply["count"], reply["times"]}
  end

  @doc "The endpoint as processes inside the hub see it."
  def local_endpoint, do: "http://127.0.0.1:#{@port}"

  @doc "Starts moto_server and the helper in the hub; returns once moto answers."
  def start!(%NetNS{hub: hub}) do
    server =
      start_supervised!(
        ClusterPort.child_spec(
          id: :moto_server,
          label: "moto_server",
          ns: hub,
          argv: [moto_server!(), "-H", "0.0.0.0", "-p", Integer.to_string(@port)],
          # Without auth, whatever the test VM's environment says (other tests may set it).
          env: [{"INITIAL_NO_AUTH_ACTION_COUNT", false}]
        )
      )

    python = python!()

    helper =
      start_supervised!(
        ClusterPort.child_spec(
          id: :moto_helper,
          label: "moto_helper.py",
          ns: hub,
          argv: [
            python,
            "-u",
            Path.join(ClusterNode.project_dir(), "test/cluster/moto_helper.py")
          ],
          env: [
            {"MOTO_URL", local_endpoint()},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ENDPOINT_URL", false},
            {"AWS_PROFILE", false}
          ]
        )
      )

    moto = %__MODULE__{server: server, helper: helper, ns: hub}

    case ClusterPort.await_reply(helper, 30_000) do
      {:ok, _ready} ->
        :ok

      {:error, reason} ->
        raise "moto_helper.py did not start (python with boto3 needed: #{@install}): #{inspect(reason)}"
    end

    call!(moto, %{op: "wait", timeout: 30})
    moto
  end

  @doc "Sends one helper command; returns its reply map or raises with moto's output."
  def call!(%__MODULE__{helper: helper} = moto, command, timeout \\ 30_000) do
    case ClusterPort.request(helper, ClusterJSON.encode!(command), timeout) do
      {:ok, json} ->
        case ClusterJSON.decode!(json) do
          %{"ok" => true} = reply ->
            reply

          %{"error" => error} ->
            raise "moto helper #{command[:op]} failed: #{error}\n" <>
                    ClusterPort.output(helper) <> "\n" <> ClusterPort.output(moto.server)
        end

      {:error, reason} ->
        raise "moto helper #{command[:op]} failed: #{inspect(reason)}\n" <>
                ClusterPort.output(moto.server)
    end
  end

  @doc "SSM PutParameter (String, overwrite); returns the new version."
  def put_parameter!(moto, name, value),
    do: call!(moto, %{op: "put_parameter", name: name, value: value})["version"]

  @doc "SSM GetParameter's value, nil when the parameter does not exist."
  def get_parameter!(moto, name), do: call!(moto, %{op: "get_parameter", name: name})["value"]

  @doc "Writes a peer set in the library's format; returns the new version."
  def put_peer_set!(moto, name, nodes),
    do: put_parameter!(moto, name, ClusterJSON.encode!(%{version: 1, nodes: nodes}))

  defp moto_server! do
    find_executable(
      System.get_env("MOTO_SERVER"),
      Path.expand("../.venv/bin/moto_server", ClusterNode.project_dir()),
      "moto_server",
      "moto_server not found: #{@install}"
    )
  end

  defp python! do
    python =
      find_executable(
        System.get_env("PYTHON"),
        Path.expand("../.venv/bin/python", ClusterNode.project_dir()),
        "python3",
        "python3 not found: #{@install}"
      )

    case System.cmd(python, ["-c", "import boto3"], stderr_to_stdout: true) do
      {_, 0} -> python
      {out, _} -> raise "#{python} cannot import boto3: #{@install}\n#{out}"
    end
  end

  defp find_executable(from_env, venv, on_path, message) do
    cond do
      from_env not in [nil, ""] ->
        if File.exists?(from_env),
          do: from_env,
          else: raise("#{from_env} does not exist: #{message}")

      File.exists?(venv) ->
        venv

      path = System.find_executable(on_path) ->
        path

      true ->
        raise message
    end
  end
end
