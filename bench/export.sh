#!/usr/bin/env bash
# Benchmark for `masthead export-static` (issue 11): generates an N-article site (bench/generate.py),
# imports it, exports it twice (the second export must be identical to the first), and builds the
# same stories with Hugo (Debian's package, bench/hugo: a minimal theme writing the same kinds of
# pages) in the same run. Prints times, peak memory and files next to the targets: less time than
# Hugo at 10,000 articles, under 500 MB, an empty diff.
#
# Usage: bench/export.sh N [--smoke]
#   N        articles to generate (the issue's target: 10,000)
#   --smoke  for CI: proves the script and the paths it drives work (figures mean nothing)
# Env: MASTHEAD_BIN (default .build-release/release/masthead, else .build/release/masthead),
#      BENCH_CACHE (generated stories are kept in it, default /tmp/masthead-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/common.sh
count_and_smoke export.sh "$@"
masthead_binary export.sh
command -v hugo >/dev/null && [ -x /usr/bin/time ] || scripts/install-deps.sh bench
CACHE=${BENCH_CACHE:-/tmp/masthead-bench}
mkdir -p "$CACHE"
WORK=$(mktemp -d /tmp/masthead-export.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

STORIES="$CACHE/articles-$N"
if [ ! -d "$STORIES" ]; then
  echo "# generating $N stories"
  python3 bench/generate.py "$N" "$STORIES.partial" && mv "$STORIES.partial" "$STORIES"
fi
echo "# importing $N stories"
"$BIN" import-markdown "$STORIES" --data-dir "$WORK/site" > "$WORK/import.log" 2>&1 \
  || { echo "export.sh: the import failed:" >&2; tail -20 "$WORK/import.log" >&2; exit 1; }

files() { find "$1" -type f | wc -l; }

timed export.sh export "$BIN" export-static "$WORK/public" --data-dir "$WORK/site"
EXPORT=$SECONDS_TAKEN; EXPORT_KB=$PEAK_KB
grep -q "^Wrote " "$WORK/export.log" || { echo "export.sh: no summary from export-static:" >&2; cat "$WORK/export.log" >&2; exit 1; }
[ -s "$WORK/public/index.html" ] || { echo "export.sh: the export has no home page" >&2; exit 1; }
ARTICLES=$(find "$WORK/public" -mindepth 3 -maxdepth 3 -name index.html -path "$WORK/public/*/*/index.html" \
  ! -path "$WORK/public/tag/*" ! -path "$WORK/public/author/*" ! -path "*/page/*" ! -path "*/feed/*" | wc -l)
[ "$ARTICLES" -ge "$N" ] || { echo "export.sh: only $ARTICLES article pages for $N stories" >&2; exit 1; }

timed export.sh again "$BIN" export-static "$WORK/public-again" --data-dir "$WORK/site"
if diff -r "$WORK/public" "$WORK/public-again" > "$WORK/diff.txt"; then IDENTICAL=ok; else IDENTICAL=MISSING; fi

mkdir -p "$WORK/hugo"
python3 bench/hugo_content.py "$STORIES" "$WORK/hugo/content"
timed export.sh hugo hugo --quiet --source bench/hugo --contentDir "$WORK/hugo/content" --destination "$WORK/hugo/public" \
  --cacheDir "$WORK/hugo/cache" --baseURL "http://127.0.0.1:8080/"
HUGO=$SECONDS_TAKEN; HUGO_KB=$PEAK_KB

faster=$(echo "$EXPORT < $HUGO" | bc)
printf '%-46s | %18s | %-18s | %s\n' "measure" "figure" "target" ""
printf '%-46s | %18s | %-18s | %s\n' "export-static, $N articles (wall clock)" "$(printf '%.1f' "$EXPORT") s" "< Hugo" \
  "$([ "$faster" = 1 ] && echo ok || echo MISSING)"
printf '%-46s | %18s | %-18s | %s\n' "  files written" "$(files "$WORK/public")" "" ""
printf '%-46s | %18s | %-18s | %s\n' "  peak memory" "$((EXPORT_KB / 1024)) MB" "< 500 MB" \
  "$([ "$EXPORT_KB" -lt 512000 ] && echo ok || echo MISSING)"
printf '%-46s | %18s | %-18s | %s\n' "  a second export, diff -r against the first" "$(wc -l < "$WORK/diff.txt") lines" "empty" "$IDENTICAL"
printf '%-46s | %18s | %-18s | %s\n' "reference: hugo $(hugo version | grep -o 'v[0-9.]*' | head -1), same stories" "$(printf '%.1f' "$HUGO") s" "" ""
printf '%-46s | %18s | %-18s | %s\n' "  files written" "$(files "$WORK/hugo/public")" "" ""
printf '%-46s | %18s | %-18s | %s\n' "  peak memory" "$((HUGO_KB / 1024)) MB" "" ""
printf '%-46s | %18s | %-18s | %s\n' "ratio Hugo time / export time" "$(echo "scale=2; $HUGO / $EXPORT" | bc)x" ">= 1x" ""
[ "$IDENTICAL" = ok ] || { echo "export.sh: two exports of an unchanged site differ:" >&2; head -20 "$WORK/diff.txt" >&2; exit 1; }
