#!/usr/bin/env bash
# The mini-program's tests, as scripts/run-tests.sh (and so `make test` and .ci/run) runs them:
# npm ci from the committed package-lock.json, then every jest project — `unit` (the wx APIs
# mocked, miniprogram-simulate) and `e2e` (utils/api.js under Node against an embedded server
# that the suite starts from ../.venv on a free port and stops). Node 18+ and npm are needed;
# as root on Debian they are installed when missing, as scripts/system-deps.sh does for its own.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "miniprogram_stubs/test.sh: installing nodejs npm" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "miniprogram_stubs/test.sh: Node.js and npm are needed (Debian: apt-get install -y nodejs npm)" >&2
    exit 1
  fi
fi
# --ignore-scripts: no dependency needs one (an optional file watcher would build with node-gyp)
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
exec node_modules/.bin/jest --ci "$@"
