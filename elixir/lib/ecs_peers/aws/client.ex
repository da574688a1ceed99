defmodule EcsPeers.AWS.Client do
  @moduledoc """
  A client of one AWS JSON 1.1 API, as `EcsPeers.AWS.Request` calls it: which API
  (`:service`, the SigV4 signing name; `:target_prefix` of its `X-Amz-Target`;
  `:content_type`), where (`:region`, `:endpoint`), with what (`:env`, the AWS
  variables of `EcsPeers.AWS.Env`; `:credentials`, their cache), how long a call may
  take (`:timeout`), and what the answers taught it (`:clock_offset`, `:clock_checked?`).

  Each service module (`EcsPeers.AWS.SSM`, `EcsPeers.AWS.CloudMap`) makes its clients
  with `new/3` from its API's description; every call returns the client to use next,
  with the credentials cache and the clock offset of that call.

    * The region is the `:region` option, else `AWS_REGION`, else `AWS_DEFAULT_REGION`
      (`nil` without one: every call then fails with `:no_region`).
    * The endpoint is the API's own variable (e.g. `AWS_ENDPOINT_URL_SSM`), else
      `AWS_ENDPOINT_URL`, as the AWS SDKs read them, used as given but for a trailing
      `/`; else `https://HOST.REGION.amazonaws.com` (`.amazonaws.com.cn` in `cn-`
      regions).
    * The timeout is the `:timeout` option, else the `:http_timeout` default of
      `EcsPeers.Options`; `:container_host` is a test seam of `EcsPeers.AWS.Credentials`.
  """

  alias EcsPeers.AWS.{Clock, Credentials, Env}

  # The environment holds the secret key and tokens: never shown by inspect (the
  # credentials cache hides its own secrets).
  @derive {Inspect, except: [:env]}
  @enforce_keys [:service, :target_prefix, :content_type]
  defstruct [
    :service,
    :target_prefix,
    :content_type,
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
          service: String.t(),
          target_prefix: String.t(),
          content_type: String.t(),
          region: String.t() | nil,
          endpoint: String.t() | nil,
          env: %{String.t() => String.t()},
          credentials: Credentials.cache(),
          timeout: pos_integer(),
          container_host: String.t() | nil,
          clock_offset: Clock.offset(),
          clock_checked?: boolean()
        }

  @typedoc """
  What a service module says of its API: the signing name, the target prefix and the
  content type of its calls, its own variable naming a custom endpoint, and the host of
  its regional endpoint.
  """
  @type api :: %{
          service: String.t(),
          target_prefix: String.t(),
          content_type: String.t(),
          endpoint_variable: String.t(),
          host: String.t()
        }

  @doc """
  A client of `api` from an environment map (`EcsPeers.AWS.Env.build/1`) and options
  (`:region`, `:timeout`, `:container_host`; see the module doc).
  """
  @spec new(%{String.t() => String.t()}, api(), keyword()) :: t()
  def new(env, api, opts \\ []) do
    region = region(env, opts)

    %__MODULE__{
      service: api.service,
      target_prefix: api.target_prefix,
      content_type: api.content_type,
      region: region,
      endpoint: endpoint(env, [api.endpoint_variable, "AWS_ENDPOINT_URL"], api.host, region),
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
  def redact(%__MODULE__{} = client) do
    env =
      Map.new(client.env || %{}, fn {name, value} ->
        if name in Env.secret_names(), do: {name, "[REDACTED]"}, else: {name, value}
      end)

    %{client | env: env, credentials: Credentials.redact(client.credentials)}
  end

  defp region(env, opts) do
    region = opts[:region] || env["AWS_REGION"] || env["AWS_DEFAULT_REGION"]
    if region in [nil, ""], do: nil, else: region
  end

  defp endpoint(env, variables, host, region) do
    custom =
      Enum.find_value(variables, fn name -> if env[name] not in [nil, ""], do: env[name] end)

    cond do
      custom -> String.trim_trailing(custom, "/")
      region == nil -> nil
      String.starts_with?(region, "cn-") -> "https://#{host}.#{region}.amazonaws.com.cn"
      true -> "https://#{host}.#{region}.amazonaws.com"
    end
  end
end
