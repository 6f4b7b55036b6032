#!/usr/bin/env bash
# Check the deployed stack through nginx (tools/ci/stack_check.py says what): the micro-cache
# serves anonymous public pages, never a signed-in one, keeps languages and display modes
# apart, drops hidden content within a minute, and forged forwarding headers change nothing.
#
#   bash tools/ci/stack_check.sh    (needs nginx, PostgreSQL and Redis on 127.0.0.1)
#
# Starts the stack (tools/stack.sh, on a fresh database) unless it is running, and stops
# what it started. STACK_* settings as in tools/stack.sh.
set -euo pipefail

cd "$(dirname "$0")/../.."
PORT=${STACK_PORT:-9443}
PY=${PYTHON:-.venv/bin/python}
start=$SECONDS

started=0
if ! bash tools/stack.sh status >/dev/null 2>&1; then
  # Stop a half-started stack (one of its two servers) before starting afresh.
  bash tools/stack.sh stop >/dev/null 2>&1 || true
  STACK_FRESH=1 bash tools/stack.sh start
  started=1
fi
cleanup() {
  if [[ $started == 1 ]]; then
    bash tools/stack.sh stop
  fi
}
trap cleanup EXIT

"$PY" tools/ci/stack_check.py --outage "https://127.0.0.1:$PORT"
echo "stack check took $((SECONDS - start)) s"
