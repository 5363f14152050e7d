#!/usr/bin/env bash
# Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc.
# Usage: scripts/build.sh [OUT_DIR]   (default: dist)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
rm -rf "$out"
node_modules/.bin/ncc build src/index.ts --out "$out" --license licenses.txt --quiet
node_modules/.bin/ncc build src/cli/index.ts --out "$out/cli" --license licenses.txt --quiet
