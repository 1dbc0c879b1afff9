# Shared by the bench scripts (sourced, not run): the arguments `N [--smoke]`, the masthead
# binary to measure and a free port. The including script sets `set -euo pipefail` and works
# from the repository's root.

# count_and_smoke SCRIPT ARGS…: sets N (a whole number above 0) and SMOKE (true/false), or prints
# the usage of SCRIPT and exits 2.
count_and_smoke() {
  local script=$1; shift
  N=""
  SMOKE=false
  for arg in "$@"; do
    case "$arg" in
      --smoke) SMOKE=true ;;
      ''|*[!0-9]*) echo "usage: bench/$script N [--smoke]" >&2; exit 2 ;;
      *) N=$arg ;;
    esac
  done
  if [ -z "$N" ] || [ "$N" -le 0 ]; then echo "usage: bench/$script N [--smoke]" >&2; exit 2; fi
}

# masthead_binary SCRIPT: sets BIN to MASTHEAD_BIN, else the release build (.build-release, then
# .build/release), or says how to build one and exits 1.
masthead_binary() {
  local default=.build/release/masthead
  [ -x .build-release/release/masthead ] && default=.build-release/release/masthead
  BIN=${MASTHEAD_BIN:-$default}
  if [ ! -x "$BIN" ]; then
    echo "$1: no masthead binary at $BIN; build it with: swift build -c release --product masthead" >&2
    echo "          (or name another with MASTHEAD_BIN=…)" >&2
    exit 1
  fi
}

# free_port: a TCP port on 127.0.0.1 nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# timed SCRIPT LABEL COMMAND…: runs COMMAND with its output in $WORK/LABEL.log; sets SECONDS_TAKEN
# (wall clock) and PEAK_KB (its maximum resident set); on failure prints the log's end and exits 1.
timed() {
  local script=$1 label=$2; shift 2
  local start end
  sync
  start=$(date +%s.%N)
  if ! /usr/bin/time -f "%M" -o "$WORK/$label.rss" "$@" > "$WORK/$label.log" 2>&1; then
    echo "$script: $label failed:" >&2
    tail -20 "$WORK/$label.log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  SECONDS_TAKEN=$(echo "$end - $start" | bc)
  PEAK_KB=$(tail -1 "$WORK/$label.rss")
}
