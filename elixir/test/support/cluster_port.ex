defmodule EcsPeers.Test.ClusterPort do
  @moduledoc """
  One OS process of the cluster tests (a BEAM node, moto_server, the moto helper), run
  inside a network namespace through a Port and spoken to with lines.

  The process's stdout and stderr are read line by line. Lines starting with `@@` are
  replies of its line protocol; every other line is kept (the last #{500}) as output to
  show when a test fails. `request/3` writes one command line to its stdin and waits for
  the next reply; `await_reply/2` waits without writing.

  Stopping the server (normally by ExUnit's test supervisor) closes the Port, which
  closes the process's stdin (the BEAM node and the helper exit on EOF), then sends
  SIGTERM to its OS pid. `EcsPeers.Test.NetNS.destroy/1` kills whatever is left.
  """
  use GenServer

  @keep 500

  @doc """
  Options: `:ns` (namespace), `:argv` (command and arguments run inside it), `:env`
  (list of `{name, value}` strings; value `false` unsets), `:label` (shown in errors).
  """
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :id, {__MODULE__, Keyword.fetch!(opts, :label)}),
      start: {__MODULE__, :start_link, [opts]},
      restart: :temporary,
      shutdown: 5_000
    }
  end

  @doc "Writes `line` and returns the payload of the next `@@` reply."
  @spec request(GenServer.server(), String.t(), timeout()) :: {:ok, String.t()} | {:error, term()}
  def request(server, line, timeout \\ 10_000),
    do: GenServer.call(server, {:request, line, timeout}, :infinity)

  @doc "Waits for the next `@@` reply without writing anything."
  @spec await_reply(GenServer.server(), timeout()) :: {:ok, String.t()} | {:error, term()}
  def await_reply(server, timeout),
    do: GenServer.call(server, {:request, nil, timeout}, :infinity)

  @doc "The process's recent output lines, joined, for failure messages."
  @spec output(GenServer.server()) :: String.t()
  def output(server) do
    GenServer.call(server, :output)
  catch
    :exit, _ -> "(process gone)"
  end

  @doc "The OS pid, or nil once it has exited."
  def os_pid(server), do: GenServer.call(server, :os_pid)

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)
    ns = Keyword.fetch!(opts, :ns)
    argv = Keyword.fetch!(opts, :argv)
    # `false` unsets a variable inherited from the test VM.
    env =
      for {k, v} <- Keyword.get(opts, :env, []),
          do: {to_charlist(k), if(v == false, do: false, else: to_charlist(v))}

    port =
      Port.open({:spawn_executable, EcsPeers.Test.NetNS.ip_path!()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        :use_stdio,
        {:line, 65_536},
        {:args, EcsPeers.Test.NetNS.exec_args(ns, argv)},
        {:env, env}
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)

    {:ok,
     %{
       port: port,
       os_pid: os_pid,
       label: Keyword.get(opts, :label, hd(argv)),
       lines: :queue.new(),
       count: 0,
       partial: "",
       replies: :queue.new(),
       waiter: nil,
       exit_status: nil
     }}
  end

  @impl true
  def handle_call({:request, line, timeout}, from, state) do
    cond do
      state.exit_status != nil ->
        {:reply, {:error, {:exited, state.exit_status, render(state)}}, state}

      line != nil ->
        Port.command(state.port, line <> "\n")
        wait(from, timeout, %{state | replies: :queue.new()})

      true ->
        case :queue.out(state.replies) do
          {{:value, reply}, rest} -> {:reply, {:ok, reply}, %{state | replies: rest}}
          {:empty, _} -> wait(from, timeout, state)
        end
    end
  end

  def handle_call(:output, _from, state), do: {:reply, render(state), state}

  def handle_call(:os_pid, _from, state),
    do: {:reply, state.exit_status == nil && state.os_pid, state}

  defp wait(from, timeout, state) do
    ref = make_ref()
    Process.send_after(self(), {:timeout, ref}, timeout)
    {:noreply, %{state | waiter: {from, ref}}}
  end

  @impl true
  def handle_info({port, {:data, {:noeol, chunk}}}, %{port: port} = state),
    do: {:noreply, %{state | partial: state.partial <> chunk}}

  def handle_info({port, {:data, {:eol, chunk}}}, %{port: port} = state) do
    line = state.partial <> chunk
    state = %{state | partial: ""}

    case line do
      "@@" <> reply ->
        case state.waiter do
          {from, _ref} ->
            GenServer.reply(from, {:ok, reply})
            {:noreply, %{state | waiter: nil}}

          nil ->
            {:noreply, %{state | replies: :queue.in(reply, state.replies)}}
        end

      _ ->
        {:noreply, keep(state, line)}
    end
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    state = %{keep(state, "[exited with status #{status}]") | exit_status: status}

    case state.waiter do
      {from, _} -> GenServer.reply(from, {:error, {:exited, status, render(state)}})
      nil -> :ok
    end

    {:noreply, %{state | waiter: nil}}
  end

  def handle_info({:timeout, ref}, %{waiter: {from, ref}} = state) do
    GenServer.reply(from, {:error, {:timeout, render(state)}})
    {:noreply, %{state | waiter: nil}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state) do
    if state.exit_status == nil do
      try do
        Port.close(state.port)
      rescue
        ArgumentError -> :ok
      end

      System.cmd("kill", ["-TERM", Integer.to_string(state.os_pid)], stderr_to_stdout: true)
    end

    :ok
  end

  defp keep(state, line) do
    lines = :queue.in(line, state.lines)

    if state.count >= @keep,
      do: %{state | lines: :queue.drop(lines)},
      else: %{state | lines: lines, count: state.count + 1}
  end

  defp render(state) do
    body = state.lines |> :queue.to_list() |> Enum.join("\n")
    "---- output of #{state.label} (last #{@keep} lines) ----\n" <> body
  end
end
