#!/usr/bin/env bash
# The main job on an embedded default, on a fresh machine: installs the Node packages, moto server and (as
# root) Debian's Elixir, builds the Lambda bundle, runs it against a demo ECS estate in moto (no AWS account
# needed), then starts a BEAM node per published task in network namespaces and shows them connect.
#   bash scripts/demo.sh [--no-cluster | --cluster]     --cluster: fail unless the cluster part runs
# Every line starts with the time since the demo began. Whatever the demo starts stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
export ECS_PEERS_T0="${ECS_PEERS_T0:-$(date +%s)}"

# Elixir only as root (apt-get, and the cluster part needs root anyway). If it cannot be installed, the demo
# still runs and says in one line that the cluster part is skipped.
if [ "$(id -u)" -eq 0 ] && [[ " $* " != *" --no-cluster "* ]]; then
  SETUP_NEXT="Debian's Elixir" bash scripts/setup.sh node moto
  SETUP_NEXT="build the Lambda bundle, then the demo" bash scripts/setup.sh elixir ||
    echo "setup: Debian's Elixir could not be installed (see above); the demo goes on without the cluster part"
else
  SETUP_NEXT="build the Lambda bundle, then the demo" bash scripts/setup.sh node moto
fi

# The demo's own processes stop with it (scripts/cli/demo.ts); a namespace a killed run left behind is
# removed here (the cluster tests' namespaces are ecsp-<pid of their VM>-..., removed once that pid is gone).
sweep() {
  command -v ip >/dev/null && [ "$(id -u)" -eq 0 ] || return 0
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ecsp-[0-9]+-/ {print $1}'); do
    pid="${ns#ecsp-}"
    pid="${pid%%-*}"
    [ -e "/proc/$pid" ] && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap sweep EXIT

t=$(($(date +%s) - ECS_PEERS_T0))
printf '[%d:%02d] building the Lambda bundle (npm run build) (next: the demo)\n' $((t / 60)) $((t % 60))
node_modules/.bin/node esbuild.config.mjs >/dev/null
PATH="$PWD/node_modules/.bin:$PATH" node_modules/.bin/tsx scripts/cli.ts demo "$@"
