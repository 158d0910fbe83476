#!/usr/bin/env bash
# The whole test suite, twice: on the embedded profile (SQLite + in-process Redis) and on real
# PostgreSQL + Redis servers started here and stopped on exit. Extra arguments go to pytest.
# Then the mini-program's jest suites (miniprogram_stubs/test.sh: npm ci, unit and end to end).
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

services=$(mktemp -d /tmp/zhangban-services.XXXXXX)
cleanup() { scripts/services.sh stop "$services"; rm -rf "$services"; }
trap cleanup EXIT
scripts/services.sh start "$services" || { echo "could not start PostgreSQL/Redis" >&2; exit 1; }

status=0
echo "=== tests on the embedded profile (SQLite, in-process Redis) ==="
ZB_TEST_PROFILE=embedded "$bin/pytest" "$@" || status=1
echo "=== tests on PostgreSQL and Redis ==="
(
  # shellcheck disable=SC1091
  . "$services/env"
  ZB_TEST_PROFILE=postgres "$bin/pytest" "$@"
) || status=1
echo "=== mini-program tests (jest: wx mocked, then end to end against an embedded server) ==="
miniprogram_stubs/test.sh || status=1
exit $status
