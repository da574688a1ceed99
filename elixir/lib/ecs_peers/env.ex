defmodule EcsPeers.Env do
  @moduledoc false
  # The environment the AWS edge reads: the OS environment with the `:env` option's
  # entries laid over it (a `nil` value hides a variable).

  @spec build(%{optional(String.t()) => String.t() | nil}) :: %{String.t() => String.t()}
  def build(overrides \\ %{}) do
    Enum.reduce(overrides, System.get_env(), fn
      {name, nil}, env -> Map.delete(env, to_string(name))
      {name, value}, env -> Map.put(env, to_string(name), to_string(value))
    end)
  end
end
