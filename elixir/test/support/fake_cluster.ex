defmodule EcsPeers.Test.FakeCluster do
  @moduledoc """
  Stands in for the distribution layer in poll tests: an Agent holding the "connected"
  nodes, with libcluster-style `{m, f, a}` seams that also report each call to the
  test process as `{:connect, node}` / `{:disconnect, node}`.

  Nodes in `:hang` never answer a connect; nodes in `:refuse` answer `false`.
  """

  def start!(opts \\ []) do
    owner = self()

    {:ok, agent} =
      Agent.start_link(fn ->
        %{
          connected: Keyword.get(opts, :connected, []),
          hang: Keyword.get(opts, :hang, []),
          refuse: Keyword.get(opts, :refuse, []),
          owner: owner
        }
      end)

    agent
  end

  def seams(agent) do
    [
      connect: {__MODULE__, :connect, [agent]},
      disconnect: {__MODULE__, :disconnect, [agent]},
      list_nodes: {__MODULE__, :list_nodes, [agent]}
    ]
  end

  def connect(agent, node) do
    state = Agent.get(agent, & &1)
    send(state.owner, {:connect, node})

    cond do
      node in state.hang ->
        Process.sleep(:infinity)

      node in state.refuse ->
        false

      true ->
        Agent.update(agent, fn s -> %{s | connected: Enum.uniq([node | s.connected])} end)
        true
    end
  end

  def disconnect(agent, node) do
    owner = Agent.get(agent, & &1.owner)
    send(owner, {:disconnect, node})
    Agent.update(agent, fn s -> %{s | connected: List.delete(s.connected, node)} end)
    true
  end

  def list_nodes(agent), do: Agent.get(agent, &Enum.sort(&1.connected))

  def set_connected(agent, nodes), do: Agent.update(agent, &%{&1 | connected: nodes})
end
