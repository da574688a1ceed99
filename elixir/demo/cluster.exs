# The cluster part of the demo (`npm run cli -- demo`, scripts/demo.sh): real BEAM nodes, one per published
# task, each `shop@<task IP>` in its own network namespace, running EcsPeers against the demo's moto server.
# It reuses the cluster tests' support (EcsPeers.Test.NetNS, ClusterNode, ClusterCase), so it runs as
#
#     cd elixir && MIX_ENV=test mix run --no-start demo/cluster.exs
#
# as root (network namespaces). moto runs on the root namespace's loopback (the demo started it there); a
# forwarder listening in the hub namespace on the bridge address carries the nodes' SSM requests to it, so
# the machine's own network gets no interface, address or route.
#
# Environment: ECSP_DEMO_MOTO_PORT (moto's port on 127.0.0.1), ECSP_DEMO_PARAMETER, ECSP_DEMO_INTERVAL (ms).
#
# Line protocol (JSON on stdin, one reply line on stdout starting with "@@"):
#   (on start)                              -> @@{"ok":true,"op":"ready","prefix":"ecsp-..."}
#   {"op":"converge","nodes":[NAME, ...]}   starts a node for each listed name not running yet, then waits
#                                           until the listed nodes form a full mesh and every other running
#                                           node is connected to none, held for two polling intervals
#                                           -> @@{"ok":true,"views":{NAME: [NAME, ...]},"ms":N}
#   {"op":"stop","nodes":[NAME, ...]}       stops those nodes and removes their namespaces -> @@{"ok":true}
#   EOF on stdin, SIGTERM                   stops every node, removes every namespace, exits
# A failure answers @@{"ok":false,"error":"..."} with the nodes' output.

defmodule EcsPeers.Demo.Forwarder do
  @moduledoc false
  # TCP from `ip:port` inside namespace `ns` to 127.0.0.1:target in this VM's namespace.

  def start!(ns, ip, port, target) do
    {:ok, address} = :inet.parse_address(to_charlist(ip))

    {:ok, listen} =
      :gen_tcp.listen(port, [
        :binary,
        ip: address,
        netns: "/var/run/netns/#{ns}",
        active: false,
        reuseaddr: true,
        backlog: 128
      ])

    spawn_link(fn -> accept(listen, target) end)
  end

  defp accept(listen, target) do
    {:ok, client} = :gen_tcp.accept(listen)
    pid = spawn(fn -> receive(do: (:go -> serve(client, target))) end)
    :ok = :gen_tcp.controlling_process(client, pid)
    send(pid, :go)
    accept(listen, target)
  end

  defp serve(client, target) do
    case :gen_tcp.connect({127, 0, 0, 1}, target, [:binary, active: false], 5_000) do
      {:ok, upstream} ->
        spawn(fn -> pipe(client, upstream) end)
        pipe(upstream, client)

      {:error, _} ->
        :gen_tcp.close(client)
    end
  end

  defp pipe(from, to) do
    with {:ok, data} <- :gen_tcp.recv(from, 0),
         :ok <- :gen_tcp.send(to, data) do
      pipe(from, to)
    else
      _closed ->
        :gen_tcp.close(from)
        :gen_tcp.close(to)
    end
  end
end

