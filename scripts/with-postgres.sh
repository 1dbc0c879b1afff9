#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server for it, then stops the server:
#   scripts/with-postgres.sh swift test --skip-build
# The server is a cluster of its own (data under $TMPDIR, fsync off: it holds throwaway test
# databases only) listening on 127.0.0.1:$MASTHEAD_TEST_POSTGRES_PORT (default 54329); the command
# finds its address in MASTHEAD_TEST_POSTGRES_URL. Needs Debian's postgresql package
# (scripts/install-deps.sh test installs it). As root, the server runs as the postgres user.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/with-postgres.sh COMMAND [ARGUMENT…]" >&2; exit 2; }

port=${MASTHEAD_TEST_POSTGRES_PORT:-54329}
dir=${TMPDIR:-/tmp}/masthead-postgres-$port
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "with-postgres: PostgreSQL is not installed (run scripts/install-deps.sh test)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -f "$dir/PG_VERSION" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir" -U masthead --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
    || { cat "$dir.initdb.log" >&2; exit 1; }
fi
options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600"
if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
fi
stop() { as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true; }
trap stop EXIT

export MASTHEAD_TEST_POSTGRES_URL="postgres://masthead@127.0.0.1:$port/postgres?sslmode=disable"
# What a test needs to stop and start the server itself (tests/site/test_postgres.py).
export MASTHEAD_TEST_POSTGRES_DIR="$dir" MASTHEAD_TEST_POSTGRES_BIN="$bin" MASTHEAD_TEST_POSTGRES_OPTIONS="$options"
echo "== on PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at 127.0.0.1:$port: $*"
"$@"
