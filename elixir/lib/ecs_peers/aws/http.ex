defmodule EcsPeers.AWS.Http do
  @moduledoc false
  # One HTTP request over :httpc (inets). HTTPS is verified against the system CA store
  # with hostname checking and SNI; plain HTTP is for loopback test servers and the ECS
  # credentials endpoint.

  @spec request(:get | :post, String.t(), [{String.t(), String.t()}], binary() | nil, keyword()) ::
          {:ok, non_neg_integer(), [{String.t(), String.t()}], binary()} | {:error, term()}
  def request(method, url, headers, body, opts \\ []) do
    timeout = Keyword.get_lazy(opts, :timeout, fn -> EcsPeers.Options.default(:http_timeout) end)
    uri = URI.parse(url)

    with :ok <- ensure_started(uri.scheme),
         {:ok, ssl_opts} <- ssl(uri) do
      # httpc adds host and content-length itself; content-type comes from the request tuple.
      {content_type, headers} = split_content_type(headers)
      headers = for {k, v} <- headers, String.downcase(k) != "host", do: {c(k), c(v)}

      request =
        case method do
          :get -> {c(url), headers}
          :post -> {c(url), headers, c(content_type), body || ""}
        end

      http_opts = [timeout: timeout, connect_timeout: timeout, autoredirect: false] ++ ssl_opts

      case :httpc.request(method, request, http_opts, body_format: :binary) do
        {:ok, {{_version, status, _reason}, resp_headers, resp_body}} ->
          {:ok, status, for({k, v} <- resp_headers, do: {to_string(k), to_string(v)}), resp_body}

        {:error, reason} ->
          {:error, reason}
      end
    end
  end

  defp c(string), do: String.to_charlist(string)

  defp split_content_type(headers) do
    {ct, rest} = Enum.split_with(headers, fn {k, _} -> String.downcase(k) == "content-type" end)

    case ct do
      [{_, value} | _] -> {value, rest}
      [] -> {"application/octet-stream", rest}
    end
  end

  defp ensure_started("https") do
    with {:ok, _} <- Application.ensure_all_started(:ssl),
         {:ok, _} <- Application.ensure_all_started(:inets),
         do: :ok
  end

  defp ensure_started(_scheme) do
    with {:ok, _} <- Application.ensure_all_started(:inets), do: :ok
  end

  defp ssl(%URI{scheme: "https", host: host}) do
    with {:ok, opts} <- tls_options(host), do: {:ok, [ssl: opts]}
  end

  defp ssl(_uri), do: {:ok, []}

  @doc false
  # `{:error, {:no_ca_store, reason}}` when the system has no CA certificates
  # (`:public_key.cacerts_get/0` raises on images without ca-certificates).
  @spec tls_options(String.t(), function()) :: {:ok, keyword()} | {:error, term()}
  def tls_options(host, cacerts_get \\ &:public_key.cacerts_get/0) do
    case load_cacerts(cacerts_get) do
      {:ok, cacerts} -> {:ok, tls_options_with(host, cacerts)}
      {:error, reason} -> {:error, {:no_ca_store, reason}}
    end
  end

  defp load_cacerts(cacerts_get) do
    case cacerts_get.() do
      [_ | _] = cacerts -> {:ok, cacerts}
      other -> {:error, {:no_certificates, other}}
    end
  rescue
    e -> {:error, Exception.message(e)}
  catch
    kind, reason -> {:error, {kind, reason}}
  end

  defp tls_options_with(host, cacerts) do
    [
      verify: :verify_peer,
      cacerts: cacerts,
      server_name_indication: String.to_charlist(host),
      customize_hostname_check: [
        match_fun: :public_key.pkix_verify_hostname_match_fun(:https)
      ],
      depth: 4
    ]
  end
end
