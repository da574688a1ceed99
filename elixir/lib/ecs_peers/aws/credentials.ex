defmodule EcsPeers.AWS.Credentials do
  @moduledoc """
  AWS credentials, from the standard places, in this order:

    1. The environment: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, with
       `AWS_SESSION_TOKEN` when set. These never expire here.
    2. The ECS container credentials endpoint (the task role):
       `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, appended to `http://169.254.170.2`, or
       `AWS_CONTAINER_CREDENTIALS_FULL_URI` (the relative one wins when both are set).
       The token in `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every fetch, it may
       rotate) or else `AWS_CONTAINER_AUTHORIZATION_TOKEN`, when set, is sent as the
       `Authorization` header. A full URI must be `https`, or `http` to a loopback
       address or to the ECS/EKS link-local hosts, as the AWS SDKs require.

  The host the relative URI is appended to can be changed (for tests) with the
  `:container_host` option of `fetch/3` or `config :ecs_peers,
  container_credentials_host: "http://127.0.0.1:PORT"`.

  Container credentials carry an `Expiration`; `fetch/3` returns a cache that holds them
  until #{div(300, 60)} minutes before that, then fetches new ones. If that refresh fails
  while the old credentials are still valid for more than 10 seconds, the old ones are
  used; expired credentials are never returned (an endpoint that hands out credentials
  already expired gets `:container_credentials_expired`), so nothing is signed with them.
  `:now` is the caller's clock: `EcsPeers.AWS.Request` passes its skew-corrected one, and
  `clock_checked?: false` until an AWS answer has checked that clock: until then,
  credentials that look expired by it are used anyway (a node clock running ahead must
  not stop every request, so that no answer could ever correct it).

  An error never holds what the endpoint answered (its body may quote keys or tokens):
  only its HTTP status, or a fixed reason.

  The environment is passed in as a map (see `EcsPeers.AWS.Env`), so tests and callers
  choose what it holds.
  """

  alias EcsPeers.AWS.Http
  alias EcsPeers.JSON

  @refresh_before_s 300
  # Credentials closer than this to their expiry are not sent: they would expire in flight.
  @usable_for_at_least_s 10
  @default_container_host "http://169.254.170.2"
  @allowed_http_hosts [
    "127.0.0.1",
    "localhost",
    "::1",
    "[::1]",
    "169.254.170.2",
    "169.254.170.23"
  ]

  @derive {Inspect, except: [:secret_access_key, :session_token]}
  defstruct [:access_key_id, :secret_access_key, :session_token, :expires_at, :source]

  @type t :: %__MODULE__{
          access_key_id: String.t(),
          secret_access_key: String.t(),
          session_token: String.t() | nil,
          expires_at: DateTime.t() | nil,
          source: :environment | :container
        }

  @typedoc "What `fetch/3` keeps between calls: the last container credentials, or nil."
  @type cache :: t() | nil

  @doc """
  Returns credentials and the cache to pass next time.

  Options: `:now` (a `DateTime`, default now), `:clock_checked?` (default true),
  `:container_host` (default `#{@default_container_host}`, for tests), `:timeout` (ms,
  default `#{EcsPeers.Options.default(:http_timeout)}`).
  """
  @spec fetch(%{String.t() => String.t()}, cache(), keyword()) ::
          {:ok, t(), cache()} | {:error, term(), cache()}
  def fetch(env, cache, opts \\ []) do
    now = Keyword.get_lazy(opts, :now, &DateTime.utc_now/0)

    case from_env(env) do
      {:ok, creds} ->
        {:ok, creds, nil}

      :none ->
        if fresh?(cache, now), do: {:ok, cache, cache}, else: refresh(env, cache, now, opts)
    end
  end

  defp from_env(env) do
    case {present(env, "AWS_ACCESS_KEY_ID"), present(env, "AWS_SECRET_ACCESS_KEY")} do
      {id, secret} when is_binary(id) and is_binary(secret) ->
        {:ok,
         %__MODULE__{
           access_key_id: id,
           secret_access_key: secret,
           session_token: present(env, "AWS_SESSION_TOKEN"),
           source: :environment
         }}

      _ ->
        :none
    end
  end

  defp fresh?(%__MODULE__{expires_at: nil}, _now), do: true

  defp fresh?(%__MODULE__{expires_at: expires_at}, now),
    do: DateTime.diff(expires_at, now) > @refresh_before_s

  defp fresh?(nil, _now), do: false

  defp refresh(env, cache, now, opts) do
    case from_container(env, opts) do
      {:ok, creds} ->
        # Before any AWS answer has checked the clock, a clock running ahead would make
        # valid credentials look expired forever: they are sent, and the answer's Date
        # corrects the clock (EcsPeers.AWS.Request) before they are judged again.
        if usable?(creds, now) or not Keyword.get(opts, :clock_checked?, true),
          do: {:ok, creds, creds},
          else: {:error, :container_credentials_expired, cache}

      {:error, reason} ->
        if usable?(cache, now),
          do: {:ok, cache, cache},
          else: {:error, reason, cache}
    end
  end

  defp usable?(%__MODULE__{expires_at: %DateTime{} = expires_at}, now),
    do: DateTime.diff(expires_at, now) > @usable_for_at_least_s

  defp usable?(_creds, _now), do: false

  defp from_container(env, opts) do
    with {:ok, url} <- container_url(env, opts),
         {:ok, headers} <- container_headers(env),
         {:ok, 200, body} <- get(url, headers, opts),
         {:ok, decoded} <- decode(body) do
      parse(decoded)
    else
      # Not the body: an endpoint's error page may quote the token it was sent.
      {:ok, status, _body} ->
        {:error, {:container_credentials_http, status}}

      {:error, _} = error ->
        error
    end
  end

  defp get(url, headers, opts) do
    timeout = Keyword.get_lazy(opts, :timeout, fn -> EcsPeers.Options.default(:http_timeout) end)

    case Http.request(:get, url, headers, nil, timeout: timeout) do
      {:ok, status, _headers, body} -> {:ok, status, body}
      {:error, reason} -> {:error, {:container_credentials_unreachable, reason}}
    end
  end

  defp decode(body) do
    case JSON.decode(body) do
      {:ok, decoded} -> {:ok, decoded}
      {:error, _} -> {:error, :container_credentials_not_json}
    end
  end

  defp container_url(env, opts) do
    relative = present(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = present(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")

    cond do
      relative ->
        host =
          Keyword.get_lazy(opts, :container_host, fn ->
            Application.get_env(:ecs_peers, :container_credentials_host, @default_container_host)
          end)

        {:ok, host <> relative}

      full ->
        check_full_uri(full)

      true ->
        {:error, :no_credentials}
    end
  end

  defp check_full_uri(full) do
    case URI.parse(full) do
      %URI{scheme: "https", host: host} when is_binary(host) ->
        {:ok, full}

      %URI{scheme: "http", host: host} when host in @allowed_http_hosts ->
        {:ok, full}

      _ ->
        {:error, {:container_credentials_uri_not_allowed, full}}
    end
  end

  defp container_headers(env) do
    file = present(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    token = present(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")

    cond do
      file ->
        case File.read(file) do
          {:ok, contents} -> {:ok, [{"authorization", String.trim(contents)}]}
          {:error, reason} -> {:error, {:authorization_token_file, file, reason}}
        end

      token ->
        {:ok, [{"authorization", token}]}

      true ->
        {:ok, []}
    end
  end

  defp parse(%{"AccessKeyId" => id, "SecretAccessKey" => secret} = body)
       when is_binary(id) and is_binary(secret) do
    with {:ok, expires_at} <- expiration(body["Expiration"]) do
      {:ok,
       %__MODULE__{
         access_key_id: id,
         secret_access_key: secret,
         session_token: body["Token"],
         expires_at: expires_at,
         source: :container
       }}
    end
  end

  defp parse(_), do: {:error, :container_credentials_malformed}

  defp expiration(text) when is_binary(text) do
    case DateTime.from_iso8601(text) do
      {:ok, dt, _offset} -> {:ok, dt}
      {:error, _} -> {:error, :container_credentials_bad_expiration}
    end
  end

  defp expiration(_), do: {:error, :container_credentials_bad_expiration}

  @doc """
  A fixed sentence for an error of `fetch/3`, for logs: a status, a path or a reason
  code, never anything the endpoint sent.
  """
  @spec describe(term()) :: String.t()
  def describe(:no_credentials),
    do:
      "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run in an ECS task with a task role"

  def describe({:container_credentials_http, status}),
    do: "the container credentials endpoint answered HTTP #{status}"

  def describe({:container_credentials_unreachable, reason}),
    do: "cannot reach the container credentials endpoint (#{inspect(reason, limit: 5)})"

  def describe(:container_credentials_not_json),
    do: "the container credentials endpoint answered something that is not JSON"

  def describe(:container_credentials_malformed),
    do: "the container credentials endpoint answered without AccessKeyId/SecretAccessKey"

  def describe(:container_credentials_bad_expiration),
    do: "the container credentials endpoint answered without a valid Expiration"

  def describe(:container_credentials_expired),
    do:
      "the container credentials endpoint handed out credentials that have expired (check the clock)"

  def describe({:container_credentials_uri_not_allowed, _uri}),
    do:
      "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or ECS/EKS link-local host"

  def describe({:authorization_token_file, path, reason}),
    do: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE #{path} (#{inspect(reason)})"

  def describe(other), do: "could not get AWS credentials: #{inspect(other, limit: 5)}"

  @doc false
  # The credentials with the secret key and session token replaced by "[REDACTED]".
  @spec redact(cache()) :: cache()
  def redact(%__MODULE__{} = creds),
    do: %{creds | secret_access_key: "[REDACTED]", session_token: "[REDACTED]"}

  def redact(nil), do: nil

  defp present(env, name) do
    case Map.get(env, name) do
      value when is_binary(value) and value != "" -> value
      _ -> nil
    end
  end
end
