#!/usr/bin/env bash
# Scan the local production profile with wapiti: signed out, as a resident and as a committee
# member, in parallel, bounded in time (about 4 minutes on 2 cores); fail on any finding that
# tools/ci/wapiti_exceptions.toml does not explain.
#
#   bash tools/ci/wapiti.sh          (needs PostgreSQL and Redis on 127.0.0.1, like prod-local)
#
# wapiti3 pins old SQLAlchemy and MarkupSafe, so it lives in a virtualenv of its own
# (.venv-wapiti). Reports go to $WAPITI_OUT (default instance/wapiti). Only 127.0.0.1 is
# contacted: no bug reports, payloads name a closed local port as their outside server, and
# ssrf (which needs wapiti's server on the internet) is not run: see the exceptions file.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
WV=${WAPITI_VENV:-$ROOT/.venv-wapiti}
WAPITI_VERSION=3.2.3
OUT=${WAPITI_OUT:-$ROOT/instance/wapiti}
PY=${PYTHON:-python3}
PORT=${PROD_LOCAL_PORT:-8443}
URL="https://127.0.0.1:$PORT"
MODULES=xss,permanentxss,sql,exec,file,redirect,csrf,http_headers,csp,cookieflags
PASSWORD=commons-demo-2026 # the documented demo password (portal/demo.py)
# Crawl for at most CRAWL seconds, then give each module at most ATTACK seconds.
CRAWL=${WAPITI_CRAWL_SECONDS:-30}
ATTACK=${WAPITI_ATTACK_SECONDS:-30}

if [[ ! -x $WV/bin/wapiti ]]; then
  echo "installing wapiti3 $WAPITI_VERSION into $WV"
  "$PY" -m venv "$WV"
  "$WV/bin/pip" install --quiet "wapiti3==$WAPITI_VERSION"
fi

started=0
if ! PROD_LOCAL_PORT=$PORT bash tools/prod_local.sh status >/dev/null; then
  # A fresh database and fresh rate limits: the scan's own writes and failed sign-ins stay
  # out of the next run.
  PROD_LOCAL_FRESH=1 PROD_LOCAL_PORT=$PORT bash tools/prod_local.sh start
  started=1
fi
cleanup() {
  if [[ $started == 1 ]]; then
    PROD_LOCAL_PORT=$PORT bash tools/prod_local.sh stop
  fi
}
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"
# Sign in first, before the signed-out scan spends the sign-in rate limit.
"$PY" tools/ci/wapiti_cookies.py "$URL" resident1@example.org "$PASSWORD" "$OUT/resident.cookies"
"$PY" tools/ci/wapiti_cookies.py "$URL" committee@example.org "$PASSWORD" "$OUT/committee.cookies"
"$PY" tools/ci/wapiti_seed.py "$URL"

scan() {
  local name=$1
  shift
  "$WV/bin/wapiti" -u "$URL/" --scope folder -m "$MODULES" \
    --depth 4 --max-links-per-page 30 --max-files-per-dir 20 --max-parameters 12 \
    --max-scan-time "$CRAWL" --max-attack-time "$ATTACK" --timeout 10 --tasks 4 \
    --verify-ssl 0 --no-bugreport --flush-session \
    --store-session "$OUT/$name.session" --store-config "$OUT/$name.config" \
    --external-endpoint http://127.0.0.1:9/ \
    -x "$URL/logout" -x "$URL/account/sign-out-everywhere" -x "$URL/account/password" \
    -x "$URL/account/sessions/end-others" -x "$URL/account/sessions/*/end" \
    -f json -o "$OUT/$name.json" -v 1 "$@" >"$OUT/$name.log" 2>&1
}

start=$SECONDS
scan anonymous &
a=$!
scan resident -c "$OUT/resident.cookies" &
r=$!
scan committee -c "$OUT/committee.cookies" &
c=$!
status=0
for pid in $a $r $c; do
  wait "$pid" || status=1
done
echo "wapiti scans took $((SECONDS - start)) s (logs and reports in $OUT)"
if [[ $status != 0 ]]; then
  echo "a wapiti scan failed; the end of its log:" >&2
  tail -n 20 "$OUT"/*.log >&2
  exit 1
fi
for who in resident committee; do
  "$PY" tools/ci/wapiti_cookies.py --still-signed-in "$URL" "$OUT/$who.cookies"
done
"$PY" tools/ci/wapiti_check.py --exceptions tools/ci/wapiti_exceptions.toml \
  "$OUT/anonymous.json" "$OUT/resident.json" "$OUT/committee.json"
