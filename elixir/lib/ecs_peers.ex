defmodule EcsPeers do
  @moduledoc """
  Keeps this node connected to the other nodes of its app on AWS ECS.

  The ecs-peers Lambda publishes the app's running tasks as a peer set in an SSM
  parameter:

      {"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}

  This process reads that parameter and connects to every node in it. Use it directly
  when the app does not use libcluster; with libcluster, use `EcsPeers.Strategy`, which
  takes the same options. How the loop works is described in `EcsPeers.Poller`, its
  connect and prune rules in `EcsPeers.Mesh`, the read budget in `EcsPeers.ReadBudget`,
  how a set read is shared with the other nodes in `EcsPeers.Share`.

  ## Assumptions

    * Node names are `basename@IPv4`, the task's private address (see the README for
      `rel/env.sh.eex`), and every node of the app uses the same basename.
    * The task role may `ssm:GetParameter` the parameter.
    * The Erlang cookie is the same on every node.

  ## Options

  #{EcsPeers.Options.bullets(:all)}

  The seams take libcluster's conventions: `{m, f, a}` is called as
  `apply(m, f, a ++ args)`; a fun of the same arity works too. An unknown or invalid
  option raises `ArgumentError` from `start_link/1` and `child_spec/1`, naming it.

  ## Example

      children = [
        {EcsPeers, parameter: "/ecs-peers/shop", basename: "shop", prune: true}
      ]

  AWS endpoint and credentials come from the standard variables: see `EcsPeers.AWS.SSM`
  and `EcsPeers.AWS.Credentials`.
  """

  alias EcsPeers.{Options, Poller}

  @doc "Starts the loop, linked to the caller. See the module doc for the options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    state = Poller.new(opts, Options.standalone_keys())

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
    _ = Poller.new(opts, Options.standalone_keys())

    %{
      id: Keyword.get(opts, :name) || __MODULE__,
      start: {__MODULE__, :start_link, [opts]},
      type: :worker
    }
  end

  @doc """
  Reads now, heals, reschedules the next read, and returns the report
  (`EcsPeers.Poller.read_and_heal/1`). For tests and operators.
  """
  @spec poll_now(GenServer.server(), timeout()) :: map()
  def poll_now(server, timeout \\ 30_000), do: GenServer.call(server, :poll_now, timeout)

  @doc """
  What the loop holds: `:topology`, `:parameter`, `:version` (last applied), `:nodes`
  (the last good set), `:membership` (`EcsPeers.Mesh` state: `:listed`,
  `:not_listed`, `:draining`, `:wrong_set`, `:empty` or `:no_set`), `:last_error` and `:interval`
  (ms until the next read: budgeted, or backed off). Waits at most `timeout` ms.
  """
  @spec status(GenServer.server(), timeout()) :: map()
  def status(server, timeout \\ 5_000), do: GenServer.call(server, :status, timeout)
end
