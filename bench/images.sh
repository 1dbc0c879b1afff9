#!/usr/bin/env bash
# Benchmark: Masthead's image pipeline against vipsthumbnail and ImageMagick on the same inputs.
#
# Usage: bench/images.sh        (env: RUNS=10 WIDTH=800 Q=80 BUILD=release)
# For each source (a 4000×3000 and a 1600×1067 photo-like JPEG, a 1600×1200 RGBA PNG) and each
# case it prints `case source ms_median bytes ssim`, where SSIM compares the output with the same
# tool's lossless resize (so it measures encoder loss). Then the ratios the targets are about,
# the peak memory of converting a 50-megapixel JPEG, and a cached variant against a cached page
# over HTTP (wrk), all measured in this run.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10}
WIDTH=${WIDTH:-800}
Q=${Q:-80}
BUILD=${BUILD:-release}
PORT=18090
export VIPS_WARNING=0

scripts/install-deps.sh bench
swift build -c "$BUILD" --product masthead >/dev/null 2>&1 || swift build -c "$BUILD" --product masthead
BIN=$(swift build -c "$BUILD" --show-bin-path)/masthead
CONVERT=/usr/bin/convert

WORK=$(mktemp -d /tmp/masthead-images.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
echo "# $(vips --version), $($CONVERT -version | head -1 | cut -d' ' -f2-3), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- deterministic photo-like sources: sky gradient, hills, sun, plasma texture, grain ----------
export MAGICK_THREAD_LIMIT=1
photo() { # W H SEED OUT [extra]
  local W=$1 H=$2 S=$3 OUT=$4; shift 4
  $CONVERT -seed "$S" -size "${W}x${H}" gradient:'#35679f-#efd9b4' \
    -fill '#f5d36b' -draw "circle $((W*3/4)),$((H/5)) $((W*3/4+W/18)),$((H/5))" \
    -fill '#4f6a3b' -draw "polygon 0,$((H*6/10)) $((W/6)),$((H/2)) $((W/3)),$((H*58/100)) $((W/2)),$((H*43/100)) $((W*7/10)),$((H*57/100)) $W,$((H/2)) $W,$H 0,$H" \
    \( -size "${W}x${H}" plasma:'#777-#999' -blur 0x2 \) -compose overlay -composite \
    -blur 0x0.6 -attenuate 0.25 +noise gaussian "$@" "$OUT"
}
mkdir -p "$WORK/src"
photo 4000 3000 11 "$WORK/src/big.jpg" -quality 92 -sampling-factor 2x2
photo 1600 1067 12 "$WORK/src/mid.jpg" -quality 90
photo 1600 1200 13 "$WORK/src/alpha.png" \( +clone -alpha extract -fill black -draw "circle 800,600 800,100" -negate \) -alpha off -compose copy_opacity -composite

# --- SSIM of an output against a lossless reference (luma, 11×11 Gaussian, Wang et al.) ------
ssim() { # output reference
  vips colourspace "$1" "$WORK/a.v" b-w >/dev/null 2>&1 && vips colourspace "$2" "$WORK/b.v" b-w >/dev/null 2>&1 || { echo "n/a"; return; }
  vips extract_band "$WORK/a.v" "$WORK/a1.v" 0 && vips extract_band "$WORK/b.v" "$WORK/b1.v" 0
  vips rawsave "$WORK/a1.v" "$WORK/a.raw" && vips rawsave "$WORK/b1.v" "$WORK/b.raw"
  python3 - "$WORK/a.raw" "$WORK/b.raw" "$(vipsheader -f width "$WORK/a1.v")" "$(vipsheader -f width "$WORK/b1.v")" <<'PY'
import sys
import numpy as np
a_path, b_path, wa, wb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = np.fromfile(a_path, dtype=np.uint8).astype(np.float64)
b = np.fromfile(b_path, dtype=np.uint8).astype(np.float64)
a = a.reshape(-1, wa); b = b.reshape(-1, wb)
h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
a, b = a[:h, :w], b[:h, :w]
g = np.exp(-0.5 * (np.arange(11) - 5) ** 2 / 1.5 ** 2); g /= g.sum()
def blur(x):
    x = np.apply_along_axis(lambda r: np.convolve(r, g, mode="valid"), 1, x)
    return np.apply_along_axis(lambda c: np.convolve(c, g, mode="valid"), 0, x)
c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
ma, mb = blur(a), blur(b)
va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
print(f"{s.mean():.4f}")
PY
}

median_ms() { # command… ; runs it RUNS times after one warm-up, prints the median in ms
  "$@" >/dev/null 2>&1
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

declare -A MS BYTES
row() { # case source ms output reference
  local bytes; bytes=$(stat -c %s "$4")
  MS[$1/$2]=$3; BYTES[$1/$2]=$bytes
  echo "$1 $2 $3 $bytes $(ssim "$4" "$5")"
}

# --- Masthead over HTTP: a server whose media folder holds RUNS+1 copies of each source --------
mkdir -p "$WORK/data/media/bench"
for source in big mid alpha; do
  ext=${source/alpha/png}; ext=${ext/big/jpg}; ext=${ext/mid/jpg}
  for i in $(seq 0 "$RUNS"); do cp "$WORK/src/$source.$ext" "$WORK/data/media/bench/$source-$i.$ext"; done
done
MASTHEAD_LOG_LEVEL=warning MASTHEAD_IMAGE_SECRET=bench-secret-bench-secret-bench-secret \
  "$BIN" serve --data-dir "$WORK/data" --port $PORT --demo-if-empty >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 600); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
# The signed URL of a non-preset variant, made the way the server makes them (HMAC-SHA256).
signed_url() { # variant path
  local sig
  sig=$(printf '%s/%s' "$1" "$2" | openssl dgst -sha256 -hmac bench-secret-bench-secret-bench-secret -binary | head -c 16 | base64 | tr '+/' '-_' | tr -d '=')
  echo "http://127.0.0.1:$PORT/img/$sig/$1/$2"
}

echo "case source ms_median bytes ssim"
for source in big mid alpha; do
  ext=jpg; [ $source = alpha ] && ext=png
  src="$WORK/src/$source.$ext"
  # lossless references from each tool
  vipsthumbnail "$src" -s "${WIDTH}x" -o "$WORK/ref-vips.png" >/dev/null 2>&1
  $CONVERT "$src" -resize "${WIDTH}x" "$WORK/ref-magick.png"
  "$BIN" convert-image "$src" --variant "w$WIDTH" --format png --output "$WORK/ref-masthead.png" >/dev/null

  MS[masthead_webp/$source]=$("$BIN" convert-image "$src" --variant "w$WIDTH-q$Q" --format webp --output "$WORK/m.webp" --repeat "$RUNS" | awk '{print $(NF-1)}')
  row masthead_webp "$source" "${MS[masthead_webp/$source]}" "$WORK/m.webp" "$WORK/ref-masthead.png"
  MS[masthead_avif/$source]=$("$BIN" convert-image "$src" --variant "w$WIDTH-q$Q" --format avif --output "$WORK/m.avif" --repeat "$RUNS" | awk '{print $(NF-1)}')
  row masthead_avif "$source" "${MS[masthead_avif/$source]}" "$WORK/m.avif" "$WORK/ref-masthead.png"
  row vipsthumbnail_webp "$source" "$(median_ms vipsthumbnail "$src" -s "${WIDTH}x" -o "$WORK/v.webp[Q=$Q,strip]")" "$WORK/v.webp" "$WORK/ref-vips.png"
  row vipsthumbnail_avif "$source" "$(median_ms vipsthumbnail "$src" -s "${WIDTH}x" -o "$WORK/v.avif[Q=$Q,strip,effort=0]")" "$WORK/v.avif" "$WORK/ref-vips.png"
  row imagemagick_webp "$source" "$(median_ms $CONVERT "$src" -resize "${WIDTH}x" -quality "$Q" -strip "$WORK/i.webp")" "$WORK/i.webp" "$WORK/ref-magick.png"

  # over HTTP: each copy's first request is a conversion; then one copy again is a cache hit
  times=()
  for i in $(seq 1 "$RUNS"); do
    url=$(signed_url "w$WIDTH-q$Q" "bench/$source-$i.$ext")
    t=$(curl -fs -H 'Accept: image/webp' -o "$WORK/h.webp" -w '%{time_total}' "$url")
    times+=("$t")
  done
  uncached=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}')
  row masthead_http_uncached_webp "$source" "$uncached" "$WORK/h.webp" "$WORK/ref-masthead.png"
  cached=$(for _ in $(seq "$RUNS"); do curl -fs -H 'Accept: image/webp' -o /dev/null -w '%{time_total}\n' "$(signed_url "w$WIDTH-q$Q" "bench/$source-1.$ext")"; done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}')
  row masthead_http_cached_webp "$source" "$cached" "$WORK/h.webp" "$WORK/ref-masthead.png"
