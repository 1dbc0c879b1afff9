#!/usr/bin/env bash
# Installs the Debian packages Masthead needs that are missing (idempotent; needs root or sudo).
#   scripts/install-deps.sh          build and run: libvips, cmark-gfm, SQLite, zlib
#   scripts/install-deps.sh test     also what the site tests use: Chromium, chromedriver, Java,
#                                    ImageMagick and exiftool (to make test photos), nginx, sqlite3, rsync,
#                                    PostgreSQL (the tests run again on it)
#   scripts/install-deps.sh bench    also what the benchmarks use: nginx, wrk, vipsthumbnail, ImageMagick
set -euo pipefail

packages=(pkg-config libvips-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libsqlite3-dev zlib1g-dev libxml2-dev)
for extra in "$@"; do
  case "$extra" in
    test) packages+=(chromium chromium-driver fonts-dejavu-core imagemagick libimage-exiftool-perl nginx sqlite3 rsync postgresql)
          command -v java >/dev/null 2>&1 || packages+=(default-jre-headless) ;;
    bench) packages+=(nginx wrk libvips-tools imagemagick python3-numpy bc time hugo) ;;
    *) echo "install-deps: unknown group '$extra' (use: test, bench)" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
