defmodule EcsPeers.AWS.Errors do
  @moduledoc """
  What a failed read means, in words an operator can act on, whether AWS throttled it
  (`throttled?/1`), and what counts as "the same error" for log-once. AWS error messages can embed the signed request
  (`x-amz-date`, the session token): they are cut and redacted
  (`EcsPeers.AWS.Request.sanitize_message/1`) before they are kept, logged or reported.
  """

  alias EcsPeers.AWS.{Credentials, Request}

  @doc "The reason with any AWS message sanitized; other reasons unchanged."
  @spec sanitize(term()) :: term()
  def sanitize({:aws_error, status, type, message}) do
    status = if is_integer(status), do: status, else: Request.sanitize_message(status)
    {:aws_error, status, Request.sanitize_message(type), Request.sanitize_message(message)}
  end

  def sanitize({:call, operation, reason}), do: {:call, operation, sanitize(reason)}
  def sanitize(reason), do: reason

  @throttling_codes [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete"
  ]

  @doc """
  Whether an error of an AWS call says the account's request rate was exceeded (HTTP
  429, or a throttling code such as `ThrottlingException`, the one Parameter Store
  answers when its shared 40 TPS are used up, or `RequestLimitExceeded`, Cloud Map's):
  the caller should read less often. Any term is accepted; an error of another call of
  a read (`{:call, operation, reason}`) is judged by its reason.
  """
  @spec throttled?(term()) :: boolean()
  def throttled?({:aws_error, 429, _type, _message}), do: true
  def throttled?({:aws_error, _status, type, _message}) when type in @throttling_codes, do: true
  def throttled?({:call, _operation, reason}), do: throttled?(reason)
  def throttled?(_reason), do: false

  @doc """
  The part of a reason that decides whether it is logged again: an AWS error's message
  may differ on every request (it can quote the request's date), so only its status and
  type count.
  """
  @spec key(term()) :: term()
  def key({:aws_error, status, type, _message}), do: {:aws_error, status, type}
  def key({:atom_budget_exhausted, _version}), do: :atom_budget_exhausted
  def key({:call, operation, reason}), do: {:call, operation, key(reason)}
  # A torn set is logged once per manifest, whatever part it was torn at.
  def key({:inconsistent_set, version, _why}), do: {:inconsistent_set, version}
  def key(reason), do: reason

  @doc """
  One sentence on what went wrong reading `name` (the parameter, or a Cloud Map
  `NAMESPACE/SERVICE`), with a hint where one helps. `operation` is the AWS call that
  failed (`{:call, operation, reason}` names another one than `GetParameter`).
  """
  @spec describe(term(), String.t(), String.t()) :: String.t()
  def describe(reason, name, operation \\ "GetParameter")

  def describe({:call, operation, reason}, name, _operation) do
    name = if operation == "GetParameters", do: "#{name}/part/*", else: name
    describe(reason, name, operation)
  end

  def describe({:inconsistent_set, version, why}, name, _operation) do
    "#{name} version #{version} is a v2 manifest whose parts do not make its set " <>
      "(#{inspect(why)}): a reconciler run writing it now, or parts of two runs; " <>
      "ignoring it until a read finds it whole"
  end

  def describe(reason, name, operation) do
    case reason do
      :no_region ->
        "no AWS region: set the :region option or AWS_REGION"

      {:credentials, :no_credentials} ->
        Credentials.describe(:no_credentials)

      {:credentials, why} ->
        "could not get AWS credentials: #{inspect(why)}"

      {:aws_error, status, type, message} ->
        "#{operation} #{name} failed: #{type} (HTTP #{status}) #{message}" <>
          hint(type, status, operation)

      {:unreachable, endpoint, {:no_ca_store, why}} ->
        "#{operation} #{name} failed: no CA certificates to verify #{endpoint} " <>
          "(#{inspect(why)}): install ca-certificates in the image"

      {:unreachable, endpoint, why} ->
        "#{operation} #{name} failed: cannot reach #{endpoint}: #{inspect(why)}"

      {:atom_budget_exhausted, version} ->
        "#{name} version #{version} lists only new node names and the atom budget " <>
          "(:max_new_atoms) is used up: ignoring it"

      {:malformed_value, version, why} ->
        "#{name} version #{version} is malformed (#{inspect(why)}), expected " <>
          ~s({"version":1,"nodes":["name@a.b.c.d", ...]} or a v2 manifest)

      :unexpected_response ->
        "#{operation} #{name} returned an answer without the expected fields"

      other ->
        "polling #{name} failed: #{inspect(other)}"
    end
  end

  @cloud_map ["DiscoverInstances", "DiscoverInstancesRevision"]

  defp hint(type, _, op)
       when type in ["NamespaceNotFound", "ServiceNotFound"] and op in @cloud_map,
       do: " (check the :cloud_map namespace and service names and the region)"

  defp hint(type, _, op)
       when type in ["AccessDeniedException", "AccessDenied"] and op in @cloud_map,
       do:
         " (the task role needs servicediscovery:DiscoverInstances and " <>
           "servicediscovery:DiscoverInstancesRevision)"

  defp hint(type, _, "GetParameters") when type in ["AccessDeniedException", "AccessDenied"],
    do: " (the task role needs ssm:GetParameters on the parameter's parts, NAME/part/*)"

  defp hint(type, status, op)
       when op in @cloud_map and (type == "RequestLimitExceeded" or status in [429, 503]),
       do:
         " (Cloud Map's DiscoverInstances quota, 1,000/s per account and Region, is used up: " <>
           "reading less often; lower :read_budget if other apps are throttled)"

  defp hint(type, status, _op), do: hint(type, status)

  defp hint("ParameterNotFound", _), do: " (check the :parameter name and region)"

  defp hint(type, _) when type in ["AccessDeniedException", "AccessDenied"],
    do: " (the task role needs ssm:GetParameter on this parameter)"

  defp hint(type, _)
       when type in [
              "SignatureDoesNotMatch",
              "UnrecognizedClientException",
              "InvalidSignatureException",
              "InvalidClientTokenId",
              "ExpiredTokenException"
            ],
       do: " (check the AWS credentials and the clock)"

  defp hint(type, status)
       when type in ["ThrottlingException", "Throttling", "TooManyRequestsException"] or
              status in [429, 503],
       do:
         " (Parameter Store's request rate is shared by every app of the account and Region: " <>
           "reading less often; lower :read_budget if other apps are throttled)"

  defp hint(_, _), do: ""
end
