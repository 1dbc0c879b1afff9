#!/usr/bin/env bash
# Installs Masthead under a prefix: the binary in PREFIX/bin, and in PREFIX/share/masthead the
# themes, the newsroom's templates and assets (Admin) and the demo newsroom, where the binary
# looks for them when they are not in the current folder. `make install PREFIX=…` runs it with
# the release build.
#   scripts/install.sh PREFIX [BINARY]     (DESTDIR, when set, is put before PREFIX, for packaging)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:?usage: scripts/install.sh PREFIX [BINARY]}
BINARY=${2:-.build-release/release/masthead}
case "$PREFIX" in /*) ;; *) echo "install: PREFIX must be an absolute path, not '$PREFIX'" >&2; exit 2 ;; esac
[ -x "$BINARY" ] || { echo "install: no masthead binary at $BINARY (make install builds one)" >&2; exit 1; }
ROOT="${DESTDIR:-}$PREFIX"
SHARE="$ROOT/share/masthead"
install -d "$ROOT/bin" "$SHARE"
install -m 755 "$BINARY" "$ROOT/bin/masthead"
# Replace each shipped folder whole, so files removed from a theme do not linger.
for folder in Themes Admin Demo; do
  rm -rf "$SHARE/$folder.new"
  cp -R "$folder" "$SHARE/$folder.new"
  rm -rf "$SHARE/$folder"
  mv "$SHARE/$folder.new" "$SHARE/$folder"
done
chmod -R a+rX "$SHARE"
echo "Installed $ROOT/bin/masthead and $SHARE/{Themes,Admin,Demo}"
