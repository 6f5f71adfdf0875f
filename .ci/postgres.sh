#!/usr/bin/env bash
# Installs PostgreSQL from Debian packages if it is missing, starts a throw-away cluster on
# loopback (port 55432, trust auth, data in a temp dir) and prints its URL on stdout.
# Usage: url=$(.ci/postgres.sh start); ... ; .ci/postgres.sh stop
set -euo pipefail
PGPORT=${PGPORT:-55432}
PGDATA=${PGDATA:-/tmp/indriva-ci-pg}

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

case "${1:-start}" in
  start)
    if ! bin=$(find_bin); then
      echo "installing PostgreSQL from Debian packages" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bin=$(find_bin)
    fi
    as_pg "$bin/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
    as_pg "$bin/initdb" -D "$PGDATA" -U indriva --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp -c fsync=off -c max_connections=200" start >&2
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U indriva indriva
    echo "postgres://indriva@127.0.0.1:$PGPORT/indriva"
    ;;
  stop)
    if bin=$(find_bin); then as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast stop >&2 || true; fi
    ;;
esac
