#!/usr/bin/env bash
# Installs what is missing (npm ci; Debian's redis-server and postgresql only when absent), starts Redis and
# PostgreSQL when they are not running, then runs the whole test suite. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

# Debian's Chromium (and a CJK font for readable screenshots) for the simulator page test (playwright-core, no download)
[ -x /usr/bin/chromium ] || apt_install chromium fonts-wqy-microhei

# Redis on 127.0.0.1:6379
if ! port_open 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir /tmp --logfile /tmp/boardroll-test-redis.log
  for _ in $(seq 50); do port_open 6379 && break; sleep 0.1; done
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth and a database named test
if ! port_open 5432; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_install postgresql; fi
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pgdir=/tmp/boardroll-test-pg
  if [ ! -f "$pgdir/data/PG_VERSION" ]; then
    as_root mkdir -p "$pgdir/data"
    as_root chown -R postgres "$pgdir"
    as_root runuser -u postgres -- "$bindir/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_root runuser -u postgres -- "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-p 5432 -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
fi
# (the test database itself is created by test/helpers/global-setup.ts when missing)

npm test
