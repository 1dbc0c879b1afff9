#!/usr/bin/env bash
# Soak test for issue 13 ("Hostile input and faults"): the server under a mixed load at about half
# of its peak for a long time, with its resident memory (VmRSS) sampled every second, so that a
# leak, a slow death or a rare 5xx shows.
#
# Usage: bench/soak.sh [--duration SECONDS] [--smoke]
#   --duration  how long the mixed load runs (default 1800: the issue's 30 minutes)
#   --smoke     2 s peaks and 10 s of load (about 35 s in all with the debug binary's set-up): only
#               proves the script works, for CI, where it runs the debug binary, whose figures mean
#               nothing; memory is not judged
# Env: MASTHEAD_BIN (default .build-release/release/masthead if it exists, else .build/release/masthead),
#      ARTICLES (generated articles imported besides the demo newsroom, default 300),
#      FRACTION (of the mixed load's peak to run at, default 0.5), RATE (requests/s, instead of
#      FRACTION × peak), INTERVAL (seconds per table row, default duration/60 within 5…60),
#      WARMUP (seconds, default a tenth of the duration, at least one interval),
#      RSS_MAX_PERCENT (default 10), RSS_MIN_MB (default 10), SOAK_PORT (default: a free one).
#
# The site: a fresh data folder with the demo newsroom (serve --demo-if-empty), ARTICLES generated
# stories (bench/generate.py, import-markdown), an admin, a Content API key, the tip line's key and
# an Admin API key made through the newsroom's form. The server trusts 127.0.0.1 as a proxy, so the
# forms below come from 128 made-up addresses (X-Forwarded-For), each with limits of its own.
#
# The load, measured first: wrk -t2 -c16 for 5 s on a cached article page (the peak of the cheapest
# page, for reference), then the mixed load unpaced (its peak); the soak runs the mix at FRACTION of
# that peak, paced by the Lua script's delay(), in INTERVAL-long wrk runs (one table row each):
#   hot: 20 cached article pages, 45%       lists: home, sections, their page 2, tags, authors, 20%
#   cold: any article, 15%                  search: varied words, /search/ or the Content API's, 5%
#   feeds: RSS, Atom, JSON, 5%              images: signed /img/ variants from the pages, 4%
#   api: Content API reads, 4%              other: /tips/, /consent/, /admin/login/, sitemaps, 2%
# half with Accept-Encoding: gzip (SOAK_MIX=kind:weight,… changes the weights). Besides, on threads
# of their own at a slow fixed pace: a consent choice every 2 s, a newsroom sign-in (login, article
# list, sign-out) every 15 s, a tip (every other one with a PNG) every 20 s, and a story created and
# published through the Admin API every 5 s (each third turn also edits one, each fifth takes one
# down), checked on its page and the home page, so pages are forgotten and made again throughout.
# (Smoke runs do these twice as often.)
#
# Prints `# …` lines, a table (time, RSS, requests/s, p50/p99 latency, answers that are not
# 2xx/3xx, 5xx, socket errors, side actions ok/failed per interval), then a summary: RSS idle, at
# the start, after warm-up, peak and at the end; growth after warm-up and over the second half (MB,
# %, %/hour); requests; failures; the verdict.
# Exit status: 0 PASS. 1 FAIL, when any of these holds:
#   - the server died or would not start, or the setup failed;
#   - any answer was 5xx, or any request failed (another answer than the one expected, a socket
#     error, a timeout): the issue asks that no request fails;
#   - resident memory at the end (median of the last minute, or tenth of the run if shorter) is more
#     than RSS_MAX_PERCENT (10%, the issue's figure) above where it was after warm-up (median of the
#     same length of time after WARMUP), AND
#     more than RSS_MIN_MB (10 MB) above it: the floor keeps allocator noise in a small process
#     from counting as a leak. Not applied with --smoke.
# 2: wrong usage.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

usage() { echo "usage: bench/soak.sh [--duration SECONDS] [--smoke]" >&2; exit 2; }
DURATION=1800
SMOKE=false
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=true ;;
    --duration) [ $# -ge 2 ] || usage; DURATION=$2; shift ;;
    --duration=*) DURATION=${1#--duration=} ;;
    *) usage ;;
  esac
  shift
done
case "$DURATION" in ''|*[!0-9]*) usage ;; esac
[ "$DURATION" -gt 0 ] || usage

masthead_binary soak.sh
if $SMOKE; then
  DURATION=10; PEAK_S=2; SETTLE_S=5; IMAGE_PAGES=3; VARIANTS=12; INTERVAL=${INTERVAL:-2}; WARMUP=${WARMUP:-2}; ARTICLES=${ARTICLES:-300}
