#!/usr/bin/env bash
# The main job on an embedded default, on a fresh machine: installs the Node packages and moto server,
# builds the Lambda bundle, and runs it against a demo ECS estate in moto (no AWS account needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh node moto
exec npm start --silent
