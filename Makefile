# sam build runs `make build-ReconcileFunction` for template.yaml's ReconcileFunction (Metadata BuildMethod:
# makefile) with ARTIFACTS_DIR set to the function's folder in the build directory. The target runs
# esbuild.config.mjs, the same build as `npm run build`, so both ship the same bytes. docs/deploy.md explains.

# The project root is where this Makefile is, whatever folder make runs in.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# Node.js 22 from the npm devDependency `node` when installed, else the one on PATH.
NODE := $(firstword $(wildcard $(ROOT)/node_modules/.bin/node) node)

.PHONY: build-ReconcileFunction

build-ReconcileFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build runs this target" >&2; exit 1; }
	@test -d "$(ROOT)/node_modules/esbuild" || { echo "node_modules is missing: run npm ci (or bash scripts/setup.sh node) before sam build" >&2; exit 1; }
	@# A fresh folder two levels below the root, like dist/reconcile, so the source map's paths match too.
	@out="$$(mktemp -d "$(ROOT)/.sam-esbuild.XXXXXX")" && trap 'rm -rf "$$out"' EXIT && \
	  ECS_PEERS_OUTDIR="$$out" "$(NODE)" "$(ROOT)/esbuild.config.mjs" && \
	  mkdir -p "$(ARTIFACTS_DIR)" && \
	  cp "$$out/reconcile/index.mjs" "$$out/reconcile/index.mjs.map" "$(ARTIFACTS_DIR)/" && \
	  echo "build-ReconcileFunction: $$(wc -c < "$(ARTIFACTS_DIR)/index.mjs") bytes -> $(ARTIFACTS_DIR)/index.mjs"
