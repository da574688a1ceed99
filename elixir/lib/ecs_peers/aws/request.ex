defmodule EcsPeers.AWS.Request do
  @moduledoc """
  One signed AWS JSON 1.1 call (`POST /` with `X-Amz-Target`) of an
  `EcsPeers.AWS.Client`, shared by the SSM and Cloud Map edges: credentials from
  `EcsPeers.AWS.Credentials`, a SigV4 signature made with the corrected clock of
  `EcsPeers.AWS.Clock`, one retry when AWS refused the request for its time and its
  `Date` header corrected the clock (logged as a warning), and AWS errors as
  `{:aws_error, status, type, message}` with the message sanitized
  (`sanitize_message/1`).

  The returned client carries the credentials cache and the clock offset: pass it to the
  next call. A throttled call is returned at once, never retried here
  (`EcsPeers.AWS.Errors.throttled?/1` tells it apart): the caller spaces its reads.
  """

  require Logger

  alias EcsPeers.AWS.{Client, Clock, Credentials, Http, SigV4}
  alias EcsPeers.JSON

  @doc """
  Calls `action` (e.g. `"GetParameter"`) of the client's API with the JSON `payload`;
  `parse` turns the decoded 200 answer into `{:ok, result}` or `{:error, reason}`.
  Returns `{:ok, result, client}` or `{:error, reason, client}`.
  """
  @spec call(Client.t(), String.t(), map(), (term() -> {:ok, term()} | {:error, term()})) ::
          {:ok, term(), Client.t()} | {:error, term(), Client.t()}
  def call(%Client{region: nil} = client, _action, _payload, _parse),
    do: {:error, :no_region, client}

  def call(%Client{} = client, action, payload, parse),
    do: call(client, {client.target_prefix <> action, JSON.encode(payload), parse}, 1)

  defp call(client, request, skew_retries) do
    cred_opts =
      [
        timeout: client.timeout,
        now: Clock.now(client.clock_offset),
        clock_checked?: client.clock_checked?
      ] ++
        if client.container_host, do: [container_host: client.container_host], else: []

    case Credentials.fetch(client.env, client.credentials, cred_opts) do
      {:ok, creds, cache} ->
        case send_signed(%{client | credentials: cache}, creds, request) do
          {:skewed, _reason, client} when skew_retries > 0 -> call(client, request, 0)
          {:ok, result, client} -> {:ok, result, client}
          {_error_or_skewed, reason, client} -> {:error, reason, client}
        end

      {:error, reason, cache} ->
        {:error, {:credentials, reason}, %{client | credentials: cache}}
    end
  end

  # `{:skewed, reason, client}` when AWS refused the request for its time and its Date
  # header corrected the client's clock: worth sending again.
  defp send_signed(client, creds, {target, body, parse}) do
    request = %{
      method: "POST",
      url: client.endpoint <> "/",
      headers: [
        {"content-type", client.content_type},
        {"x-amz-target", target}
      ],
      body: body
    }

    headers =
      SigV4.sign(request,
        credentials: creds,
        region: client.region,
        service: client.service,
        datetime: Clock.now(client.clock_offset)
      )

    case Http.request(:post, request.url, headers, body, timeout: client.timeout) do
      {:ok, 200, resp_headers, resp} ->
        {client, _corrected?} = learn_clock(client, resp_headers)

        case JSON.decode(resp) do
          {:ok, decoded} ->
            case parse.(decoded) do
              {:ok, result} -> {:ok, result, client}
              {:error, reason} -> {:error, reason, client}
            end

          {:error, _} ->
            {:error, :unexpected_response, client}
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
