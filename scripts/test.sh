#!/usr/bin/env bash
# Every test of ecs-peers, from a fresh machine: installs what the tests need (scripts/setup.sh), then runs
# the TypeScript type check and jest suites (unit, aws-sdk-client-mock, moto server), the template checks
# (cfn-lint, sam validate, sam build, the built artifact against moto), and the Elixir tests (unit, moto,
# real BEAM nodes in network namespaces: needs root), and the demo end to end (scripts/check-demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0

step() { printf '\n==== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh node python elixir
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
echo "node $(node --version), $(moto_server --version 2>/dev/null || echo moto), $(elixir --version | tail -1)"

step "typecheck and build"
tsc --noEmit -p .
node esbuild.config.mjs

step "jest: unit, aws-sdk-client-mock, moto server"
node --experimental-vm-modules node_modules/jest/bin/jest.js --ci

step "template: cfn-lint, sam validate, sam build, built artifact on moto"
bash scripts/check-template.sh

step "elixir: unit, moto, BEAM clusters in network namespaces"
probe="ecsp-probe-$$"
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$probe" 2>/dev/null; then
  echo "the Elixir cluster tests create network namespaces (ip netns, veth, a bridge): run scripts/test.sh" \
    "as root on a machine or container with CAP_SYS_ADMIN and CAP_NET_ADMIN (CI does)" >&2
  exit 1
fi
ip netns del "$probe"
(cd elixir && MIX_ENV=test mix compile --warnings-as-errors && mix test)

step "demo end to end: bash scripts/demo.sh --cluster, its mesh, and nothing left running (also after | head, Ctrl-C)"
tsx scripts/check-demo.ts

step "all tests passed"
