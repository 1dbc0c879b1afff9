#!/usr/bin/env bash
# Benchmark for issue 11, "Fast at newsroom scale": generates an N-article site, imports it, serves
# it with the page cache off and prints every figure next to its target.
#
# Usage: bench/scale.sh N [--smoke]
#   N        articles to generate (the issue's figures are for 100000)
#   --smoke  short runs (2 s of wrk, 10 requests per search and list case) that only prove the
#            script works, for CI; the figures mean little
# Env: MASTHEAD_BIN (default .build-release/release/masthead, else .build/release/masthead), DURATION (seconds of wrk, default 15),
#      REQUESTS (per search and list case, default 50), BENCH_CACHE (generated sites are kept in
#      it, default /tmp/masthead-bench), BENCH_PORT (default: a free one).
#
# Prints what it does as `# …` lines, then a table: measure | figure | target | ok/MISSING.
# Exits 0 when it measured everything, whether or not the targets are met; 1 when something broke
# (the import failed, the server died or would not start, a 5xx or other unexpected answer).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/common.sh
count_and_smoke scale.sh "$@"
masthead_binary scale.sh
if $SMOKE; then DURATION=${DURATION:-2}; REQUESTS=${REQUESTS:-10}; WARMUP=0
else DURATION=${DURATION:-15}; REQUESTS=${REQUESTS:-50}; WARMUP=3; fi
command -v wrk >/dev/null 2>&1 || scripts/install-deps.sh bench
PROBE="python3 bench/scale_probe.py"

# --- Work folder, server and clean-up ------------------------------------------------------------
WORK=$(mktemp -d /tmp/masthead-scale.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM

broke() { # message [log file]
  echo "scale.sh: $1" >&2
  [ -n "${2:-}" ] && [ -s "$2" ] && tail -n 20 "$2" >&2
  exit 1
}
server_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null && return
  local status=0
  wait "$SERVER_PID" 2>/dev/null || status=$?
  SERVER_PID=""
  broke "the server died (exit status $status)" "$WORK/serve.log"
}
to_ms() { # wrk prints 1.23ms, 850.00us or 1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

settle() { # waits (up to 60 s) until the server has stopped using CPU: wrk leaves requests in flight
  local before after
  for _ in $(seq 300); do
    before=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null) || return 0
    sleep 0.2
    after=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null) || return 0
    [ "$before" = "$after" ] && return 0
  done
}

ROWS=()
row() { # measure figure target ok(true|false)
  local verdict=MISSING
  [ "$4" = true ] && verdict=ok
  ROWS+=("$1|$2|$3|$verdict")
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' && echo true || echo false; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo true || echo false; }

kind=release
case "$BIN" in *debug*) kind="DEBUG (figures are not meaningful)" ;; esac
echo "# $N articles$($SMOKE && echo ', smoke run'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $BIN ($kind)"

# --- 1. The site, generated once per N ------------------------------------------------------------
CACHE=${BENCH_CACHE:-/tmp/masthead-bench}
SITE=$CACHE/site-$N-seed1
if [ -d "$SITE" ]; then
  echo "# site: $SITE (cached)"
else
  echo "# site: generating $N articles into $SITE"
  mkdir -p "$CACHE"
  rm -rf "$SITE.partial.$$"
  python3 bench/generate.py "$N" "$SITE.partial.$$" --seed 1
  mv "$SITE.partial.$$" "$SITE"   # only a finished site counts as cached
fi

# --- 2. Import: articles/s and peak memory ------------------------------------------------------
echo "# import-markdown into a fresh data folder"
TIME_V=()
[ -x /usr/bin/time ] && TIME_V=(/usr/bin/time -v -o "$WORK/import.time")
started=$(date +%s%N)
${TIME_V[@]+"${TIME_V[@]}"} "$BIN" import-markdown "$SITE" --data-dir "$WORK/data" >"$WORK/import.out" 2>"$WORK/import.err" \
  || broke "import-markdown failed" "$WORK/import.err"