else
  PEAK_S=5; SETTLE_S=30; IMAGE_PAGES=40; VARIANTS=400
  INTERVAL=${INTERVAL:-$(( DURATION / 60 < 5 ? 5 : (DURATION / 60 > 60 ? 60 : DURATION / 60) ))}
  WARMUP=${WARMUP:-$(( DURATION / 10 > INTERVAL ? DURATION / 10 : INTERVAL ))}
  ARTICLES=${ARTICLES:-300}
fi
FRACTION=${FRACTION:-0.5}
command -v wrk >/dev/null 2>&1 || scripts/install-deps.sh bench
PROBE="python3 bench/scale_probe.py"
SOAK="python3 bench/soak_probe.py"

# --- Work folder, server and clean-up (as bench/scale.sh) ----------------------------------------
WORK=$(mktemp -d /tmp/masthead-soak.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM

broke() { # message [log file]
  echo "soak.sh: $1" >&2
  [ -n "${2:-}" ] && [ -s "$2" ] && tail -n 20 "$2" >&2
  exit 1
}
server_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null && [ "$(awk '/^State:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)" != Z ] && return
  local status=0
  wait "$SERVER_PID" 2>/dev/null || status=$?
  SERVER_PID=""
  broke "the server died (exit status $status)" "$WORK/serve.log"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
settle() { # waits (up to $1 s) until the server has stopped using CPU: wrk leaves requests in flight
  local before after
  for _ in $(seq $(( $1 * 5 ))); do
    before=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null) || return 0
    sleep 0.2
    after=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null) || return 0
    [ "$before" = "$after" ] && return 0
  done
}

kind=release
case "$BIN" in *debug*) kind="DEBUG (figures are not meaningful)" ;; esac
echo "# soak: $DURATION s$($SMOKE && echo ' (smoke run)'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $BIN ($kind)"

# --- 1. The site ----------------------------------------------------------------------------------
PORT=${SOAK_PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT
EMAIL=soak-admin@example.org
PASSWORD="soak test passphrase $RANDOM$RANDOM"
python3 bench/generate.py "$ARTICLES" "$WORK/corpus" --seed 1
started=$(date +%s%N)
MASTHEAD_LOG_LEVEL=warning MASTHEAD_BASE_URL=$BASE MASTHEAD_TRUSTED_PROXIES=127.0.0.1 \
  "$BIN" serve --demo-if-empty --data-dir "$WORK/data" --port "$PORT" --host 127.0.0.1 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
startup_ms=$($PROBE startup "$BASE/healthz" --since-ns "$started" --timeout 180) || { server_alive; broke "the server did not answer /healthz" "$WORK/serve.log"; }
echo "# serving the demo newsroom on $BASE (pid $SERVER_PID) after $startup_ms ms"
"$BIN" import-markdown "$WORK/corpus" --data-dir "$WORK/data" >/dev/null 2>"$WORK/cli.err" || broke "import-markdown failed" "$WORK/cli.err"
echo "$PASSWORD" | "$BIN" user add --data-dir "$WORK/data" --email "$EMAIL" --name "Soak Admin" --role admin >/dev/null 2>"$WORK/cli.err" \
  || broke "user add failed" "$WORK/cli.err"
CONTENT_KEY=$("$BIN" content-key add soak --data-dir "$WORK/data" 2>"$WORK/cli.err" | tail -n1) || broke "content-key add failed" "$WORK/cli.err"
"$BIN" tips keygen --data-dir "$WORK/data" --out "$WORK/tip-key.txt" >/dev/null 2>"$WORK/cli.err" || broke "tips keygen failed" "$WORK/cli.err"
API_KEY=$($SOAK admin-key "$BASE" --email "$EMAIL" --password "$PASSWORD" 2>"$WORK/cli.err") || {
  echo "# NOTE: no Admin API key ($(tail -n1 "$WORK/cli.err")): the soak makes no writes"; API_KEY=""; }
server_alive
echo "# imported $ARTICLES generated articles; an admin, a Content API key, the tip line's key$([ -n "$API_KEY" ] && echo ' and an Admin API key')"

# --- 2. Addresses for the mix ---------------------------------------------------------------------
LISTS=$WORK/lists
found=$($PROBE sitemaps "$BASE" "$LISTS") || broke "could not read the sitemaps" "$WORK/serve.log"
$PROBE words "$WORK/corpus" "$WORK/words" >/dev/null || broke "could not pick search words"
cat "$WORK/words/rare.txt" "$WORK/words/common.txt" "$WORK/words/two-words.txt" | tr ' ' '\n' | sort -u >"$LISTS/words.txt"
images=$($SOAK images "$BASE" "$LISTS/articles.txt" "$LISTS/images.txt" --max "$IMAGE_PAGES" --variants "$VARIANTS") || broke "could not read the images of the pages" "$WORK/serve.log"
# A spread of n lines of a file (the lists are in name order).
spread() { awk -v n="$(wc -l <"$1")" -v want="$2" 'BEGIN { step = n > want ? n / want : 1; next_line = 1 } NR >= next_line { print; next_line += step }' "$1"; }
spread "$LISTS/articles.txt" 20 >"$LISTS/hot.txt"
cp "$LISTS/articles.txt" "$LISTS/cold.txt"
{ echo /; cat "$LISTS/sections.txt"; spread "$LISTS/tags.txt" 30; spread "$LISTS/authors.txt" 20; } >"$LISTS/lists.txt"
while read -r section; do   # and the second page of each section that has one
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE${section}page/2/")" = 200 ] && echo "${section}page/2/" >>"$LISTS/lists.txt"
done <"$LISTS/sections.txt"
first_section=$(head -n1 "$LISTS/sections.txt")
first_tag=$(head -n1 "$LISTS/tags.txt")
printf '%s\n' /feed/ /feed/atom/ /feed/json/ "${first_section}feed/" "${first_tag}feed/" >"$LISTS/feeds.txt"
hot_slug=$(head -n1 "$LISTS/hot.txt" | awk -F/ '{ print $3 }')
printf '%s\n' "/api/content/posts/?key=$CONTENT_KEY" "/api/content/posts/?key=$CONTENT_KEY&include=tags,authors&limit=10&page=2" \
  "/api/content/posts/slug/$hot_slug/?key=$CONTENT_KEY" "/api/content/tags/?key=$CONTENT_KEY&limit=50" \
  "/api/content/authors/?key=$CONTENT_KEY" "/api/content/sections/?key=$CONTENT_KEY" >"$LISTS/api.txt"
