defmodule EcsPeers.Test.FakeCredentialsServer do
  @moduledoc """
  A tiny HTTP/1.1 server on a loopback port playing the ECS container credentials
  endpoint. Each request is answered with the next of the queued responses (the last
  one repeats) and recorded with its path and headers.

      server = FakeCredentialsServer.start!([{200, body1}, {200, body2}])
      server.url        #=> "http://127.0.0.1:PORT"
      FakeCredentialsServer.requests(server)  #=> [%{path: "/creds", headers: %{...}}]
  """

  defstruct [:port, :url, :pid, :listener]

  @doc "Starts the server, linked to the caller. `responses` are `{status, body}` tuples."
  def start!(responses) when is_list(responses) and responses != [] do
    {:ok, listener} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        packet: :raw,
        reuseaddr: true
      ])

    {:ok, port} = :inet.port(listener)
    {:ok, agent} = Agent.start_link(fn -> %{responses: responses, requests: []} end)
    pid = spawn_link(fn -> accept_loop(listener, agent) end)
    :ok = :gen_tcp.controlling_process(listener, pid)

    %__MODULE__{
      port: port,
      url: "http://127.0.0.1:#{port}",
      pid: {pid, agent},
      listener: listener
    }
  end

  @doc "The requests received so far, oldest first."
  def requests(%__MODULE__{pid: {_pid, agent}}) do
    Agent.get(agent, fn state -> Enum.reverse(state.requests) end)
  end

  @doc "Replaces the queued responses."
  def respond_with(%__MODULE__{pid: {_pid, agent}}, responses) do
    Agent.update(agent, &%{&1 | responses: responses})
  end

  @doc "A credentials document as the ECS endpoint returns it."
  def body(id, secret, expiration, token \\ "session-token") do
    fields =
      [
        ~s("AccessKeyId":"#{id}"),
        ~s("SecretAccessKey":"#{secret}"),
        ~s("Expiration":"#{DateTime.to_iso8601(expiration)}"),
        ~s("RoleArn":"arn:aws:iam::123456789012:role/task")
      ] ++ if(token, do: [~s("Token":"#{token}")], else: [])

    "{" <> Enum.join(fields, ",") <> "}"
  end

  defp accept_loop(listener, agent) do
    case :gen_tcp.accept(listener) do
      {:ok, socket} ->
        serve(socket, agent)
        accept_loop(listener, agent)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, agent) do
    with {:ok, head} <- read_head(socket, ""),
         [request_line | header_lines] <- String.split(head, "\r\n", trim: true),
         [_method, path | _] <- String.split(request_line, " ") do
      headers =
        Map.new(header_lines, fn line ->
          [k, v] = :binary.split(line, ":")
          {String.downcase(k), String.trim(v)}
        end)

      {status, body} =
        Agent.get_and_update(agent, fn state ->
          [next | rest] = state.responses
          rest = if rest == [], do: [next], else: rest

          {next,
           %{
             state
             | responses: rest,
               requests: [%{path: path, headers: headers} | state.requests]
           }}
        end)

      :gen_tcp.send(socket, [
        "HTTP/1.1 #{status} X\r\n",
        "content-type: application/json\r\n",
        "content-length: #{byte_size(body)}\r\n",
        "connection: close\r\n\r\n",
        body
      ])
    end

    :gen_tcp.close(socket)
  end

  defp read_head(socket, acc) do
    if String.contains?(acc, "\r\n\r\n") do
      {:ok, acc |> :binary.split("\r\n\r\n") |> hd()}
    else
      case :gen_tcp.recv(socket, 0, 5_000) do
        {:ok, data} -> read_head(socket, acc <> data)
        error -> error
      end
    end
  end
end