import_s=$(awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
rate=$(awk -v n="$N" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }')
echo "# imported $N articles in $import_s s: $rate articles/s"
row "import-markdown" "$rate articles/s ($import_s s)" ">= 1,000 articles/s" "$(ge "$rate" 1000)"
if [ -s "$WORK/import.time" ]; then
  import_mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/import.time")
  row "import-markdown peak RSS" "$import_mb MB" "< 500 MB" "$(lt "$import_mb" 500)"
else
  row "import-markdown peak RSS" "n/a (no /usr/bin/time)" "< 500 MB" false
fi

# --- 3. Serve with the page cache off: start-up ---------------------------------------------------
PORT=${BENCH_PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT
# `page_cache_mb: 0` turns the page cache off, so that every page below is rendered: the figures
# are those of the long tail no cache holds.
started=$(date +%s%N)
MASTHEAD_PAGE_CACHE_MB=0 MASTHEAD_LOG_LEVEL=warning \
  "$BIN" serve --data-dir "$WORK/data" --port "$PORT" --host 127.0.0.1 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
startup_ms=$($PROBE startup "$BASE/healthz" --since-ns "$started" --timeout 120) || { server_alive; broke "the server did not answer /healthz" "$WORK/serve.log"; }
echo "# serving on $BASE (pid $SERVER_PID); first 200 on /healthz after $startup_ms ms"
row "start-up to first 200" "$startup_ms ms" "< 1,000 ms" "$(lt "$startup_ms" 1000)"

# Memory while serving: VmRSS of the server, sampled from here to the end of the load.
( while kill -0 "$SERVER_PID" 2>/dev/null; do
    awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || true
    sleep 0.2
  done ) >"$WORK/rss.kb" &
SAMPLER_PID=$!

# --- 4. Uncached article pages, random stories ---------------------------------------------------
found=$($PROBE sitemaps "$BASE" "$WORK/lists") || broke "could not read the sitemaps" "$WORK/serve.log"
echo "# addresses from the sitemaps: $found"
listed=$(wc -l <"$WORK/lists/articles.txt")
[ "$listed" -eq "$N" ] || broke "the sitemaps list $listed articles, not the $N imported"
cat >"$WORK/random.lua" <<'LUA'
-- Every request asks for a random story from the sitemaps, so no cache can help.
local paths = {}
for line in io.lines(os.getenv("SCALE_ARTICLES")) do paths[#paths + 1] = line end
local threads = 0
function setup(thread) threads = threads + 1; thread:set("seed", threads) end
function init(args) math.randomseed(os.time() * 1000 + seed) end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
export SCALE_ARTICLES=$WORK/lists/articles.txt
# Warm-up (not in smoke runs: a slow debug server would still be answering it when the run starts).
if [ "$WARMUP" -gt 0 ]; then wrk -t2 -c16 -d"${WARMUP}s" --timeout 30s -s "$WORK/random.lua" "$BASE" >/dev/null; fi
server_alive
wrk -t2 -c16 -d"${DURATION}s" --timeout 30s --latency -s "$WORK/random.lua" "$BASE" >"$WORK/articles.wrk" \
  || broke "wrk failed" "$WORK/articles.wrk"
rss_lines_after_wrk=$(wc -l <"$WORK/rss.kb")
server_alive
settle
if grep -q "Non-2xx" "$WORK/articles.wrk"; then
  grep -E "Non-2xx|Socket errors" "$WORK/articles.wrk" >&2
  broke "some article pages were not answered 200"
fi
pages_s=$(awk '/Requests\/sec/ { printf ($2 < 10 ? "%.1f" : "%.0f"), $2 }' "$WORK/articles.wrk")
p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/articles.wrk")")
p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/articles.wrk")")
errors=$(grep -o "Socket errors.*" "$WORK/articles.wrk" || true)
echo "# wrk -t2 -c16 -d${DURATION}s over $listed random stories: $pages_s pages/s, p50 $p50 ms, p99 $p99 ms${errors:+; $errors}"
if grep -q '^ *0 requests in' "$WORK/articles.wrk"; then   # too slow to finish even one
  row "uncached article pages" "0 pages/s (none finished)" ">= 2,000 pages/s" false
  row "uncached article p99" "n/a" "< 50 ms" false
else
  row "uncached article pages" "$pages_s pages/s" ">= 2,000 pages/s" "$(ge "$pages_s" 2000)"
  row "uncached article p99" "$p99 ms" "< 50 ms" "$(lt "$p99" 50)"
fi

# --- 5. Search ----------------------------------------------------------------------------------
found=$($PROBE words "$SITE" "$WORK/words") || broke "could not pick search words from $SITE"
echo "# search words from the corpus: $found"
for query_kind in rare common two-words; do
  read -r _ s50 s95 smax count empty < <($PROBE time "$BASE" "$WORK/words/$query_kind.txt" --query --label "$query_kind" --count "$REQUESTS") \
    || broke "search for $query_kind words failed" "$WORK/serve.log"
  nothing=""
  [ "$empty" -gt 0 ] && nothing="; $empty found nothing"
  echo "# search, $query_kind ($(wc -l <"$WORK/words/$query_kind.txt") queries, e.g. '$(head -n1 "$WORK/words/$query_kind.txt")'): p50 $s50 ms, p95 $s95 ms, max $smax ms over $count requests$nothing"
  row "search, $query_kind" "p50 $s50 ms, p95 $s95 ms" "p95 < 50 ms" "$(lt "$s95" 50)"
done

# --- 6. List pages --------------------------------------------------------------------------------
lists=$WORK/lists
echo / >"$lists/home.txt"
echo /feed/ >"$lists/feed.txt"
echo /sitemap.xml >"$lists/sitemap.txt"
: >"$lists/section-2.txt"
: >"$lists/section-deep.txt"
deep_pages=""
while read -r section; do
  curl -fsS -o "$WORK/section.html" "$BASE$section" || broke "$section did not answer 200" "$WORK/serve.log"
  total=$(sed -n 's/.*Page 1 of \([0-9]*\).*/\1/p' "$WORK/section.html" | head -n1)
  total=${total:-1}
  [ "$total" -ge 2 ] && echo "${section}page/2/" >>"$lists/section-2.txt"
  deep=$(( total < 500 ? total : 500 ))
  if [ "$deep" -ge 2 ]; then echo "${section}page/$deep/" >>"$lists/section-deep.txt"; deep_pages="$deep_pages $deep"; fi
done <"$lists/sections.txt"
deep_label=$(echo $deep_pages | tr ' ' '\n' | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (lo == hi ? lo : lo "-" hi) }')
# Up to 50 tags and authors, evenly spread over the lists (which are in name order, not by size).
spread() { awk -v n="$(wc -l <"$1")" 'BEGIN { step = n > 50 ? n / 50 : 1; next_line = 1 } NR >= next_line { print; next_line += step }' "$1"; }
spread "$lists/tags.txt" >"$lists/tag.txt"
spread "$lists/authors.txt" >"$lists/author.txt"
for item in home:home sections:section section-2:"section page 2" section-deep:"section page ${deep_label:-N} (last or 500)" \
            tag:"tag page" author:"author page" feed:/feed/ sitemap:/sitemap.xml; do
  file=${item%%:*}
  label=${item#*:}
  if [ ! -s "$lists/$file.txt" ]; then row "list, $label" "n/a (no such page)" "p95 < 10 ms" false; continue; fi
  read -r _ l50 l95 lmax count _ < <($PROBE time "$BASE" "$lists/$file.txt" --label "$file" --count "$REQUESTS") \
    || broke "list page $label failed" "$WORK/serve.log"
  echo "# list, $label ($(wc -l <"$lists/$file.txt") addresses, e.g. $(head -n1 "$lists/$file.txt")): p50 $l50 ms, p95 $l95 ms, max $lmax ms over $count requests"
  row "list, $label" "p50 $l50 ms, p95 $l95 ms" "p95 < 10 ms" "$(lt "$l95" 10)"
done
server_alive

# --- 7. Memory under load -------------------------------------------------------------------------
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
rss_mb=$(awk 'max < $1 { max = $1 } END { printf "%.0f", max / 1024 }' "$WORK/rss.kb")
wrk_rss_mb=$(head -n "$rss_lines_after_wrk" "$WORK/rss.kb" | awk 'max < $1 { max = $1 } END { printf "%.0f", max / 1024 }')
echo "# server VmRSS: peak $wrk_rss_mb MB up to the end of wrk, $rss_mb MB over the whole run"
row "server peak RSS under load" "$rss_mb MB" "< 300 MB" "$(lt "$rss_mb" 300)"

# --- 8. The table ---------------------------------------------------------------------------------
echo
printf '%s\n' "measure|figure|target|ok/MISSING" "${ROWS[@]}" | awk -F'|' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > width[i]) width[i] = length($i) } }
  END {
    for (r = 1; r <= NR; r++) {
      line = "|"
      for (i = 1; i <= 4; i++) line = line sprintf(" %-" width[i] "s |", cell[r, i])
      print line
      if (r == 1) { line = "|"; for (i = 1; i <= 4; i++) { dashes = ""; for (k = 0; k < width[i] + 2; k++) dashes = dashes "-"; line = line dashes "|" } print line }
    }
  }'
