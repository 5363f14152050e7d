#!/usr/bin/env bash
# The whole test suite, runnable on a fresh clone with only Node.js and Go:
# installs what it needs (npm packages; k6 and act, built once per machine and cached),
# then runs lint, type-check, the dist/ freshness check and every test against
# the real k6. Ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step 'npm ci'
npm ci --no-audit --no-fund

step 'lint (eslint, prettier)'
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
