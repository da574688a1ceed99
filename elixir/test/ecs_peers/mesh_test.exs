defmodule EcsPeers.MeshTest do
  use ExUnit.Case, async: true

  alias EcsPeers.Mesh

  @me :"shop@10.0.0.1"
  @a :"shop@10.0.0.2"
  @b :"shop@10.0.0.3"
  @stray :"shop@10.0.0.9"
  @admin :"admin@10.0.0.8"
  @grace 30_000

  defp input(connected, now, opts \\ []) do
    %{
      connected: connected,
      self: Keyword.get(opts, :self, @me),
      now: now,
      prune: Keyword.get(opts, :prune, true),
      basename: "shop",
      grace: Keyword.get(opts, :grace, @grace)
    }
  end

  defp read(mesh \\ Mesh.new(), set, now), do: Mesh.read(mesh, set, @me, now)

  test "before any set is read, nothing is connected or pruned" do
    assert {%{connect: [], disconnect: [], state: :no_set}, _} =
             Mesh.plan(Mesh.new(), input([@stray], 0))
  end

  test "connects every node of the set that is not connected, never itself" do
    mesh = read([@me, @a, @b], 0)
    assert {%{connect: [@b], disconnect: [], state: :listed}, _} = Mesh.plan(mesh, input([@a], 0))
  end

  test "heal after nodedown: a node of the set that went down is connected again, without a read" do
    mesh = read([@me, @a, @b], 0)
    {%{connect: [@a, @b]}, mesh} = Mesh.plan(mesh, input([], 0))
    # Connected, then @a's link is cut (nodedown): the next plan, at a later time and
    # with no read in between, connects it again.
    {%{connect: []}, mesh} = Mesh.plan(mesh, input([@a, @b], 100))
    assert {%{connect: [@a], disconnect: []}, _} = Mesh.plan(mesh, input([@b], 200))
  end

  describe "grace" do
    test "a stray of the basename is kept until a read made prune_grace after it was first seen absent" do
      mesh = read([@me, @a], 0)
      {%{disconnect: []}, mesh} = Mesh.plan(mesh, input([@a, @stray], 1_000))

      # Heal ticks after the grace but with no newer read: no evidence, no prune.
      {%{disconnect: []}, mesh} = Mesh.plan(mesh, input([@a, @stray], 40_000))

      # A read just short of the grace after the first sighting: kept.
      mesh = read(mesh, [@me, @a], 30_999)
      {%{disconnect: []}, mesh} = Mesh.plan(mesh, input([@a, @stray], 31_000))

      # A read the grace after it: pruned.
      mesh = read(mesh, [@me, @a], 31_000)
      assert {%{disconnect: [@stray]}, _} = Mesh.plan(mesh, input([@a, @stray], 31_001))
    end

    test "a new task published within the grace is never pruned" do
      mesh = read([@me, @a], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @stray], 0))
      mesh = read(mesh, [@me, @a, @stray], 20_000)

      assert {%{disconnect: [], connect: []}, _} = Mesh.plan(mesh, input([@a, @stray], 60_000))
    end

    test "a node of another basename is never pruned" do
      mesh = read([@me, @a], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @admin], 0))
      mesh = read(mesh, [@me, @a], 100_000)
      assert {%{disconnect: []}, _} = Mesh.plan(mesh, input([@a, @admin], 100_000))
    end

    test "without prune: nobody is disconnected, whatever the time" do
      mesh = read([@me, @a], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @stray], 0, prune: false))
      mesh = read(mesh, [@me], 100_000)
      assert {%{disconnect: []}, _} = Mesh.plan(mesh, input([@a, @stray], 100_000, prune: false))
    end
  end

  describe "a set without this node" do
    test "a set naming none of its former peers is wrong: prunes nobody, keeps healing the last set that listed it" do
      mesh = read([@me, @a, @b], 0)
      # A set naming no live node (a reconciler pointed at the wrong cluster).
      mesh = read(mesh, [:"shop@10.9.9.9"], 1_000)

      assert {%{disconnect: [], connect: [], state: :wrong_set}, mesh} =
               Mesh.plan(mesh, input([@a, @b, @stray], 100_000))

      # A link cut while the wrong set stands is made again.
      assert {%{disconnect: [], connect: [@b], state: :wrong_set}, _} =
               Mesh.plan(mesh, input([@a, @stray], 100_100))
    end

    test "an empty set keeps healing the last set that listed this node" do
      mesh = read([@me, @a, @b], 0) |> read([], 1_000)

      assert {%{connect: [@b], disconnect: [], state: :empty}, _} =
               Mesh.plan(mesh, input([@a], 2_000))
    end

    test "a node dropped from a set that still lists one of its former peers is draining, even when all cut it off already" do
      mesh = read([@me, @a, @b], 0) |> read([@a, @b], 1_000)

      assert {%{connect: [], disconnect: [], state: :draining}, _} =
               Mesh.plan(mesh, input([], 1_000))
    end

    test "a node never listed (a new task) connects to the set but prunes nobody" do
      mesh = read([@a, @b], 0)

      assert {%{connect: [@a, @b], disconnect: [], state: :not_listed}, _} =
               Mesh.plan(mesh, input([@stray], 0))
    end

    test "with prune_grace 0, a node never listed is not draining at its boot read, only at a later one" do
      mesh = read([@a, @b], 0)

      assert {%{connect: [@a, @b], state: :not_listed}, _} =
               Mesh.plan(mesh, input([], 0, grace: 0))

      mesh = read(mesh, [@a, @b], 5_000)
      assert {%{connect: [], state: :draining}, _} = Mesh.plan(mesh, input([], 5_000, grace: 0))
    end

    test "a node never listed stops connecting once sets read over prune_grace omit it" do
      mesh = read([@a, @b], 0)
      mesh = read(mesh, [@a, @b], @grace - 1)
      assert {%{connect: [@a, @b], state: :not_listed}, _} = Mesh.plan(mesh, input([], @grace))
      mesh = read(mesh, [@a, @b], @grace)
      assert {%{connect: [], state: :draining}, _} = Mesh.plan(mesh, input([], @grace))
    end

    test "a node dropped from the set it was in stops connecting at once (draining)" do
      mesh = read([@me, @a], 0) |> read([@a], 1_000)

      assert {%{connect: [], disconnect: [], state: :draining}, _} =
               Mesh.plan(mesh, input([], 1_000))
    end
  end

  test "an empty set prunes nobody and keeps every connection" do
    mesh = read([@me, @a], 0) |> read([], 100_000)

    assert {%{connect: [], disconnect: [], state: :empty}, _} =
             Mesh.plan(mesh, input([@a, @stray], 200_000))
  end

  describe "a node dropped from the set" do
    test "is pruned at once, stays out when it reconnects, and is connected again once re-added" do
      mesh = read([@me, @a, @b], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @b], 0))

      mesh = read(mesh, [@me, @a], 5_000)
      assert {%{disconnect: [@b], connect: []}, mesh} = Mesh.plan(mesh, input([@a, @b], 5_000))

      # Heal never connects it again, and when it comes back (global, or its own
      # loop), it is cut again at once: no grace, no flapping.
      assert {%{connect: [], disconnect: []}, mesh} = Mesh.plan(mesh, input([@a], 6_000))
      assert {%{disconnect: [@b]}, mesh} = Mesh.plan(mesh, input([@a, @b], 7_000))
      mesh = read(mesh, [@me, @a], 35_000)
      assert {%{disconnect: [@b]}, mesh} = Mesh.plan(mesh, input([@a, @b], 35_000))

      # Re-added: connected again, no longer kept out.
      mesh = read(mesh, [@me, @a, @b], 40_000)
      assert {%{connect: [@b], disconnect: []}, mesh} = Mesh.plan(mesh, input([@a], 40_000))
      assert {%{disconnect: []}, _} = Mesh.plan(mesh, input([@a, @b], 41_000))
    end

    test "a kept-out entry expires keep_out after the drop: a new task on that address is a stray with the grace" do
      mesh = read([@me, @a, @b], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @b], 0))
      mesh = read(mesh, [@me, @a], 1_000)
      plan = fn mesh, now -> Mesh.plan(mesh, Map.put(input([@a, @b], now), :keep_out, 40_000)) end
      assert {%{disconnect: [@b]}, mesh} = plan.(mesh, 1_000)
      # Within keep_out of the drop: cut again at once, whenever it reconnects.
      assert {%{disconnect: [@b]}, mesh} = plan.(mesh, 30_000)
      assert {%{disconnect: [@b]}, mesh} = plan.(mesh, 40_999)
      # After it: a stray, first seen now, kept for the grace.
      assert {%{disconnect: []}, mesh} = plan.(mesh, 41_000)
      mesh = read(mesh, [@me, @a], 60_000)
      assert {%{disconnect: []}, mesh} = plan.(mesh, 60_000)
      mesh = read(mesh, [@me, @a], 71_000)
      assert {%{disconnect: [@b]}, _} = plan.(mesh, 71_000)
    end

    test "a member with prune: false keeps a dropped node connected (the no-flap guarantee needs prune on every member)" do
      mesh = read([@me, @a, @b], 0) |> read([@me, @a], 1_000)

      assert {%{disconnect: [], connect: []}, _} =
               Mesh.plan(mesh, input([@a, @b], 1_000, prune: false))
    end

    test "a kept-out node back as another incarnation (a new task on its address) is a stray with the grace; the same incarnation stays out" do
      mesh = read([@me, @a, @b], 0) |> Mesh.seen(@b, 7)
      {_, mesh} = Mesh.plan(mesh, input([@a, @b], 0))
      mesh = read(mesh, [@me, @a], 1_000)
      assert {%{disconnect: [@b]}, mesh} = Mesh.plan(mesh, input([@a, @b], 1_000))

      # The dropped node itself reconnecting: still kept out.
      mesh = Mesh.seen(mesh, @b, 7)
      assert {%{disconnect: [@b]}, mesh} = Mesh.plan(mesh, input([@a, @b], 2_000))

      # A new incarnation under that name: the grace, from now.
      mesh = Mesh.seen(mesh, @b, 8)
      assert {%{disconnect: []}, mesh} = Mesh.plan(mesh, input([@a, @b], 3_000))
      mesh = read(mesh, [@me, @a], 20_000)
      assert {%{disconnect: []}, mesh} = Mesh.plan(mesh, input([@a, @b], 20_000))
      mesh = read(mesh, [@me, @a], 33_000)
      assert {%{disconnect: [@b]}, _} = Mesh.plan(mesh, input([@a, @b], 33_000))
    end

    test "a pruned stray is cut again at once when it reconnects" do
      mesh = read([@me, @a], 0)
      {_, mesh} = Mesh.plan(mesh, input([@a, @stray], 0))
      mesh = read(mesh, [@me, @a], @grace)
      {%{disconnect: [@stray]}, mesh} = Mesh.plan(mesh, input([@a, @stray], @grace))
      assert {%{disconnect: [@stray]}, _} = Mesh.plan(mesh, input([@a, @stray], @grace + 10))
    end
  end
end
