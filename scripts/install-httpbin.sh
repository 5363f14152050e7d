#!/usr/bin/env bash
# go-httpbin, pinned: the third-party HTTP target of the conformance suite
# (__tests__/conformance/), which runs k6's own example scripts against it on
# loopback. Prints go-httpbin's path. Built once per machine with Go from the
# module proxy and cached; HTTPBIN_PATH overrides.
set -euo pipefail
version=v2.26.0
if [[ -n "${HTTPBIN_PATH:-}" ]]; then
  echo "$HTTPBIN_PATH"
  exit 0
fi
cache="${K6_DISTRIBUTED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k6-distributed}/go-httpbin/$version"
if [[ ! -x "$cache/go-httpbin" ]]; then
  command -v go >/dev/null || {
    echo "go-httpbin $version is needed and Go is not installed: install Go >= 1.25 or set HTTPBIN_PATH" >&2
    exit 1
  }
  mkdir -p "$cache"
  echo "building mccutchen/go-httpbin $version with Go (once per machine) into $cache" >&2
  GOBIN="$cache" go install "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@$version" >&2
fi
echo "$cache/go-httpbin"
