#!/usr/bin/env bash
# Installs what ecs-peers needs to build, demo and test, idempotently.
#   bash scripts/setup.sh            everything (node, python, elixir)
#   bash scripts/setup.sh node moto     only those parts
# node: npm packages (incl. Node.js 22 from the npm registry); moto: moto server in .venv (all the demo needs);
# python: moto server, cfn-lint and the SAM CLI in .venv; elixir: Debian's elixir and erlang, and iproute2 for
# the cluster tests.
set -euo pipefail
cd "$(dirname "$0")/.."

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(node python elixir)

# Progress: elapsed time since ECS_PEERS_T0 (epoch seconds; scripts/demo.sh sets it), else since this script began.
T0="${ECS_PEERS_T0:-$(date +%s)}"
say() { local t=$(($(date +%s) - T0)); printf '[%d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*"; }

# long WHAT CMD...: runs a long step with its output in a log, a line every 10 s while it runs, and the log's
# end when it fails.
long() {
  local what="$1" log pid started ticks=0
  shift
  say "setup: $what${NEXT:+ (next: $NEXT)}"
  log="$(mktemp)"
  "$@" >"$log" 2>&1 &
  pid=$!
  started=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    [ $((ticks % 10)) -ne 0 ] || say "  ... ${what%% (*}: $(($(date +%s) - started)) s so far"
  done
  if ! wait "$pid"; then
    echo "setup: $what failed; its last lines:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_get() { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"; }
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  long "apt-get install ${missing[*]} (Debian packages, a minute or two)" apt_get "${missing[@]}"
}

setup_node() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    long "npm ci (the Node packages, Node.js 22 among them; about a minute)" npm ci --no-audit --no-fund --loglevel=error
  else
    say "setup: the Node packages are installed (node_modules matches package-lock.json)"
  fi
}

make_venv() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
  fi
}

setup_moto() {
  make_venv
  if [ ! -x .venv/bin/moto_server ]; then
    long "pip install moto[server] into .venv (about a minute)" \
      .venv/bin/pip install --quiet --disable-pip-version-check "$(grep '^moto' requirements-dev.txt)"
  else
    say "setup: moto server is installed (.venv/bin/moto_server)"
  fi
}

setup_python() {
  command -v make >/dev/null || apt_install make # sam build runs the Makefile build method
  make_venv
  if ! cmp -s requirements-dev.txt .venv/.requirements-dev.txt; then
    long "pip install -r requirements-dev.txt into .venv (moto, cfn-lint, the SAM CLI; a few minutes)" \
      .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    cp requirements-dev.txt .venv/.requirements-dev.txt
  else
    say "setup: the Python tools are installed (.venv matches requirements-dev.txt)"
  fi
}

setup_elixir() {
  local pkgs=(elixir erlang-dev erlang-inets erlang-ssl erlang-crypto erlang-public-key iproute2)
  if dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then say "setup: Debian's Elixir and iproute2 are installed"; fi
  apt_install "${pkgs[@]}"
}

describe() {
  case "$1" in
    node) echo "the Node packages" ;; moto) echo "moto server" ;; python) echo "the Python tools" ;;
    elixir) echo "Debian's Elixir" ;; *) echo "" ;;
  esac
}

for i in "${!parts[@]}"; do
  part="${parts[$i]}"
  NEXT="$(describe "${parts[$((i + 1))]:-}")"
  NEXT="${NEXT:-${SETUP_NEXT:-}}"
  case "$part" in
    node) setup_node ;;
    moto) setup_moto ;;
    python) setup_python ;;
    elixir) setup_elixir ;;
    *) echo "setup: unknown part '$part' (node, moto, python, elixir)" >&2; exit 2 ;;
  esac
done
