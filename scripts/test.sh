#!/usr/bin/env bash
# The whole test suite, runnable on a fresh clone with only Node.js and Go:
# installs what it needs (npm packages; k6, act and go-httpbin, built once per machine and cached),
# then runs lint, type-check, the dist/ freshness check and every test against
# the real k6. Ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step 'npm ci'
npm ci --no-audit --no-fund

step 'lint (eslint, prettier, no import cycles in src/)'
npm run --silent lint

step 'type-check'
npm run --silent typecheck

step 'dist/ is what the sources build'
bash scripts/check-dist.sh

step 'k6 (K6_PATH, PATH, cache, or built with Go once per machine)'
node dist/cli/index.js install-k6

step 'act (nektos/act, for the workflow test; built with Go once per machine)'
ACT_PATH="$(bash scripts/install-act.sh)"
export ACT_PATH

step 'go-httpbin (the third-party target of the conformance suite; built with Go once per machine)'
HTTPBIN_PATH="$(bash scripts/install-httpbin.sh)"
export HTTPBIN_PATH

step "chromium (Debian's package, for the HTML report's browser test)"
# CHROMIUM_PATH overrides; a path that was set but is not a program is an error,
# not a reason to install something else.
if [[ -n "${CHROMIUM_PATH:-}" && ! -x "$CHROMIUM_PATH" ]]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable: fix it, or unset it to use Debian's chromium" >&2
  exit 1
fi
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    as_root() { "$@"; }
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root() { sudo -n "$@"; }
  else
    echo "no Chromium at $CHROMIUM_PATH, and installing it needs root or passwordless sudo:" \
      "install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH" >&2
    exit 1
  fi
  command -v apt-get >/dev/null || {
    echo "no Chromium at $CHROMIUM_PATH and no apt-get to install Debian's chromium: set CHROMIUM_PATH" >&2
    exit 1
  }
  echo "installing Debian's chromium package (once per machine)" >&2
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [[ -x "$CHROMIUM_PATH" ]] || {
    echo "installed Debian's chromium but $CHROMIUM_PATH is still missing" >&2
    exit 1
  }
fi
export CHROMIUM_PATH

step 'tests (jest, real k6)'
results=.test-results/jest.json
mkdir -p "$(dirname "$results")"
rm -f "$results"
status=0
npm test --silent -- --json --outputFile="$results" || status=$?

node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  if (!fs.existsSync(file)) { console.log("0 passed, 1 failed"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  console.log(`${r.numPassedTests} passed, ${failed} failed`);
' "$results"
exit "$status"
