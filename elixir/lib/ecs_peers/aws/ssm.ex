defmodule EcsPeers.AWS.SSM do
  @moduledoc """
  The SSM calls ecs-peers makes, signed with SigV4: `GetParameter` (the main
  parameter, every read) and `GetParameters` (the parts of a v2 set, only when it
  changed; see `EcsPeers.PeerSet.V2`).

  AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target: AmazonSSM.GetParameter`,
  `Content-Type: application/x-amz-json-1.1` and the body `{"Name": ...}`.

  The endpoint is `AWS_ENDPOINT_URL_SSM`, else `AWS_ENDPOINT_URL`, else
  `https://ssm.REGION.amazonaws.com` (`.amazonaws.com.cn` in `cn-` regions). The client
  (region, timeout, credentials cache, clock offset) is an `EcsPeers.AWS.Client`; the
  signed call, its clock-skew correction and retry, and its errors are those of
  `EcsPeers.AWS.Request`. A throttled read is returned at once, never retried here
  (`throttled?/1` tells it apart): the caller spaces its reads.
  """

  alias EcsPeers.AWS.{Client, Request}

  @api %{
    service: "ssm",
    target_prefix: "AmazonSSM.",
    content_type: "application/x-amz-json-1.1",
    endpoint_variable: "AWS_ENDPOINT_URL_SSM",
    host: "ssm"
  }

  @type t :: Client.t()
  @type parameter :: %{version: integer(), value: String.t()}

  # GetParameters takes at most 10 names.
  @max_names 10

  @doc """
  An SSM client from an environment map and options (`:region`, `:timeout`,
  `:container_host`): see `EcsPeers.AWS.Client`.
  """
  @spec new(%{String.t() => String.t()}, keyword()) :: t()
  def new(env, opts \\ []), do: Client.new(env, @api, opts)

  @doc """
  Fetches a parameter. Returns `{:ok, %{version: v, value: s}, client}` or
  `{:error, reason, client}`; the returned client carries the credentials cache and the
  clock offset: pass it to the next call.
  """
  @spec get_parameter(t(), String.t()) :: {:ok, parameter(), t()} | {:error, term(), t()}
  def get_parameter(%Client{service: "ssm"} = client, name) do
    Request.call(client, "GetParameter", %{"Name" => name}, fn
      %{"Parameter" => parameter} -> parameter(parameter)
      _ -> {:error, :unexpected_response}
    end)
  end

  @doc """
  Fetches up to #{@max_names} parameters in one `GetParameters` call. Returns
  `{:ok, %{found: %{name => %{version: v, value: s}}, invalid: [name]}, client}` (the
  names SSM did not find in `invalid`) or `{:error, reason, client}`.
  """
  @spec get_parameters(t(), [String.t()]) ::
          {:ok, %{found: %{String.t() => parameter()}, invalid: [String.t()]}, t()}
          | {:error, term(), t()}
  def get_parameters(%Client{service: "ssm"} = client, names)
      when is_list(names) and length(names) in 1..@max_names do
    Request.call(client, "GetParameters", %{"Names" => names}, fn
      %{"Parameters" => parameters} = body when is_list(parameters) ->
        found(parameters, %{}, body["InvalidParameters"] || [])

      _ ->
        {:error, :unexpected_response}
    end)
  end

  defp found([], acc, invalid) when is_list(invalid),
    do: {:ok, %{found: acc, invalid: Enum.filter(invalid, &is_binary/1)}}

  defp found([%{"Name" => name} = parameter | rest], acc, invalid) when is_binary(name) do
    with {:ok, parameter} <- parameter(parameter),
         do: found(rest, Map.put(acc, name, parameter), invalid)
  end

  defp found(_other, _acc, _invalid), do: {:error, :unexpected_response}

  defp parameter(%{"Value" => value, "Version" => version})
       when is_binary(value) and is_integer(version),
       do: {:ok, %{version: version, value: value}}

  defp parameter(_other), do: {:error, :unexpected_response}
end
