#!/usr/bin/env bash
# The local production profile: COMMONS_ENV=production under gunicorn over HTTPS (a self-signed
# certificate made here), PostgreSQL and Redis on this machine, the demo data loaded explicitly.
# Security checks that need "production" run against it.
#
#   tools/prod_local.sh start|stop|status
#
# Settings (environment): PROD_LOCAL_PORT (8443), PROD_LOCAL_DB (commons_prod_local),
# PROD_LOCAL_PG (postgresql+psycopg://postgres@127.0.0.1:5432), PROD_LOCAL_REDIS_URL
# (redis://127.0.0.1:6379/12), PROD_LOCAL_WORKERS (2), PROD_LOCAL_DIR (instance/prod-local:
# certificate, key, pid file and log; gitignored), PROD_LOCAL_FRESH=1 (start on an empty
# database and an empty Redis database: give the profile a Redis database of its own). SECRET_KEY is new at every start and written nowhere.
#
# Behind a TLS-terminating proxy (tools/stack.sh): PROD_LOCAL_BIND (unix:PATH or HOST:PORT)
# makes gunicorn answer plain HTTP there instead, and PROD_LOCAL_PUBLIC_URL is then the
# proxy's address. gunicorn reads deploy/gunicorn.conf.py; the flags here override it.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${PROD_LOCAL_VENV:-$ROOT/.venv}
DIR=${PROD_LOCAL_DIR:-$ROOT/instance/prod-local}
HOST=127.0.0.1
PORT=${PROD_LOCAL_PORT:-8443}
PG=${PROD_LOCAL_PG:-postgresql+psycopg://postgres@127.0.0.1:5432}
DB=${PROD_LOCAL_DB:-commons_prod_local}
REDIS=${PROD_LOCAL_REDIS_URL:-redis://127.0.0.1:6379/12}
WORKERS=${PROD_LOCAL_WORKERS:-2}
BIND=${PROD_LOCAL_BIND:-}
URL=${PROD_LOCAL_PUBLIC_URL:-https://$HOST:$PORT}
AUTHORITY=${URL#*://}
AUTHORITY=${AUTHORITY%%/*}
PIDFILE="$DIR/gunicorn.pid"
LOG="$DIR/gunicorn.log"

running() {
  [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
  # /healthz where gunicorn listens, under the site's own Host (TRUSTED_HOSTS).
  case $BIND in
    "") curl -skf -o /dev/null --max-time 2 "$URL/healthz" ;;
    unix:*)
      curl -sf -o /dev/null --max-time 2 --unix-socket "${BIND#unix:}" \
        -H "Host: $AUTHORITY" "http://localhost/healthz"
      ;;
    *) curl -sf -o /dev/null --max-time 2 -H "Host: $AUTHORITY" "http://$BIND/healthz" ;;
  esac
}

where() {
  if [[ -n $BIND ]]; then echo "$URL (gunicorn at $BIND)"; else echo "$URL"; fi
}

certificate() {
  # A new one when missing or within a day of expiry; the key never leaves $DIR.
  if openssl x509 -checkend 86400 -noout -in "$DIR/cert.pem" >/dev/null 2>&1; then
    return
  fi
  (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$HOST" \
    -addext "subjectAltName=IP:$HOST,DNS:localhost" \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1)
}

database() {
  # Create the database (dropped first, and the Redis database emptied, with PROD_LOCAL_FRESH=1);
  # fail early when PostgreSQL or Redis does not answer.
  "$VENV/bin/python" - "$PG" "$DB" "${PROD_LOCAL_FRESH:-0}" "$REDIS" <<'EOF'
import sys

import redis
import sqlalchemy as sa

pg, name, fresh, redis_url = sys.argv[1:]
limits = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
limits.ping()
if fresh == "1":
    limits.flushdb()  # the profile's own Redis database: its rate-limit counters
admin = sa.create_engine(f"{pg}/postgres", isolation_level="AUTOCOMMIT")
with admin.connect() as conn:
    if fresh == "1":
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
    ).scalar()
    if not exists:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
admin.dispose()
EOF
}

start() {
  if running; then
    echo "prod-local already running at $(where) (pid $(cat "$PIDFILE"))"
    return
  fi
  rm -f "$PIDFILE"
  if answers; then
    echo "something else already answers at $(where) (set PROD_LOCAL_PORT or PROD_LOCAL_BIND)" >&2
    return 1
  fi
  mkdir -p "$DIR/instance"
  chmod 700 "$DIR"
  certificate
  database
  export FLASK_APP=wsgi COMMONS_ENV=production PUBLIC_URL="$URL" TRUSTED_HOSTS="$HOST"
  # The demo's accounts sign in by number or by email (the scanners and the stack check use
  # email); a real deployment keeps production's default, phone alone.
  export SIGN_IN_METHODS="${SIGN_IN_METHODS:-phone,email}"
  export DATABASE_URL="$PG/$DB" REDIS_URL="$REDIS" COMMONS_INSTANCE_PATH="$DIR/instance"
  SECRET_KEY=$(openssl rand -hex 32)
  export SECRET_KEY
  "$VENV/bin/flask" db upgrade >/dev/null
  "$VENV/bin/flask" demo
  local listen=(--bind "$HOST:$PORT" --certfile "$DIR/cert.pem" --keyfile "$DIR/key.pem")
  if [[ -n $BIND ]]; then
    listen=(--bind "$BIND")
  fi
  "$VENV/bin/gunicorn" --config "$ROOT/deploy/gunicorn.conf.py" --daemon --pid "$PIDFILE" \
    --chdir "$ROOT" "${listen[@]}" \
    --workers "$WORKERS" --threads 4 --worker-class gthread \
    --access-logfile "$LOG" --error-logfile "$LOG" wsgi:app
  for _ in $(seq 1 120); do
    if answers; then
      echo "prod-local running at $(where) (pid $(cat "$PIDFILE"), log $LOG)"
      return
    fi
    sleep 0.5
  done
  echo "prod-local did not answer at $(where); the end of $LOG:" >&2
  tail -n 30 "$LOG" >&2 || true
  stop >/dev/null || true
  return 1
}

stop() {
  if ! running; then
    rm -f "$PIDFILE"
    echo "prod-local not running"
    return
  fi
  local pid
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
  fi
  rm -f "$PIDFILE"
  echo "prod-local stopped"
}

status() {
  if running; then
    echo "prod-local running at $(where) (pid $(cat "$PIDFILE"))"
  else
    echo "prod-local not running"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
