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

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup_node() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
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
    echo "setup: pip install moto[server] (into .venv)"
    .venv/bin/pip install --quiet --disable-pip-version-check "$(grep '^moto' requirements-dev.txt)"
  fi
}

setup_python() {
  command -v make >/dev/null || apt_install make # sam build runs the Makefile build method
  make_venv
  if ! cmp -s requirements-dev.txt .venv/.requirements-dev.txt; then
    echo "setup: pip install -r requirements-dev.txt (into .venv)"
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    cp requirements-dev.txt .venv/.requirements-dev.txt
  fi
}

setup_elixir() {
  apt_install elixir erlang-dev erlang-inets erlang-ssl erlang-crypto erlang-public-key iproute2
}

for part in "${parts[@]}"; do
  case "$part" in
    node) setup_node ;;
    moto) setup_moto ;;
    python) setup_python ;;
    elixir) setup_elixir ;;
    *) echo "setup: unknown part '$part' (node, moto, python, elixir)" >&2; exit 2 ;;
  esac
done
