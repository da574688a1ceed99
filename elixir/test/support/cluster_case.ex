defmodule EcsPeers.Test.ClusterCase do
  @moduledoc """
  Shared setup for the tests in `test/cluster/`: a hub namespace with moto_server per
  test module, BEAM nodes per test, and polling helpers.

  Everything is torn down in `on_exit`, also when a test fails: the nodes are stopped by
  ExUnit's supervisor, each test's host namespaces are removed when it ends, and the hub
  (moto_server) when the module ends; `EcsPeers.Test.NetNS` kills whatever still runs in
  a namespace before deleting it.
  """
  use ExUnit.CaseTemplate

  alias EcsPeers.Test.{ClusterMoto, ClusterNode, NetNS}

  using do
    quote do
      import EcsPeers.Test.ClusterCase
      alias EcsPeers.Test.{ClusterJSON, ClusterMoto, ClusterNode, NetNS}
      @moduletag :cluster
      @moduletag timeout: 240_000
    end
  end

  setup_all do
    net = NetNS.new!()
    on_exit(fn -> NetNS.destroy(net) end)
    moto = ClusterMoto.start!(net)
    %{net: net, moto: moto}
  end

  @doc "A random cookie, so nodes of different tests can never talk to each other."
  def cookie, do: "ecsp" <> Base.encode32(:crypto.strong_rand_bytes(10), padding: false)

  @doc """
  Creates one host namespace per `{host, ip}` and starts a node `<basename>@<ip>` in each,
  in parallel. `opts` go to `EcsPeers.Test.ClusterNode.child_spec/1` (`:cookie`,
  `:discovery`, `:basename` defaulting to "shop", `:endpoint` defaulting to moto's).
  Returns `%{ip => node_server}`.
  """
  def start_nodes!(net, hosts, opts) do
    basename = Keyword.get(opts, :basename, "shop")

    servers =
      Enum.map(hosts, fn {host, ip} ->
        ns = NetNS.add_host!(net, host, ip)
        # The test's hosts go when the test ends; the hub stays for the module.
        ExUnit.Callbacks.on_exit(fn -> NetNS.remove(ns) end)

        spec =
          ClusterNode.child_spec(
            Keyword.merge(opts,
              ns: ns,
              name: "#{basename}@#{ip}",
              endpoint: Keyword.get(opts, :endpoint, ClusterMoto.endpoint())
            )
          )

        {ip, ExUnit.Callbacks.start_supervised!(spec)}
      end)

    servers
    |> Task.async_stream(fn {_ip, server} -> ClusterNode.await_ready!(server) end, timeout: 60_000)
    |> Stream.run()

    Map.new(servers)
  end

  @doc "`{host, ip}` pairs named `prefix1`, `prefix2`, ... for `start_nodes!/3`."
  def hosts(prefix, ips),
    do: ips |> Enum.with_index(1) |> Enum.map(fn {ip, i} -> {"#{prefix}#{i}", ip} end)

  @doc "Monotonic ms."
  def now, do: System.monotonic_time(:millisecond)

  @doc "The node names `shop@ip` of `ips`."
  def peers(ips), do: Enum.map(ips, &node_name/1)

  @doc "Fails with the node's output when its EcsPeers process died."
  def assert_discovery_alive(nodes) do
    for {ip, node} <- nodes do
      ExUnit.Assertions.assert(
        ClusterNode.discovery(node) in ["alive", "none"],
        "EcsPeers died on #{node_name(ip)}\n" <> ClusterNode.output(node)
      )
    end
  end

  @doc """
  Lists `ips` in the parameter, starts a node on each (host names `prefix1`, ...) running
  EcsPeers with `discovery`, and waits for the full mesh. Returns the nodes and the
  parameter version that lists them.
  """
  def start_mesh!(net, moto, prefix, ips, cookie, discovery) do
    version = ClusterMoto.put_peer_set!(moto, discovery[:parameter], peers(ips))
    nodes = start_nodes!(net, hosts(prefix, ips), cookie: cookie, discovery: discovery)

    eventually(fn -> full_mesh?(views(nodes)) end, 10 * discovery[:polling_interval], fn ->
      "no full mesh: #{inspect(views(nodes))}\n" <> outputs(nodes)
    end)

    {nodes, version}
  end

  @doc "The node name `shop@ip` (or another basename) as a string."
  def node_name(ip, basename \\ "shop"), do: "#{basename}@#{ip}"

  @doc "Each node's `Node.list/0`: `%{node_name => [names]}`."
  def views(nodes, basename \\ "shop") do
    nodes
    |> Task.async_stream(
      fn {ip, server} -> {node_name(ip, basename), ClusterNode.nodes(server)} end,
      timeout: 20_000
    )
    |> Map.new(fn {:ok, pair} -> pair end)
  end

  @doc "Waits until every node's EcsPeers has applied parameter version `version` or later."
  def await_applied(nodes, version, timeout) do
    eventually(
      fn ->
        Enum.all?(nodes, fn {_ip, node} -> (ClusterNode.applied_version(node) || 0) >= version end)
      end,
      timeout,
      fn ->
        applied = Map.new(nodes, fn {ip, node} -> {ip, ClusterNode.applied_version(node)} end)

        "not every node applied version #{version} within #{timeout} ms: #{inspect(applied)}\n" <>
          outputs(nodes)
      end
    )
  end

  @doc "True when every node in `nodes` sees exactly the others plus `extra` names."
  def full_mesh?(views, extra \\ []) do
    names = Map.keys(views)

    Enum.all?(views, fn {name, seen} ->
      expected = Enum.sort((names -- [name]) ++ extra)
      Enum.sort(seen) == expected
    end)
  end

  @doc """
  Polls `fun` every 50 ms until it returns a truthy value (returned) or `timeout` ms
  pass; then flunks with `message.()`.
  """
  def eventually(fun, timeout, message) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_eventually(fun, deadline, message)
  end

  defp do_eventually(fun, deadline, message) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) >= deadline do
          ExUnit.Assertions.flunk(message.())
        else
          Process.sleep(50)
          do_eventually(fun, deadline, message)
        end
    end
  end

  @doc """
  Samples `sample.()` every 100 ms until `ok?.(state)` has held for `window` ms in a row,
  and flunks if that has not happened `timeout` ms from now: the system converges to a
  state and stays there, whatever it went through before. The failure message is
  `message.(timeline)`, where the timeline lists every state seen, with the ms at which
  it appeared. Returns the ms after which the stable state began.
  """
  def eventually_stable(sample, ok?, timeout, window, message) do
    started = System.monotonic_time(:millisecond)
    do_stable(sample, ok?, {started, started + timeout, window}, nil, [], message)
  end

  defp do_stable(sample, ok?, {started, deadline, window} = limits, since, timeline, message) do
    now = System.monotonic_time(:millisecond)
    state = sample.()

    timeline =
      case timeline do
        [{_, ^state} | _] -> timeline
        _ -> [{now - started, state} | timeline]
      end

    since = if ok?.(state), do: since || now, else: nil

    cond do
      since != nil and now - since >= window ->
        since - started

      now >= deadline ->
        text =
          timeline
          |> Enum.reverse()
          |> Enum.map_join("\n", fn {t, state} -> "  +#{t} ms: #{inspect(state)}" end)

        ExUnit.Assertions.flunk(message.(text))

      true ->
        Process.sleep(100)
        do_stable(sample, ok?, limits, since, timeline, message)
    end
  end

  @doc """
  Checks `fun` every 100 ms for `duration` ms and flunks with `message.()` the first
  time it returns a falsy value: a condition that must *stay* true.
  """
  def always(fun, duration, message) do
    deadline = System.monotonic_time(:millisecond) + duration
    do_always(fun, deadline, message)
  end

  defp do_always(fun, deadline, message) do
    unless fun.(), do: ExUnit.Assertions.flunk(message.())

    if System.monotonic_time(:millisecond) < deadline do
      Process.sleep(100)
      do_always(fun, deadline, message)
    else
      :ok
    end
  end

  @doc """
  Waits until `dropped` is connected to nobody and no node sees it, within 8 s, and it
  stays out for `window` ms; flunks with what each node saw otherwise. Returns the ms
  after which it was cut off.
  """
  def assert_cut_off_by_all(nodes, dropped, window) do
    cut_off? = fn views ->
      views[dropped] == [] and Enum.all?(views, fn {_, seen} -> dropped not in seen end)
    end

    eventually_stable(
      fn -> views(nodes) end,
      cut_off?,
      8_000 + window + 1_000,
      window,
      fn timeline ->
        "#{dropped} was not cut off by all within 8 s for #{window} ms. What each node saw:\n" <>
          "#{timeline}\n" <> outputs(nodes)
      end
    )
  end

  @doc "Prints `message` when `ECSP_CLUSTER_VERBOSE=1` (timings, reports); silent otherwise."
  def note(message) do
    if System.get_env("ECSP_CLUSTER_VERBOSE") == "1", do: IO.puts("[cluster] " <> message)
    :ok
  end

  @doc "Recent output of every node, for failure messages."
  def outputs(nodes), do: nodes |> Map.values() |> Enum.map_join("\n", &ClusterNode.output/1)
end
