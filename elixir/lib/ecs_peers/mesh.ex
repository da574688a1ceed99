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
      them again, or for `:keep_out` ms (the plan's input);
    * `:read_at`: when the last good set was read; `:self_absent_since`: since when the
      sets read omit this node; `:last_listed`: the last set that listed this node.

  ## Rules

    1. Connect every node of the set that is not connected, never this node.
    2. A node that was in a set it read and is no longer in a non-empty one that still
       lists one of its former peers (of the last set that listed it) was dropped:
       it is *draining* (ECS is stopping its task) and connects to nobody. A set that
       lists none of its former peers is *wrong* (`:wrong_set`: meant for another
       cluster, a stale copy): the node keeps healing the last set that listed it. A
       node never listed is *draining* (a stray: members prune it anyway) once a read
       made `:prune_grace` after the first one that omitted it, and later than it,
       still omits it (so a grace of 0 never drains a task at its boot read).
    3. Prune (with `prune: true`) only while this node is in the set: a node reading an
       empty set, or a set without its own name, knows the set is wrong about at least
       itself and prunes nobody (an empty set also keeps healing the last set that
       listed this node).
    4. A connected node of the pruned basename absent from the set is pruned when it
       was dropped from the set (it was in the previous one) or kept out before, at
       once; otherwise (a new task not published yet) only when a read made
       `:prune_grace` or more after it was first seen absent still omits it (a grace
       of 0 prunes at once).
    5. A kept-out node stays out (pruned again whenever it reconnects) until the set
       lists it again, `:keep_out` ms have passed since it was dropped, or it comes back
       as another incarnation (`seen/3`): an address ECS gives to a new task must get
       the grace; then it is an ordinary stray. Heal never connects a node
       that is not in the set.
  """

  @max_kept_out 10_000

  defstruct set: nil,
            last_listed: nil,
            creations: %{},
            member?: false,
            read_at: nil,
            self_absent_since: nil,
            absent_since: %{},
            kept_out: %{}

  @type t :: %__MODULE__{
          set: [node()] | nil,
          last_listed: [node()] | nil,
          creations: %{node() => non_neg_integer()},
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
          grace: non_neg_integer(),
          keep_out: non_neg_integer()
        }

  @type state :: :no_set | :empty | :not_listed | :wrong_set | :draining | :listed

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
    # Sets of up to max_nodes: MapSets keep each step linear.
    in_set = MapSet.new(set)
    dropped = Enum.reject(mesh.set || [], &MapSet.member?(in_set, &1))
    listed? = MapSet.member?(in_set, self)

    kept_out =
      mesh.kept_out
      |> Map.drop(set)
      |> Map.merge(Map.new(dropped -- [self], &{&1, now}))
      |> cap()

    %{
      mesh
      | set: set,
        read_at: now,
        last_listed: if(listed?, do: set, else: mesh.last_listed),
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
  Notes the incarnation (distribution creation, `EcsPeers.Share.creation/1`) of a
  connected node: a kept-out node back as another incarnation than the one seen before
  (a new task that ECS gave a dropped node's address) is no longer kept out, but an
  ordinary stray, pruned only after the grace.
  """
  @spec seen(t(), node(), non_neg_integer()) :: t()
  def seen(%__MODULE__{} = mesh, node, creation) do
    mesh =
      if Map.has_key?(mesh.kept_out, node) and
           Map.get(mesh.creations, node, creation) != creation,
         do: %{mesh | kept_out: Map.delete(mesh.kept_out, node)},
         else: mesh

    # Bounded: forgotten wholesale past the cap (a forgotten node is simply kept out).
    creations = if map_size(mesh.creations) >= @max_kept_out, do: %{}, else: mesh.creations
    %{mesh | creations: Map.put(creations, node, creation)}
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
    keep_out = Map.get(input, :keep_out, :infinity)
    mesh = %{mesh | kept_out: Map.reject(mesh.kept_out, fn {_, at} -> now - at >= keep_out end)}

    in_set = MapSet.new(mesh.set)
    is_connected = MapSet.new(connected)

    candidates =
      Enum.filter(connected, fn n ->
        n != self and not MapSet.member?(in_set, n) and basename(n) == input.basename
      end)

    # Remembered only for nodes still connected and absent; a new sighting starts now.
    absent_since = Map.new(candidates, &{&1, Map.get(mesh.absent_since, &1, now)})
    mesh = %{mesh | absent_since: absent_since}

    disconnect =
      if input.prune and state == :listed,
        do: Enum.filter(candidates, &prune?(mesh, &1, input.grace)),
        else: []

    connect =
      mesh
      |> heal_set(state)
      |> Enum.reject(&(&1 == self or MapSet.member?(is_connected, &1)))

    # Kept out since the first prune: a node cut again and again (a new task on a
    # dropped node's address, reconnecting) still gets out of it after keep_out.
    kept_out = Map.merge(Map.new(disconnect, &{&1, now}), mesh.kept_out) |> cap()

    {%{connect: Enum.sort(connect), disconnect: Enum.sort(disconnect), state: state},
     %{mesh | kept_out: kept_out, absent_since: Map.drop(absent_since, disconnect)}}
  end

  defp heal_set(_mesh, :draining), do: []
  defp heal_set(mesh, state) when state in [:wrong_set, :empty], do: mesh.last_listed || []
  defp heal_set(mesh, _state), do: mesh.set

  defp state(%{set: []}, _self, _grace), do: :empty

  defp state(mesh, self, grace) do
    since = mesh.self_absent_since

    cond do
      self in mesh.set -> :listed
      mesh.member? and former_peer_listed?(mesh, self) -> :draining
      mesh.member? -> :wrong_set
      mesh.read_at > since and mesh.read_at - since >= grace -> :draining
      true -> :not_listed
    end
  end

  defp former_peer_listed?(mesh, self) do
    former = MapSet.new(mesh.last_listed || [])
    Enum.any?(mesh.set, &(&1 != self and MapSet.member?(former, &1)))
  end

  # The grace counts from the first sighting to a read that still omits the node: heal
  # ticks read nothing, so they are no evidence that the reconciler left it out.
  defp prune?(mesh, n, grace) do
    Map.has_key?(mesh.kept_out, n) or grace == 0 or
      mesh.read_at - Map.fetch!(mesh.absent_since, n) >= grace
  end

  defp basename(node), do: node |> Atom.to_string() |> :binary.split("@") |> hd()
end
