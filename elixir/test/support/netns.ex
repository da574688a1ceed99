defmodule EcsPeers.Test.NetNS do
  @moduledoc """
  Linux network namespaces for the cluster tests: one host per BEAM node, so every node
  can be `shop@<its own IP>` with its own epmd, as on ECS with `awsvpc` networking.

  ## Topology

      <prefix>-hub   br0 10.255.255.254/8, moto_server, the reconciler, moto_helper.py
        |-- v-<name> ==veth== eth0 in <prefix>-<name>   10.x.y.z/8, one BEAM node

  Every interface is created directly inside a namespace this module made (`ip -n hub
  link add ... peer ... netns host`), so the root namespace gets no interface, address
  or route: the machine's real network stays untouched and nothing leaves the bridge.

  ## Names and cleanup

  `prefix` is `ecsp-<OS pid of the test VM>-<random>`. `destroy/1` kills every process
  inside the namespaces (`ip netns pids`, TERM then KILL) and deletes them; call it from
  `on_exit`. `sweep_stale/0` removes namespaces left by a test VM that no longer runs
  (a run killed with SIGKILL cannot clean up after itself); it never touches a live run.

  ## Requirements

  root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2's `ip`. `preflight!/0` fails
  with instructions when either is missing; the tests never skip.
  """

  @bridge_ip "10.255.255.254"
  @prefix_len 8

  defstruct [:prefix, :hub, bridge_ip: @bridge_ip]

  @type t :: %__MODULE__{prefix: String.t(), hub: String.t(), bridge_ip: String.t()}

  @doc "The hub's bridge address; moto_server listens there for the node namespaces."
  def bridge_ip, do: @bridge_ip

  @doc "Raises with instructions unless we are root and `ip netns` works."
  @spec preflight!() :: :ok
  def preflight! do
    unless root?() do
      raise """
      the cluster tests create network namespaces and must run as root \
      (sudo -E mix test test/cluster, or run the CI job as root / with CAP_NET_ADMIN and CAP_SYS_ADMIN)
      """
    end

    case System.cmd(ip_path!(), ["netns", "list"], stderr_to_stdout: true) do
      {_, 0} -> :ok
      {out, _} -> raise "`ip netns list` failed (apt-get install iproute2; run as root): #{out}"
    end
  end

  @doc "Path of the `ip` executable; raises with install instructions when missing."
  @spec ip_path!() :: String.t()
  def ip_path! do
    System.find_executable("ip") ||
      Enum.find(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"], &File.exists?/1) ||
      raise "the cluster tests need iproute2's `ip` (apt-get install iproute2) and must run as root"
  end

  defp root? do
    case File.read("/proc/self/status") do
      {:ok, status} -> Regex.match?(~r/^Uid:\s+0\s/m, status)
      _ -> match?({"0\n", 0}, System.cmd("id", ["-u"]))
    end
  end

  @doc "Creates the hub namespace with its bridge; returns the network."
  @spec new!() :: t()
  def new! do
    preflight!()
    sweep_stale()
    suffix = Base.encode32(:crypto.strong_rand_bytes(3), case: :lower, padding: false)
    prefix = "ecsp-#{System.pid()}-#{suffix}"
    net = %__MODULE__{prefix: prefix, hub: "#{prefix}-hub"}

    try do
      ip!(["netns", "add", net.hub])
      ip!(["-n", net.hub, "link", "set", "lo", "up"])
      # A fixed MAC: otherwise the bridge takes the lowest MAC of its ports, changes it
      # when a host is added, and the hosts' ARP caches point at a MAC it no longer
      # answers to (moto becomes unreachable for ~30 s).
      ip!(["-n", net.hub, "link", "add", "br0", "address", bridge_mac(), "type", "bridge"])
      ip!(["-n", net.hub, "addr", "add", "#{@bridge_ip}/#{@prefix_len}", "dev", "br0"])
      ip!(["-n", net.hub, "link", "set", "br0", "up"])
      net
    rescue
      error ->
        destroy(net)
        reraise error, __STACKTRACE__
    end
  end

  # Locally administered, unicast.
  defp bridge_mac do
    <<a, b, c, d, e>> = :crypto.strong_rand_bytes(5)

    [0x02, a, b, c, d, e]
    |> Enum.map_join(":", &(&1 |> Integer.to_string(16) |> String.pad_leading(2, "0")))
  end

  @doc """
  Adds a host namespace `<prefix>-<name>` whose `eth0` holds `ip`/8 on the hub's bridge.
  `name` is short (at most 13 characters: the hub side is `v-<name>`, limit 15).
  Returns the namespace name.
  """
  @spec add_host!(t(), String.t(), String.t()) :: String.t()
  def add_host!(%__MODULE__{} = net, name, ip) do
    hub_if = "v-" <> name

    if byte_size(hub_if) > 15 or not Regex.match?(~r/^[a-z0-9]+$/, name),
      do: raise(ArgumentError, "host name #{inspect(name)} must be [a-z0-9]{1,13}")

    if ip == @bridge_ip, do: raise(ArgumentError, "#{ip} is the hub's bridge address")

    ns = "#{net.prefix}-#{name}"
    ip!(["netns", "add", ns])
    ip!(["-n", ns, "link", "set", "lo", "up"])

    ip!([
      "-n",
      net.hub,
      "link",
      "add",
      hub_if,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      ns
    ])

    ip!(["-n", net.hub, "link", "set", hub_if, "master", "br0", "up"])
    ip!(["-n", ns, "addr", "add", "#{ip}/#{@prefix_len}", "dev", "eth0"])
    ip!(["-n", ns, "link", "set", "eth0", "up"])
    ns
  end

  @doc "Arguments for `ip` that run `argv` inside namespace `ns`."
  @spec exec_args(String.t(), [String.t()]) :: [String.t()]
  def exec_args(ns, argv), do: ["netns", "exec", ns | argv]

  @doc "Runs `ip args`, raising with its output when it fails."
  @spec ip!([String.t()]) :: String.t()
  def ip!(args) do
    case System.cmd(ip_path!(), args, stderr_to_stdout: true) do
      {out, 0} -> out
      {out, status} -> raise "ip #{Enum.join(args, " ")} exited #{status}: #{out}"
    end
  end

  @doc "Namespaces whose names start with `prefix`."
  @spec namespaces(String.t()) :: [String.t()]
  def namespaces(prefix) do
    {out, _} = System.cmd(ip_path!(), ["netns", "list"], stderr_to_stdout: true)

    out
    |> String.split("\n", trim: true)
    |> Enum.map(&(&1 |> String.split(" ") |> hd()))
    |> Enum.filter(&String.starts_with?(&1, prefix <> "-"))
  end

  @doc "Kills every process in one namespace and deletes it. Idempotent."
  @spec remove(String.t()) :: :ok
  def remove(ns), do: delete_all([ns])

  @doc "Kills every process in the network's namespaces and deletes them. Idempotent."
  @spec destroy(t() | String.t()) :: :ok
  def destroy(%__MODULE__{prefix: prefix}), do: destroy(prefix)

  def destroy(prefix) when is_binary(prefix), do: prefix |> namespaces() |> delete_all()

  defp delete_all(nss) do
    kill_all(nss, "TERM")
    wait_empty(nss, 30)
    kill_all(nss, "KILL")
    wait_empty(nss, 20)
    Enum.each(nss, &System.cmd(ip_path!(), ["netns", "del", &1], stderr_to_stdout: true))
    :ok
  end

  @doc "OS pids of the processes living in namespace `ns`."
  @spec pids(String.t()) :: [String.t()]
  def pids(ns) do
    case System.cmd(ip_path!(), ["netns", "pids", ns], stderr_to_stdout: true) do
      {out, 0} -> String.split(out, "\n", trim: true)
      _ -> []
    end
  end

  defp kill_all(nss, signal) do
    case Enum.flat_map(nss, &pids/1) do
      [] -> :ok
      pids -> System.cmd("kill", ["-#{signal}" | pids], stderr_to_stdout: true)
    end
  end

  defp wait_empty(_nss, 0), do: :ok

  defp wait_empty(nss, tries) do
    if Enum.all?(nss, &(pids(&1) == [])) do
      :ok
    else
      Process.sleep(100)
      wait_empty(nss, tries - 1)
    end
  end

  @doc "Destroys namespaces of earlier test VMs that are no longer running."
  @spec sweep_stale() :: :ok
  def sweep_stale do
    "ecsp"
    |> namespaces()
    |> Enum.flat_map(fn ns ->
      case Regex.run(~r/^(ecsp-(\d+)-[a-z0-9]+)-/, ns) do
        [_, prefix, pid] -> if File.exists?("/proc/#{pid}"), do: [], else: [prefix]
        _ -> []
      end
    end)
    |> Enum.uniq()
    |> Enum.each(&destroy/1)
  end
end
