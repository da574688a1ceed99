defmodule EcsPeers.MixProject do
  use Mix.Project

  @version "0.1.0"

  def project do
    [
      app: :ecs_peers,
      version: @version,
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: [],
      description:
        "Keeps the BEAM nodes of an Elixir app on AWS ECS connected, from a peer set published to SSM.",
      docs: [main: "readme", extras: ["README.md"]]
    ]
  end

  def application do
    [extra_applications: [:logger, :inets, :ssl, :crypto, :public_key]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
