"""What the server writes about its visitors, and what photos say about theirs, as docs/security.md
promises: the tip line leaves no log line, no text and no address of its source; refusals are
logged with their status; no log line holds an IP address, a query string, a password, a key, a
token from an address or SQL, even at debug level; images imported from Markdown or uploaded to the
media library lose their GPS position, comments and text chunks, and a photo rotated by its EXIF tag
comes out upright; `masthead tips open` shows a source's control characters instead of obeying them.

The log tests run on a site of their own, logging at debug level (more than an operator would),
where every request comes from the distinctive loopback address 127.45.6.7; the image tests use
the shared site."""
import json
import re
import shutil
import struct
import subprocess
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import pytest
import requests

from conftest import RunningSite, add_user, csrf_of, jpeg_with_gps, session_for, write_png
from test_faults import SourceAddressAdapter

CLIENT_ADDRESS = "127.45.6.7"
ADMIN = "logs-admin@news.example"
# Distinctive, so that finding it anywhere in the log means it was logged.
ADMIN_PASSWORD = "quartz lantern " + uuid.uuid4().hex[:12]
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|PRAGMA|BEGIN|COMMIT)\b")


def client():
    """A requests session connecting from CLIENT_ADDRESS, an address of its own to look for in the log."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(CLIENT_ADDRESS))
    return session


class DebugSite(RunningSite):
    """A site that logs at debug level."""

    def env(self):
        env = super().env()
        env["MASTHEAD_LOG_LEVEL"] = "debug"
        return env

    def settled_log(self):
        """The log once every request answered so far has its line: a /healthz sent last shows up."""
        def count():
            return self.log_path.read_text(errors="replace").count("masthead.http.path=/healthz ")
        before = count()
        assert client().get(self.base + "/healthz").status_code == 200
        deadline = time.time() + 5
        while count() <= before and time.time() < deadline:
            time.sleep(0.05)
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def logged_site():
    directory = Path(tempfile.mkdtemp(prefix="masthead-logs-"))
    site = DebugSite(directory)
    site.key_file = directory / "tip-key.txt"
    made = site.cli("tips", "keygen", "--out", str(site.key_file))
    assert made.returncode == 0, made.stderr
    site.start()
    add_user(site, ADMIN, "Lou Ogs", "admin", password=ADMIN_PASSWORD)
    made = site.cli("content-key", "add", "Log tests")
    assert made.returncode == 0, made.stderr
    site.content_key = re.search(r"\b[0-9a-f]{26}\b", made.stdout).group(0)
    yield site
    assert site.stop() == 0, site.log_path.read_text(errors="replace")[-3000:]
    shutil.rmtree(directory, ignore_errors=True)


def sign_in(site, email, password, session=None):
    """Signs in through the form from CLIENT_ADDRESS, as a browser would."""
    session = session or client()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(site.base + "/admin/login/").text).group(1)
    response = session.post(site.base + "/admin/login/", data={"csrf": token, "email": email, "password": password}, allow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return session


def request_lines(log):
    """The access log's lines, each as {method, path, status, ms, line}."""
    lines = []
    for line in log.splitlines():
        if "[MastheadApp] request" in line:
            fields = dict(re.findall(r"masthead\.http\.(\w+)=(\S*)", line))
            fields["line"] = line
            lines.append(fields)
    return lines


def form_token(page):
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def written_since(log, start):
    """Lines the log gained after character `start`, without the /healthz lines of `settled_log` and
    the content watcher's, which empties the page cache on its own schedule (a tip changes no content)."""
    return [line for line in log[start:].splitlines()
            if line.strip() and "masthead.http.path=/healthz " not in line and not line.endswith("[MastheadApp] content changed")]


def preview_link(site):
    """The path of a private preview link to a new draft, made in the newsroom."""
    newsroom = sign_in(site, ADMIN, ADMIN_PASSWORD)
    new = newsroom.get(site.base + "/admin/articles/new/").text
    created = newsroom.post(site.base + "/admin/articles/new/", data={
        "csrf": re.search(r'name="csrf" value="([^"]+)"', new).group(1), "title": "Embargoed harbour report " + uuid.uuid4().hex[:8],
        "section": re.findall(r'<option value="(\d+)"', new)[0], "body": "Not yet.", "action": "save", "image_media": "none"},
        allow_redirects=False)
    assert created.status_code == 303, created.text[:500]
    editor = created.headers["Location"].split("?")[0]
    csrf = csrf_of(newsroom, site.base + editor)
    linked = newsroom.post(site.base + editor + "preview-link/", data={"csrf": csrf})
    assert linked.status_code == 200, linked.text[:500]
    link = re.search(r'Private preview \(valid for 7 days\): <a href="([^"]+)"', linked.text).group(1)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1] if "://" in link else link
    assert path.startswith("/preview/"), path
    return path


