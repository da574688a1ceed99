defmodule EcsPeers.AWS.Env do
  @moduledoc false
  # The environment the AWS edge reads: the variables it uses, from the OS environment,
  # with the `:env` option's entries laid over them (a `nil` value hides a variable).
  # Only those variables are kept, so the process state holds no unrelated secrets.

  @names [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SERVICEDISCOVERY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
  ]

  @secret_names [
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN"
  ]

  @doc false
  def names, do: @names

  @doc false
  def secret_names, do: @secret_names

  @spec build(%{optional(String.t()) => String.t() | nil}) :: %{String.t() => String.t()}
  def build(overrides \\ %{}) do
    overrides
    |> Enum.reduce(Map.take(System.get_env(), @names), fn
      {name, nil}, env -> Map.delete(env, to_string(name))
      {name, value}, env -> Map.put(env, to_string(name), to_string(value))
    end)
    |> Map.take(@names)
  end
end
