defmodule EcsPeers.Share do
  @moduledoc """
  Shares the peer set among the nodes over distribution, so that a change reaches every
  member within moments, not within each member's own read interval, and without an
  extra AWS read.

  Without it, a member that has not read the version dropping node `D` yet still has
  `D` in its set and reconnects it on every heal, and `D`, until its own next read,
  reconnects everyone from its old set: with `:read_budget`, that window is one read
  interval (`n / read_budget` seconds, 250 s at 1,000 nodes), and OTP's `global` turns
  each reconnect into cut healthy links (flapping).

  Each `EcsPeers.Poller` registers a local name per topology (`inbox/1`: the process's
  own `:name` when it has one, the same on every node of a release). Three messages,
  all to connected nodes of the pruned basename only (`:noconnect`: a share never opens
  a connection):

    * **set**: `{version, hash, names}`, sent once per version *read from AWS* and
      applied (never forwarded: a full mesh reaches everyone from the one reader), to
      every connected node of the basename, the nodes about to be pruned included; and
      to a node of the basename that connects while absent from the set (a dropped or
      pruned node reconnecting), so it learns at once that it is out and goes draining;
    * **have**: `{version, hash}`, sent to every other node of the basename that
      connects (a member whose link was cut when a set was sent);
    * **want**: the answer to a `have` that is newer: the sender of the `have` replies
      with a `set`.

  So a version costs at most one `set` per connected node per node that read it from
  AWS before a share reached it, and a connect costs two small `have` messages: no
  storms. The names travel as strings, and the receiver validates them with
  `EcsPeers.PeerSet`, its own `:basename`, `:max_nodes` and atom budget, exactly as a
  value it read. The cluster already trusts itself (the cookie); messages from a node of
  another basename, or for another parameter, are ignored.

  **Newer** (`newer?/2`): a set is adopted when this node has none, or when its SSM
  `Version` is greater than the applied one. An equal version with another hash (a
  parameter deleted and re-created restarts at version 1), or a lower one, is left to
  this node's own reads, which always win: after a re-creation, sharing resumes once a
  node has read the new parameter and the versions move on.
  """

  alias EcsPeers.PeerSet

  @tag :ecs_peers_share

  @doc """
  The local name this poller receives shares under: its own registered name if it has
  one (`:name` given to `EcsPeers`), else `EcsPeers.Share.<topology>`, registered now.
  Returns nil when that name is taken (two pollers of one topology in one VM): the
  process then shares but does not receive.
  """
  @spec inbox(atom()) :: atom() | nil
  def inbox(topology) do
    case Process.info(self(), :registered_name) do
      {:registered_name, name} when is_atom(name) ->
        name

      _ ->
        # The topology is an atom from the configuration: no untrusted input here.
        name = :"Elixir.EcsPeers.Share.#{topology}"

        try do
          Process.register(self(), name)
          name
        rescue
          ArgumentError -> nil
        end
    end
  end

  @doc """
  Whether a shared `{version, hash}` is newer than the applied `{version, hash}`
  (`{nil, nil}` before the first set): see the moduledoc.
  """
  @spec newer?({integer(), binary()}, {integer() | nil, binary() | nil}) :: boolean()
  def newer?({version, _hash}, {nil, _}) when is_integer(version), do: true

  def newer?({version, _hash}, {mine, _}) when is_integer(version) and is_integer(mine),
    do: version > mine

  def newer?(_theirs, _mine), do: false

  @doc """
  Sends this node's set to `nodes` (other nodes of the basename). `state` is the
  poller's (`:inbox`, `:parameter`, `:version`, `:value_hash`, `:mesh`).
  """
  @spec send_set(map(), [node()]) :: :ok
  def send_set(%{inbox: nil}, _nodes), do: :ok
  def send_set(%{version: nil}, _nodes), do: :ok

  def send_set(state, nodes) do
    names = Enum.map(state.mesh.set, &Atom.to_string/1)
    msg = {@tag, :set, self(), state.parameter, state.version, state.value_hash, names}
    Enum.each(nodes, &deliver(state.inbox, &1, msg))
  end

  @doc "The connected nodes of `basename`, this one excluded: whom a set is sent to."
  @spec peers([node()], String.t()) :: [node()]
  def peers(connected, basename),
    do: Enum.filter(connected, &(&1 != node() and PeerSet.basename(&1) == basename))

  @doc """
  A node of the basename connected: it gets the set at once when the set omits it (it
  was dropped, or is a stray), a `have` otherwise.
  """
  @spec nodeup(map(), node(), String.t()) :: :ok
  def nodeup(%{inbox: nil}, _node, _basename), do: :ok
  def nodeup(%{mesh: %{set: nil}}, _node, _basename), do: :ok

  def nodeup(state, node, basename) do
    cond do
      node == node() or PeerSet.basename(node) != basename -> :ok
      node in state.mesh.set -> deliver(state.inbox, node, have(state))
      true -> send_set(state, [node])
    end

    :ok
  end

  defp have(state), do: {@tag, :have, self(), state.parameter, state.version, state.value_hash}

  @doc """
  Handles a share message. Returns `{:adopt, version, hash, nodes, new_atoms}` for a
  newer set from a node of the basename, validated (`state` has the poller's
  `:basename`, `:max_nodes` and `:atoms_left`), `{:seen, node, creation}` for a `have` (after answering it),
  else `:ignore` (after answering a `want`).
  """
  @spec handle(tuple(), map(), String.t()) ::
          {:adopt, integer(), binary(), [node()], non_neg_integer()}
          | {:seen, node(), integer()}
          | :ignore
  def handle({@tag, kind, from, parameter, _, _, _} = msg, state, basename)
      when is_pid(from) and kind == :set do
    {@tag, :set, ^from, ^parameter, version, hash, names} = msg

    if parameter == state.parameter and ours?(from, basename) and is_list(names) and
         is_binary(hash) and newer?({version, hash}, {state.version, state.value_hash}),
       do: validate(version, hash, names, state),
       else: :ignore
  end

  def handle({@tag, :have, from, parameter, version, hash}, state, basename) when is_pid(from) do
    if parameter == state.parameter and ours?(from, basename) do
      if newer?({version, hash}, {state.version, state.value_hash}) and state.inbox != nil,
        do: send(from, {@tag, :want, self(), parameter})

      # Which incarnation of that node this is (see EcsPeers.Mesh.seen/3).
      {:seen, node(from), creation(from)}
    else
      :ignore
    end
  end

  def handle({@tag, :want, from, parameter}, state, basename) when is_pid(from) do
    if parameter == state.parameter and ours?(from, basename) and state.mesh.set != nil do
      names = Enum.map(state.mesh.set, &Atom.to_string/1)
      msg = {@tag, :set, self(), state.parameter, state.version, state.value_hash, names}
      :erlang.send(from, msg, [:noconnect, :nosuspend])
    end

    :ignore
  end

  def handle(_other, _state, _basename), do: :ignore

  # As a read value is: this node's :basename, :max_nodes and what is left of its atom
  # budget.
  defp validate(version, hash, names, state) do
    opts = [basename: state.basename, max_nodes: state.max_nodes, max_new_atoms: state.atoms_left]

    case PeerSet.validate(names, opts) do
      {:ok, %{nodes: nodes, new_atoms: new_atoms}} -> {:adopt, version, hash, nodes, new_atoms}
      {:error, _invalid} -> :ignore
    end
  end

  @doc """
  The distribution *creation* of the node a pid lives on: it changes when that node
  restarts under the same name (a new task given a dropped task's address).
  """
  @spec creation(pid()) :: non_neg_integer()
  def creation(pid) when is_pid(pid) do
    case :erlang.term_to_binary(pid) do
      # NEW_PID_EXT: the creation is the last 32 bits; PID_EXT: the last 8.
      <<131, 88, _::binary>> = bin ->
        :binary.decode_unsigned(binary_part(bin, byte_size(bin), -4))

      bin ->
        :binary.last(bin)
    end
  end

  @doc "True for a message of this module."
  defguard share?(msg) when is_tuple(msg) and tuple_size(msg) >= 4 and elem(msg, 0) == @tag

  # This VM's own processes are trusted; others must be nodes of the basename.
  defp ours?(pid, basename), do: node(pid) == node() or PeerSet.basename(node(pid)) == basename

  # Never opens a connection, never blocks on a busy one.
  defp deliver(inbox, node, msg), do: :erlang.send({inbox, node}, msg, [:noconnect, :nosuspend])
end
