#!/usr/bin/env bash
# Benchmark for issue 14's importers: generates a WordPress export of N posts (text only, no
# pictures), imports it into an empty site, imports it again (nothing changes), and prints the
# figures next to their targets, with the Markdown importer on a site of the same size as the
# reference measured in the same run.
#
# Usage: bench/import.sh N [--smoke]
#   N        posts to generate (the issue's target: at least 500 posts/s)
#   --smoke  no reference run (for CI: proves the script works)
# Env: MASTHEAD_BIN (default .build-release/release/masthead, else .build/release/masthead),
#      BENCH_CACHE (generated files are kept in it, default /tmp/masthead-bench).
#
# Peak memory is the import's maximum resident set size (/usr/bin/time): run it with a larger N
# to see it stay flat (the export is read item by item).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/common.sh
count_and_smoke import.sh "$@"
masthead_binary import.sh
[ -x /usr/bin/time ] || scripts/install-deps.sh bench
CACHE=${BENCH_CACHE:-/tmp/masthead-bench}
mkdir -p "$CACHE"
WORK=$(mktemp -d /tmp/masthead-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

EXPORT="$CACHE/wordpress-$N.xml"
if [ ! -s "$EXPORT" ]; then
  echo "# generating a WordPress export of $N posts"
  python3 bench/generate_wxr.py "$N" "$EXPORT.partial" && mv "$EXPORT.partial" "$EXPORT"
fi
echo "# export: $EXPORT ($(du -h "$EXPORT" | cut -f1))"


timed import.sh first "$BIN" import-wordpress "$EXPORT" --no-download --data-dir "$WORK/site"
FIRST=$SECONDS_TAKEN; FIRST_KB=$PEAK_KB
grep -q "posts      $N ($N created" "$WORK/first.log" || { echo "import.sh: the import did not create $N posts:" >&2; cat "$WORK/first.log" >&2; exit 1; }
timed import.sh again "$BIN" import-wordpress "$EXPORT" --no-download --data-dir "$WORK/site"
AGAIN=$SECONDS_TAKEN; AGAIN_KB=$PEAK_KB
grep -q "posts      $N ($N unchanged" "$WORK/again.log" || { echo "import.sh: the second import changed posts:" >&2; cat "$WORK/again.log" >&2; exit 1; }

rate() { echo "scale=0; $N / $1" | bc; }
printf '%-44s | %14s | %-16s | %s\n' "measure" "figure" "target" ""
printf '%-44s | %14s | %-16s | %s\n' "import-wordpress, $N posts (wall clock)" "$(rate "$FIRST") posts/s" ">= 500 posts/s" \
  "$([ "$(rate "$FIRST")" -ge 500 ] && echo ok || echo MISSING)"
printf '%-44s | %14s | %-16s | %s\n' "  peak memory" "$((FIRST_KB / 1024)) MB" "bounded" ""
printf '%-44s | %14s | %-16s | %s\n' "the same export again (nothing changes)" "$(rate "$AGAIN") posts/s" "" ""
printf '%-44s | %14s | %-16s | %s\n' "  peak memory" "$((AGAIN_KB / 1024)) MB" "" ""
if ! $SMOKE; then
  MARKDOWN="$CACHE/articles-$N"
  [ -d "$MARKDOWN" ] || python3 bench/generate.py "$N" "$MARKDOWN"
  timed import.sh markdown "$BIN" import-markdown "$MARKDOWN" --data-dir "$WORK/markdown"
  REFERENCE=$SECONDS_TAKEN
  printf '%-44s | %14s | %-16s | %s\n' "reference: import-markdown, $N articles" "$(rate "$REFERENCE") articles/s" "" ""
  printf '%-44s | %14s | %-16s | %s\n' "  ratio WordPress / Markdown" "$(echo "scale=2; $REFERENCE / $FIRST" | bc)×" "" ""
fi
