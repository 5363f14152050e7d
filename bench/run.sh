#!/usr/bin/env bash
# npm run bench [-- [--quick] [name ...]]
# Every benchmark end to end on a fresh clone with only Node.js and Go: installs the npm
# packages if missing, finds or builds k6 (cached), compiles the benchmarks, runs them side by
# side with standalone k6 and rewrites bench/results/latest.json and BENCHMARKS.md.
# Names: overhead longrun skew histogram scale abort (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
K6_PATH="$(node dist/cli/index.js install-k6)"
export K6_PATH

quick=0
names=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -*) echo "unknown option $arg (only --quick)" >&2; exit 2 ;;
    *) names+=("$arg") ;;
  esac
done

rm -rf .bench-build
node_modules/.bin/tsc -p bench
if [ "$quick" = 1 ]; then
  node .bench-build/bench/main.js --quick "${names[@]}"
else
  node .bench-build/bench/main.js --write "${names[@]}"
fi
