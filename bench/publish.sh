#!/usr/bin/env bash
# Benchmark for issue 11's "a publish does not cool the site": serves a generated N-article site
# with its page cache on, reads cached article pages with wrk on a quiet site, then reads them again
# while a newsroom publishes one new story a second through the Admin API (in its own section,
# with tags and an author of its own), and prints both throughputs and their ratio (target ≥ 0.8×).
#
# Usage: bench/publish.sh N [--smoke]
# Env: MASTHEAD_BIN (default .build-release/release/masthead, else .build/release/masthead),
#      DURATION (seconds of wrk per run, default 15; 3 with --smoke), PAGES (article pages read, default 500),
#      BENCH_CACHE (generated sites are kept in it, default /tmp/masthead-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/common.sh
count_and_smoke publish.sh "$@"
masthead_binary publish.sh
if $SMOKE; then DURATION=${DURATION:-3}; else DURATION=${DURATION:-15}; fi
PAGES=${PAGES:-500}
command -v wrk >/dev/null 2>&1 || scripts/install-deps.sh bench
CACHE=${BENCH_CACHE:-/tmp/masthead-bench}
mkdir -p "$CACHE"

WORK=$(mktemp -d /tmp/masthead-publish.XXXXXX)
SERVER_PID=""
PUBLISHER_PID=""
cleanup() {
  [ -n "$PUBLISHER_PID" ] && kill "$PUBLISHER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "${KEEP:-}" ] && cp "$WORK/serve.log" /tmp/publish-serve.log; rm -rf "$WORK"
}
trap cleanup EXIT
broke() { echo "publish.sh: $1" >&2; [ -n "${2:-}" ] && tail -20 "$2" >&2; exit 1; }

ARTICLES="$CACHE/articles-$N"
[ -d "$ARTICLES" ] || python3 bench/generate.py "$N" "$ARTICLES"
"$BIN" import-markdown "$ARTICLES" --data-dir "$WORK/data" >"$WORK/import.log" 2>&1 || broke "the import failed" "$WORK/import.log"
EMAIL=bench@publish.example
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
echo "$PASSWORD" | "$BIN" user add --data-dir "$WORK/data" --email "$EMAIL" --name "Bench Editor" --role admin >/dev/null 2>"$WORK/cli.err" \
  || broke "user add failed" "$WORK/cli.err"

PORT=${BENCH_PORT:-$(free_port)}
BASE="http://127.0.0.1:$PORT"
MASTHEAD_LOG_LEVEL=${LOG_LEVEL:-warning} "$BIN" serve --data-dir "$WORK/data" --port "$PORT" --host 127.0.0.1 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
python3 bench/scale_probe.py startup "$BASE/healthz" --since-ns "$(date +%s%N)" --timeout 120 >/dev/null || broke "the server did not start" "$WORK/serve.log"
KEY=$(python3 bench/soak_probe.py admin-key "$BASE" --email "$EMAIL" --password="$PASSWORD") || broke "no Admin API key" "$WORK/serve.log"

# The pages read: article pages from the import (not the stories published during the run).
python3 - "$ARTICLES" "$PAGES" > "$WORK/paths.txt" <<'PY'
import pathlib, re, sys
folder, limit = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for file in sorted(folder.rglob("*.md"))[:limit]:
    front = dict(re.findall(r"^(slug|section): (.*)$", file.read_text(), re.M))
    section = re.sub(r"[^a-z0-9]+", "-", front["section"].strip('"').lower()).strip("-")
    print(f"/{section}/{front['slug'].strip()}/")
PY
# The stories' section exists before anything is measured (a new section changes every page's navigation).
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d '{"name": "Bulletins"}' \
  "$BASE/api/admin/sections/" || broke "creating the section failed" "$WORK/serve.log"
sleep 1
python3 - "$BASE" "$WORK/paths.txt" <<'PY' || broke "warming the cache failed" "$WORK/serve.log"
import sys, urllib.request
base, paths = sys.argv[1], [line.strip() for line in open(sys.argv[2]) if line.strip()]
for path in paths:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        assert response.status == 200, path
PY
cat > "$WORK/read.lua" <<LUA
local paths = {}
for line in io.lines("$WORK/paths.txt") do paths[#paths + 1] = line end
local index = 0
request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
read_rate() { # label → prints "requests/s p99_ms errors"
  wrk -t2 -c16 -d"${DURATION}s" -s "$WORK/read.lua" "$BASE" > "$WORK/$1.wrk" 2>&1 || broke "wrk failed" "$WORK/$1.wrk"
  grep '^RESULT' "$WORK/$1.wrk" | cut -d' ' -f2-
}

echo "# $N articles, $(wc -l < "$WORK/paths.txt") cached article pages read, wrk -t2 -c16 for ${DURATION}s each"
read -r QUIET QUIET_P99 QUIET_ERRORS < <(read_rate quiet)
python3 - "$BASE" "$KEY" "$WORK/published.txt" <<'PY' &
import json, sys, time, urllib.request
base, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")
number = 0
while True:
    started = time.monotonic()
    number += 1
    created = call("POST", "/api/admin/articles/", {"title": f"Bench bulletin {number}", "section": "bulletins",
                                                     "tags": ["Bench", f"Bulletin {number % 7}"], "body": "A new story, one a second."})
    article = created["articles"][0]
    call("POST", f"/api/admin/articles/{article['id']}/publish")
    with open(out, "a") as handle:
        handle.write(f"{number}\n")
    time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
PY
PUBLISHER_PID=$!
sleep 1
read -r BUSY BUSY_P99 BUSY_ERRORS < <(read_rate publishing)
kill "$PUBLISHER_PID" 2>/dev/null || true
wait "$PUBLISHER_PID" 2>/dev/null || true
PUBLISHER_PID=""
PUBLISHED=$(wc -l < "$WORK/published.txt" 2>/dev/null || echo 0)
[ "$PUBLISHED" -gt 0 ] || broke "no story was published during the run" "$WORK/serve.log"
[ "$QUIET_ERRORS" = 0 ] && [ "$BUSY_ERRORS" = 0 ] || broke "wrk saw errors ($QUIET_ERRORS quiet, $BUSY_ERRORS publishing)"
curl -fsS -o "$WORK/bulletins.html" "$BASE/bulletins/" || broke "the section of the published stories does not answer" "$WORK/serve.log"
grep -q "Bench bulletin" "$WORK/bulletins.html" || broke "the published stories are not on their section page"

RATIO=$(echo "scale=2; $BUSY / $QUIET" | bc)
printf '%-48s | %16s | %-10s | %s\n' "measure" "figure" "target" ""
printf '%-48s | %16s | %-10s | %s\n' "cached article pages, quiet site" "$QUIET req/s" "" "p99 $QUIET_P99 ms"
printf '%-48s | %16s | %-10s | %s\n' "the same, one story published a second ($PUBLISHED)" "$BUSY req/s" "" "p99 $BUSY_P99 ms"
printf '%-48s | %16s | %-10s | %s\n' "ratio publishing / quiet" "${RATIO}×" ">= 0.8×" "$(echo "$RATIO >= 0.8" | bc | sed 's/1/ok/;s/0/MISSING/')"
