#!/usr/bin/env bash
# The SAM CLI that scripts/setup.sh installs into .venv, with the project's tools first on PATH (Node.js 22
# from node_modules for `sam build`'s Makefile, .venv/bin for sam itself), from any folder:
#   npm run sam -- build          npm run sam -- deploy --guided          npm run sam -- validate --lint
# `sam validate` needs a Region even though it makes no AWS call: without AWS_REGION, AWS_DEFAULT_REGION or
# --region it validates with --region us-east-1 (and says so). Every other command uses your Region as is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/node_modules/.bin:$root/.venv/bin:$PATH"
if ! command -v sam >/dev/null; then
  echo "sam: the SAM CLI is not installed: run bash scripts/setup.sh python (it installs it into .venv)" >&2
  exit 127
fi
args=("$@")
if [ "${1:-}" = validate ] && [ -z "${AWS_REGION:-}${AWS_DEFAULT_REGION:-}" ] && [[ " $* " != *" --region "* ]]; then
  profile_region="$(aws configure get region 2>/dev/null || true)"
  if [ -z "$profile_region" ]; then
    echo "sam validate: no AWS Region set; validating with --region us-east-1 (set AWS_REGION to choose)" >&2
    args+=(--region us-east-1)
  fi
fi
exec sam "${args[@]}"