def reset_link(site):
    """The path of a password reset link for a new account, made with the command-line tool."""
    email = add_user(site, f"reset-{uuid.uuid4().hex[:8]}@news.example", "Reese Et", "author")
    made = site.cli("user", "reset-password", "--email", email, "--link")
    assert made.returncode == 0, made.stderr
    return re.search(r"/admin/set-password/[^/\s]+/", made.stdout).group(0)


def token_of(path):
    return path.rstrip("/").rsplit("/", 1)[-1]


# The tip line, and readers' addresses


def test_the_tip_line_leaves_no_log_line_and_nothing_of_the_tip_or_its_source(logged_site):
    site = logged_site
    marker = "ledger" + uuid.uuid4().hex[:12]
    start = len(site.settled_log())
    source = client()
    tip_token = form_token(source.get(site.base + "/tips/").text)
    return_token = form_token(source.get(site.base + "/tips/return/").text)
    time.sleep(3.1)  # a form sent sooner than 3 seconds after it was served waits that long
    sent = source.post(site.base + "/tips/", data={"token": tip_token, "message": f"The harbour ledger was forged. {marker}",
                                                   "contact": f"signal {marker}-contact"})
    assert sent.status_code == 200, sent.text[:1000]
    receipt = re.search(r'id="receipt">([^<]+)<', sent.text).group(1).strip()
    back = source.post(site.base + "/tips/return/", data={"token": return_token, "receipt": receipt})
    assert back.status_code == 200 and "No conversation matches" not in back.text
    again = source.post(site.base + "/tips/", data={"token": tip_token, "message": f"Again {marker}"})
    assert again.status_code == 422, "a form can be sent once"
    assert source.get(site.base + f"/tips/{marker}/").status_code == 404

    log = site.settled_log()
    written = written_since(log, start)
    assert written == [], "the tip line wrote to the log:\n" + "\n".join(written)
    assert marker not in log, "the tip's text or contact details are in the log"
    assert receipt not in log and receipt.replace(" ", "-") not in log, "the source's receipt is in the log"
    assert CLIENT_ADDRESS not in log, "the source's address is in the log"


def test_request_lines_hold_no_address_user_agent_referrer_or_cookie(logged_site):
    site = logged_site
    marker = "visitor" + uuid.uuid4().hex[:12]
    reader = client()
    page = reader.get(site.base + f"/search/?q={marker}", headers={
        "User-Agent": f"Mozilla/5.0 (Agent-{marker})", "Referer": f"https://referrer.example/{marker}-page",
        "Cookie": f"tracking={marker}-cookie", "X-Forwarded-For": "203.0.113.45", "Forwarded": "for=198.51.100.17"})
    assert page.status_code == 200
    log = site.settled_log()
    lines = [line for line in request_lines(log) if line.get("path") == "/search/"]
    assert lines, "the search request has no line in the access log"
    for line in lines:
        assert set(line) == {"method", "path", "status", "ms", "line"}, f"a request line holds more than it should: {line['line']}"
        assert "[address]" not in line["line"], f"a request line names the client (redacted or not): {line['line']}"
    assert marker not in log, "the query string, user agent, referrer or a cookie is in the log"
    assert CLIENT_ADDRESS not in log and "203.0.113.45" not in log and "198.51.100.17" not in log
    found = IPV4.findall(log)
    assert found == [], f"IP addresses in the log: {sorted(set(found))}"


