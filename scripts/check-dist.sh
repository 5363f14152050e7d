#!/usr/bin/env bash
# Fails when the committed dist/ is not exactly what the sources build:
# a GitHub Action runs from dist/, so a stale bundle ships old code.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
bash scripts/build.sh "$fresh/dist" >/dev/null
if ! diff -r --brief "$fresh/dist" dist >&2; then
  echo "dist/ is stale: it differs from what the sources build (files above)." >&2
  echo "Fix: run 'npm run build' and commit dist/." >&2
  exit 1
fi
echo "dist/ is up to date."
