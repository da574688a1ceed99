defmodule EcsPeers.AWS.SSM do
  @moduledoc """
  The SSM calls ecs-peers makes, signed with SigV4: `GetParameter` (the main
  parameter, every read) and `GetParameters` (the parts of a v2 set, only when it
  changed; see `EcsPeers.PeerSet.V2`).

  AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target: AmazonSSM.GetParameter`,
  `Content-Type: application/x-amz-json-1.1` and the body `{"Name": ...}`.

  The endpoint is `AWS_ENDPOINT_URL_SSM`, else `AWS_ENDPOINT_URL`, else
  `https://ssm.REGION.amazonaws.com` (`.amazonaws.com.cn` in `cn-` regions). The region
  is the `:region` option, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.

  Requests are signed with the corrected clock of `EcsPeers.AWS.Clock`: an answer that
  refuses the request for its time (`RequestTimeTooSkewed`, `InvalidSignatureException`
  "Signature expired", ...) and whose `Date` header is 5 minutes or more away sets the
  client's `clock_offset` (logged as a warning), and the request is sent again once. The
  offset stays in the returned client for every later request. A throttled read is returned at once, never
  retried here (`throttled?/1` tells it apart): the caller spaces its reads. The signed
  call itself is `EcsPeers.AWS.Request`.
  """

  alias EcsPeers.AWS.{Clock, Credentials, Env, Request}

  # The environment holds the secret key and tokens: never shown by inspect (the
  # credentials cache hides its own secrets).
  @derive {Inspect, except: [:env]}
  defstruct [
    :region,
    :endpoint,
    :env,
    :timeout,
    credentials: nil,
    container_host: nil,
    clock_offset: 0,
    # Until an AWS answer has checked the clock (EcsPeers.AWS.Credentials).
    clock_checked?: false
  ]

  @type t :: %__MODULE__{
          region: String.t() | nil,
          endpoint: String.t() | nil,
          env: %{String.t() => String.t()},
          credentials: Credentials.cache(),
          timeout: pos_integer(),
          container_host: String.t() | nil,
          clock_offset: Clock.offset(),
          clock_checked?: boolean()
        }

  @type parameter :: %{version: integer(), value: String.t()}

  # GetParameters takes at most 10 names.
  @max_names 10

  @doc """
  A client from an environment map and options (`:region`, `:timeout`,
  `:container_host`).
  """
  @spec new(%{String.t() => String.t()}, keyword()) :: t()
  def new(env, opts \\ []) do
    region = Request.region(env, opts)

    %__MODULE__{
      region: region,
      endpoint:
        Request.endpoint(env, ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"], "ssm", region),
      env: env,
      timeout:
        Keyword.get_lazy(opts, :timeout, fn -> EcsPeers.Options.default(:http_timeout) end),
      container_host: opts[:container_host]
    }
  end

  @doc """
  The client with its secrets replaced by `"[REDACTED]"` (for crash reports and
  `:sys.get_status/1`).
  """
  @spec redact(t()) :: t()
  def redact(%__MODULE__{} = client), do: redact_client(client)

  @doc false
  # For any client struct of the AWS edge (the same fields).
  def redact_client(client) do
    env =
      Map.new(client.env || %{}, fn {name, value} ->
        if name in Env.secret_names(), do: {name, "[REDACTED]"}, else: {name, value}
      end)

    %{client | env: env, credentials: Credentials.redact(client.credentials)}
  end

  @doc """
  Fetches a parameter. Returns `{:ok, %{version: v, value: s}, client}` or
  `{:error, reason, client}`; the returned client carries the credentials cache and the
  clock offset: pass it to the next call.
  """
  @spec get_parameter(t(), String.t()) :: {:ok, parameter(), t()} | {:error, term(), t()}
  def get_parameter(%__MODULE__{} = client, name) do
    Request.call(client, "ssm", "AmazonSSM.GetParameter", %{"Name" => name}, fn
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
  def get_parameters(%__MODULE__{} = client, names)
      when is_list(names) and length(names) in 1..@max_names do
    Request.call(client, "ssm", "AmazonSSM.GetParameters", %{"Names" => names}, fn
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

  @throttling_codes [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete"
  ]

  @doc """
  Whether an error from `get_parameter/2` says the account's request rate was exceeded
  (HTTP 429, or a throttling code such as `ThrottlingException`, the one Parameter
  Store answers when its shared 40 TPS are used up, or `RequestLimitExceeded`, Cloud
  Map's): the caller should read less often. Any term is accepted; an error of another
  call of a read (`{:call, operation, reason}`) is judged by its reason.
  """
  @spec throttled?(term()) :: boolean()
  def throttled?({:aws_error, 429, _type, _message}), do: true
  def throttled?({:aws_error, _status, type, _message}) when type in @throttling_codes, do: true
  def throttled?({:call, _operation, reason}), do: throttled?(reason)
  def throttled?(_reason), do: false

  @doc false
  defdelegate aws_error(status, resp), to: Request

  @doc "See `EcsPeers.AWS.Request.sanitize_message/1`."
  defdelegate sanitize_message(message), to: Request
end
