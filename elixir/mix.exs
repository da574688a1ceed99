defmodule EcsPeers.MixProject do
  use Mix.Project

  # One version for the whole project: package.json, the SAR SemanticVersion in template.yaml and the
  # newest CHANGELOG entry carry the same (test/template/serverlessRepo.test.ts checks it).
  @version "0.1.0"
  @source_url "https://github.com/YOUR_ORG/ecs-peers"

  def project do
    [
      app: :ecs_peers,
      version: @version,
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      aliases: aliases(),
      description:
        "Keeps the BEAM nodes of an Elixir app on AWS ECS connected, from a peer set published to SSM.",
      package: package(),
      name: "EcsPeers",
      source_url: @source_url,
      homepage_url: @source_url,
      docs: docs()
    ]
  end

  def application do
    [extra_applications: [:logger, :inets, :ssl, :crypto, :public_key]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  # No dependencies: compiling and testing need nothing from hex. ExDoc comes in only on request, for the docs:
  #   ECS_PEERS_DOCS=1 mix deps.get && ECS_PEERS_DOCS=1 mix docs
  defp deps do
    if System.get_env("ECS_PEERS_DOCS") in ["1", "true"] do
      [{:ex_doc, "~> 0.34", only: :dev, runtime: false}]
    else
      []
    end
  end

  # `mix docs` without ExDoc says how to get it, instead of "The task docs could not be found".
  defp aliases do
    [docs: [&require_ex_doc/1, "docs"]]
  end

  defp require_ex_doc(_args) do
    Mix.Task.run("deps.loadpaths")

    unless Code.ensure_loaded?(Mix.Tasks.Docs) do
      Mix.raise(
        "mix docs needs ExDoc, which ecs_peers only depends on when asked: " <>
          "run `ECS_PEERS_DOCS=1 mix deps.get`, then `ECS_PEERS_DOCS=1 mix docs`"
      )
    end
  end

  # What `mix hex.build` puts in the package. The license text is the repository's LICENSE (Apache-2.0).
  defp package do
    [
      licenses: ["Apache-2.0"],
      links: %{
        "GitHub" => @source_url,
        "Changelog" => "#{@source_url}/blob/main/CHANGELOG.md",
        "Deploying the reconciler" => "#{@source_url}/blob/main/docs/deploy.md"
      },
      files: ~w(lib mix.exs README.md)
    ]
  end

  # ExDoc's settings (read only by `mix docs`). The library lives in elixir/ of the repository, so source
  # links carry that folder.
  defp docs do
    [
      main: "readme",
      extras: ["README.md", "../CHANGELOG.md": [title: "Changelog"]],
      source_ref: "v#{@version}",
      source_url_pattern: "#{@source_url}/blob/v#{@version}/elixir/%{path}#L%{line}",
      groups_for_modules: [
        "Entry points": [EcsPeers, EcsPeers.Strategy, EcsPeers.DNSClusterResolver],
        "AWS edge": ~r/^EcsPeers\.AWS\./
      ]
    ]
  end
end