def test_a_tip_with_a_photo_that_libvips_warns_about_leaves_no_time_stamped_line(logged_site, tmp_path):
    """libvips prints its warnings straight to standard error, with the time to the millisecond:
    an AVIF from a phone (with an nclx colour box) or a damaged JPEG would date the tip."""
    site = logged_site
    write_png(tmp_path / "photo.png", 320, 200)
    subprocess.run(["convert", str(tmp_path / "photo.png"), str(tmp_path / "photo.avif")], check=True)
    subprocess.run(["convert", str(tmp_path / "photo.png"), str(tmp_path / "photo.jpg")], check=True)
    jpeg = (tmp_path / "photo.jpg").read_bytes()
    cases = [("photo.avif", (tmp_path / "photo.avif").read_bytes(), "image/avif", 200),
             ("damaged.jpg", jpeg[:len(jpeg) * 2 // 3], "image/jpeg", 422)]
    source = client()
    tokens = [form_token(source.get(site.base + "/tips/").text) for _ in cases]
    time.sleep(3.1)
    found = {}
    for token, (name, data, media_type, status) in zip(tokens, cases):
        start = len(site.settled_log())
        sent = source.post(site.base + "/tips/", data={"token": token, "message": f"A photo: {name}"},
                           files=[("files", (name, data, media_type))])
        assert sent.status_code == status, sent.text[:1000]
        # A failed tip-line request may leave one line with the kind of error, nothing more.
        written = [line for line in written_since(site.settled_log(), start)
                   if not re.search(r"masthead\.error\.type=\S+ \[MastheadApp\] a tip line request failed$", line)]
        if written:
            found[name] = written
    assert found == {}, f"a tip with an image left lines with the time it was sent: {found}"


@pytest.mark.parametrize("kind", ["tip line", "tip return page", "preview link", "password reset link"])
def test_a_doubled_slash_does_not_put_the_tip_line_or_a_secret_token_in_the_log(logged_site, kind):
    """A link pasted as https://news.example//tips/ is redirected to /tips/: neither may be logged."""
    site = logged_site
    path = {"tip line": lambda: "/tips/", "tip return page": lambda: "/tips/return/",
            "preview link": lambda: preview_link(site), "password reset link": lambda: reset_link(site)}[kind]()
    start = len(site.settled_log())
    followed = client().get(site.base + "/" + path)
    assert followed.status_code == 200 and followed.url == site.base + path
    written = "\n".join(written_since(site.settled_log(), start))
    if kind.startswith("tip"):
        assert "tips" not in written, f"the tip line is in the log:\n{written}"
    else:
        assert token_of(path) not in written, f"the {kind}'s token is in the log:\n{written}"


# Refusals


REFUSALS = [
    ("GET", "/no-such-page-{u}/", 404),
    ("GET", "/world/no-such-story-{u}/", 404),
    ("GET", "/media/no-such-folder-{u}/", 404),
    ("GET", "/api/content/posts/slug/no-such-story-{u}/?key={content_key}", 404),
    ("GET", "/api/content/posts/?filter=slug:{u}", 401),
    ("GET", "/api/admin/articles/?limit={n}", 401),
    ("POST", "/admin/articles/new/", 403),
    ("POST", "/admin/media/", 403),
    ("GET", "/img/not-a-signature/w100-h100-cover/{u}/photo.jpg", 403),
    ("GET", "/a%2F{u}/", 400),
]


@pytest.mark.parametrize("method,address,status", REFUSALS, ids=[f"{m} {a.split('?')[0]} {s}" for m, a, s in REFUSALS])
def test_refusals_are_in_the_access_log_with_their_status(logged_site, method, address, status):
    site = logged_site
    unique = uuid.uuid4().hex[:10]
    address = address.format(u=unique, n=len(unique), content_key=site.content_key)
    path = address.split("?")[0]

    def matching(log):
        return [line for line in request_lines(log) if line.get("method") == method and line.get("path") == path]

    before = len(matching(site.settled_log()))
    response = client().request(method, site.base + address, data={"csrf": "forged"} if method == "POST" else None, allow_redirects=False)
    assert response.status_code == status, response.text[:300]
    after = matching(site.settled_log())
    assert len(after) == before + 1, f"{method} {path} answered {status} but left no line in the access log"
    assert after[-1]["status"] == str(status), after[-1]["line"]


# Secrets, SQL and query strings


def test_debug_logging_holds_no_sql_password_or_session_token(logged_site):
    site = logged_site
    marker = "zephyr" + uuid.uuid4().hex[:10]
    start = len(site.settled_log())
    newsroom = sign_in(site, ADMIN, ADMIN_PASSWORD)
    cookies = [cookie.value for cookie in newsroom.cookies]
    assert cookies, "signing in set no cookie"
    csrf = csrf_of(newsroom, site.base + "/admin/articles/new/")
    sections = re.findall(r'<option value="(\d+)"', newsroom.get(site.base + "/admin/articles/new/").text)
    saved = newsroom.post(site.base + "/admin/articles/new/", data={
        "csrf": csrf, "title": f"Tidal survey {marker}", "section": sections[0], "body": f"Draft text {marker}.",
        "action": "save", "image_media": "none"}, allow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    assert newsroom.get(site.base + f"/admin/articles/?q={marker}").status_code == 200
    assert newsroom.get(site.base + f"/admin/media/?q={marker}").status_code == 200
    assert client().get(site.base + f"/search/?q={marker}").status_code == 200
    assert client().get(site.base + f"/api/content/search/?q={marker}&key={site.content_key}").status_code == 200

    log = site.settled_log()
    during = log[start:]
    assert re.search(r" debug ", log), "the site does not log at debug level: MASTHEAD_LOG_LEVEL was not applied"
    assert {"/admin/login/", "/admin/articles/new/", "/search/"} <= {line["path"] for line in request_lines(during)}
    statements = [line for line in log.splitlines() if SQL.search(line)]
    assert statements == [], "SQL is logged:\n" + "\n".join(statements[:10])
    assert ADMIN_PASSWORD not in log, "the password is in the log"
    assert not re.search(r"\$2[aby]\$\d\d\$", log), "a password hash is in the log"
    for value in cookies + [csrf]:
        assert value not in log, "the session's cookie or CSRF token is in the log"
    assert marker not in log, "words written or searched for are in the log"


def test_keys_tokens_wrong_passwords_and_query_strings_stay_out_of_the_log(logged_site):
    site = logged_site
    marker = "cobalt" + uuid.uuid4().hex[:10]
    secrets = {}

    # A wrong password, then an Admin API key made (with the password) and used, and a wrong key.
    wrong = client()
    token = re.search(r'name="csrf" value="([^"]+)"', wrong.get(site.base + "/admin/login/").text).group(1)
    secrets["a wrong password"] = f"not the password {marker}"
    refused = wrong.post(site.base + "/admin/login/", data={"csrf": token, "email": ADMIN, "password": secrets["a wrong password"]},
                         allow_redirects=False)
    assert refused.status_code != 303
    newsroom = sign_in(site, ADMIN, ADMIN_PASSWORD)
    made = newsroom.post(site.base + "/admin/account/keys/", data={
        "csrf": csrf_of(newsroom, site.base + "/admin/account/"), "name": "Log tests", "password": ADMIN_PASSWORD})
    secrets["the Admin API key"] = re.search(r'aria-label="New API key" value="([^"]+)"', made.text).group(1)
    api = client()
    api.headers["Authorization"] = f"Bearer {secrets['the Admin API key']}"
    created = api.post(site.base + "/api/admin/articles/", json={"title": "Embargoed budget leak", "section": "world", "body": "Not yet."})
    assert created.status_code == 201, created.text[:500]
    secrets["a wrong Admin API key"] = "mh_e_" + marker + "wrongkey"
    wrong_key = {"Authorization": f"Bearer {secrets['a wrong Admin API key']}"}
    assert client().get(site.base + "/api/admin/articles/", headers=wrong_key).status_code == 401

    # The Content API key and words in query strings.
    secrets["the Content API key"] = site.content_key
    secrets["search words"] = f"{marker}query"
    assert client().get(site.base + f"/api/content/posts/?key={site.content_key}&filter=tag:{marker}-tag&limit=2").status_code == 200
    assert client().get(site.base + f"/search/?q={secrets['search words']}").status_code == 200
    assert client().get(site.base + f"/?utm_source={marker}-campaign&ref={marker}-ref").status_code == 200

    # Tokens in addresses: a private preview link and a password reset link, each opened.
    for name, path in (("the preview link's token", preview_link(site)), ("the password reset link's token", reset_link(site))):
        secrets[name] = token_of(path)
        assert client().get(site.base + path).status_code == 200, path

    log = site.settled_log()
    paths = {line["path"] for line in request_lines(log)}
    assert {"/admin/account/keys/", "/api/admin/articles/", "/api/content/posts/", "/search/", "/"} <= paths
    assert any(path.startswith("/preview/") for path in paths), "the preview link's request has no line at all"
    assert any(path.startswith("/admin/set-password/") for path in paths), "the reset link's request has no line at all"
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert leaked == [], f"in the log: {', '.join(leaked)}"
    assert marker not in log, "a query string is in the log"


# Images lose their metadata


def jpeg_segments(data):
    """(marker, payload) of each segment of a JPEG up to its end, and the bytes after its end."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segments, position = [], 2
    while position < len(data):
        assert data[position] == 0xFF, f"JPEG segment expected at byte {position}"
        while data[position + 1] == 0xFF:
            position += 1
        marker = data[position + 1]
        if marker == 0xD9:
            return segments, data[position + 2:]
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        segments.append((marker, data[position + 4:position + 2 + length]))
        position += 2 + length
        if marker == 0xDA:
            while not (data[position] == 0xFF and data[position + 1] != 0x00 and not 0xD0 <= data[position + 1] <= 0xD7):
                position += 1
    raise AssertionError("JPEG has no end marker")


def png_chunks(data):
    """(type, payload) of each chunk of a PNG up to IEND, and the bytes after IEND."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, position = [], 8
    while position + 12 <= len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8].decode("latin-1")
        chunks.append((kind, data[position + 8:position + 8 + length]))
        position += 12 + length
        if kind == "IEND":
            return chunks, data[position:]
    raise AssertionError("PNG has no IEND chunk")


def exiftool_tags(data):
    """exiftool's reading of an image's bytes: {"Group:Tag": value}."""
    with tempfile.NamedTemporaryFile(suffix=".img") as file:
        file.write(data)
        file.flush()
        result = subprocess.run(["exiftool", "-json", "-a", "-G1", file.name], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)[0]


REVEALING_GROUPS = ("GPS", "XMP", "IPTC", "IFD0", "IFD1", "ExifIFD", "InteropIFD", "MakerNotes", "Photoshop")


def metadata_in(data):
    """What in an image's bytes could tell where, when, how or by whom it was made: read from the
    bytes for JPEG and PNG (every segment and chunk, and anything after the picture's end), and by
    exiftool for every format."""
    found = []
    if data[:2] == b"\xff\xd8":
        segments, trailer = jpeg_segments(data)
        for marker, payload in segments:
            if marker == 0xFE:
                found.append(f"a comment (COM) {payload[:40]!r}")
            elif marker == 0xE1:
                found.append(f"an APP1 segment (EXIF or XMP) {payload[:12]!r}")
            elif marker == 0xED:
                found.append("an IPTC (APP13) segment")
            elif 0xE0 <= marker <= 0xEF and not (marker == 0xE0 and payload.startswith(b"JFIF\0")
                                                  or marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0")
                                                  or marker == 0xEE and payload.startswith(b"Adobe")):
                found.append(f"an APP{marker - 0xE0} segment {payload[:12]!r}")
        if trailer.strip(b"\0"):
            found.append(f"{len(trailer)} bytes after the end of the picture")
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        chunks, trailer = png_chunks(data)
        found += [f"a {kind} chunk {payload[:30]!r}" for kind, payload in chunks if kind in ("tEXt", "iTXt", "zTXt", "eXIf", "tIME")]
        if trailer:
            found.append(f"{len(trailer)} bytes after IEND")
    for revealing in (b"Informant Camera", b"Leaky Optics", b"secret-"):
        if revealing in data:
            found.append(f"the bytes {revealing!r}")
    for key, value in exiftool_tags(data).items():
        group, _, tag = key.partition(":")
        if group.startswith(REVEALING_GROUPS) or tag == "Comment":
            found.append(f"exiftool reads {key} = {value!r}")
    return found


def size_of(data):
    """(width, height) from a JPEG's frame header or a PNG's IHDR (exiftool's reading otherwise)."""
    if data[:2] == b"\xff\xd8":
        for marker, payload in jpeg_segments(data)[0]:
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", payload[1:5])
                return width, height
        raise AssertionError("JPEG has no frame header")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        width, height = struct.unpack(">II", png_chunks(data)[0][0][1][:8])
        return width, height
    width, height = exiftool_tags(data)["Composite:ImageSize"].split("x")
    return int(width), int(height)


def exiftool(path, *tags):
    subprocess.run(["exiftool", "-q", "-overwrite_original", *tags, str(path)], check=True)


def revealing_jpeg(path, comment_only=False):
    """A JPEG with a comment and (unless comment_only) GPS, camera, XMP and IPTC data and a hidden trailer."""
    if comment_only:
        png = path.with_suffix(".png")
        write_png(png, 320, 200)
        subprocess.run(["convert", str(png), "-strip", str(path)], check=True)
        png.unlink()
        exiftool(path, "-Comment=secret-comment: taken from the council car park")
        return path
    jpeg_with_gps(path)
    path.with_suffix(".png").unlink()
    exiftool(path, "-Comment=secret-comment: taken from the council car park", "-Make=Leaky Optics",
             "-XMP-dc:Creator=secret-creator", "-IPTC:By-line=secret-byline")
    path.write_bytes(path.read_bytes() + b"secret-trailer: a second picture could hide here")
    assert len(metadata_in(path.read_bytes())) >= 4
    return path


def revealing_png(path):
    """A PNG with tEXt, iTXt (XMP), eXIf (GPS), zTXt and tIME chunks, and bytes after its end."""
    write_png(path, 240, 160)
    exiftool(path, "-PNG:Comment=secret-png-comment", "-XMP-dc:Creator=secret-creator", "-GPSLatitude=51.5072",
             "-GPSLatitudeRef=N", "-Model=Informant Camera")

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    data = path.read_bytes()
    after_ihdr = 8 + 12 + 13
    extra = (chunk(b"zTXt", b"Author\0\0" + zlib.compress(b"secret-ztxt author"))
             + chunk(b"tIME", struct.pack(">HBBBBB", 2026, 11, 28, 6, 41, 9)))
    path.write_bytes(data[:after_ihdr] + extra + data[after_ihdr:] + b"secret-after-iend")
    kinds = {kind for kind, _ in png_chunks(path.read_bytes())[0]}
    assert {"tEXt", "iTXt", "eXIf", "zTXt", "tIME"} <= kinds, kinds
    return path


def rotated_jpeg(path):
    """A 320×200 JPEG whose EXIF says to turn it a quarter clockwise (Orientation 6), with GPS and a comment."""
    png = path.with_suffix(".png")
    write_png(png, 320, 200)
    subprocess.run(["convert", str(png), str(path)], check=True)
    png.unlink()
    exiftool(path, "-Orientation#=6", "-GPSLatitude=51.5072", "-GPSLatitudeRef=N", "-GPSLongitude=0.1276",
             "-GPSLongitudeRef=W", "-Model=Informant Camera", "-Comment=secret-comment: rotated")
    assert size_of(path.read_bytes()) == (320, 200)
    return path


def served(site, url):
    response = requests.get(site.base + url, timeout=30)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response.content


def test_import_markdown_publishes_images_without_metadata_and_upright(site, tmp_path):
    slug = "logs-metadata-" + uuid.uuid4().hex[:8]
    folder = tmp_path / "story"
    folder.mkdir()
    revealing_jpeg(folder / "featured.jpg")
    revealing_png(folder / "diagram.png")
    rotated_jpeg(folder / "upright.jpg")
    (folder / "story.md").write_text(
        f"---\ntitle: Where the photos came from\nslug: {slug}\nsection: World\nimage: featured.jpg\n"
        f"image_alt: The council car park\n---\nA diagram:\n\n![A diagram of the harbour](diagram.png)\n\n"
        f"And a photo taken sideways:\n\n![The harbour wall](upright.jpg)\n")
    result = site.cli("import-markdown", str(folder / "story.md"))
    assert result.returncode == 0, result.stderr

    stored = {path.name: path.read_bytes() for path in (site.data / "media" / slug).iterdir()}
    assert sorted(stored) == ["diagram.png", "featured.jpg", "upright.jpg"]
    for name, data in stored.items():
        assert served(site, f"/media/{slug}/{name}") == data, f"/media/{slug}/{name} is not the stored file"
    problems = {name: metadata_in(data) for name, data in stored.items() if metadata_in(data)}
    assert problems == {}, f"public images keep metadata: {problems}"
    assert size_of(stored["featured.jpg"]) == (320, 200) and size_of(stored["diagram.png"]) == (240, 160)
    assert size_of(stored["upright.jpg"]) == (200, 320), "the photo rotated by its EXIF tag is not upright"
    page = requests.get(site.base + f"/world/{slug}/").text
    assert 'width="200" height="320"' in page, "the page does not give the upright photo's size"


@pytest.fixture(scope="module")
def media_desk(site):
    email = add_user(site, "logs-media@news.example", "Mae Dia", "editor")
    return session_for(site, email)


def tagged(path):
    """A WebP, GIF or AVIF (by the name) with a comment, XMP, GPS and a camera model."""
    png = path.with_suffix(".png")
    write_png(png, 320, 200)
    subprocess.run(["convert", str(png), str(path)], check=True)
    png.unlink()
    exiftool(path, "-Comment=secret-comment", "-XMP-dc:Creator=secret-creator", "-GPSLatitude=51.5072", "-GPSLatitudeRef=N",
             "-Model=Informant Camera")
    return path


# name: (how it is made, its media type, its size once stored: a photo turned upright has its sides swapped)
UPLOADS = {
    "comment-only.jpg": (lambda path: revealing_jpeg(path, comment_only=True), "image/jpeg", (320, 200)),
    "geotagged.jpg": (revealing_jpeg, "image/jpeg", (320, 200)),
    "rotated.jpg": (rotated_jpeg, "image/jpeg", (200, 320)),
    "annotated.png": (revealing_png, "image/png", (240, 160)),
    "tagged.webp": (tagged, "image/webp", (320, 200)),
    "tagged.gif": (tagged, "image/gif", (320, 200)),
    "tagged.avif": (tagged, "image/avif", (320, 200)),
}


@pytest.mark.parametrize("name", list(UPLOADS))
def test_an_image_uploaded_to_the_media_library_loses_its_metadata(site, media_desk, tmp_path, name):
    make, media_type, size = UPLOADS[name]
    original = make(tmp_path / name).read_bytes()
    assert metadata_in(original), "the fixture carries no metadata"
    upload_name = f"{uuid.uuid4().hex[:8]}-{name}"
    csrf = csrf_of(media_desk, site.base + "/admin/media/")
    response = media_desk.post(site.base + "/admin/media/", data={"csrf": csrf, "alt": "A test"},
                               files={"file": (upload_name, original, media_type)}, allow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    item = media_desk.get(site.base + response.headers["Location"]).text
    url = re.search(r'File: <a href="(/media/[^"]+)"', item).group(1)
    on_disk = (site.data / "media" / url.removeprefix("/media/")).read_bytes()
    assert served(site, url) == on_disk
    assert metadata_in(on_disk) == [], f"the uploaded {name} keeps its metadata"
    assert size_of(on_disk) == size, "the stored image does not have the size (and orientation) it shows"


# Reading tips on a terminal


def test_tips_open_shows_control_characters_from_a_source_instead_of_obeying_them(logged_site, tmp_path):
    site = logged_site
    marker = "glyph" + uuid.uuid4().hex[:10]
    message = (f"Start {marker} \x1b[2J cleared the screen \x1b]0;owned title\x07 set the title "
               f"\r\x1b[1A rewrote a line \u009b31m eight-bit CSI \u202e reversed \x08 end-{marker}")
    source = client()
    token = form_token(source.get(site.base + "/tips/").text)
    time.sleep(3.1)
    sent = source.post(site.base + "/tips/", data={"token": token, "message": message, "contact": f"\x1b[31mred {marker}-contact"},
                       files=[("files", (f"../notes-{marker}\x1b]0;title\x07.txt", b"The minutes.", "text/plain"))])
    assert sent.status_code == 200, sent.text[:1000]

    opened = site.cli("tips", "open", "--key", str(site.key_file), "--files", str(tmp_path / "files"))
    assert opened.returncode == 0, opened.stderr
    output = opened.stdout
    assert f"Start {marker}" in output and f"end-{marker}" in output and f"red {marker}-contact" in output
    assert f"notes-{marker}" in output, "the attachment is not listed"
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written and all((tmp_path / "files") in path.parents for path in written), f"attachments written outside --files: {written}"
    raw = sorted({f"U+{ord(c):04X}" for c in output if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"})
    assert raw == [], f"`tips open` printed raw control characters: {raw}"
    assert "\\x1B[2J" in output and "\\x07" in output, "the control characters are not shown as visible escapes"