printf '%s\n' /tips/ /consent/ /admin/login/ /sitemap.xml /robots.txt >"$LISTS/other.txt"
# Every address must answer 200 (a 3xx is not followed by wrk, and would hide a broken address).
for file in hot lists feeds api other; do
  while read -r path; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path") || code=000
    [ "$code" = 200 ] || broke "$path answered $code" "$WORK/serve.log"
  done <"$LISTS/$file.txt"
done
echo "# addresses: $found, $images image variants, $(wc -l <"$LISTS/words.txt") search words"

cat >"$WORK/soak.lua" <<'LUA'
-- The soak's mixed load (bench/soak.sh). Env: SOAK_LISTS (folder of address lists), SOAK_MIX
-- (kind:weight,…), SOAK_RATE (requests/s over all threads, 0: as fast as it goes), SOAK_THREADS,
-- SOAK_CONTENT_KEY. done() prints one `SOAK key=value …` line.
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } soak_timespec; int clock_gettime(int, soak_timespec *); ]]
local clock = ffi.new("soak_timespec")
local function now_ms() ffi.C.clock_gettime(1, clock); return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6 end

local lists = {}
for _, name in ipairs({ "hot", "lists", "cold", "feeds", "images", "api", "other", "words" }) do
  lists[name] = {}
  local file = io.open(os.getenv("SOAK_LISTS") .. "/" .. name .. ".txt")
  if file then
    for line in file:lines() do if line ~= "" then lists[name][#lists[name] + 1] = line end end
    file:close()
  end
end
local content_key = os.getenv("SOAK_CONTENT_KEY") or ""
local kinds, bounds, total = {}, {}, 0
for kind, weight in string.gmatch(os.getenv("SOAK_MIX"), "(%a+):(%d+)") do
  if #lists[kind == "search" and "words" or kind] > 0 then
    total = total + tonumber(weight)
    kinds[#kinds + 1] = kind
    bounds[#bounds + 1] = total
  end
end
local gzip = { ["Accept-Encoding"] = "gzip" }
local function pick(list) return list[math.random(#list)] end

local threads = {}
function setup(thread) threads[#threads + 1] = thread; thread:set("id", #threads) end
function init(args)
  math.randomseed(os.time() * 1000 + id)
  c2, c3, c4, c5 = 0, 0, 0, 0
end

function request()
  local roll, kind = math.random() * total, kinds[#kinds]
  for i = 1, #kinds do if roll < bounds[i] then kind = kinds[i]; break end end
  local path
  if kind == "search" then
    local words = pick(lists.words)
    if math.random() < 0.4 then words = words .. "+" .. pick(lists.words) end
    if content_key ~= "" and math.random() < 0.2 then path = "/api/content/search/?key=" .. content_key .. "&q=" .. words
    else path = "/search/?q=" .. words end
  else
    path = pick(lists[kind])
  end
  if math.random() < 0.5 then return wrk.format("GET", path, gzip) end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status < 300 then c2 = c2 + 1 elseif status < 400 then c3 = c3 + 1 elseif status < 500 then c4 = c4 + 1 else c5 = c5 + 1 end
end

-- Pacing: each thread hands out request times `interval` apart; a thread more than a second behind
-- starts again from now rather than send a burst.
local rate = tonumber(os.getenv("SOAK_RATE") or "0") / tonumber(os.getenv("SOAK_THREADS") or "1")
if rate > 0 then
  local interval, slot = 1000 / rate, nil
  function delay()
    local now = now_ms()
    if slot == nil or slot < now - 1000 then slot = now end
    slot = slot + interval
    return slot > now and slot - now or 0
  end
end

function done(summary, latency, requests)
  local n = { 0, 0, 0, 0 }
  for _, thread in ipairs(threads) do
    for i, name in ipairs({ "c2", "c3", "c4", "c5" }) do n[i] = n[i] + (thread:get(name) or 0) end
  end
  local e = summary.errors
  io.write(string.format("SOAK requests=%d duration_us=%d c2=%d c3=%d c4=%d c5=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, n[1], n[2], n[3], n[4], latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
export SOAK_LISTS=$LISTS SOAK_CONTENT_KEY=$CONTENT_KEY
export SOAK_MIX=${SOAK_MIX:-hot:45,lists:20,cold:15,search:5,feeds:5,images:4,api:4,other:2}

# --- 3. Peak ---------------------------------------------------------------------------------------
idle_kb=$(rss_kb)
echo "# server RSS before any load: $(( idle_kb / 1024 )) MB"
ARTICLE=$(head -n1 "$LISTS/hot.txt")
wrk -t2 -c16 -d"${PEAK_S}s" --timeout 30s "$BASE$ARTICLE" >"$WORK/peak-article.wrk" || broke "wrk failed" "$WORK/peak-article.wrk"
server_alive
grep -q "Non-2xx" "$WORK/peak-article.wrk" && broke "$ARTICLE was not always answered 200" "$WORK/peak-article.wrk"
peak_article=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$WORK/peak-article.wrk")
echo "# peak, cached article page $ARTICLE: $peak_article pages/s (wrk -t2 -c16 -d${PEAK_S}s)"
SOAK_RATE=0 SOAK_THREADS=2 wrk -t2 -c16 -d"${PEAK_S}s" --timeout 30s -s "$WORK/soak.lua" "$BASE" >"$WORK/peak-mix.wrk" \
  || broke "wrk failed" "$WORK/peak-mix.wrk"
server_alive
line=$(grep '^SOAK ' "$WORK/peak-mix.wrk") || broke "the mixed load printed no figures" "$WORK/peak-mix.wrk"
value() { echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
[ "$(value c5)" = 0 ] || echo "# the mixed load's peak run had $(value c5) answers 5xx (the soak will count its own)"
peak_mix=$(awk -v n="$(value requests)" -v us="$(value duration_us)" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
RATE=${RATE:-$(awk -v p="$peak_mix" -v f="$FRACTION" 'BEGIN { r = p * f; printf "%.1f", r < 1 ? 1 : r }')}
echo "# peak, mixed load: $peak_mix requests/s (p99 $(awk -v us="$(value p99_us)" 'BEGIN { printf "%.1f", us / 1000 }') ms); the soak runs it at $RATE/s"
settle "$SETTLE_S"
echo "# soak: $DURATION s, a row every $INTERVAL s, warm-up $WARMUP s; RSS after the peaks: $(( $(rss_kb) / 1024 )) MB"

# --- 4. The soak -----------------------------------------------------------------------------------
status=0
$SOAK run "$BASE" --pid "$SERVER_PID" --lua "$WORK/soak.lua" --lists "$LISTS" --rate "$RATE" --duration "$DURATION" \
  --interval "$INTERVAL" --warmup "$WARMUP" --threads 2 --connections 16 --email "$EMAIL" --password "$PASSWORD" \
  --api-key "$API_KEY" --idle-rss-kb "$idle_kb" --rss-max-percent "${RSS_MAX_PERCENT:-10}" --rss-min-mb "${RSS_MIN_MB:-10}" \
  $($SMOKE && echo --smoke) || status=$?
[ "$status" -ge 128 ] && exit "$status"   # interrupted (the server may have had the signal too)
server_alive
curl -fsS -o /dev/null "$BASE/healthz" || broke "the server no longer answers /healthz" "$WORK/serve.log"
if [ "$status" -ne 0 ] && [ -s "$WORK/serve.log" ]; then
  echo "# the end of the server's log (level warning):"
  tail -n 10 "$WORK/serve.log" | sed 's/^/#   /'
fi
exit $status
