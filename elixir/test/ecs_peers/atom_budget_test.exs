defmodule EcsPeers.AtomBudgetTest do
  # Not async: the atom count must not see atoms made by tests running beside it.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias EcsPeers.PeerSet
  alias EcsPeers.Test.FakeCluster

  @moduletag :capture_log

  test "names whose atom exists cost no budget; new ones stop at :max_new_atoms" do
    prefix = "budget#{System.unique_integer([:positive])}"
    fresh = for i <- 1..5, do: "#{prefix}@10.1.0.#{i}"

    assert {:ok, %{nodes: nodes, new_atoms: 2, rejected: rejected}} =
             PeerSet.validate(["known@10.1.0.1" | fresh], max_new_atoms: 2)

    assert length(nodes) == 3
    assert :"known@10.1.0.1" in nodes
    assert Enum.map(rejected, &elem(&1, 1)) == List.duplicate(:atom_budget_exhausted, 3)

    # Only new names beyond the budget: not an empty set.
    other = for i <- 1..3, do: "#{prefix}x@10.1.0.#{i}"
    assert PeerSet.validate(other, max_new_atoms: 0) == {:error, :atom_budget_exhausted}
  end

  test "polls of ever-new valid names and junk grow the atom table by at most the budget" do
    prefix = "flood#{System.unique_integer([:positive])}"
    {:ok, agent} = Agent.start_link(fn -> 0 end)

    # Every poll: a new version with 20 never-seen valid names and 2,000 junk entries.
    fetch = fn _name ->
      v = Agent.get_and_update(agent, &{&1 + 1, &1 + 1})
      valid = for i <- 1..20, do: ~s("#{prefix}v#{v}n#{i}@10.2.#{v}.#{i}")
      junk = for i <- 1..2_000, do: ~s("#{prefix}v#{v}j#{i}@10.2.0.#{256 + i}")
      {:ok, %{version: v, value: ~s({"version":1,"nodes":[#{Enum.join(valid ++ junk, ",")}]})}}
    end

    cluster = FakeCluster.start!()
    budget = 50

    pid =
      start_supervised!(
        {EcsPeers,
         [
           parameter: "/ecs-peers/flood",
           fetch: fetch,
           polling_interval: 60_000,
           max_nodes: 20,
           max_new_atoms: budget,
           topology: :flood
         ] ++ FakeCluster.seams(cluster)}
      )

    # Warm up: the boot poll loaded whatever code the loop needs (and spent 20 atoms).
    _ = EcsPeers.status(pid)
    before = :erlang.system_info(:atom_count)

    log =
      capture_log(fn ->
        for _ <- 1..10, do: EcsPeers.poll_now(pid)
      end)

    assert :erlang.system_info(:atom_count) - before <= budget - 20
    assert String.split(log, ":atom_budget_exhausted") |> length() == 2
    assert log =~ "lists only new node names and the atom budget"
  end
end
