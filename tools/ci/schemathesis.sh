#!/usr/bin/env bash
# Property-based test of the JSON API against its own OpenAPI document (schemathesis).
#
# Starts the app with gunicorn on a loopback port, on a PostgreSQL database of its own
# (migrated, `flask demo` loaded), signs in as a resident and as a committee member through
# POST /api/v1/auth/token, and runs every schemathesis check with each token. Any finding
# (a server error, an undocumented status, a response off the schema, data the document
# allows refused or data it forbids accepted) fails the script.
#
# Rate limits are switched off for the scan (RATELIMIT_ENABLED=0): thousands of requests
# from one address would otherwise be answered 429, which tests the limiter, not the API.
#
# Environment:
#   SCHEMATHESIS_PG     server URL without database  (postgresql+psycopg://postgres@127.0.0.1:5432)
#   SCHEMATHESIS_DB     database name, dropped and created  (commons_schemathesis)
#   SCHEMATHESIS_PORT   loopback port  (18765)
#   SCHEMATHESIS_EXAMPLES  examples per operation and phase  (15)
#   PYTHON_BIN          the venv's bin directory  (.venv/bin)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${PYTHON_BIN:-.venv/bin}
PG=${SCHEMATHESIS_PG:-postgresql+psycopg://postgres@127.0.0.1:5432}
DB=${SCHEMATHESIS_DB:-commons_schemathesis}
PORT=${SCHEMATHESIS_PORT:-18765}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-15}
BASE="http://127.0.0.1:${PORT}"
WORK=$(mktemp -d)
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    "$BIN/python" - "$PG" "$DB" <<'PY' || true
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1] + "/postgres", isolation_level="AUTOCOMMIT")
with engine.connect() as c:
    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
PY
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/python" - "$PG" "$DB" <<'PY'
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1] + "/postgres", isolation_level="AUTOCOMMIT")
with engine.connect() as c:
    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
    c.execute(sa.text(f'CREATE DATABASE "{sys.argv[2]}"'))
PY

export COMMONS_ENV=development
export DATABASE_URL="$PG/$DB"
export SECRET_KEY="schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export COMMONS_INSTANCE_PATH="$WORK/instance"
export RATELIMIT_ENABLED=0
export RATELIMIT_STORAGE_URI=memory://
export REDIS_URL=
export FLASK_APP=wsgi.py

"$BIN/flask" db upgrade >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }
"$BIN/flask" demo

"$BIN/gunicorn" --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 --timeout 60 \
    --error-logfile "$WORK/gunicorn.log" --log-level warning wsgi:app &
SERVER_PID=$!
for _ in $(seq 1 60); do
    if "$BIN/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" \
        "$BASE/healthz" 2>/dev/null; then
        break
    fi
    sleep 0.5
done

# otp: staff answer the second step with the demo's authenticator code (tools/totp_code.py);
# an account without two-step sign-in ignores it.
token() {
    "$BIN/python" - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
sys.path.insert(0, "tools")
from totp_code import fresh_code
body = {"email": sys.argv[2], "password": "commons-demo-2026", "otp": fresh_code(sys.argv[2])}
req = urllib.request.Request(
    sys.argv[1] + "/api/v1/auth/token",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(req))["token"])
PY
}

status=0
# One worker: with two, schemathesis's coverage phase parses Python source in two threads at
# once, which CPython 3.11 can fail with "SystemError: AST constructor recursion depth
# mismatch" (a race in the interpreter, seen once in CI), failing the run for no finding.
for who in resident1@example.org committee@example.org; do
    echo "== schemathesis as $who"
    TOKEN=$(token "$who")
    # DELETE /auth/token would revoke the token the rest of the run signs in with: it runs
    # last, on its own token.
    "$BIN/st" --config-file tools/ci/schemathesis.toml run "$BASE/api/v1/openapi.json" \
        --checks all \
        --exclude-operation-id deleteToken \
        --header "Authorization: Bearer $TOKEN" \
        --max-examples "$EXAMPLES" \
        --workers 1 \
        --seed 12 \
        --request-timeout 30 \
        --generation-database none \
        --suppress-health-check all \
        --no-color \
        || status=1
done
echo "== schemathesis: DELETE /api/v1/auth/token"
# As someone the runs above did not sign in as: their PATCH /me may have changed the email
# of those accounts.
"$BIN/st" --config-file tools/ci/schemathesis.toml run "$BASE/api/v1/openapi.json" \
    --checks all --include-operation-id deleteToken \
    --header "Authorization: Bearer $(token resident2@example.org)" \
    --max-examples 3 --seed 12 --generation-database none --suppress-health-check all \
    --no-color || status=1
if [ -s "$WORK/gunicorn.log" ] && grep -q "Traceback\|ERROR" "$WORK/gunicorn.log"; then
    echo "== server errors logged by gunicorn:"
    cat "$WORK/gunicorn.log"
    status=1
fi
exit $status
