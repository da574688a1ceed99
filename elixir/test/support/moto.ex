defmodule EcsPeers.Test.Moto do
  @moduledoc """
  Runs a `moto_server` on a free loopback port for tests, with IAM enforcement after the
  first `:no_auth_count` requests (`INITIAL_NO_AUTH_ACTION_COUNT`).

  moto_server is looked up in `$MOTO_SERVER`, then `../.venv/bin/moto_server` (relative
  to the Mix project), then `PATH`. A missing moto_server raises: the tests that need it
  fail with an install hint, they are never skipped.
  """

  alias EcsPeers.AWS.{Http, SigV4}
  alias EcsPeers.JSON

  defstruct [:port, :os_pid, :url, :erl_port]

  @region "us-east-1"
  @bootstrap %{access_key_id: "AKIDBOOTSTRAP", secret_access_key: "bootstrap-secret"}

  @doc "Finds moto_server or raises with an install hint."
  def executable! do
    candidates = [
      System.get_env("MOTO_SERVER"),
      Path.expand("../.venv/bin/moto_server", File.cwd!()),
      System.find_executable("moto_server")
    ]

    Enum.find(candidates, fn path -> is_binary(path) and path != "" and File.exists?(path) end) ||
      raise "moto_server not found (looked at $MOTO_SERVER, ../.venv/bin/moto_server and PATH): " <>
              "install it with `pip install 'moto[server]'`"
  end

  @doc "Starts moto_server and waits until it answers. Options: `:no_auth_count`."
  def start!(opts \\ []) do
    exe = executable!()
    port = free_port()
    env = [{~c"INITIAL_NO_AUTH_ACTION_COUNT", ~c"#{Keyword.get(opts, :no_auth_count, -1)}"}]

    erl_port =
      Port.open({:spawn_executable, String.to_charlist(exe)}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: ["-H", "127.0.0.1", "-p", Integer.to_string(port)],
        env: env
      ])

    {:os_pid, os_pid} = Port.info(erl_port, :os_pid)

    moto = %__MODULE__{
      port: port,
      os_pid: os_pid,
      url: "http://127.0.0.1:#{port}",
      erl_port: erl_port
    }

    wait_until_up!(moto, 30_000)
    moto
  end

  @doc """
  A `setup_all` callback (`import EcsPeers.Test.Moto, only: [moto_without_iam: 1]`,
  `setup_all :moto_without_iam`): one moto_server for the test module, stopped after
  it, that never enforces IAM (moto_test.exs proves signing). Adds `:moto`.
  """
  def moto_without_iam(_context) do
    # A count of unauthenticated actions never reached.
    moto = start!(no_auth_count: 1_000_000_000)
    ExUnit.Callbacks.on_exit(fn -> stop(moto) end)
    %{moto: moto}
  end

  @doc "Kills moto_server."
  def stop(%__MODULE__{os_pid: os_pid}) do
    System.cmd("kill", ["-TERM", Integer.to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  defp free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp wait_until_up!(moto, left) when left <= 0 do
    stop(moto)
    raise "moto_server did not start on port #{moto.port}"
  end

  defp wait_until_up!(moto, left) do
    case :gen_tcp.connect({127, 0, 0, 1}, moto.port, [], 200) do
      {:ok, socket} ->
        :gen_tcp.close(socket)

      {:error, _} ->
        Process.sleep(100)
        wait_until_up!(moto, left - 300)
    end
  end

  ## Calls signed with the bootstrap credentials (for moto's unauthenticated window)

  @doc "An IAM query API call; returns the XML body or raises."
  def iam!(moto, params, creds \\ @bootstrap), do: query!(moto, "iam", params, creds)

  @doc "A query-protocol call (IAM, STS) signed for `service`; returns the XML body or raises."
  def query!(moto, service, params, creds \\ @bootstrap) do
    body = URI.encode_query(params)
    url = moto.url <> "/"

    request = %{
      method: "POST",
      url: url,
      headers: [{"content-type", "application/x-www-form-urlencoded"}],
      body: body
    }

    headers = SigV4.sign(request, credentials: creds, region: @region, service: service)

    case Http.request(:post, url, headers, body) do
      {:ok, 200, _, resp} -> resp
      other -> raise "#{service} #{params["Action"]} failed: #{inspect(other)}"
    end
  end

  @doc "An SSM JSON 1.1 call; returns `{status, body}`."
  def ssm(moto, action, payload, creds \\ @bootstrap),
    do: json_call(moto, "ssm", "AmazonSSM." <> action, payload, creds)

  @doc "A Cloud Map (servicediscovery, JSON 1.1) call; returns `{status, decoded body}`."
  def servicediscovery(moto, action, payload, creds \\ @bootstrap) do
    target = "Route53AutoNaming_v20170314." <> action
    {status, resp} = json_call(moto, "servicediscovery", target, payload, creds)
    {status, elem(JSON.decode(resp), 1)}
  end

  defp json_call(moto, service, target, payload, creds) do
    body = encode(payload)
    url = moto.url <> "/"

    request = %{
      method: "POST",
      url: url,
      headers: [{"content-type", "application/x-amz-json-1.1"}, {"x-amz-target", target}],
      body: body
    }

    headers = SigV4.sign(request, credentials: creds, region: @region, service: service)
    {:ok, status, _, resp} = Http.request(:post, url, headers, body)
    {status, resp}
  end

  @doc "Creates an HTTP namespace and a service in it; returns the service id."
  def cloud_map_service!(moto, namespace, service) do
    {200, _} = servicediscovery(moto, "CreateHttpNamespace", %{"Name" => namespace})
    {200, %{"Namespaces" => namespaces}} = servicediscovery(moto, "ListNamespaces", %{})
    %{"Id" => namespace_id} = Enum.find(namespaces, &(&1["Name"] == namespace))
    payload = %{"Name" => service, "NamespaceId" => namespace_id}
    {200, %{"Service" => %{"Id" => id}}} = servicediscovery(moto, "CreateService", payload)
    id
  end

  defp encode(payload), do: JSON.encode(payload)

  @doc """
  Within moto's unauthenticated window (4 requests): creates the IAM user `reader` with
  an inline policy allowing `ssm:GetParameter` and `ssm:GetParameters` (the v2 parts) only, and its access key; writes the
  parameter. Returns `%{access_key_id, secret_access_key}` of the reader.
  """
  def setup_reader!(moto, parameter, value) do
    iam!(moto, %{"Action" => "CreateUser", "UserName" => "reader", "Version" => "2010-05-08"})

    policy = read_only_policy()

    iam!(moto, %{
      "Action" => "PutUserPolicy",
      "UserName" => "reader",
      "PolicyName" => "read-peers",
      "PolicyDocument" => policy,
      "Version" => "2010-05-08"
    })

    xml =
      iam!(moto, %{
        "Action" => "CreateAccessKey",
        "UserName" => "reader",
        "Version" => "2010-05-08"
      })

    [_, id] = Regex.run(~r/<AccessKeyId>([^<]+)<\/AccessKeyId>/, xml)
    [_, secret] = Regex.run(~r/<SecretAccessKey>([^<]+)<\/SecretAccessKey>/, xml)

    {200, _} =
      ssm(moto, "PutParameter", %{
        "Name" => parameter,
        "Value" => value,
        "Type" => "String",
        "Overwrite" => true
      })

    %{access_key_id: id, secret_access_key: secret}
  end

  @doc """
  Within moto's unauthenticated window (3 requests): creates the IAM user `writer` allowed
  `ssm:PutParameter`, as the reconciler is, and its access key, to write sets once
  authentication is on. Returns `%{access_key_id, secret_access_key}`.
  """
  def setup_writer!(moto) do
    iam!(moto, %{"Action" => "CreateUser", "UserName" => "writer", "Version" => "2010-05-08"})

    policy =
      JSON.encode(%{
        "Version" => "2012-10-17",
        "Statement" => [
          %{"Effect" => "Allow", "Action" => ["ssm:PutParameter"], "Resource" => "*"}
        ]
      })

    iam!(moto, %{
      "Action" => "PutUserPolicy",
      "UserName" => "writer",
      "PolicyName" => "write-peers",
      "PolicyDocument" => policy,
      "Version" => "2010-05-08"
    })

    xml =
      iam!(moto, %{
        "Action" => "CreateAccessKey",
        "UserName" => "writer",
        "Version" => "2010-05-08"
      })

    [_, id] = Regex.run(~r/<AccessKeyId>([^<]+)<\/AccessKeyId>/, xml)
    [_, secret] = Regex.run(~r/<SecretAccessKey>([^<]+)<\/SecretAccessKey>/, xml)
    %{access_key_id: id, secret_access_key: secret}
  end

  @doc """
  Within moto's unauthenticated window (3 requests): creates the role `task` allowed
  `ssm:GetParameter` and `ssm:GetParameters` only, and assumes it. Returns the temporary credentials
  (`access_key_id`, `secret_access_key`, `session_token`), which moto checks on every
  request once authentication is on, session token included.
  """
  def assume_task_role!(moto) do
    trust =
      JSON.encode(%{
        "Version" => "2012-10-17",
        "Statement" => [
          %{
            "Effect" => "Allow",
            "Principal" => %{"AWS" => "arn:aws:iam::123456789012:root"},
            "Action" => "sts:AssumeRole"
          }
        ]
      })

    iam!(moto, %{
      "Action" => "CreateRole",
      "RoleName" => "task",
      "AssumeRolePolicyDocument" => trust,
      "Version" => "2010-05-08"
    })

    policy = read_only_policy()

    iam!(moto, %{
      "Action" => "PutRolePolicy",
      "RoleName" => "task",
      "PolicyName" => "read-peers",
      "PolicyDocument" => policy,
      "Version" => "2010-05-08"
    })

    xml =
      query!(moto, "sts", %{
        "Action" => "AssumeRole",
        "RoleArn" => "arn:aws:iam::123456789012:role/task",
        "RoleSessionName" => "ecs-task",
        "Version" => "2011-06-15"
      })

    [_, id] = Regex.run(~r/<AccessKeyId>([^<]+)<\/AccessKeyId>/, xml)
    [_, secret] = Regex.run(~r/<SecretAccessKey>([^<]+)<\/SecretAccessKey>/, xml)
    [_, token] = Regex.run(~r/<SessionToken>([^<]+)<\/SessionToken>/, xml)
    %{access_key_id: id, secret_access_key: secret, session_token: token}
  end

  @doc "The region the helpers sign for."
  def region, do: @region

  # moto evaluates actions only (see shared/notes/moto.md), hence Resource "*".
  defp read_only_policy do
    JSON.encode(%{
      "Version" => "2012-10-17",
      "Statement" => [
        # As the stack's reader policy: the parameter, and the parts of a v2 set.
        %{
          "Effect" => "Allow",
          "Action" => ["ssm:GetParameter", "ssm:GetParameters"],
          "Resource" => "*"
        }
      ]
    })
  end
end
