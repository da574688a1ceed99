defmodule EcsPeers.Source.CloudMap do
  @moduledoc """
  The peer set from an AWS Cloud Map service (option `cloud_map: [namespace: "NAME",
  service: "NAME"]`, the HTTP namespace and service names, as `DiscoverInstances`
  takes them), where the reconciler registers one instance per running task.

  Each read is one `DiscoverInstancesRevision`; only when the revision differs from the
  last one read (moto's can go down; AWS's goes up) one `DiscoverInstances` reads every
  instance (up to 1,000, the per-service limit). The entries are the instances'
  `ECS_PEERS_NODE` attributes, validated by `EcsPeers.PeerSet` exactly as SSM's (an
  instance without it is an invalid entry, logged, never an atom).

  The other attributes the reconciler writes (those ECS itself uses in Cloud Map) are
  kept per node for the app, as strings:

      %{"shop@10.0.1.5" => %{instance_id: "TASK_ID", availability_zone: "eu-west-1a",
        region: "eu-west-1", cluster: "prod", service: "shop" | nil,
        task_definition_family: "shop", attributes: %{"AWS_INSTANCE_IPV4" => ..., ...}}}

  in `EcsPeers.status/2` (`:instances`) and in the telemetry event
  `[:ecs_peers, :instances]` (measurements `%{count: n}`, metadata `%{topology:,
  namespace:, service:, revision:, instances: map}`), emitted when a
  `DiscoverInstances` answer differs from the previous one.
  """

  @behaviour EcsPeers.Source

  alias EcsPeers.AWS.{Client, CloudMap}
  alias EcsPeers.{Source, Telemetry}

  defstruct [:namespace, :service, :client, :topology, :telemetry, snapshot: nil, instances: %{}]

  @node_attribute "ECS_PEERS_NODE"
  @fields [
    availability_zone: "AVAILABILITY_ZONE",
    region: "REGION",
    cluster: "ECS_CLUSTER_NAME",
    service: "ECS_SERVICE_NAME",
    task_definition_family: "ECS_TASK_DEFINITION_FAMILY"
  ]

  @doc false
  def new(o) do
    %__MODULE__{
      namespace: Keyword.fetch!(o.cloud_map, :namespace),
      service: Keyword.fetch!(o.cloud_map, :service),
      client: Source.client(CloudMap, o),
      topology: o.topology,
      telemetry: o.telemetry || (&Telemetry.execute/3)
    }
  end

  @impl true
  def read(source) do
    call = &CloudMap.discover_instances_revision(&1, source.namespace, source.service)

    with {:ok, revision, source} <- Source.call(source, "DiscoverInstancesRevision", call) do
      case source.snapshot do
        %{version: ^revision} = snapshot -> {:ok, snapshot, source}
        _ -> discover(source, revision)
      end
    end
  end

  defp discover(source, revision) do
    call = &CloudMap.discover_instances(&1, source.namespace, source.service)

    with {:ok, %{revision: answered, instances: instances}, source} <-
           Source.call(source, "DiscoverInstances", call) do
      # The set belongs to the revision DiscoverInstances answered with, if it says.
      revision = answered || revision
      entries = instances |> Enum.map(& &1.attributes[@node_attribute]) |> Enum.sort()

      by_node =
        for i <- instances, is_binary(i.attributes[@node_attribute]), into: %{}, do: meta(i)

      snapshot = %{
        version: revision,
        hash: :crypto.hash(:sha256, :erlang.term_to_binary(entries)),
        value: {:entries, entries}
      }

      if by_node != source.instances, do: emit(source, revision, by_node)
      {:ok, snapshot, %{source | snapshot: snapshot, instances: by_node}}
    end
  end

  defp meta(%{instance_id: id, attributes: attributes}) do
    fields = for {key, name} <- @fields, into: %{}, do: {key, attributes[name]}
    {attributes[@node_attribute], Map.merge(fields, %{instance_id: id, attributes: attributes})}
  end

  defp emit(source, revision, by_node) do
    Telemetry.emit(source, [:ecs_peers, :instances], %{count: map_size(by_node)}, %{
      namespace: source.namespace,
      service: source.service,
      revision: revision,
      instances: by_node
    })
  end

  @impl true
  def name(source), do: "#{source.namespace}/#{source.service}"

  @impl true
  def status(source) do
    %{
      store: :cloud_map,
      namespace: source.namespace,
      service: source.service,
      revision: source.snapshot && source.snapshot.version,
      instances: source.instances
    }
  end

  @impl true
  def redact(source), do: %{source | client: Client.redact(source.client)}
end
