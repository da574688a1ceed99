defmodule EcsPeers.AWS.Errors do
  @moduledoc """
  What a failed read means, in words an operator can act on, and what counts as "the
  same error" for log-once. AWS error messages can embed the signed request
  (`x-amz-date`, the session token): they are cut and redacted
  (`EcsPeers.AWS.SSM.sanitize_message/1`) before they are kept, logged or reported.
  """

  alias EcsPeers.AWS.SSM

  @doc "The reason with any AWS message sanitized; other reasons unchanged."
  @spec sanitize(term()) :: term()
  def sanitize({:aws_error, status, type, message}) do
    status = if is_integer(status), do: status, else: SSM.sanitize_message(status)
    {:aws_error, status, SSM.sanitize_message(type), SSM.sanitize_message(message)}
  end

  def sanitize(reason), do: reason

  @doc """
  The part of a reason that decides whether it is logged again: an AWS error's message
  may differ on every request (it can quote the request's date), so only its status and
  type count.
  """
  @spec key(term()) :: term()
  def key({:aws_error, status, type, _message}), do: {:aws_error, status, type}
  def key({:atom_budget_exhausted, _version}), do: :atom_budget_exhausted
  def key(reason), do: reason

  @doc "One sentence on what went wrong reading `parameter`, with a hint where one helps."
  @spec describe(term(), String.t()) :: String.t()
  def describe(reason, name) do
    case reason do
      :no_region ->
        "no AWS region: set the :region option or AWS_REGION"

      {:credentials, :no_credentials} ->
        "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run in an ECS task with a task role"

      {:credentials, why} ->
        "could not get AWS credentials: #{inspect(why)}"

      {:aws_error, status, type, message} ->
        "GetParameter #{name} failed: #{type} (HTTP #{status}) #{message}" <>
          hint(type, status)

      {:unreachable, endpoint, {:no_ca_store, why}} ->
        "GetParameter #{name} failed: no CA certificates to verify #{endpoint} " <>
          "(#{inspect(why)}): install ca-certificates in the image"

      {:unreachable, endpoint, why} ->
        "GetParameter #{name} failed: cannot reach #{endpoint}: #{inspect(why)}"

      {:atom_budget_exhausted, version} ->
        "#{name} version #{version} lists only new node names and the atom budget " <>
          "(:max_new_atoms) is used up: ignoring it"

      {:malformed_value, version, why} ->
        "#{name} version #{version} is malformed (#{inspect(why)}), expected " <>
          ~s({"version":1,"nodes":["name@a.b.c.d", ...]})

      :unexpected_response ->
        "GetParameter #{name} returned a response without Parameter.Value/Version"

      other ->
        "polling #{name} failed: #{inspect(other)}"
    end
  end

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