done

echo
echo "# ratios (targets: masthead/vipsthumbnail <= 1.2 at <= bytes; imagemagick/masthead >= 2 on the 4000-px photo; avif/webp <= 1.5)"
awk -v m="${MS[masthead_webp/big]}" -v v="${MS[vipsthumbnail_webp/big]}" -v i="${MS[imagemagick_webp/big]}" -v a="${MS[masthead_avif/big]}" \
    -v mb="${BYTES[masthead_webp/big]}" -v vb="${BYTES[vipsthumbnail_webp/big]}" 'BEGIN {
  printf "masthead/vipsthumbnail time (4000px webp) %.2f, bytes %.2f\n", m / v, mb / vb
  printf "imagemagick/masthead time (4000px webp) %.2f\n", i / m
  printf "masthead avif/webp time (4000px) %.2f\n", a / m }'
for source in mid alpha; do
  awk -v m="${MS[masthead_webp/$source]}" -v v="${MS[vipsthumbnail_webp/$source]}" -v mb="${BYTES[masthead_webp/$source]}" -v vb="${BYTES[vipsthumbnail_webp/$source]}" -v s=$source \
    'BEGIN { printf "masthead/vipsthumbnail time (%s webp) %.2f, bytes %.2f\n", s, m / v, mb / vb }'
