defmodule EcsPeers.Mesh do
  @moduledoc """
  The connect and prune rules, pure: given the last good set, the connected nodes, this
  node and the clock, say whom to connect and whom to disconnect. `EcsPeers.Poller`
  calls `read/3` after each successful read and `plan/2` on every heal (each tick, each
  `nodedown`, each read); `EcsPeers.Connector` carries the plan out.

  The small memory kept here:

    * `:set`: the last good set (`nil` before the first read);
    * `:member?`: this node has been in a set it read;
    * `:absent_since`: when each connected node of the pruned basename was first seen
      absent from the set;
    * `:kept_out`: nodes dropped from the set or pruned, kept out until the set lists
      them again;
    * `:read_at`: when the last good set was read; `:self_absent_since`: since when the
      sets read omit this node.

  ## Rules

    1. Connect every node of the set that is not connected, never this node.
    2. A node that was in a set it read and is no longer in a non-empty one is
       *draining* (ECS is stopping its task): it connects to nobody. So is a node that
       was never listed once sets read over `:prune_grace` omit it (a stray).
    3. Prune (with `prune: true`) only while this node is in the set: a node reading an
       empty set, or a set without its own name, knows the set is wrong about at least
       itself and prunes nobody.
    4. A connected node of the pruned basename absent from the set is pruned when it
       was dropped from the set (it was in the previous one) or kept out before, at
       once; otherwise (a new task not published yet) only when a read made
       `:prune_grace` or more after it was first seen absent still omits it (a grace
       of 0 prunes at once).
    5. A kept-out node stays out (pruned again whenever it reconnects) until the set
       lists it again; heal never connects a node that is not in the set.
  """

  @max_kept_out 10_000

  defstruct set: nil,
            member?: false,
            read_at: nil,
            self_absent_since: nil,
            absent_since: %{},
            kept_out: %{}

  @type t :: %__MODULE__{
          set: [node()] | nil,
          member?: boolean(),
          read_at: integer() | nil,
          self_absent_since: integer() | nil,
          absent_since: %{node() => integer()},
          kept_out: %{node() => integer()}
        }

  @type input :: %{
          connected: [node()],
          self: node(),
          now: integer(),
          prune: boolean(),
          basename: String.t(),
          grace: non_neg_integer()
        }

  @type state :: :no_set | :empty | :not_listed | :draining | :listed

  @type plan :: %{connect: [node()], disconnect: [node()], state: state()}

  @doc "A memory with no set read yet."
  @spec new() :: t()
  def new, do: %__MODULE__{}

  @doc """
  Takes in a set read at `now` (ms). Nodes in the previous set and not in this one are
  kept out from now on; nodes the set lists again are no longer kept out.
  """
  @spec read(t(), [node()], node(), integer()) :: t()
  def read(%__MODULE__{} = mesh, set, self, now) do
    dropped = if mesh.set, do: mesh.set -- set, else: []
    listed? = self in set

    kept_out =
      mesh.kept_out
      |> Map.drop(set)
      |> Map.merge(Map.new(dropped -- [self], &{&1, now}))
      |> cap()

    %{
      mesh
      | set: set,
        read_at: now,
        member?: mesh.member? or listed?,
        self_absent_since: if(listed?, do: nil, else: mesh.self_absent_since || now),
        absent_since: Map.drop(mesh.absent_since, set),
        kept_out: kept_out
    }
  end

  # Bounded: the oldest entries go first.
  defp cap(kept_out) when map_size(kept_out) <= @max_kept_out, do: kept_out

  defp cap(kept_out) do
    kept_out |> Enum.sort_by(&elem(&1, 1), :desc) |> Enum.take(@max_kept_out) |> Map.new()
  end

  @doc """
  What to do now. Returns `{%{connect: nodes, disconnect: nodes, state: state}, mesh}`,
  where `state` says why (`:no_set`, `:empty`, `:not_listed`, `:draining`, `:listed`).
  """
  @spec plan(t(), input()) :: {plan(), t()}
  def plan(%__MODULE__{set: nil} = mesh, _input),
    do: {%{connect: [], disconnect: [], state: :no_set}, mesh}

  def plan(%__MODULE__{} = mesh, input) do
    %{connected: connected, self: self, now: now} = input
    state = state(mesh, self, input.grace)

    candidates =
      Enum.filter(connected, fn n ->
        n != self and n not in mesh.set and basename(n) == input.basename
      end)

    # Remembered only for nodes still connected and absent; a new sighting starts now.
    absent_since = Map.new(candidates, &{&1, Map.get(mesh.absent_since, &1, now)})
    mesh = %{mesh | absent_since: absent_since}

    disconnect =
      if input.prune and state == :listed,
        do: Enum.filter(candidates, &prune?(mesh, &1, input.grace)),
        else: []

    connect = if state == :draining, do: [], else: (mesh.set -- connected) -- [self]
    kept_out = Map.merge(mesh.kept_out, Map.new(disconnect, &{&1, now})) |> cap()

    {%{connect: Enum.sort(connect), disconnect: Enum.sort(disconnect), state: state},
     %{mesh | kept_out: kept_out, absent_since: Map.drop(absent_since, disconnect)}}
  end

  defp state(%{set: []}, _self, _grace), do: :empty

  defp state(mesh, self, grace) do
    cond do
      self in mesh.set -> :listed
      mesh.member? -> :draining
      mesh.read_at - mesh.self_absent_since >= grace -> :draining
      true -> :not_listed
    end
  end

  # The grace counts from the first sighting to a read that still omits the node: heal
  # ticks read nothing, so they are no evidence that the reconciler left it out.
  defp prune?(mesh, n, grace) do
    Map.has_key?(mesh.kept_out, n) or grace == 0 or
      mesh.read_at - Map.fetch!(mesh.absent_since, n) >= grace
  end

  defp basename(node), do: node |> Atom.to_string() |> :binary.split("@") |> hd()
end
