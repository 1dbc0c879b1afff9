"""Images through the real server: real photographs with GPS and EXIF orientation go in,
resized variants come out upright, in the format the browser accepts, with no metadata."""
import json
import struct
import zlib
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHOTO_CACHE = ROOT / ".cache" / "photos"
# Real photographs shipped inside scikit-image's wheel (public-domain and CC0 pictures).
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "motorcycle_left.png", "hubble_deep_field.jpg"]


@pytest.fixture(scope="module")
def photos():
    if not all((PHOTO_CACHE / name).exists() for name in PHOTOS):
        PHOTO_CACHE.mkdir(parents=True, exist_ok=True)
        download = PHOTO_CACHE / "wheel"
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                        "-d", str(download), "scikit-image==0.26.0"], check=True)
        wheel = next(download.glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in PHOTOS:
                (PHOTO_CACHE / name).write_bytes(archive.read(f"skimage/data/{name}"))
        shutil.rmtree(download)
    return {name: PHOTO_CACHE / name for name in PHOTOS}


def png_claiming(width, height):
    """PNG bytes whose header claims width × height pixels while holding almost no data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def exif(path):
    result = subprocess.run(["exiftool", "-json", "-a", "-G1", str(path)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)[0]


def fetch(site, path, accept=None):
    request = urllib.request.Request(site.base + path, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture(scope="module")
def geotagged(site, photos, tmp_path_factory):
    """A JPEG of a real photograph, rotated by an EXIF tag and carrying GPS and camera data, imported."""
    folder = tmp_path_factory.mktemp("geotagged")
    jpeg = folder / "astronaut.jpg"
    subprocess.run(["convert", str(photos["astronaut.png"]), "-crop", "512x384+0+0", "+repage", "-quality", "92", str(jpeg)], check=True)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-Orientation#=6", "-GPSLatitude=51.5007", "-GPSLatitudeRef=N",
                    "-GPSLongitude=0.1246", "-GPSLongitudeRef=W", "-Make=Masthead Test Camera", "-Model=TC-1",
                    "-Artist=A Source", "-XMP-dc:Creator=A Source", str(jpeg)], check=True)
    tags = exif(jpeg)
    assert "GPS:GPSLatitude" in tags and tags["IFD0:Orientation"].startswith("Rotate 90")
    (folder / "story.md").write_text(
        "---\ntitle: Astronaut portrait restored\nsection: Science\nimage: astronaut.jpg\nimage_alt: An astronaut in a white suit\n---\nText.\n")
    result = site.cli("import-markdown", str(folder / "story.md"))
    assert result.returncode == 0, result.stderr
    return "astronaut-portrait-restored/astronaut.jpg"


@pytest.mark.parametrize("accept,media_type", [
    ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "image/avif"),
    ("image/webp,image/*,*/*;q=0.8", "image/webp"),
    ("image/png,image/*;q=0.8,*/*;q=0.5", "image/jpeg"),
])
def test_variants_come_upright_without_gps_in_the_accepted_format(site, geotagged, accept, media_type, tmp_path):
    status, headers, body = fetch(site, f"/img/-/w320/{geotagged}", accept)
    assert status == 200
    assert headers["Content-Type"] == media_type
    assert headers["Vary"] == "Accept"
    assert "immutable" in headers["Cache-Control"]
    out = tmp_path / "variant"
    out.write_bytes(body)
    tags = exif(out)
    assert not [k for k in tags if "GPS" in k], "GPS survived"
    for revealing in ("IFD0:Make", "IFD0:Model", "IFD0:Artist", "XMP-dc:Creator"):
        assert revealing not in tags
    # 512×384 rotated by its EXIF tag is 384×512 upright; 320 wide keeps that shape.
    size = subprocess.run(["identify", "-format", "%w %h", f"{out}[0]"], capture_output=True, text=True, check=True).stdout.split()
    assert (int(size[0]), int(size[1])) == (320, 427)
    assert tags.get("IFD0:Orientation", "Horizontal (normal)") == "Horizontal (normal)"


def test_real_photographs_resize_and_crop_to_exact_sizes(site, photos, tmp_path):
    folder = tmp_path / "gallery"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(photos[name], folder / name)
        slug = Path(name).stem.replace("_", "-")
        (folder / f"{slug}.md").write_text(
            f"---\ntitle: Gallery {slug}\nsection: Science\nimage: {name}\nimage_alt: A photograph\n---\nText.\n")
    result = site.cli("import-markdown", str(folder))
    assert result.returncode == 0, result.stderr
    for name in PHOTOS:
        slug = "gallery-" + Path(name).stem.replace("_", "-")
        status, headers, body = fetch(site, f"/img/-/w320/{slug}/{name.replace('_', '-')}", "image/webp")
        assert status == 200 and headers["Content-Type"] == "image/webp", name
        out = tmp_path / f"{slug}.webp"
        out.write_bytes(body)
        width = int(subprocess.run(["identify", "-format", "%w", str(out)], capture_output=True, text=True, check=True).stdout)
        assert width == 320, name
    # The article page offers a srcset of resized variants for the browser to choose from.
    _, _, html = site.get("/science/gallery-coffee/")
    assert 'srcset="/img/-/w320/gallery-coffee/coffee.png 320w' in html


def test_bad_uploads_are_refused_with_a_clear_error_and_nothing_stored(site, photos, tmp_path):
    cases = {}
    svg = tmp_path / "svg-logo.jpg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>')
    cases["svg-logo.jpg"] = "not a JPEG, PNG, WebP, AVIF or GIF"
    renamed = tmp_path / "renamed.gif"
    shutil.copy(photos["hubble_deep_field.jpg"], renamed)
    cases["renamed.gif"] = "holds a JPEG"
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(photos["hubble_deep_field.jpg"].read_bytes()[:20000])
    cases["truncated.jpg"] = "damaged"
    animated = tmp_path / "animated.gif"
    subprocess.run(["convert", "-size", "8x8", *(["xc:red", "xc:blue"] * 110), str(animated)], check=True)
    cases["animated.gif"] = "frames"
    bomb = tmp_path / "bomb.png"  # a decompression bomb: the header claims 20,000 × 20,000 pixels
    bomb.write_bytes(png_claiming(20000, 20000))
    cases["bomb.png"] = "megapixels"
    media_before = sorted(p.name for p in (site.data / "media").rglob("*"))
    for name, words in cases.items():
        story = tmp_path / f"story-{name}.md"
        story.write_text(f"---\ntitle: Bad image {name}\nsection: World\nimage: {name}\n---\nText.\n")
        result = site.cli("import-markdown", str(story))
        assert result.returncode != 0, name
        assert f"story-{name}.md:4: field 'image'" in result.stderr, result.stderr
        assert words in result.stderr, result.stderr
    assert sorted(p.name for p in (site.data / "media").rglob("*")) == media_before