defmodule EcsPeers.Demo.Cluster do
  @moduledoc false

  alias EcsPeers.Test.{ClusterCase, ClusterJSON, ClusterNode, NetNS}

  @moto_port 5000

  def main do
    moto = String.to_integer(System.fetch_env!("ECSP_DEMO_MOTO_PORT"))
    interval = String.to_integer(System.get_env("ECSP_DEMO_INTERVAL", "1000"))

    discovery = [
      parameter: System.get_env("ECSP_DEMO_PARAMETER", "/ecs-peers/shop"),
      polling_interval: interval,
      prune: true
    ]

    net =
      try do
        NetNS.new!()
      rescue
        error -> fail_and_halt(Exception.message(error))
      end

    System.trap_signal(:sigterm, fn ->
      NetNS.destroy(net)
      System.halt(143)
    end)

    EcsPeers.Demo.Forwarder.start!(net.hub, NetNS.bridge_ip(), @moto_port, moto)
    {:ok, sup} = Supervisor.start_link([], strategy: :one_for_one)

    state = %{
      net: net,
      sup: sup,
      interval: interval,
      discovery: discovery,
      cookie: ClusterCase.cookie(),
      nodes: %{},
      hosts: 0
    }

    reply(%{ok: true, op: "ready", prefix: net.prefix})
    loop(state)
  end

  defp loop(state) do
    case IO.gets("") do
      line when is_binary(line) ->
        state =
          try do
            handle(ClusterJSON.decode!(line), state)
          rescue
            error ->
              reply(%{ok: false, error: Exception.message(error) <> "\n" <> outputs(state)})
              state
          end

        loop(state)

      _eof ->
        shutdown(state)
    end
  end

  defp handle(%{"op" => "converge", "nodes" => names}, state) do
    state = start_missing(state, names)
    views = fn -> views(state.nodes) end
    ok? = &converged?(&1, names)
    window = 2 * state.interval

    ms =
      ClusterCase.eventually_stable(views, ok?, 10 * state.interval + window, window, fn timeline ->
        "the nodes did not settle on a mesh of #{inspect(names)}:\n#{timeline}"
      end)

    reply(%{ok: true, views: views.(), ms: ms})
    state
  end

  defp handle(%{"op" => "stop", "nodes" => names}, state) do
    for name <- names, {ns, _server} <- List.wrap(Map.get(state.nodes, name)) do
      Supervisor.terminate_child(state.sup, name)
      Supervisor.delete_child(state.sup, name)
      NetNS.remove(ns)
    end

    reply(%{ok: true})
    %{state | nodes: Map.drop(state.nodes, names)}
  end

  defp handle(other, state) do
    reply(%{ok: false, error: "unknown command #{inspect(other)}"})
    state
  end

  # Nodes in `names` see exactly each other; any other running node sees nobody.
  defp converged?(views, names) do
    Enum.all?(views, fn {name, seen} ->
      expected = if name in names, do: Enum.sort(names -- [name]), else: []
      Enum.sort(seen) == expected
    end)
  end

  defp start_missing(state, names) do
    {state, started} =
      names
      |> Enum.reject(&Map.has_key?(state.nodes, &1))
      |> Enum.reduce({state, []}, fn name, {state, started} ->
        [basename, ip] = String.split(name, "@")
        host = "t#{state.hosts + 1}"
        ns = NetNS.add_host!(state.net, host, ip)

        spec =
          ClusterNode.child_spec(
            ns: ns,
            name: name,
            cookie: state.cookie,
            endpoint: "http://#{NetNS.bridge_ip()}:#{@moto_port}",
            discovery: Keyword.put(state.discovery, :basename, basename)
          )

        {:ok, server} = Supervisor.start_child(state.sup, %{spec | id: name})
        nodes = Map.put(state.nodes, name, {ns, server})
        {%{state | nodes: nodes, hosts: state.hosts + 1}, [server | started]}
      end)

    started
    |> Task.async_stream(&ClusterNode.await_ready!/1, timeout: 90_000)
    |> Stream.run()

    state
  end

  defp views(nodes) do
    nodes
    |> Task.async_stream(fn {name, {_ns, server}} -> {name, ClusterNode.nodes(server)} end,
      timeout: 20_000
    )
    |> Map.new(fn {:ok, pair} -> pair end)
  end

  defp outputs(state),
    do: Enum.map_join(state.nodes, "\n", fn {_name, {_ns, server}} -> ClusterNode.output(server) end)

  defp shutdown(state) do
    Supervisor.stop(state.sup)
    NetNS.destroy(state.net)
    System.halt(0)
  end

  defp fail_and_halt(message) do
    reply(%{ok: false, error: message})
    System.halt(1)
  end

  defp reply(map), do: IO.puts("@@" <> ClusterJSON.encode!(map))
end

EcsPeers.Demo.Cluster.main()
