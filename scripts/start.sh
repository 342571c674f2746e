#!/usr/bin/env bash
# Installs what is missing (npm packages; Debian's redis-server when no Redis runs) and starts boardroll on the
# embedded store (PGlite in ./data). Open http://127.0.0.1:3000/simulator to try the bot.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
if [ -z "${REDIS_URL:-}" ] && ! port_open 6379 && ! command -v redis-server >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
exec npm start
