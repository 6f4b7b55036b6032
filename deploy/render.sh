#!/usr/bin/env bash
# Print deploy/nginx/commons.conf with its placeholders filled in from the environment:
#
#   SERVER_NAME=commons.example.org PUBLIC_URL=https://commons.example.org \
#   HTTPS_PORT=443 HTTP_PORT=80 \
#   TLS_CERT=/etc/letsencrypt/live/commons.example.org/fullchain.pem \
#   TLS_KEY=/etc/letsencrypt/live/commons.example.org/privkey.pem \
#   STATIC_ROOT=/srv/commons/portal/static MEDIA_ROOT=/var/lib/commons/media \
#   UPSTREAM=unix:/run/commons/gunicorn.sock CACHE_DIR=/var/cache/nginx/commons \
#   ACCESS_LOG=/var/log/nginx/commons.access.log \
#     deploy/render.sh > /etc/nginx/sites-available/commons
#
# Every value is required; a value holding a character that would end an nginx word
# (space, quote, semicolon, brace) or that bash would expand (&, $, backslash) is refused.
set -euo pipefail

template="$(dirname "$0")/nginx/commons.conf"
names=(SERVER_NAME PUBLIC_URL HTTPS_PORT HTTP_PORT TLS_CERT TLS_KEY STATIC_ROOT MEDIA_ROOT
  UPSTREAM CACHE_DIR ACCESS_LOG)
text=$(<"$template")
syntax='[][:space:];{}"'"'"'$\\&]'
for name in "${names[@]}"; do
  value=${!name:-}
  if [[ -z $value ]]; then
    echo "render.sh: $name is not set" >&2
    exit 2
  fi
  if [[ $value =~ $syntax ]]; then
    echo "render.sh: $name=$value holds a character nginx would read as syntax" >&2
    exit 2
  fi
  text=${text//@$name@/$value}
done
if [[ $text =~ @[A-Z_]+@ ]]; then
  echo "render.sh: placeholder ${BASH_REMATCH[0]} left unfilled" >&2
  exit 2
fi
printf '%s\n' "$text"
