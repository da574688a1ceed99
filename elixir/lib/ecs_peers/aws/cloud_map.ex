defmodule EcsPeers.AWS.CloudMap do
  @moduledoc """
  The two AWS Cloud Map data-plane calls ecs-peers makes, signed with SigV4 for
  `servicediscovery`: `DiscoverInstancesRevision` (every read: has anything changed?)
  and `DiscoverInstances` (only when the revision changed; every instance, up to 1,000,
  the per-service limit).

  AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target:
  Route53AutoNaming_v20170314.DiscoverInstances`. The endpoint is
  `AWS_ENDPOINT_URL_SERVICEDISCOVERY`, else `AWS_ENDPOINT_URL`, else the data-plane host
  `https://data-servicediscovery.REGION.amazonaws.com` (`.amazonaws.com.cn` in `cn-`
  regions). A custom endpoint is used as given (the AWS SDKs would put `data-` before
  its host; moto and a VPC endpoint's URL need it as is). The client is an
  `EcsPeers.AWS.Client` and the signed call `EcsPeers.AWS.Request`, as for SSM: region,
  credentials, clock correction and errors are theirs.
  """

  alias EcsPeers.AWS.{Client, Request}

  @api %{
    service: "servicediscovery",
    target_prefix: "Route53AutoNaming_v20170314.",
    content_type: "application/x-amz-json-1.1",
    endpoint_variable: "AWS_ENDPOINT_URL_SERVICEDISCOVERY",
    host: "data-servicediscovery"
  }

  @type t :: Client.t()
  @type instance :: %{instance_id: String.t(), attributes: %{String.t() => String.t()}}

  # The per-service instance limit, and DiscoverInstances' largest MaxResults.
  @max_results 1_000

  @doc """
  A Cloud Map client from an environment map and options (`:region`, `:timeout`,
  `:container_host`): see `EcsPeers.AWS.Client`.
  """
  @spec new(%{String.t() => String.t()}, keyword()) :: t()
  def new(env, opts \\ []), do: Client.new(env, @api, opts)

  @doc """
  The service's instances revision: `{:ok, revision, client}` or `{:error, reason, client}`.
  """
  @spec discover_instances_revision(t(), String.t(), String.t()) ::
          {:ok, integer(), t()} | {:error, term(), t()}
  def discover_instances_revision(
        %Client{service: "servicediscovery"} = client,
        namespace,
        service
      ) do
    payload = %{"NamespaceName" => namespace, "ServiceName" => service}

    Request.call(client, "DiscoverInstancesRevision", payload, fn
      %{"InstancesRevision" => revision} when is_integer(revision) -> {:ok, revision}
      _ -> {:error, :unexpected_response}
    end)
  end

  @doc """
  Every instance of the service, whatever its health status (the reconciler registers
  running tasks only), with the revision they belong to:
  `{:ok, %{revision: r, instances: [%{instance_id: id, attributes: map}]}, client}` or
  `{:error, reason, client}`. Attributes that are not strings are dropped.
  """
  @spec discover_instances(t(), String.t(), String.t()) ::
          {:ok, %{revision: integer() | nil, instances: [instance()]}, t()}
          | {:error, term(), t()}
  def discover_instances(%Client{service: "servicediscovery"} = client, namespace, service) do
    payload = %{
      "NamespaceName" => namespace,
      "ServiceName" => service,
      "MaxResults" => @max_results,
      "HealthStatus" => "ALL"
    }

    Request.call(client, "DiscoverInstances", payload, fn
      %{"Instances" => instances} = body when is_list(instances) ->
        revision = if is_integer(body["InstancesRevision"]), do: body["InstancesRevision"]
        {:ok, %{revision: revision, instances: Enum.flat_map(instances, &instance/1)}}

      _ ->
        {:error, :unexpected_response}
    end)
  end

  defp instance(%{"InstanceId" => id} = instance) when is_binary(id) do
    attributes =
      case instance["Attributes"] do
        %{} = map -> for {k, v} <- map, is_binary(k) and is_binary(v), into: %{}, do: {k, v}
        _ -> %{}
      end

    [%{instance_id: id, attributes: attributes}]
  end

  defp instance(_other), do: []
end
