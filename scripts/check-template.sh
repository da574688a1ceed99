#!/usr/bin/env bash
# Checks template.yaml and the artifact `sam build` makes from it:
#   1. cfn-lint template.yaml            (no findings; also the infra/service.yaml example; and for each PeerStore)
#   2. sam validate --lint               (SAM transform + cfn-lint)
#   3. sam build into a temporary folder (Makefile -> esbuild.config.mjs, needs node_modules: run after npm ci),
#      once for each PeerStore (ssm, cloudmap, both)
#   4. the built index.mjs is byte-identical to `npm run build`'s, and its handler runs against moto server
#      with the demo estate (scripts/smoke-built.ts)
# Tools come from .venv/bin and node_modules/.bin first, then PATH. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"

step() { printf '\n==== check-template: %s\n' "$*"; }
fail() { echo "check-template: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found: run bash scripts/setup.sh $2"; }

need cfn-lint python
need sam python
need moto_server python
need make "(or apt-get install make)"
need tsx node
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' ||
  fail "node $(node --version) is first on PATH, the Lambda runtime is nodejs22.x: run bash scripts/setup.sh node"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "cfn-lint $(cfn-lint --version | awk '{print $2}') template.yaml infra/service.yaml"
cfn-lint template.yaml infra/service.yaml
required=(ClusterName=shop-prod 'TaskTags={"app":"shop"}' NodeBasename=shop)
for store in ssm cloudmap both; do
  cfn-lint template.yaml --parameters PeerStore="$store" "${required[@]}"
done
cfn-lint template.yaml --parameters PeerStore=cloudmap CloudMapNamespaceId=ns-e1tpmexample0001 "${required[@]}"
echo "no findings"

step "sam validate --lint ($(sam --version))"
sam validate --lint --template-file template.yaml

for store in cloudmap both ssm; do
  step "sam build --build-dir $work/build --parameter-overrides PeerStore=$store"
  rm -rf "$work/build"
  sam build --template-file template.yaml --build-dir "$work/build" --parameter-overrides "PeerStore=$store"
done
artifact="$work/build/ReconcileFunction/index.mjs"
[ -s "$artifact" ] && [ -s "$artifact.map" ] || fail "sam build made no $artifact (and .map)"
ls -l "$work/build/ReconcileFunction"

step "the sam build artifact is the npm run build bundle"
ECS_PEERS_OUTDIR="$work/npm" node esbuild.config.mjs
cmp "$artifact" "$work/npm/reconcile/index.mjs" || fail "sam build and esbuild.config.mjs made different bundles"
echo "identical: $(wc -c < "$artifact") bytes"

step "the built handler against moto server"
tsx scripts/smoke-built.ts "$artifact"

step "template checks passed"
