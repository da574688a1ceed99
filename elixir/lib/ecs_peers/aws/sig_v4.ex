defmodule EcsPeers.AWS.SigV4 do
  @moduledoc """
  AWS Signature Version 4, over `:crypto`.

  `sign/2` takes a request and returns its headers with `authorization`, `x-amz-date`
  and, when the credentials carry a session token, `x-amz-security-token` added. The
  steps are public so tests can check each one against AWS's published test suite:
  `canonical_request/5`, `string_to_sign/3`, `signing_key/4`, `signature/2`.

  Paths are canonicalised as for every service but S3: dot segments removed, repeated
  slashes collapsed, each segment URI-encoded (the path given is the decoded one).
  """

  @algorithm "AWS4-HMAC-SHA256"

  @typedoc "Credentials: `access_key_id`, `secret_access_key` and optional `session_token`."
  @type credentials :: %{
          required(:access_key_id) => String.t(),
          required(:secret_access_key) => String.t(),
          optional(:session_token) => String.t() | nil,
          optional(atom()) => term()
        }

  @type header :: {String.t(), String.t()}

  @doc """
  Signs a request. `request` is a map with `:method`, `:url` (the host is taken from it
  when no `host` header is given), `:headers` (a list of `{name, value}`) and `:body`.

  Options: `:credentials` (required), `:region` (required), `:service` (required),
  `:datetime` (a `DateTime`, default now).

  Returns the full header list to send, `host` included.
  """
  @spec sign(map(), keyword()) :: [header()]
  def sign(%{method: method, url: url} = request, opts) do
    creds = Keyword.fetch!(opts, :credentials)
    region = Keyword.fetch!(opts, :region)
    service = Keyword.fetch!(opts, :service)
    datetime = Keyword.get_lazy(opts, :datetime, &DateTime.utc_now/0)
    body = Map.get(request, :body, "")
    uri = URI.parse(url)
    amz_date = amz_date(datetime)

    headers =
      Map.get(request, :headers, [])
      |> put_new_header("host", host_header(uri))
      |> put_header("x-amz-date", amz_date)
      |> maybe_token(Map.get(creds, :session_token))

    creq =
      canonical_request(
        method,
        URI.decode(uri.path || "/"),
        uri.query || "",
        headers,
        hash_hex(body)
      )

    scope = scope(datetime, region, service)
    sts = string_to_sign(amz_date, scope, creq)
    key = signing_key(creds.secret_access_key, datetime, region, service)

    auth = authorization(creds.access_key_id, scope, signed_headers(headers), signature(key, sts))

    headers ++ [{"authorization", auth}]
  end

  defp maybe_token(headers, token) when is_binary(token) and token != "",
    do: put_header(headers, "x-amz-security-token", token)

  defp maybe_token(headers, _), do: headers

  defp put_new_header(headers, name, value) do
    if Enum.any?(headers, fn {k, _} -> String.downcase(k) == name end),
      do: headers,
      else: [{name, value} | headers]
  end

  defp put_header(headers, name, value) do
    Enum.reject(headers, fn {k, _} -> String.downcase(k) == name end) ++ [{name, value}]
  end

  @doc "The `host` header value for a URI: the port is kept unless it is the scheme's default."
  @spec host_header(URI.t()) :: String.t()
  def host_header(%URI{scheme: scheme, host: host, port: port}) do
    case {scheme, port} do
      {"https", 443} -> host
      {"http", 80} -> host
      {_, nil} -> host
      {_, port} -> "#{host}:#{port}"
    end
  end

  @doc "`YYYYMMDDTHHMMSSZ` for a datetime."
  @spec amz_date(DateTime.t()) :: String.t()
  def amz_date(%DateTime{} = dt) do
    dt
    |> DateTime.truncate(:second)
    |> DateTime.to_iso8601(:basic)
    |> String.replace("+0000", "Z")
  end

  @doc "The credential scope: `date/region/service/aws4_request`."
  @spec scope(DateTime.t(), String.t(), String.t()) :: String.t()
  def scope(%DateTime{} = dt, region, service),
    do: "#{date_stamp(dt)}/#{region}/#{service}/aws4_request"

  defp date_stamp(dt), do: dt |> DateTime.to_date() |> Date.to_iso8601(:basic)

  @doc """
  The canonical request. `path` is the decoded path, `query` the raw query string,
  `headers` every header to sign.
  """
  @spec canonical_request(String.t(), String.t(), String.t(), [header()], String.t()) ::
          String.t()
  def canonical_request(method, path, query, headers, payload_hash) do
    Enum.join(
      [
        String.upcase(method),
        canonical_path(path),
        canonical_query(query),
        canonical_headers(headers),
        signed_headers(headers),
        payload_hash
      ],
      "\n"
    )
  end

  @doc "The canonical URI of a decoded path."
  @spec canonical_path(String.t()) :: String.t()
  def canonical_path(path) do
    trailing? = String.ends_with?(path, "/")

    segments =
      path
      |> String.split("/", trim: true)
      |> Enum.reduce([], fn
        ".", acc -> acc
        "..", [] -> []
        "..", [_ | acc] -> acc
        segment, acc -> [segment | acc]
      end)
      |> Enum.reverse()
      |> Enum.map(&uri_encode/1)

    case segments do
      [] -> "/"
      _ -> "/" <> Enum.join(segments, "/") <> if(trailing?, do: "/", else: "")
    end
  end

  @doc "The canonical query string of a raw query string: pairs encoded, sorted bytewise."
  @spec canonical_query(String.t()) :: String.t()
  def canonical_query(""), do: ""

  def canonical_query(query) do
    query
    |> String.split("&", trim: true)
    |> Enum.map(fn pair ->
      {key, value} =
        case :binary.split(pair, "=") do
          [key, value] -> {key, value}
          [key] -> {key, ""}
        end

      {uri_encode(URI.decode(key)), uri_encode(URI.decode(value))}
    end)
    |> Enum.sort()
    |> Enum.map_join("&", fn {k, v} -> k <> "=" <> v end)
  end

  defp canonical_headers(headers) do
    headers
    |> group_headers()
    |> Enum.map(fn {name, values} -> name <> ":" <> Enum.join(values, ",") <> "\n" end)
    |> Enum.join()
  end

  @doc "The `SignedHeaders` value: lowercase header names, sorted, unique, `;`-joined."
  @spec signed_headers([header()]) :: String.t()
  def signed_headers(headers) do
    headers |> group_headers() |> Enum.map_join(";", &elem(&1, 0))
  end

  # Names lowercased; values trimmed with inner runs of spaces collapsed; repeated names
  # joined in the order they came, as AWS does.
  defp group_headers(headers) do
    headers
    |> Enum.reduce(%{}, fn {name, value}, acc ->
      value = value |> to_string() |> String.trim() |> String.replace(~r/\s+/, " ")
      Map.update(acc, String.downcase(to_string(name)), [value], &(&1 ++ [value]))
    end)
    |> Enum.sort()
  end

  @doc "The string to sign."
  @spec string_to_sign(String.t(), String.t(), String.t()) :: String.t()
  def string_to_sign(amz_date, scope, canonical_request) do
    Enum.join([@algorithm, amz_date, scope, hash_hex(canonical_request)], "\n")
  end

  @doc "The signing key for a secret, date, region and service."
  @spec signing_key(String.t(), DateTime.t(), String.t(), String.t()) :: binary()
  def signing_key(secret, %DateTime{} = dt, region, service) do
    ("AWS4" <> secret)
    |> hmac(date_stamp(dt))
    |> hmac(region)
    |> hmac(service)
    |> hmac("aws4_request")
  end

  @doc "The hex signature of a string to sign."
  @spec signature(binary(), String.t()) :: String.t()
  def signature(signing_key, string_to_sign),
    do: signing_key |> hmac(string_to_sign) |> Base.encode16(case: :lower)

  @doc "The `Authorization` header value."
  @spec authorization(String.t(), String.t(), String.t(), String.t()) :: String.t()
  def authorization(access_key_id, scope, signed_headers, signature) do
    "#{@algorithm} Credential=#{access_key_id}/#{scope}, " <>
      "SignedHeaders=#{signed_headers}, Signature=#{signature}"
  end

  @doc "Lowercase hex SHA-256."
  @spec hash_hex(iodata()) :: String.t()
  def hash_hex(data), do: :sha256 |> :crypto.hash(data) |> Base.encode16(case: :lower)

  defp hmac(key, data), do: :crypto.mac(:hmac, :sha256, key, data)

  @doc "RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~`, uppercase hex."
  @spec uri_encode(String.t()) :: String.t()
  def uri_encode(string) do
    for <<byte <- string>>, into: "" do
      if byte in ?A..?Z or byte in ?a..?z or byte in ?0..?9 or byte in ~c"-_.~" do
        <<byte>>
      else
        "%" <> Base.encode16(<<byte>>)
      end
    end
  end
end
