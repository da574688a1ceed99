defmodule EcsPeers do
  @moduledoc """
  Keeps this node connected to the other nodes of its app on AWS ECS.

  The ecs-peers Lambda publishes the app's running tasks as a peer set in an SSM
  parameter:

      {"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}

  This process reads that parameter every few seconds and connects to every node in
  it. Use it directly when the app does not use libcluster; with libcluster, use
  `EcsPeers.Strategy`, which takes the same options. How a poll works is described in
  `EcsPeers.Poller`.

  ## Assumptions

    * Node names are `basename@IPv4`, the task's private address (see the README for
      `rel/env.sh.eex`), and every node of the app uses the same basename.
    * The task role may `ssm:GetParameter` the parameter.
    * The Erlang cookie is the same on every node.

  ## Options

    * `:parameter` (required): the SSM parameter name, e.g. `"/ecs-peers/shop"`.
    * `:polling_interval`: ms between polls, default `5000`, applied with ±10% jitter.
    * `:prune`: also disconnect connected nodes that left the set, default `false`. Only
      nodes with the pruned basename are touched: `:basename` if set, else this node's.
    * `:basename`: accept only entries with this basename, default `nil` (any).
    * `:region`: the AWS region, default `AWS_REGION`, then `AWS_DEFAULT_REGION`.
    * `:max_nodes`: at most this many nodes are taken from the set, default `1000`.
    * `:max_new_atoms`: how many new node-name atoms this process may make over its
      life, default `nil` (`10 * max_nodes`). Names whose atom exists cost nothing;
      beyond the budget new names are ignored (logged once as `:atom_budget_exhausted`).
    * `:connect_timeout`: ms the connect phase of a poll may take in all (attempts run
      concurrently; the ones still running then are cut and retried next poll), default
      `5000`.
    * `:http_timeout`: ms for an AWS request, default `5000`.
    * `:max_backoff`: the longest interval between polls while failing, default `60000`.
    * `:resync_interval`: ms after which an unchanged set is reconciled again (lost
      connections are re-made), default `60000`; `:infinity` to never.
    * `:env`: a map of environment variables laid over the OS environment for the AWS
      edge, default `%{}`; a `nil` value hides a variable. Only the `AWS_*` variables
      the AWS edge reads are kept (see `EcsPeers.AWS.SSM` and `EcsPeers.AWS.Credentials`). For tests, e.g.
      `%{"AWS_ENDPOINT_URL_SSM" => "http://127.0.0.1:5000"}`.
    * `:topology`: the name in log lines and telemetry, default `:ecs_peers`.
    * `:name`: a name to register the process under, default none.

  Test seams (libcluster's conventions: `{m, f, a}` is called as `apply(m, f, a ++
  args)`; a fun of the same arity works too):

    * `:connect`: called with one node, `true` when connected; default
      `{:net_kernel, :connect_node, []}`.
    * `:disconnect`: called with one node; default `{:erlang, :disconnect_node, []}`.
    * `:list_nodes`: called with no argument, returns the connected nodes; default
      `{:erlang, :nodes, [:connected]}`.
    * `:fetch`: called with the parameter name instead of SSM, returns
      `{:ok, %{version: integer, value: string}}` or `{:error, reason}`; default `nil`
      (SSM).
    * `:telemetry`: called as `fun.(event, measurements, metadata)`; default emits
      through `:telemetry` when it is loaded (see `EcsPeers.Telemetry`).

  An unknown or invalid option raises `ArgumentError` from `start_link/1` and
  `child_spec/1`, naming it.

  ## Example

      children = [
        {EcsPeers, parameter: "/ecs-peers/shop", basename: "shop", prune: true}
      ]

  AWS endpoint and credentials come from the standard variables: see `EcsPeers.AWS.SSM`
  and `EcsPeers.AWS.Credentials`.
  """

  alias EcsPeers.Poller

  @doc "Starts the loop, linked to the caller. See the module doc for the options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    state = Poller.new(opts, Poller.standalone_keys())

    gen_opts =
      case Keyword.get(opts, :name) do
        nil -> []
        name -> [name: name]
      end

    Poller.start_link(state, gen_opts)
  end

  @doc "A child spec; validates the options first."
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    _ = Poller.new(opts, Poller.standalone_keys())

    %{
      id: Keyword.get(opts, :name) || __MODULE__,
      start: {__MODULE__, :start_link, [opts]},
      type: :worker
    }
  end

  @doc """
  Polls now, reschedules, and returns the poll's report (`EcsPeers.Poller.poll/1`).
  For tests and operators.
  """
  @spec poll_now(GenServer.server(), timeout()) :: map()
  def poll_now(server, timeout \\ 30_000), do: GenServer.call(server, :poll_now, timeout)

  @doc """
  What the loop holds: `:topology`, `:parameter`, `:version` (last applied), `:nodes`
  (last applied set), `:last_error` and `:interval` (the current, backed-off one).
  Waits at most `timeout` ms (a poll in progress answers first).
  """
  @spec status(GenServer.server(), timeout()) :: map()
  def status(server, timeout \\ 5_000), do: GenServer.call(server, :status, timeout)
end
