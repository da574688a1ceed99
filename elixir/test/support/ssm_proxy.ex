defmodule EcsPeers.Test.SsmProxy do
  @moduledoc """
  A loopback HTTP proxy in front of moto_server playing what moto does not: AWS's clock
  and its throttling. moto neither checks a request's signing time nor throttles.

  The proxy has its own clock, the real one shifted by `:shift_ms`. Like AWS, it
  refuses a request whose `x-amz-date` is more than 5 minutes away from that clock with
  `400 InvalidSignatureException` ("Signature expired: ..."), and stamps every answer's
  `Date` header with its clock. Other requests go to moto byte for byte (the `host`
  header moto checks the signature with stays the proxy's). In `:throttle` mode every
  request is answered `400 ThrottlingException`, as Parameter Store does past its quota.

      proxy = SsmProxy.start!(moto.url, shift_ms: 15 * 60_000)
      proxy.url                    #=> "http://127.0.0.1:PORT"
      SsmProxy.requests(proxy)     #=> [%{amz_date: "20260101T120000Z", answered: :skewed}, ...]
  """

  defstruct [:url, :agent, :listener]

  @tolerance_s 5 * 60

  @doc "Starts the proxy, linked to the caller. Options: `:shift_ms` (default 0), `:mode`."
  def start!(upstream_url, opts \\ []) do
    %URI{port: upstream_port} = URI.parse(upstream_url)

    {:ok, listener} =
      :gen_tcp.listen(0, [:binary, ip: {127, 0, 0, 1}, active: false, reuseaddr: true])

    {:ok, port} = :inet.port(listener)

    {:ok, agent} =
      Agent.start_link(fn ->
        %{
          shift_ms: Keyword.get(opts, :shift_ms, 0),
          mode: Keyword.get(opts, :mode, :forward),
          requests: []
        }
      end)

    pid = spawn_link(fn -> accept_loop(listener, agent, upstream_port) end)
    :ok = :gen_tcp.controlling_process(listener, pid)
    %__MODULE__{url: "http://127.0.0.1:#{port}", agent: agent, listener: listener}
  end

  @doc "The requests seen so far, oldest first: their `x-amz-date` and how they were answered."
  def requests(%__MODULE__{agent: agent}),
    do: Agent.get(agent, &Enum.reverse(&1.requests))

  @doc "Sets `:shift_ms` or `:mode`."
  def set(%__MODULE__{agent: agent}, key, value) when key in [:shift_ms, :mode],
    do: Agent.update(agent, &Map.put(&1, key, value))

  defp accept_loop(listener, agent, upstream_port) do
    case :gen_tcp.accept(listener) do
      {:ok, socket} ->
        serve(socket, agent, upstream_port)
        accept_loop(listener, agent, upstream_port)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, agent, upstream_port) do
    with {:ok, head, body} <- read_request(socket) do
      %{shift_ms: shift_ms, mode: mode} = Agent.get(agent, & &1)
      now = DateTime.add(DateTime.utc_now(), shift_ms, :millisecond)
      amz_date = header(head, "x-amz-date")

      {answered, response} =
        cond do
          mode == :throttle ->
            {:throttled, error(now, "ThrottlingException", "Rate exceeded")}

          skewed?(amz_date, now) ->
            {:skewed, error(now, "InvalidSignatureException", expired_message(amz_date, now))}

          true ->
            {:forwarded, forward(head, body, upstream_port, now)}
        end

      Agent.update(agent, fn state ->
        %{
          state
          | requests: [
              %{amz_date: amz_date, target: header(head, "x-amz-target"), answered: answered}
              | state.requests
            ]
        }
      end)

      :gen_tcp.send(socket, response)
    end

    :gen_tcp.close(socket)
  end

  defp read_request(socket, acc \\ "") do
    case :binary.split(acc, "\r\n\r\n") do
      [head, rest] ->
        length = String.to_integer(header(head, "content-length") || "0")
        read_body(socket, head, rest, length)

      [_] ->
        case :gen_tcp.recv(socket, 0, 5_000) do
          {:ok, data} -> read_request(socket, acc <> data)
          error -> error
        end
    end
  end

  defp read_body(_socket, head, body, length) when byte_size(body) >= length,
    do: {:ok, head, body}

  defp read_body(socket, head, body, length) do
    case :gen_tcp.recv(socket, 0, 5_000) do
      {:ok, data} -> read_body(socket, head, body <> data, length)
      error -> error
    end
  end

  defp header(head, name) do
    head
    |> String.split("\r\n")
    |> Enum.find_value(fn line ->
      case :binary.split(line, ":") do
        [k, v] -> if String.downcase(k) == name, do: String.trim(v)
        _ -> nil
      end
    end)
  end

  defp skewed?(nil, _now), do: false

  defp skewed?(amz_date, now) do
    case parse_amz_date(amz_date) do
      {:ok, signed_at} -> abs(DateTime.diff(signed_at, now)) > @tolerance_s
      :error -> true
    end
  end

  defp parse_amz_date(
         <<y::binary-4, mo::binary-2, d::binary-2, "T", h::binary-2, mi::binary-2, s::binary-2,
           "Z">>
       ) do
    case DateTime.from_iso8601("#{y}-#{mo}-#{d}T#{h}:#{mi}:#{s}Z") do
      {:ok, dt, 0} -> {:ok, dt}
      _ -> :error
    end
  end

  defp parse_amz_date(_), do: :error

  # AWS's wording for SSM (JSON 1.1): "Signature expired: X is now earlier than Y (Z - 5 min.)".
  defp expired_message(amz_date, now) do
    limit = amz(DateTime.add(now, -@tolerance_s, :second))
    "Signature expired: #{amz_date} is now earlier than #{limit} (#{amz(now)} - 5 min.)"
  end

  defp amz(dt), do: Calendar.strftime(dt, "%Y%m%dT%H%M%SZ")

  defp error(now, type, message) do
    body = ~s({"__type":"#{type}","message":"#{message}"})

    [
      "HTTP/1.1 400 Bad Request\r\n",
      "date: #{http_date(now)}\r\n",
      "content-type: application/x-amz-json-1.1\r\n",
      "content-length: #{byte_size(body)}\r\n",
      "connection: close\r\n\r\n",
      body
    ]
  end

  defp http_date(dt), do: Calendar.strftime(dt, "%a, %d %b %Y %H:%M:%S GMT")

  # The request goes to moto unchanged but for `connection: close` (not signed), so the
  # answer ends when moto closes; the answer comes back with the proxy's Date.
  defp forward(head, body, upstream_port, now) do
    {:ok, up} = :gen_tcp.connect({127, 0, 0, 1}, upstream_port, [:binary, active: false], 5_000)
    :ok = :gen_tcp.send(up, [close_connection(head), "\r\n\r\n", body])
    response = recv_all(up, "")
    :gen_tcp.close(up)
    restamp(response, now)
  end

  defp close_connection(head) do
    [request_line | lines] = String.split(head, "\r\n")
    lines = Enum.reject(lines, &String.match?(&1, ~r/^(connection|keep-alive|te):/i))
    Enum.join([request_line | lines] ++ ["connection: close"], "\r\n")
  end

  defp recv_all(socket, acc) do
    case :gen_tcp.recv(socket, 0, 10_000) do
      {:ok, data} -> recv_all(socket, acc <> data)
      {:error, _closed} -> acc
    end
  end

  defp restamp(response, now) do
    [head, body] = :binary.split(response, "\r\n\r\n")
    [status_line | lines] = String.split(head, "\r\n")
    lines = Enum.reject(lines, &String.match?(&1, ~r/^date:/i))
    Enum.join([status_line, "date: #{http_date(now)}" | lines], "\r\n") <> "\r\n\r\n" <> body
  end
end
