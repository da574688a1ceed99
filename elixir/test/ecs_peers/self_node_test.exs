defmodule EcsPeers.SelfNodeTest do
  # Runs this VM as a distributed node, so: not async.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.Test.FakeCluster

  @moduletag :capture_log

  setup_all do
    EcsPeers.Test.Distributed.start!()
  end

  defp value(nodes),
    do: ~s({"version":1,"nodes":[) <> Enum.map_join(nodes, ",", &~s("#{&1}")) <> "]}"

  test "never connects to itself, and prunes by its own basename when none is configured" do
    me = node()
    [base, _] = me |> Atom.to_string() |> String.split("@")
    peer = :"#{base}@10.0.0.2"
    gone = :"#{base}@10.0.0.9"
    cluster = FakeCluster.start!(connected: [gone, :"other@10.0.0.8"])
    fetch = fn _ -> {:ok, %{version: 1, value: value([me, peer])}} end

    pid =
      start_supervised!(
        {EcsPeers,
         [parameter: "/p", fetch: fetch, prune: true, prune_grace: 0, polling_interval: 60_000] ++
           FakeCluster.seams(cluster)}
      )

    assert %{nodes: [_, _]} = EcsPeers.status(pid)
    assert_received {:connect, ^peer}
    refute_received {:connect, ^me}
    assert_received {:disconnect, ^gone}
    refute_received {:disconnect, _}
  end

  test "a node dropped from the set stops connecting (draining); a new node connects" do
    me = node()
    [base, _] = me |> Atom.to_string() |> String.split("@")
    peer = :"#{base}@10.0.0.2"
    {:ok, answer} = Agent.start_link(fn -> {1, [peer]} end)

    fetch = fn _ ->
      {version, nodes} = Agent.get(answer, & &1)
      {:ok, %{version: version, value: value(nodes)}}
    end

    cluster = FakeCluster.start!()

    pid =
      start_supervised!(
        {EcsPeers,
         [parameter: "/p", fetch: fetch, polling_interval: 60_000] ++ FakeCluster.seams(cluster)}
      )

    # Not yet in the set (a new task): it connects.
    assert %{version: 1} = EcsPeers.status(pid)
    assert_received {:connect, ^peer}

    # In the set, then dropped from it: it connects no more, even when a link is lost.
    Agent.update(answer, fn _ -> {2, [me, peer]} end)
    assert %{result: :applied} = EcsPeers.poll_now(pid)
    FakeCluster.set_connected(cluster, [])
    Agent.update(answer, fn _ -> {3, [peer]} end)

    log =
      capture_log(fn ->
        assert %{result: :applied, connected: []} = EcsPeers.poll_now(pid)
      end)

    refute_received {:connect, ^peer}
    assert log =~ "was dropped from the peer set (version 3 lists its former peers, not it)"
  end

  test "the default connect function fails cleanly on an address where no node runs" do
    [base, _] = node() |> Atom.to_string() |> String.split("@")
    absent = "#{base}x@127.0.0.1"
    fetch = fn _ -> {:ok, %{version: 1, value: value([absent])}} end

    log =
      capture_log(fn ->
        pid =
          start_supervised!({EcsPeers, parameter: "/p", fetch: fetch, polling_interval: 60_000})

        assert %{nodes: [_]} = EcsPeers.status(pid)
        assert %{failed: [_]} = EcsPeers.poll_now(pid)
      end)

    assert log =~ "could not connect to 1 node(s): #{absent}"
    refute String.to_atom(absent) in Node.list()
  end
end
