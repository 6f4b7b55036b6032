#!/usr/bin/env bash
# The deployed stack on this machine: nginx (deploy/nginx/commons.conf: TLS, static files,
# photos, the micro-cache) in front of gunicorn (deploy/gunicorn.conf.py) in the local
# production profile (tools/prod_local.sh: PostgreSQL, Redis, the demo data).
#
#   tools/stack.sh start|stop|status        (make stack = start)
#   tools/stack.sh stop-app                 (gunicorn only, nginx keeps serving its cache;
#                                            start brings it back)
#
# Everything lives under $STACK_DIR (instance/stack): gunicorn's files, socket and instance
# folder in app/, nginx's configuration, pid, logs, temporary files and cache in nginx/. No
# system path is needed; nginx runs as the user who starts it.
#
# Settings (environment): STACK_PORT (9443: https://127.0.0.1:9443), STACK_HTTP_PORT (9080,
# redirects to https), STACK_DB (commons_stack), STACK_REDIS_URL (redis://127.0.0.1:6379/13),
# STACK_UPSTREAM (unix:$STACK_DIR/app/gunicorn.sock, or 127.0.0.1:PORT), STACK_FRESH=1 (an
# empty database and Redis database first), STACK_NGINX (the nginx binary).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${STACK_DIR:-$ROOT/instance/stack}
APP=$DIR/app
NG=$DIR/nginx
HOST=127.0.0.1
PORT=${STACK_PORT:-9443}
HTTP_PORT=${STACK_HTTP_PORT:-9080}
URL="https://$HOST:$PORT"
UPSTREAM=${STACK_UPSTREAM:-unix:$APP/gunicorn.sock}
NGINX=${STACK_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

prod_local() {
  PROD_LOCAL_DIR=$APP PROD_LOCAL_BIND=$UPSTREAM PROD_LOCAL_PUBLIC_URL=$URL \
    PROD_LOCAL_DB=${STACK_DB:-commons_stack} \
    PROD_LOCAL_REDIS_URL=${STACK_REDIS_URL:-redis://127.0.0.1:6379/13} \
    PROD_LOCAL_FRESH=${STACK_FRESH:-0} \
    MEDIA_ACCEL_REDIRECT=/_media/ \
    bash tools/prod_local.sh "$@"
}

nginx_cmd() {
  "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" "$@"
}

nginx_running() {
  [[ -f $NG/nginx.pid ]] && kill -0 "$(cat "$NG/nginx.pid")" 2>/dev/null
}

answers() {
  curl -skf -o /dev/null --max-time 2 "$URL/healthz"
}

configure() {
  mkdir -p "$NG/cache" "$NG/tmp" "$APP/instance/media"
  local user=""
  if [[ $(id -u) == 0 ]]; then
    user="user root root;" # else the workers would run as nobody, who cannot read instance/
  fi
  SERVER_NAME=$HOST PUBLIC_URL=$URL HTTPS_PORT=$PORT HTTP_PORT=$HTTP_PORT \
    TLS_CERT=$APP/cert.pem TLS_KEY=$APP/key.pem STATIC_ROOT=$ROOT/portal/static \
    MEDIA_ROOT=$APP/instance/media UPSTREAM=$UPSTREAM CACHE_DIR=$NG/cache \
    ACCESS_LOG=$NG/access.log \
    bash deploy/render.sh >"$NG/commons.conf"
  cat >"$NG/nginx.conf" <<CONF
# Written by tools/stack.sh; the site is deploy/nginx/commons.conf, rendered.
$user
worker_processes 2;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 1024; }
http {
    types {
        text/html html; text/css css; text/plain txt; image/svg+xml svg; image/png png;
        image/jpeg jpg jpeg; image/webp webp; application/javascript js;
        application/json json;
    }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    include $NG/commons.conf;
}
CONF
}

start() {
  if [[ ! -x $NGINX ]]; then
    echo "nginx is missing: apt-get install nginx (set STACK_NGINX to use another)" >&2
    return 1
  fi
  if nginx_running && prod_local status >/dev/null; then
    echo "stack already running at $URL"
    return
  fi
  if ! nginx_running && answers; then
    echo "something else already answers at $URL (set STACK_PORT)" >&2
    return 1
  fi
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  prod_local start
  configure
  if ! nginx_running; then
    nginx_cmd -t -q
    nginx_cmd
  fi
  for _ in $(seq 1 40); do
    if answers; then
      echo "stack running at $URL (nginx $NG, gunicorn $UPSTREAM)"
      return
    fi
    sleep 0.25
  done
  echo "nginx did not answer at $URL; the end of $NG/error.log:" >&2
  tail -n 20 "$NG/error.log" >&2 || true
  stop >/dev/null || true
  return 1
}

stop() {
  if nginx_running; then
    local pid
    pid=$(cat "$NG/nginx.pid")
    kill -QUIT "$pid"
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
    fi
    echo "nginx stopped"
  fi
  rm -f "$NG/nginx.pid"
  prod_local stop
}

status() {
  local rc=0
  if nginx_running; then
    echo "nginx running at $URL (pid $(cat "$NG/nginx.pid"))"
  else
    echo "nginx not running"
    rc=3
  fi
  prod_local status || rc=3
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  stop-app) prod_local stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|stop-app|status" >&2
    exit 2
    ;;
esac
