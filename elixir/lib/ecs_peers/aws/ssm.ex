defmodule EcsPeers.AWS.SSM do
  @moduledoc """
  The one SSM call ecs-peers makes: `GetParameter`, signed with SigV4.

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
  retried here (`throttled?/1` tells it apart): the caller spaces its reads.
  """

  require Logger

  alias EcsPeers.AWS.{Clock, Credentials, Env, Http, SigV4}
  alias EcsPeers.JSON

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

  @doc """
  A client from an environment map and options (`:region`, `:timeout`,
  `:container_host`).
  """
  @spec new(%{String.t() => String.t()}, keyword()) :: t()
  def new(env, opts \\ []) do
    region = opts[:region] || env["AWS_REGION"] || env["AWS_DEFAULT_REGION"]
    region = if region in [nil, ""], do: nil, else: region

    %__MODULE__{
      region: region,
      endpoint: endpoint(env, region),
      env: env,
      timeout:
        Keyword.get_lazy(opts, :timeout, fn -> EcsPeers.Options.default(:http_timeout) end),
      container_host: opts[:container_host]
    }
  end

  defp endpoint(env, region) do
    custom =
      Enum.find_value(["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"], fn name ->
        if env[name] not in [nil, ""], do: env[name]
      end)

    cond do
      custom -> String.trim_trailing(custom, "/")
      region == nil -> nil
      String.starts_with?(region, "cn-") -> "https://ssm.#{region}.amazonaws.com.cn"
      true -> "https://ssm.#{region}.amazonaws.com"
    end
  end

  @doc """
  The client with its secrets replaced by `"[REDACTED]"` (for crash reports and
  `:sys.get_status/1`).
  """
  @spec redact(t()) :: t()
  def redact(%__MODULE__{} = client) do
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
  def get_parameter(%__MODULE__{region: nil} = client, _name), do: {:error, :no_region, client}
  def get_parameter(%__MODULE__{} = client, name), do: get_parameter(client, name, 1)

  defp get_parameter(client, name, skew_retries) do
    cred_opts =
      [
        timeout: client.timeout,
        now: Clock.now(client.clock_offset),
        clock_checked?: client.clock_checked?
      ] ++
        if client.container_host, do: [container_host: client.container_host], else: []

    case Credentials.fetch(client.env, client.credentials, cred_opts) do
      {:ok, creds, cache} ->
        client = %{client | credentials: cache}

        case call(client, creds, name) do
          {:ok, parameter, client} ->
            {:ok, parameter, client}

          {:skewed, _reason, client} when skew_retries > 0 ->
            get_parameter(client, name, skew_retries - 1)

          {_error_or_skewed, reason, client} ->
            {:error, reason, client}
        end

      {:error, reason, cache} ->
        {:error, {:credentials, reason}, %{client | credentials: cache}}
    end
  end

  # `{:skewed, reason, client}` when AWS refused the request for its time and its Date
  # header corrected the client's clock: worth sending again.
  defp call(client, creds, name) do
    body = JSON.encode(%{"Name" => name})

    request = %{
      method: "POST",
      url: client.endpoint <> "/",
      headers: [
        {"content-type", "application/x-amz-json-1.1"},
        {"x-amz-target", "AmazonSSM.GetParameter"}
      ],
      body: body
    }

    headers =
      SigV4.sign(request,
        credentials: creds,
        region: client.region,
        service: "ssm",
        datetime: Clock.now(client.clock_offset)
      )

    case Http.request(:post, request.url, headers, body, timeout: client.timeout) do
      {:ok, 200, resp_headers, resp} ->
        {client, _corrected?} = learn_clock(client, resp_headers)

        case parse(resp) do
          {:ok, parameter} -> {:ok, parameter, client}
          {:error, reason} -> {:error, reason, client}
        end

      {:ok, status, resp_headers, resp} ->
        reason = aws_error(status, resp)
        {client, corrected?} = learn_clock(client, resp_headers)
        {if(corrected? and Clock.skew_error?(reason), do: :skewed, else: :error), reason, client}

      {:error, reason} ->
        {:error, {:unreachable, client.endpoint, reason}, client}
    end
  end

  # As the AWS SDKs do, every answer's Date header may correct the clock, not only errors.
  defp learn_clock(client, headers) do
    client = %{client | clock_checked?: true}

    case Clock.offset_from(headers, client.clock_offset) do
      {:corrected, offset} ->
        log_clock(client.endpoint, offset)
        {%{client | clock_offset: offset}, true}

      :unchanged ->
        {client, false}
    end
  end

  # Rare (only a change of 5 minutes or more), and worth an operator's look: a node whose
  # clock is that far off has other troubles than SigV4.
  defp log_clock(endpoint, offset) do
    seconds = div(abs(offset), 1000)
    side = if offset > 0, do: "behind", else: "ahead of"

    Logger.warning(
      "[ecs_peers] this node's clock is about #{seconds}s #{side} AWS's (the Date of " <>
        "#{endpoint}): signing requests with the corrected time; check the node's clock (NTP)"
    )
  end

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
  Store answers when its shared 40 TPS are used up): the caller should read less often.
  Any term is accepted.
  """
  @spec throttled?(term()) :: boolean()
  def throttled?({:aws_error, 429, _type, _message}), do: true
  def throttled?({:aws_error, _status, type, _message}) when type in @throttling_codes, do: true
  def throttled?(_reason), do: false

  defp parse(resp) do
    case JSON.decode(resp) do
      {:ok, %{"Parameter" => %{"Value" => value, "Version" => version}}}
      when is_binary(value) and is_integer(version) ->
        {:ok, %{version: version, value: value}}

      _ ->
        {:error, :unexpected_response}
    end
  end

  @doc false
  # `{:aws_error, status, type, message}` from a JSON 1.1 error body (the type after any
  # `#`), or the start of whatever else came back. The message is sanitized
  # (`sanitize_message/1`): AWS signature errors embed the canonical request.
  def aws_error(status, resp) do
    case JSON.decode(resp) do
      {:ok, %{"__type" => type} = body} when is_binary(type) ->
        type = type |> String.split("#") |> List.last()
        message = body["message"] || body["Message"] || ""
        {:aws_error, status, type, sanitize_message(message)}

      _ ->
        type =
          case Regex.run(~r/<Code>([^<]+)<\/Code>/, resp) do
            [_, code] -> code
            nil -> "HTTP #{status}"
          end

        message =
          case Regex.run(~r/<Message>([^<]*)<\/Message>/, resp) do
            [_, message] -> message
            nil -> resp
          end

        {:aws_error, status, sanitize_message(type), sanitize_message(message)}
    end
  end

  @max_message_bytes 200

  @doc """
  Makes an AWS error message safe and short enough to log: the part before the first
  blank line (`SignatureDoesNotMatch` and `InvalidSignatureException` append the
  canonical request, with `x-amz-date` and `x-amz-security-token`, after one), anything
  from `x-amz-security-token` on replaced by `[REDACTED]`, control characters turned
  into spaces, invalid UTF-8 dropped, at most #{@max_message_bytes} bytes. A message that
  is not a string is inspected first.
  """
  @spec sanitize_message(term()) :: String.t()
  def sanitize_message(message) when is_binary(message) do
    message
    |> :binary.split("\n\n")
    |> hd()
    |> redact_token()
    |> String.replace(~r/[\x00-\x1f\x7f]+/, " ")
    |> valid_utf8()
    |> String.trim()
    |> cap(@max_message_bytes)
  end

  def sanitize_message(message), do: message |> inspect(limit: 10) |> sanitize_message()

  defp redact_token(message) do
    case Regex.run(~r/x-amz-security-token/i, message, return: :index) do
      [{at, _}] -> binary_part(message, 0, at) <> "[REDACTED]"
      nil -> message
    end
  end

  defp valid_utf8(text) do
    if String.valid?(text),
      do: text,
      else: text |> String.chunk(:valid) |> Enum.filter(&String.valid?/1) |> Enum.join()
  end

  defp cap(text, max) when byte_size(text) <= max, do: text
  defp cap(text, max), do: trim_partial(binary_part(text, 0, max)) <> "..."

  # Drops the bytes of a character cut in half by the cap.
  defp trim_partial(text) do
    if String.valid?(text),
      do: text,
      else: trim_partial(binary_part(text, 0, byte_size(text) - 1))
  end
end
