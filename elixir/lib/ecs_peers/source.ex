defmodule EcsPeers.Source do
  @moduledoc """
  Where a node reads its peer set: the store the reconciler publishes to. `EcsPeers.Poller`
  asks its source for the current set on every read and does the rest (validation,
  connections) the same way whatever the store:

    * `EcsPeers.Source.SSM` (option `:parameter`): one `GetParameter` per read; a v1
      value as it is, a v2 manifest with its parts (`EcsPeers.PeerSet.V2`);
    * `EcsPeers.Source.CloudMap` (option `:cloud_map`): one `DiscoverInstancesRevision`
      per read, `DiscoverInstances` only when the revision changed.

  `read/1` returns `{:ok, snapshot, source}` or `{:error, reason, source}`; a snapshot is
  `%{version: v, hash: h, value: value}` where `value` is a v1 JSON value (parsed by
  `EcsPeers.PeerSet.parse/2`) or `{:entries, [term]}` (entries still to validate). The
  poller applies a snapshot whose `version` or `hash` differs from the last one applied;
  a source answers an unchanged store with the same snapshot, without reading more.
  """

  alias EcsPeers.AWS.Env
  alias EcsPeers.Source

  @type snapshot :: %{version: term(), hash: binary(), value: binary() | {:entries, [term()]}}
  @typedoc "`%EcsPeers.Source.SSM{}` or `%EcsPeers.Source.CloudMap{}`."
  @type t :: struct()

  @callback read(struct()) :: {:ok, snapshot(), struct()} | {:error, term(), struct()}
  @callback name(struct()) :: String.t()
  @callback status(struct()) :: map()
  @callback redact(struct()) :: struct()

  @doc "The source the validated options (`EcsPeers.Options.validate!/2`) name."
  @spec new(map()) :: t()
  def new(%{cloud_map: [_ | _]} = o), do: Source.CloudMap.new(o)
  def new(o), do: Source.SSM.new(o)

  @doc "Reads the store once (see the module doc)."
  @spec read(t()) :: {:ok, snapshot(), t()} | {:error, term(), t()}
  def read(%module{} = source), do: module.read(source)

  @doc "The store's name in log lines, telemetry and status: the parameter, or `NAMESPACE/SERVICE`."
  @spec name(t()) :: String.t()
  def name(%module{} = source), do: module.name(source)

  @doc "What the source knows besides the set, for `EcsPeers.status/2` (`:store` and more)."
  @spec status(t()) :: map()
  def status(%module{} = source), do: module.status(source)

  @doc "The source without AWS secrets (crash reports, `:sys.get_status/1`)."
  @spec redact(t()) :: t()
  def redact(%module{} = source), do: module.redact(source)

  @doc """
  Whether a failed read should be tried again at the budgeted interval rather than
  backed off: a v2 set met while it was being rewritten (`:inconsistent_set`) is
  consistent again at the next read.
  """
  @spec retry_at_budget?(term()) :: boolean()
  def retry_at_budget?({:inconsistent_set, _version, _why}), do: true
  def retry_at_budget?(_reason), do: false

  # Parameter Store: 40 TPS per account and Region shared by every app; 10% of it.
  @ssm_read_budget 4.0
  # Cloud Map: after a change every node makes one DiscoverInstances (1,000/s steady per
  # account and Region), besides one DiscoverInstancesRevision (3,000/s) per read: 10% of
  # the tighter one.
  @cloud_map_read_budget 100.0

  @doc false
  def default_read_budget(:ssm), do: @ssm_read_budget
  def default_read_budget(:cloud_map), do: @cloud_map_read_budget

  @doc false
  # The checks across options, after each one's own (`EcsPeers.Options.validate!/2`):
  # exactly one of :parameter and :cloud_map, and :read_budget's default for the store.
  # `given` are the options as passed.
  @spec resolve!(map(), keyword()) :: map()
  def resolve!(o, given) do
    store =
      case {o.parameter, o.cloud_map} do
        {nil, nil} ->
          raise ArgumentError,
                "ecs_peers: option :parameter must be a non-empty string (the SSM parameter " <>
                  "to read), or give :cloud_map ([namespace: \"NAME\", service: \"NAME\"]) instead"

        {_, nil} ->
          :ssm

        {nil, _} ->
          :cloud_map

        {_, _} ->
          raise ArgumentError,
                "ecs_peers: options :parameter and :cloud_map exclude each other: give one store"
      end

    if Keyword.has_key?(given, :read_budget),
      do: o,
      else: %{o | read_budget: default_read_budget(store)}
  end

  @doc false
  # The :cloud_map option's check: exactly :namespace and :service, non-empty strings.
  def valid_cloud_map?(nil), do: true

  def valid_cloud_map?(value) do
    is_list(value) and Keyword.keyword?(value) and
      Enum.sort(Keyword.keys(value)) == [:namespace, :service] and
      Enum.all?(value, fn {_, v} -> is_binary(v) and v != "" and byte_size(v) <= 1024 end)
  end

  @doc false
  # The client of an AWS API module (`EcsPeers.AWS.SSM`, `EcsPeers.AWS.CloudMap`) for the
  # validated options: their :env laid over the OS environment, :region, :http_timeout.
  @spec client(module(), map()) :: EcsPeers.AWS.Client.t()
  def client(api, o), do: api.new(Env.build(o.env), region: o.region, timeout: o.http_timeout)

  @doc false
  # Calls `fun` with the source's client (an AWS call returning `{:ok | :error, _,
  # client}`) and puts the client it returns back in the source. An error names its
  # call, `{:call, operation, reason}`, but GetParameter's: the call
  # `EcsPeers.AWS.Errors.describe/3` assumes.
  @spec call(struct(), String.t(), (term() -> {:ok, term(), term()} | {:error, term(), term()})) ::
          {:ok, term(), struct()} | {:error, term(), struct()}
  def call(%{client: client} = source, operation, fun) do
    case fun.(client) do
      {:ok, result, client} ->
        {:ok, result, %{source | client: client}}

      {:error, reason, client} ->
        {:error, call_error(operation, reason), %{source | client: client}}
    end
  end

  defp call_error("GetParameter", reason), do: reason
  defp call_error(operation, reason), do: {:call, operation, reason}

  @doc false
  def apply_fun({m, f, a}, args), do: apply(m, f, a ++ args)
  def apply_fun(fun, args) when is_function(fun), do: apply(fun, args)
end
