defmodule EcsPeers.ShareTest do
  # This VM runs as a distributed node so that it can be in the set: not async.
  use ExUnit.Case, async: false

  alias EcsPeers.Share
  alias EcsPeers.Test.{Distributed, FakeCluster}

  @moduletag :capture_log
  @tag_ :ecs_peers_share

  setup_all do
    Distributed.start!()
  end

  setup do
    me = node()
    a = Distributed.peer("10.0.0.2")
    b = Distributed.peer("10.0.0.3")
    {:ok, reads} = Agent.start_link(fn -> 0 end)
    value = Distributed.value([me, a, b])

    fetch = fn _ ->
      Agent.update(reads, &(&1 + 1))
      {:ok, %{version: 1, value: value}}
    end

    %{me: me, a: a, b: b, reads: reads, fetch: fetch, hash: :crypto.hash(:sha256, value)}
  end

  defp start!(ctx, cluster, opts \\ []) do
    opts =
      [parameter: "/p", fetch: ctx.fetch, polling_interval: 60_000, topology: :share, prune: true]
      |> Keyword.merge(opts)

    pid = start_supervised!({EcsPeers, opts ++ FakeCluster.seams(cluster)})
    _ = EcsPeers.status(pid)
    pid
  end

  defp share(pid, version, nodes, opts \\ []) do
    names = Enum.map(nodes, &to_string/1)
    hash = Keyword.get(opts, :hash, :crypto.hash(:sha256, inspect(names)))
    parameter = Keyword.get(opts, :parameter, "/p")
    send(pid, {@tag_, :set, self(), parameter, version, hash, names})
    # The share is handled before this call is answered.
    EcsPeers.status(pid)
  end

  describe "newer?/2, the adoption rule" do
    test "a set is newer when this node has none, or when its SSM version is greater" do
      assert Share.newer?({1, "h"}, {nil, nil})
      assert Share.newer?({8, "h"}, {7, "g"})
    end

    test "the same version, another hash (a re-created parameter), or a lower one, is not" do
      refute Share.newer?({7, "g"}, {7, "g"})
      refute Share.newer?({7, "h"}, {7, "g"})
      refute Share.newer?({1, "h"}, {57, "g"})
      refute Share.newer?({"8", "h"}, {7, "g"})
    end
  end

  test "a member that has not read the new set takes it from a share and prunes the dropped node at once, without a read",
       ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)
    assert FakeCluster.list_nodes(cluster) == Enum.sort([ctx.a, ctx.b])
    b = ctx.b

    assert %{version: 2, membership: :listed} = share(pid, 2, [ctx.me, ctx.a])
    assert_receive {:disconnect, ^b}, 1_000
    assert Agent.get(ctx.reads, & &1) == 1

    # It comes back (global, through a member that has not read either): cut again.
    FakeCluster.set_connected(cluster, [ctx.a, b])
    send(pid, {:nodedown, b})
    assert_receive {:disconnect, ^b}, 2_000
  end

  test "the dropped node takes the set from a share and goes draining: it reconnects nobody",
       ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)

    assert %{version: 2, membership: :draining} = share(pid, 2, [ctx.a, ctx.b])

    # Its peers cut it off; a nodedown heal connects no one.
    FakeCluster.set_connected(cluster, [])
    send(pid, {:nodedown, ctx.a})
    Process.sleep(200)
    assert FakeCluster.list_nodes(cluster) == []
  end

  test "an older or equal version, another parameter, invalid entries are ignored", ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster)
    nodes = Enum.sort([ctx.me, ctx.a, ctx.b])

    assert %{version: 1, nodes: ^nodes} = share(pid, 1, [ctx.me, ctx.a])
    assert %{version: 1, nodes: ^nodes} = share(pid, 0, [ctx.me, ctx.a])
    assert %{version: 1, nodes: ^nodes} = share(pid, 5, [ctx.me], parameter: "/other")
    assert %{version: 1, nodes: ^nodes} = share(pid, 5, ["not a node", 42])
    refute_received {:disconnect, _}
  end

  test "a shared set makes atoms only within the atom budget", ctx do
    cluster = FakeCluster.start!()
    pid = start!(ctx, cluster, max_new_atoms: 0)
    base = ctx.me |> Atom.to_string() |> String.split("@") |> hd()
    fresh = "#{base}@10.#{:rand.uniform(200)}.#{:rand.uniform(200)}.#{:rand.uniform(200)}"

    assert %{version: 1} = share(pid, 2, [fresh])
    assert_raise ArgumentError, fn -> String.to_existing_atom(fresh) end
  end

  test "a have for a newer version gets a want; a want gets the set", ctx do
    pid = start!(ctx, FakeCluster.start!())
    send(pid, {@tag_, :have, self(), "/p", 1, ctx.hash})
    send(pid, {@tag_, :have, self(), "/other", 9, "h"})
    send(pid, {@tag_, :have, self(), "/p", 9, "h"})
    assert_receive {@tag_, :want, ^pid, "/p"}, 1_000
    refute_receive {@tag_, :want, _, _}, 100

    send(pid, {@tag_, :want, self(), "/p"})
    hash = ctx.hash
    assert_receive {@tag_, :set, ^pid, "/p", 1, ^hash, names}, 1_000
    assert names == Enum.map(Enum.sort([ctx.me, ctx.a, ctx.b]), &Atom.to_string/1)
  end

  test "creation/1 reads a pid's node incarnation: the same for every pid of this node" do
    creation = Share.creation(self())
    assert is_integer(creation)
    assert Share.creation(spawn(fn -> :ok end)) == creation

    me = node()
    state = %{parameter: "/p", version: 1, value_hash: "h", inbox: nil}
    have = {@tag_, :have, self(), "/p", 1, "h"}
    assert {:seen, ^me, ^creation} = Share.handle(have, state, "x")
  end

  test "sets are sent only to connected nodes of the basename, never to this node" do
    me = node()
    a = Distributed.peer("10.0.0.2")
    assert Share.peers([me, a, :"admin@10.0.0.8"], Distributed.basename()) == [a]
  end
end