done

# --- peak memory converting a 50-megapixel JPEG --------------------------------------------------
vips resize "$WORK/src/big.jpg" "$WORK/src/huge.jpg[Q=90]" 2.04 >/dev/null
echo "# 50 MP source: $(vipsheader "$WORK/src/huge.jpg" | cut -d: -f2 | cut -d, -f1)"
peak=$(/usr/bin/time -f '%M' "$BIN" convert-image "$WORK/src/huge.jpg" --variant "w$WIDTH" --format webp --output "$WORK/huge.webp" 2>&1 >/dev/null | tail -1)
echo "peak_rss_mb_50mp_to_webp $((peak / 1024))"

# --- a cached variant against a cached page, over HTTP -----------------------------------------
command -v wrk >/dev/null || exit 0
variant_url="http://127.0.0.1:$PORT/img/-/w$WIDTH/bench/mid-0.jpg"
curl -fs -H 'Accept: image/webp' -o /dev/null "$variant_url"
page_url="http://127.0.0.1:$PORT/world/river-towns-share-flood-warnings/"
curl -fs -o /dev/null "$page_url"
rate() { wrk -t2 -c64 -d5s -H "Accept: $2" "$1" | awk '/Requests\/sec/ {print $2}'; }
v=$(rate "$variant_url" "image/webp"); p=$(rate "$page_url" "text/html")
echo "cached_variant_req_per_s $v"
echo "cached_page_req_per_s $p"
awk -v v="$v" -v p="$p" 'BEGIN { printf "ratio cached variant/cached page %.2f\n", v / p }'
