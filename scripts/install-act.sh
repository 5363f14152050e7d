#!/usr/bin/env bash
# nektos/act, pinned, for the test that runs the action's real workflow (coordinator
# job + a matrix of agent jobs) on this machine. Prints act's path. Built once per
# machine with Go from the module proxy and cached; ACT_PATH overrides.
set -euo pipefail
version=v0.2.87
if [[ -n "${ACT_PATH:-}" ]]; then
  echo "$ACT_PATH"
  exit 0
fi
cache="${K6_DISTRIBUTED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k6-distributed}/act/$version"
if [[ ! -x "$cache/act" ]]; then
  command -v go >/dev/null || {
    echo "act $version is needed and Go is not installed: install Go >= 1.25 or set ACT_PATH" >&2
    exit 1
  }
  mkdir -p "$cache"
  echo "building nektos/act $version with Go (once per machine) into $cache" >&2
  GOBIN="$cache" go install "github.com/nektos/act@$version" >&2
fi
echo "$cache/act"
