#!/usr/bin/env bash
# Benchmark: a cached article page served by Masthead, against nginx serving the very same bytes
# as a static file, both on loopback, measured with wrk in the same run.
#
# Usage: bench/pages.sh            (env: DURATION=10s CONNECTIONS=64 THREADS=2 BUILD=release, MASTHEAD_BIN to skip the build)
# Prints one line per case: `case req_per_s p50_ms p99_ms bytes`, then the ratio masthead/nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BUILD=${BUILD:-release}
ARTICLE=/world/river-towns-share-flood-warnings/
MASTHEAD_PORT=18080
NGINX_PORT=18081

scripts/install-deps.sh bench
if [ -n "${MASTHEAD_BIN:-}" ]; then
  BIN=$MASTHEAD_BIN
else
  swift build -c "$BUILD" --product masthead >/dev/null 2>&1 || swift build -c "$BUILD" --product masthead
  BIN=$(swift build -c "$BUILD" --show-bin-path)/masthead
fi

WORK=$(mktemp -d /tmp/masthead-bench.XXXXXX)
MASTHEAD_PID=""
cleanup() {
  [ -n "$MASTHEAD_PID" ] && kill "$MASTHEAD_PID" 2>/dev/null && wait "$MASTHEAD_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $BUILD build, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"

# --- Masthead with the demo newsroom ------------------------------------------------------------
MASTHEAD_LOG_LEVEL=warning "$BIN" serve --data-dir "$WORK/data" --port $MASTHEAD_PORT --demo-if-empty >"$WORK/masthead.log" 2>&1 &
MASTHEAD_PID=$!
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$MASTHEAD_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$MASTHEAD_PORT$ARTICLE" -o "$WORK/article.html"

# --- nginx serving the same bytes -------------------------------------------------------------
mkdir -p "$WORK/static$ARTICLE"
cp "$WORK/article.html" "$WORK/static${ARTICLE}index.html"
chmod a+x "$WORK" && chmod -R a+rX "$WORK/static"   # nginx workers run as another user
cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  sendfile on;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/static;
    index index.html;
  }
}
NGINX
nginx -c "$WORK/nginx.conf"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$NGINX_PORT$ARTICLE" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$NGINX_PORT$ARTICLE" -o "$WORK/nginx-article.html" || true
cmp -s "$WORK/article.html" "$WORK/nginx-article.html" || { echo "nginx does not serve the same bytes" >&2; cat "$WORK/nginx-error.log" >&2; exit 1; }

measure() { # name url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$2" >/dev/null   # warm-up
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2" >"$WORK/$1.wrk"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/$1.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1.wrk")
  if grep -q "Non-2xx" "$WORK/$1.wrk"; then echo "$1: some responses were not 200" >&2; exit 1; fi
  echo "$1 $rps $(to_ms "$p50") $(to_ms "$p99") $(stat -c %s "$WORK/article.html")"
  eval "RPS_$1=$rps"
}
to_ms() { # wrk prints 1.23ms, 850.00us or 1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

echo "case req_per_s p50_ms p99_ms bytes"
measure masthead_cached_article "http://127.0.0.1:$MASTHEAD_PORT$ARTICLE"
measure nginx_static_article "http://127.0.0.1:$NGINX_PORT$ARTICLE"
awk -v m="$RPS_masthead_cached_article" -v n="$RPS_nginx_static_article" 'BEGIN { printf "ratio masthead/nginx %.3f\n", m / n }'
