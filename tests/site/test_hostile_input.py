"""Hostile input against the real server: malformed and oversized HTTP, path tricks, absurd query
strings, broken forms, wrong JSON and garbage cookies. Whatever arrives, the answer is a clear
refusal (4xx) or, where the request is merely odd, an ordinary answer: never a 5xx, never a hang,
never a file of the data folder, never a redirect off the site, and the server stays up.

Malformed HTTP goes through raw sockets, so the bytes are exactly the ones named; the rest uses
requests. Requests to pages with per-client limits (the tip line, privacy choices, sign-in) come
from their own loopback address (127.x.y.z), so one test's refusals never throttle another's."""
import itertools
import json
import re
import shutil
import socket
import threading
import time
import urllib.parse

import pytest
import requests
from requests.adapters import HTTPAdapter

from conftest import PASSWORD, add_user, admin_key, csrf_of, serving_site, session_for, write_png

TIMEOUT = 10
MB = 1_048_576
OWNER = "hostile-owner@news.example"


# MARK: Clients


_addresses = itertools.count(10)


def fresh_address():
    """A loopback address no other request in this file has used: a client of its own for limits."""
    n = next(_addresses)
    return f"127.77.{n // 250}.{n % 250 + 2}"


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(source=None):
    """A requests session whose connections come from `source` (a fresh loopback address by default)."""
    session = requests.Session()
    session.mount("http://", _SourceAdapter(source or fresh_address()))
    return session


class Reply:
    """What came back on a raw connection: the status (None when nothing did), headers, body, time."""

    def __init__(self, status=None, headers=None, body=b"", elapsed=0.0, problem=None, raw=b""):
        self.status, self.headers, self.body, self.elapsed, self.problem, self.raw = status, headers or {}, body, elapsed, problem, raw

    def __repr__(self):
        if self.status is None:
            return f"<no answer: {self.problem} after {self.elapsed:.1f} s; bytes received {self.raw[:200]!r}>"
        return f"<{self.status} after {self.elapsed:.2f} s; {self.raw[:400]!r}>"


def _parse(buffer):
    head, _, body = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/\d\.\d (\d{3})", lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return (int(match.group(1)) if match else None), headers, body


def _complete(buffer):
    """Whether `buffer` holds one whole response (by Content-Length or chunked framing)."""
    if b"\r\n\r\n" not in buffer:
        return False
    _, headers, body = _parse(buffer)
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"])
    if "chunked" in headers.get("transfer-encoding", ""):
        return body.endswith(b"0\r\n\r\n")
    return False


def raw(site, data, timeout=TIMEOUT, source=None, half_close=False, pieces=None):
    """Sends `data` as is on a new connection and reads the first response (or notes none came)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if source:
        sock.bind((source, 0))
    start = time.monotonic()
    buffer = b""
    problem = None
    try:
        sock.connect(("127.0.0.1", site.port))
        try:
            for piece in pieces or [data]:
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError as error:  # the server may answer and close before taking everything
            problem = f"send stopped: {error}"
        while not _complete(buffer):
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                raise socket.timeout
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    except socket.timeout:
        if not buffer:
            return Reply(elapsed=time.monotonic() - start, problem=f"no answer within {timeout} s (hang)")
    except OSError as error:
        if not buffer:
            return Reply(elapsed=time.monotonic() - start, problem=f"connection failed: {error!r} ({problem or 'sent all'})")
    finally:
        sock.close()
    status, headers, body = _parse(buffer)
    if status is None:
        return Reply(elapsed=time.monotonic() - start, problem="closed without an HTTP answer", raw=buffer)
    return Reply(status, headers, body, time.monotonic() - start, problem, buffer)


def request_bytes(method, target, headers=(), body=b"", version=b"HTTP/1.1", host=b"127.0.0.1"):
    lines = [method + b" " + target + b" " + version, b"Host: " + host]
    lines += list(headers)
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# MARK: What every answer must be


def log_tail(site, lines=12):
    text = site.log_path.read_text(errors="replace").splitlines()
    return "\n    ".join(line[:400] for line in text[-lines:])


def assert_alive(site, after):
    """The server process runs and answers /healthz with 200 within 5 s."""
    assert site.process.poll() is None, f"the server DIED after {after} (exit {site.process.returncode}); log:\n    {log_tail(site, 30)}"
    try:
        response = requests.get(site.base + "/healthz", timeout=5)
    except requests.RequestException as error:
        pytest.fail(f"/healthz did not answer after {after}: {error!r}; log:\n    {log_tail(site)}")
    assert response.status_code == 200, f"/healthz answered {response.status_code} after {after}: {response.text[:200]}"


def location_is_safe(site, location):
    """Where a browser would go for `location` (backslashes as slashes, tabs and newlines dropped,
    as the WHATWG URL parser does) is on this site."""
    cleaned = re.sub(r"[\t\n\r]", "", location.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
    cleaned = cleaned.replace("\\", "/")
    if cleaned.startswith("//"):
        return False
    target = urllib.parse.urlsplit(urllib.parse.urljoin(site.base + "/", cleaned))
    return target.scheme in ("http", "https") and target.netloc == urllib.parse.urlsplit(site.base).netloc


def check_answer(site, what, status, headers, body, expect, unwanted=()):
    """`expect`: "4xx" (a clear refusal), "<500" (refusal or ordinary answer), or "200". `unwanted`:
    statuses that would mean the test proved nothing (a 401 when the key should be good)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    shown = body[:300] if isinstance(body, (bytes, bytearray)) else (body or "")[:300]

    def described():  # built only for a failure: the log is long by then
        return f"{what}\n    answered {status}; body starts {shown!r}\n    server log tail:\n    {log_tail(site)}"

    assert status is not None, described()
    assert status < 500, "SERVER ERROR for " + described()
    if expect == "4xx":
        assert 400 <= status < 500, "not refused (wanted 4xx) for " + described()
    elif expect == "200":
        assert status == 200, "wanted 200 for " + described()
    assert status not in unwanted, f"the test's own credentials were refused ({status}), so it proves nothing: " + described()
    if 300 <= status < 400 and "location" in headers:
        assert location_is_safe(site, headers["location"]), f"OPEN REDIRECT to {headers['location']!r} for " + described()
    data = body if isinstance(body, (bytes, bytearray)) else (body or "").encode("utf-8", "replace")
    assert b"SQLite format 3\x00" not in data, "THE DATABASE WAS SERVED for " + described()
    for secret in data_secrets(site):
        assert secret not in data, "A KEY FROM THE DATA FOLDER WAS SERVED for " + described()


_secrets = {}


def data_secrets(site):
    """Distinctive bytes of the files under the data folder's keys/ (to spot them in any answer)."""
    if site.base not in _secrets:
        found = []
        keys = site.data / "keys"
        for path in keys.iterdir() if keys.exists() else []:
            content = path.read_bytes().strip()
            if len(content) >= 16:
                found.append(content[:64])
        _secrets[site.base] = found
    return _secrets[site.base]


def check_raw(site, what, reply, expect="4xx", unwanted=()):
    assert reply.status is not None, f"{what}\n    got {reply!r}\n    server log tail:\n    {log_tail(site)}"
    check_answer(site, what, reply.status, reply.headers, reply.body, expect, unwanted)


def check_http(site, what, send, expect="4xx", unwanted=()):
    """Runs `send()` (a requests call) and checks its answer; a timeout is a hang."""
    start = time.monotonic()
    try:
        response = send()
    except requests.Timeout:
        pytest.fail(f"HANG: no answer within {TIMEOUT} s for {what}\n    server log tail:\n    {log_tail(site)}")
    except requests.ConnectionError as error:
        pytest.fail(f"CONNECTION DROPPED ({error!r}) after {time.monotonic() - start:.1f} s for {what}\n    server log tail:\n    {log_tail(site)}")
    check_answer(site, what, response.status_code, response.headers, response.content, expect, unwanted)
    return response


# MARK: Fixtures

_restarts = itertools.count(1)


@pytest.fixture(scope="module")
def site():
    """A server of this file's own: these tests make an owner, throttle clients and may restart it,
    none of which the other files' shared site should see."""
    yield from serving_site("masthead-hostile-")


@pytest.fixture(autouse=True)
def server_running(site):
    ensure_running(site)
    yield


def ensure_running(site):
    """If an earlier test killed the server, keep its log (server-crash-N.log beside server.log) and
    start it again, so that one crash fails the test that caused it and not every test after it."""
    try:
        healthy = requests.get(site.base + "/healthz", timeout=3).status_code == 200
    except requests.RequestException:
        healthy = False
    if not healthy:
        try:
            site.process.wait(timeout=60)  # a crashing Swift program spends a while writing its backtrace
        except Exception:
            pass
    if site.process.poll() is not None:
        saved = site.log_path.with_name(f"server-crash-{next(_restarts)}.log")
        site.log.close()
        shutil.copy(site.log_path, saved)
        print(f"\nthe server had died (exit {site.process.returncode}); its log is kept in {saved}; starting it again")
        site.start()



@pytest.fixture(scope="module")
def owner(site):
    return add_user(site, OWNER, "Hostile Owner", "owner")


@pytest.fixture(scope="module")
def owner_session(site, owner):
    return session_for(site, owner)


@pytest.fixture(scope="module")
def api_key(site, owner):
    return admin_key(site, owner, name="Hostile tests")


@pytest.fixture(scope="module")
def content_key(site):
    result = site.cli("content-key", "add", "Tests")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{26}", key), result.stdout
    return key


def api(site, key, method, path, body=None):
    response = requests.request(method, site.base + "/api/admin" + path, json=body, timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {key}"})
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text[:300]}"
    return response.json() if response.content else {}


@pytest.fixture(scope="module")
def scratch(site, owner, owner_session, api_key, tmp_path_factory):
    """Things these tests may break or delete: a draft, a published story, a section, a tag, an
    image, an author, an account (with an invitation link), an API key and a Content API key."""
    ids = {}
    draft = api(site, api_key, "POST", "/articles/", {"title": "Hostile scratch draft", "section": "world", "body": "Scratch."})
    ids["draft"] = draft["articles"][0]["id"]
    published = api(site, api_key, "POST", "/articles/", {"title": "Hostile scratch story", "section": "world", "body": "Scratch."})
    ids["published"] = published["articles"][0]["id"]
    api(site, api_key, "POST", f"/articles/{ids['published']}/publish/")
    doomed = api(site, api_key, "POST", "/articles/", {"title": "Hostile scratch doomed", "section": "world", "body": "Scratch."})
    ids["doomed"] = doomed["articles"][0]["id"]
    page = owner_session.get(f"{site.base}/admin/articles/{ids['draft']}/revisions/").text
    ids["revision"] = int(re.search(rf"/admin/articles/{ids['draft']}/revisions/(\d+)/", page).group(1))
    ids["section"] = api(site, api_key, "POST", "/sections/", {"name": "Hostile scratch"})["sections"][0]["id"]
    ids["tag"] = api(site, api_key, "POST", "/tags/", {"name": "hostile-scratch"})["tags"][0]["id"]
    image = tmp_path_factory.mktemp("hostile") / "scratch.png"
    write_png(image, 64, 48)
    upload = requests.post(site.base + "/api/admin/media/?filename=scratch.png", data=image.read_bytes(), timeout=TIMEOUT,
                           headers={"Authorization": f"Bearer {api_key}", "Content-Type": "image/png"})
    assert upload.status_code == 201, upload.text[:300]
    ids["media"] = upload.json()["media"][0]["id"]
    made = owner_session.post(site.base + "/admin/authors/new/", allow_redirects=False, data={
        "csrf": csrf_of(owner_session, site.base + "/admin/authors/new/"), "name": "Hostile Scratch Author"})
    ids["author"] = int(re.search(r"/admin/authors/(\d+)/", made.headers["Location"]).group(1))
    add_user(site, "hostile-scratch@news.example", "Hostile Scratch", "author")
    users = owner_session.get(site.base + "/admin/users/").text
    ids["user"] = int(re.search(r"<td>hostile-scratch@news\.example</td>.*?action=\"/admin/users/(\d+)/\"", users, re.S).group(1))
    invite = site.cli("user", "add", "--email", "hostile-invite@news.example", "--name", "Hostile Invite", "--role", "author", "--invite")
    assert invite.returncode == 0, invite.stderr
    ids["invite_path"] = urllib.parse.urlsplit(invite.stdout.strip().splitlines()[-1]).path
    admin_key(site, OWNER, name="Hostile scratch key")
    account = owner_session.get(site.base + "/admin/account/").text
    ids["key"] = int(re.search(r'action="/admin/account/keys/(\d+)/revoke/"><input[^>]*><button[^>]*aria-label="Revoke the key Hostile scratch key"', account).group(1))
    made = owner_session.post(site.base + "/admin/settings/content-keys/", data={
        "csrf": csrf_of(owner_session, site.base + "/admin/settings/"), "name": "Hostile scratch content key"})
    ids["content_key"] = int(re.search(
        r'action="/admin/settings/content-keys/(\d+)/revoke/"><input[^>]*><button[^>]*aria-label="Revoke the key Hostile scratch content key"', made.text).group(1))
    return ids


def settings_snapshot(site, session):
    """The site's settings form as it stands, to put back after a test has done its worst."""
    import lxml.html
    page = session.get(site.base + "/admin/settings/", timeout=TIMEOUT).text
    form = next(f for f in lxml.html.fromstring(page).forms if (f.action or "").endswith("/admin/settings/"))
    return [(name, value) for name, value in form.form_values() if name != "csrf"]


def restore_settings(site, session, values):
    answer = session.post(site.base + "/admin/settings/", allow_redirects=False, timeout=TIMEOUT,
                          data=[("csrf", csrf_of(session, site.base + "/admin/settings/"))] + values)
    assert answer.status_code == 303, f"could not restore the site settings: {answer.status_code} {answer.text[:300]}"


# MARK: 1. Malformed and oversized requests

H = b"Host: 127.0.0.1"
CONSENT_FORM = b"Content-Type: application/x-www-form-urlencoded"

MALFORMED = [
    ("garbage request line", b"\x00\x01\x02 garbage \xff\r\n\r\n"),
    ("request line of spaces", b"     \r\n\r\n"),
    ("no target, no version", b"GET\r\nHost: 127.0.0.1\r\n\r\n"),
    ("unknown method BREW", request_bytes(b"BREW", b"/")),
    ("unknown method PROPFIND", request_bytes(b"PROPFIND", b"/")),
    ("unknown method PROPFIND on /admin/", request_bytes(b"PROPFIND", b"/admin/")),
    ("method TRACE", request_bytes(b"TRACE", b"/")),
    ("method CONNECT", request_bytes(b"CONNECT", b"127.0.0.1:80")),
    ("lower-case method", request_bytes(b"get", b"/")),
    ("method of 1000 letters", request_bytes(b"A" * 1000, b"/")),
    ("1 MB request target", request_bytes(b"GET", b"/" + b"a" * MB)),
    ("1 MB query string", request_bytes(b"GET", b"/search/?q=" + b"a" * MB)),
    ("100 KB of headers", request_bytes(b"GET", b"/", [b"X-Filler-%d: %s" % (i, b"v" * 90) for i in range(1000)])),
    ("a single 64 KB header value", request_bytes(b"GET", b"/", [b"X-Big: " + b"v" * 65536])),
    ("1000 headers", request_bytes(b"GET", b"/", [b"X-H%d: v" % i for i in range(1000)])),
    ("header name with a space", request_bytes(b"GET", b"/", [b"Bad Name: v"])),
    ("header name with a control character", request_bytes(b"GET", b"/", [b"Bad\x01Name: v"])),
    ("header name with NUL", request_bytes(b"GET", b"/", [b"Bad\x00Name: v"])),
    ("empty header name", request_bytes(b"GET", b"/", [b": v"])),
    ("header line without a colon", request_bytes(b"GET", b"/", [b"NoColonHere"])),
    ("obsolete line folding", request_bytes(b"GET", b"/", [b"X-A: one", b" two"])),
    ("space before the colon", request_bytes(b"GET", b"/", [b"Content-Length : 0"])),
    ("bare LF line endings", b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n"),
    ("bare CR line endings", b"GET /healthz HTTP/1.1\rHost: 127.0.0.1\rConnection: close\r\r"),
    ("negative Content-Length", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: -5"], b"choice=reject")),
    ("non-numeric Content-Length", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: abc"], b"choice=reject")),
    ("Content-Length of 30 digits", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: " + b"9" * 30], b"choice=reject")),
    ("Content-Length list '13, 14'", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: 13, 14"], b"choice=reject")),
    ("two different Content-Length headers", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: 13", b"Content-Length: 5"], b"choice=reject")),
    ("chunked with a malformed chunk size", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Transfer-Encoding: chunked"], b"zz\r\nchoice=reject\r\n0\r\n\r\n")),
    ("chunked with an overflowing chunk size", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Transfer-Encoding: chunked"], b"fffffffffffffffffffff\r\nchoice\r\n0\r\n\r\n")),
    ("chunked with a negative chunk size", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Transfer-Encoding: chunked"], b"-5\r\nchoice\r\n0\r\n\r\n")),
    ("chunked with a chunk longer than its size", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Transfer-Encoding: chunked"], b"2\r\nchoice=reject\r\n0\r\n\r\n")),
    ("both Content-Length and Transfer-Encoding", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: 5", b"Transfer-Encoding: chunked"], b"0\r\n\r\n")),
    ("Transfer-Encoding that is not chunked", request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Transfer-Encoding: gzip"], b"choice=reject")),
    ("HTTP/0.9 request line", b"GET /\r\n\r\n"),
    ("HTTP/2.0 request line", request_bytes(b"GET", b"/", version=b"HTTP/2.0")),
    ("HTTP/2 connection preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("HTTP/9.9 request line", request_bytes(b"GET", b"/", version=b"HTTP/9.9")),
    ("version in lower case", request_bytes(b"GET", b"/", version=b"http/1.1")),
    ("target not starting with a slash", request_bytes(b"GET", b"healthz")),
]


@pytest.mark.parametrize("what,data", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_are_refused(site, what, data):
    reply = raw(site, data, source=fresh_address())
    check_raw(site, f"{what}: {data[:120]!r}… ({len(data)} bytes)", reply)
    assert_alive(site, what)


def test_body_shorter_than_content_length_then_close(site):
    data = request_bytes(b"POST", b"/consent/", [CONSENT_FORM, b"Content-Length: 100"], b"choice=rej")
    reply = raw(site, data, source=fresh_address(), half_close=True)
    check_raw(site, "POST /consent/ with Content-Length: 100, 10 bytes of body, then the client closes its side", reply)
    assert_alive(site, "a body cut short")


def test_body_longer_than_content_length_is_not_a_second_request(site):
    """The bytes past Content-Length are a (garbage) second request: refused, never a 5xx."""
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT, source_address=(fresh_address(), 0))
    sock.sendall(b"POST /consent/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 13\r\n\r\nchoice=rejectGARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(3)
    buffer = b""
    try:
        while chunk := sock.recv(65536):
            buffer += chunk
    except socket.timeout:
        pass
    finally:
        sock.close()
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", buffer)]
    assert statuses, f"no answer at all; got {buffer[:300]!r}"
    assert all(code < 500 for code in statuses), f"a 5xx among {statuses}: {buffer[:800]!r}\n    {log_tail(site)}"
    assert statuses[0] == 303, f"the honest first request should have been answered (303): {statuses}: {buffer[:500]!r}"
    assert_alive(site, "a smuggled second request")


def _trickle(site, head, stop, source, interval=0.4):
    """Opens a connection and sends `head`, then one more header line every `interval` until `stop`."""
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT, source_address=(source, 0))
    try:
        sock.sendall(head)
        n = 0
        while not stop.wait(interval):
            n += 1
            try:
                sock.sendall(b"X-Slow-%d: %d\r\n" % (n, n))
            except OSError:
                return
    finally:
        sock.close()


def _timed_requests(site, count=5):
    times = []
    for _ in range(count):
        start = time.monotonic()
        try:
            response = requests.get(site.base + "/", timeout=TIMEOUT)
            times.append((time.monotonic() - start, response.status_code))
        except requests.RequestException as error:
            times.append((time.monotonic() - start, repr(error)))
        time.sleep(0.2)
    return times


@pytest.mark.parametrize("slow_clients", [1, 100], ids=["one slow client", "a hundred slow clients"])
def test_slow_headers_do_not_hold_up_other_readers(site, slow_clients):
    stop = threading.Event()
    threads = [threading.Thread(target=_trickle, args=(site, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", stop, fresh_address()), daemon=True)
               for _ in range(slow_clients)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        times = _timed_requests(site)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    slow = [t for t in times if not (t[0] < 2 and t[1] == 200)]
    assert not slow, f"with {slow_clients} client(s) sending headers a line at a time, GET / on another connection: {times}\n    {log_tail(site)}"
    assert_alive(site, "slow headers")


def test_slow_body_does_not_hold_up_other_readers(site):
    stop = threading.Event()
    head = b"POST /consent/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nchoice=reject&x="

    def trickle_body():
        sock = socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT, source_address=(fresh_address(), 0))
        try:
            sock.sendall(head)
            while not stop.wait(0.4):
                sock.sendall(b"a")
        except OSError:
            pass
        finally:
            sock.close()

    threads = [threading.Thread(target=trickle_body, daemon=True) for _ in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        times = _timed_requests(site)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    slow = [t for t in times if not (t[0] < 2 and t[1] == 200)]
    assert not slow, f"with 20 clients sending a form body a byte at a time, GET / on another connection: {times}\n    {log_tail(site)}"
    assert_alive(site, "slow bodies")


# MARK: 2. Paths

PATHS = [
    "/media/%2Fetc%2Fpasswd",
    "/media/%2F%2Fevil.example",
    "/%2F%2Fevil.example/",
    "/%2f%2fevil.example/",
    "/%5C%5Cevil.example/",
    "/media/..%2F..%2Fmasthead.sqlite",
    "/media/../data/masthead.sqlite",
    "/media/../masthead.sqlite",
    "/media/../keys/image-signing.key",
    "/media/./../masthead.sqlite",
    "/assets/../../etc/passwd",
    "/assets/../../data/masthead.sqlite",
    "/admin/assets/../../data/masthead.sqlite",
    "/img/-/w320/../../masthead.sqlite",
    "/img/-/w320/%2e%2e/%2e%2e/masthead.sqlite",
    "/img/-/w320/..%2fmasthead.sqlite",
    "/media/%2e%2e/masthead.sqlite",
    "/media/%2E%2E/keys/image-signing.key",
    "/media/.%2e/masthead.sqlite",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/media/%252e%252e/masthead.sqlite",
    "/media/..\\masthead.sqlite",
    "/media/..;/masthead.sqlite",
    "/media/masthead.sqlite%00.jpg",
    "/%00",
    "/search/%00/",
    "/media/%C0%AE%C0%AE/masthead.sqlite",
    "/media/%C0%AF..%C0%AFmasthead.sqlite",
    "/%C0%AE%C0%AE/",
    "/%E0%80%AE%E0%80%AE/",
    "/%zz/",
    "/media/%zz",
    "/%/",
    "/%e2%82/",
    "/media/.incoming/",
    "/media/.incoming",
    "/cache/images/",
    "/" + "a" * 10_000 + "/",
    "/media/" + "a" * 10_000,
    "/world/" + "a" * 10_000 + "/",
    "/tag/" + "a" * 10_000 + "/page/2/",
    "/a" * 2000 + "/",
    "/media" + "/a" * 2000,
    "/api/admin" + "/articles" * 2000,
]


@pytest.fixture(scope="module")
def signed_image_path(site):
    """A real /img/ address from the front page, to tamper with."""
    status, _, html = site.get("/")
    match = re.search(r'(/img/[^/"\s]+/[^/"\s]+/)([^"\s?,]+)', html)
    assert status == 200 and match, "no image on the front page"
    return match.group(1)


def _path_id(path):
    return path if len(path) < 60 else f"{path[:30]}…({len(path)} chars)"


@pytest.mark.parametrize("path", PATHS, ids=[_path_id(p) for p in PATHS])
def test_path_tricks_are_refused_and_serve_nothing_private(site, path):
    reply = raw(site, request_bytes(b"GET", path.encode("latin-1")))
    check_raw(site, f"GET {_path_id(path)}", reply)
    assert_alive(site, f"GET {_path_id(path)}")


@pytest.mark.parametrize("tail", ["../../masthead.sqlite", "%2e%2e/%2e%2e/masthead.sqlite", "..%2F..%2Fmasthead.sqlite", "../../keys/image-signing.key", "%00", "a/../../../etc/passwd"])
def test_tampered_image_addresses_are_refused(site, signed_image_path, tail):
    reply = raw(site, request_bytes(b"GET", (signed_image_path + tail).encode()))
    check_raw(site, f"GET {signed_image_path + tail}", reply)
    assert_alive(site, "a tampered image address")


REDIRECT_PROBES = [
    "//evil.example/", "///evil.example/", "////evil.example", "//evil.example/%2e%2e", "/\\evil.example", "/\\evil.example/",
    "/\\/evil.example/", "/\\\\evil.example/x", "/tag/\\evil.example", "/%09/evil.example", "/.//evil.example", "//evil.example/world/",
    "/admin//evil.example", "/admin/\\evil.example", "/consent", "/tips", "/search?x=//evil.example", "/world?next=//evil.example",
    "/\\evil.example/page/2", "/api//admin/",
]


@pytest.mark.parametrize("path", REDIRECT_PROBES)
def test_no_redirect_leaves_the_site(site, path):
    """Any 3xx stays on this site, as a browser would read its Location (it treats '\\' as '/')."""
    reply = raw(site, request_bytes(b"GET", path.encode()))
    check_raw(site, f"GET {path}", reply, expect="<500")
    assert_alive(site, f"GET {path}")


@pytest.mark.parametrize("given", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example/", "\\\\evil.example", "/%2F%2Fevil.example", "javascript:alert(1)"])
def test_privacy_choice_returns_only_to_this_site(site, given):
    response = check_http(site, f"POST /consent/ choice=reject return={given!r}", lambda: client_from().post(
        site.base + "/consent/", data={"choice": "reject", "return": given}, allow_redirects=False, timeout=TIMEOUT), expect="<500")
    assert response.status_code == 303, response.text[:300]


@pytest.mark.parametrize("given", ["//evil.example/", "/admin/\\evil.example", "https://evil.example/admin/", "/admin/../..//evil.example", "/\\evil.example/admin/"])
def test_sign_in_returns_only_to_the_newsroom(site, owner, given):
    session = client_from()
    page = session.get(site.base + "/admin/login/", timeout=TIMEOUT)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = check_http(site, f"POST /admin/login/ (right password) next={given!r}", lambda: session.post(
        site.base + "/admin/login/", data={"csrf": token, "email": owner, "password": PASSWORD, "next": given}, allow_redirects=False, timeout=TIMEOUT),
        expect="<500")
    assert response.status_code == 303, response.text[:300]


# MARK: 3. Query strings


def _filter_cases():
    return [
        ("tag:", "tag:"), ("(((", "((("), ("tag:[a,", "tag:[a,"), ("unknown field", "colour:red"), ("unknown operator", "tag:>>a"),
        ("empty parentheses", "()"), ("only a plus", "+"), ("unclosed quote", "slug:'abc"), ("bad date", "published_at:>'2026-99-99'"),
        ("date far out", "published_at:>'99999-01-01'"), ("id too big", "id:99999999999999999999999"), ("id not a number", "id:abc"),
        ("60,000 characters", "tag:" + "a" * 60_000), ("40,000 values", "tag:[" + ",".join(["a"] * 40_000) + "]"),
        ("2,000 values under the length cap", "tag:[" + ",".join(["a"] * 2000) + "]"), ("2,000 nested parentheses", "(" * 2000 + "tag:a" + ")" * 2000),
        ("600 terms", "+".join(["tag:a"] * 600)), ("NUL in a value", "tag:a\x00b"), ("SQL in a value", "slug:'x'' OR 1=1 --'"),
        ("invalid UTF-8", b"tag:%ff%fe"),
    ]


FILTERS = _filter_cases()


def _quote(text):
    """Encoded as a client would (a '+' as %2B: a bare '+' in a query is a space); bytes are already encoded."""
    return text.decode() if isinstance(text, bytes) else urllib.parse.quote(text, safe=":[],()'>")


@pytest.mark.parametrize("name,expression", FILTERS, ids=[f[0] for f in FILTERS])
def test_malformed_content_api_filters_are_refused(site, content_key, name, expression):
    if name in ("date far out", "id too big", "id not a number", "SQL in a value", "NUL in a value", "invalid UTF-8"):
        expect = "<500"  # well-formed enough to be answered with an empty list
    else:
        expect = "4xx"
    target = f"/api/content/posts/?key={content_key}&filter={_quote(expression)}"
    reply = raw(site, request_bytes(b"GET", target.encode()))
    check_raw(site, f"GET /api/content/posts/?key=KEY&filter=<{name}> ({len(target)} chars)", reply, expect=expect, unwanted=(401,))
    assert_alive(site, f"filter {name}")


CONTENT_API_QUERIES = [
    ("page=-1", "page=-1", "4xx"), ("page=20 digits", "page=99999999999999999999", "4xx"), ("page=abc", "page=abc", "4xx"),
    ("page=0", "page=0", "4xx"), ("page=1e3", "page=1e3", "4xx"), ("limit=0", "limit=0", "4xx"), ("limit=-5", "limit=-5", "4xx"),
    ("limit=1e9", "limit=1e9", "4xx"), ("limit=20 digits", "limit=99999999999999999999", "4xx"), ("limit=abc", "limit=abc", "4xx"),
    ("order=id;drop table", "order=" + urllib.parse.quote("id;drop table"), "4xx"),
    ("order=published_at desc;drop table", "order=" + urllib.parse.quote("published_at desc; drop table article"), "4xx"),
    ("order=title", "order=title", "4xx"), ("order=10 KB", "order=" + "x" * 10_000, "4xx"),
    ("repeated page and limit", "page=1&page=2&limit=5&limit=-1", "<500"), ("repeated filter", "filter=tag:a&filter=(((", "<500"),
    ("fields=8,000 names", "fields=" + ",".join(f"f{i}" for i in range(8000)), "<500"),
    ("include=unknown", "include=secrets,password_hash", "<500"), ("formats=everything", "formats=html,mobiledoc,lexical,plaintext", "<500"),
    ("72 KB of repeated parameters", "&".join(["tag=a"] * 12_000), "<500"),
]


@pytest.mark.parametrize("name,query,expect", CONTENT_API_QUERIES, ids=[q[0] for q in CONTENT_API_QUERIES])
@pytest.mark.parametrize("route", ["posts", "tags", "authors", "pages", "search"])
def test_content_api_query_strings(site, content_key, route, name, query, expect):
    if route != "posts" and name.startswith("order"):
        expect = "<500"  # only posts document an order
    extra = "&q=port" if route == "search" else ""
    target = f"/api/content/{route}/?key={content_key}{extra}&{query}"
    reply = raw(site, request_bytes(b"GET", target.encode()))
    check_raw(site, f"GET /api/content/{route}/?key=KEY{extra}&{_path_id(query)}", reply, expect=expect, unwanted=(401,))
    assert_alive(site, name)


SEARCH_QUERIES = [
    ("q of 100 KB", "q=" + "a" * 100_000, "4xx"), ("q of 60 KB", "q=" + "a" * 60_000, "<500"),
    ("repeated parameters", "q=port&q=strike&page=2&page=1&section=world&section=x", "<500"),
    ("page=-1", "q=port&page=-1", "<500"), ("page=20 digits", "q=port&page=99999999999999999999", "<500"), ("page=abc", "q=port&page=abc", "<500"),
    ("page=0", "q=port&page=0", "<500"), ("FTS syntax", "q=" + urllib.parse.quote('"port" NEAR( OR * AND -x ^ :'), "<500"),
    ("only quotes", "q=%22%22%22", "<500"), ("NUL", "q=port%00x", "<500"), ("invalid UTF-8", "q=%ff%fe%fd", "<500"),
    ("bad dates", "q=port&from=9999-99-99&until=-1", "<500"), ("dates far out", "q=port&from=0001-01-01&until=99999-12-31", "<500"),
    ("unknown section", "q=port&section=" + "x" * 5000, "<500"), ("5,000 parameters", "&".join(f"p{i}=1" for i in range(5000)), "<500"),
]


@pytest.mark.parametrize("name,query,expect", SEARCH_QUERIES, ids=[q[0] for q in SEARCH_QUERIES])
def test_search_page_query_strings(site, name, query, expect):
    """The reader's search page clamps what it cannot use (page=-1 is page 1): a page or a 4xx, never a 5xx."""
    reply = raw(site, request_bytes(b"GET", f"/search/?{query}".encode()))
    check_raw(site, f"GET /search/?{_path_id(query)}", reply, expect=expect)
    if expect == "<500":
        assert reply.status == 200 or 400 <= reply.status < 500, f"wanted the page or a refusal, got {reply!r}"
    assert_alive(site, name)


# MARK: 4. Forms


def urlencoded(pairs):
    return {"Content-Type": "application/x-www-form-urlencoded"}, urllib.parse.urlencode(pairs).encode()


def multipart(pairs, boundary="hostileBoundary7MA4YWxk", cut=None, content_type=None):
    body = b""
    for name, value in pairs:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode() + (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    if cut is not None:
        body = body[:cut]
    return {"Content-Type": content_type or f"multipart/form-data; boundary={boundary}"}, body


def form_variants(csrf, fields):
    """Hostile versions of a form with `fields` (its CSRF token as `csrf`): name → a builder of
    (headers, body, expected). Built only when asked for: some are megabytes."""
    fields = fields or ["name"]
    token = [("csrf", csrf)] if csrf is not None else []
    some = token + [(f, "a") for f in fields]
    return {
        "missing fields": lambda: (*urlencoded(token), "<500"),
        "repeated fields": lambda: (*urlencoded(token + [("csrf", "wrong")] + [(f, v) for f in fields for v in ("a", "b")]), "<500"),
        "1 MB first field": lambda: (*urlencoded(token + [(fields[0], "x" * MB)]), "<500"),
        "1 MB every field": lambda: (*urlencoded(token + [(f, "x" * MB) for f in fields]), "<500"),
        "1 MB first field, multipart": lambda: (*multipart(token + [(fields[0], "x" * MB)]), "<500"),
        "text/plain": lambda: ({"Content-Type": "text/plain"}, urllib.parse.urlencode(some).encode(), "4xx"),
        "application/json": lambda: ({"Content-Type": "application/json"}, json.dumps(dict(some)).encode(), "4xx"),
        "no content type": lambda: ({}, urllib.parse.urlencode(some).encode(), "4xx"),
        "multipart cut short": lambda: (*multipart(token + [(f, "a" * 200) for f in fields], cut=-60), "4xx"),
        "multipart cut in the headers": lambda: (*multipart(some, cut=40), "4xx"),
        "multipart with no boundary": lambda: (*multipart(some, content_type="multipart/form-data"), "4xx"),
        "multipart with a 10 KB boundary": lambda: (*multipart(some, boundary="b" * 10_240), "4xx"),
        "multipart that is not multipart": lambda: ({"Content-Type": "multipart/form-data; boundary=xyz"}, b"\x00\xff" * 500, "4xx"),
        "5,000 tiny fields": lambda: (*urlencoded(token + [(f"f{i}", "1") for i in range(5000)]), "4xx"),
        "5,000 tiny parts": lambda: (*multipart(token + [(f"f{i}", "1") for i in range(5000)]), "4xx"),
        "invalid UTF-8 and percent-encoding": lambda: (
            {"Content-Type": "application/x-www-form-urlencoded"},
            (urllib.parse.urlencode(token) + "&" + "&".join(f"{f}=%ff%fe%zz%" for f in fields)).encode() + b"&x=\xff\xfe", "<500"),
    }


VARIANT_NAMES = list(form_variants("t", ["a"]))

# Every form of the newsroom (router.post under Sources/MastheadApp/Admin/), with the fields it reads.
# Routes with {ids} are filled from the scratch fixture; 999999 is an id nothing has.
NEWSROOM_FORMS = [
    ("/admin/articles/new/", ["title", "summary", "body", "section", "tags", "authors", "slug", "publish_at", "action", "image_alt", "image_media", "version"]),
    ("/admin/articles/{draft}/", ["title", "summary", "body", "section", "tags", "authors", "slug", "publish_at", "action", "version", "disclaimer"]),
    ("/admin/articles/{draft}/preview-link/", []),
    ("/admin/articles/{published}/corrections/", ["kind", "text"]),
    ("/admin/articles/{draft}/revisions/{revision}/restore/", ["version"]),
    ("/admin/preview/", ["body"]),
    ("/admin/media/", ["file", "alt", "caption", "credit"]),
    ("/admin/media/{media}/", ["alt", "caption", "credit"]),
    ("/admin/sections/", ["name"]),
    ("/admin/sections/{section}/", ["name"]),
    ("/admin/tags/{tag}/", ["name"]),
    ("/admin/authors/new/", ["name", "title", "bio"]),
    ("/admin/authors/{author}/", ["name", "title", "bio"]),
    ("/admin/users/", ["email", "name", "role"]),
    ("/admin/users/{user}/", ["role", "state"]),
    ("/admin/users/{user}/reset/", []),
    ("/admin/users/{user}/keys/revoke/", []),
    ("/admin/account/password/", ["current", "password", "confirm"]),
    ("/admin/account/keys/", ["name", "password"]),
    ("/admin/account/keys/{key}/revoke/", []),
    ("/admin/webhooks/", ["url", "events"]),
    ("/admin/webhooks/999999/delete/", []),
    ("/admin/webhooks/deliveries/999999/retry/", []),
    ("/admin/settings/", ["title", "tagline", "disclaimer", "tip_prompt"]),
    ("/admin/settings/content-keys/", ["name"]),
    ("/admin/settings/content-keys/{content_key}/revoke/", []),
    ("/admin/consent/delete/", ["consent_id"]),
    ("/admin/tips/unlock/", ["passphrase", "next"]),
    ("/admin/tips/lock/", []),
    ("/admin/tips/999999/reply/", ["text"]),
    ("/admin/tips/999999/update/", ["status", "assignee", "keep"]),
    ("/admin/tips/999999/delete/", []),
    # Deletions last: they may take their scratch item with them.
    ("/admin/articles/{doomed}/delete/", []),
    ("/admin/media/{media}/delete/", []),
    ("/admin/sections/{section}/delete/", []),
    ("/admin/tags/{tag}/delete/", []),
    ("/admin/authors/{author}/delete/", []),
]


def _send_form(session, url, headers, body):
    return session.post(url, data=body, headers=headers, allow_redirects=False, timeout=TIMEOUT)


def signed_in_csrf(site, session):
    """The session's CSRF token, after making sure the session still holds (else the test proves nothing)."""
    page = session.get(site.base + "/admin/account/", timeout=TIMEOUT, allow_redirects=False)
    assert page.status_code == 200, f"the owner's session has ended ({page.status_code} {page.headers.get('Location')}): a previous request signed it out"
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.fixture(scope="module")
def owner_csrf(site, owner_session):
    return signed_in_csrf(site, owner_session)


# The forms a browser sends as multipart (they carry a file) also get a 1 MB field as multipart;
# the others get theirs URL-encoded only (multipart reading runs at about 1 MB/s in a debug build).
MULTIPART_FORMS = {"/admin/articles/new/", "/admin/articles/{draft}/", "/admin/media/"}


def _newsroom_cases():
    for route, fields in NEWSROOM_FORMS:
        for variant in VARIANT_NAMES:
            if variant == "1 MB first field, multipart" and route not in MULTIPART_FORMS:
                continue
            yield pytest.param(route, fields, variant, id=f"{route}-{variant}")


@pytest.mark.parametrize("route,fields,variant", list(_newsroom_cases()))
def test_newsroom_forms_with_hostile_bodies(site, owner_session, owner_csrf, scratch, route, fields, variant):
    path = route.format(**scratch)
    headers, body, expect = form_variants(owner_csrf, fields)[variant]()
    saved = settings_snapshot(site, owner_session) if path == "/admin/settings/" else None
    try:
        response = check_http(site, f"POST {path} [{variant}] Content-Type={headers.get('Content-Type', '(none)')[:80]!r}, {len(body)} bytes of body (signed in as owner)",
                              lambda: _send_form(owner_session, site.base + path, headers, body), expect=expect)
        assert not (response.status_code == 403 and "session has ended" in response.text), \
            "the owner's session had ended before this request (an earlier one signed it out), so it proves nothing"
    finally:
        if saved is not None:
            restore_settings(site, owner_session, saved)
    leftovers = _spooled_leftovers(site)
    assert not leftovers, f"POST {path} [{variant}] left spooled uploads behind: {leftovers}"
    assert_alive(site, f"POST {path} [{variant}]")


def _spooled_leftovers(site):
    """Temporary upload files still in media/.incoming a moment after the request ended."""
    folder = site.data / "media" / ".incoming"
    for _ in range(10):
        left = [p.name for p in folder.iterdir()] if folder.exists() else []
        if not left:
            return []
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_sign_out_form_with_hostile_bodies(site, owner, variant):
    session = session_for(site, owner)
    headers, body, expect = form_variants(signed_in_csrf(site, session), [])[variant]()
    check_http(site, f"POST /admin/logout/ [{variant}], {len(body)} bytes", lambda: _send_form(session, site.base + "/admin/logout/", headers, body), expect=expect)
    assert_alive(site, f"POST /admin/logout/ [{variant}]")


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("form", ["/admin/login/", "set-password"])
def test_sign_in_forms_with_hostile_bodies(site, scratch, form, variant):
    """Posted as a browser that is not signed in, from an address of its own (failures there lock the address)."""
    path = scratch["invite_path"] if form == "set-password" else form
    fields = ["password", "confirm"] if form == "set-password" else ["email", "password", "next"]
    session = client_from()
    page = session.get(site.base + path, timeout=TIMEOUT)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    headers, body, expect = form_variants(token, fields)[variant]()
    check_http(site, f"POST {path} [{variant}] not signed in, {len(body)} bytes", lambda: _send_form(session, site.base + path, headers, body), expect=expect)
    assert_alive(site, f"POST {path} [{variant}]")


PUBLIC_FORMS = [
    ("/tips/", ["message", "contact", "token"]),
    ("/tips/return/", ["receipt"]),
    ("/tips/return/message/", ["receipt", "message", "token"]),
    ("/consent/", ["choice", "categories", "return", "category"]),
]


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("route,fields", PUBLIC_FORMS, ids=[r for r, _ in PUBLIC_FORMS])
def test_public_forms_with_hostile_bodies(site, route, fields, variant):
    headers, body, expect = form_variants(None, fields)[variant]()
    check_http(site, f"POST {route} [{variant}] Content-Type={headers.get('Content-Type', '(none)')[:80]!r}, {len(body)} bytes",
               lambda: _send_form(client_from(), site.base + route, headers, body), expect=expect)
    assert_alive(site, f"POST {route} [{variant}]")


BIG = b"41943040"


@pytest.mark.parametrize("path", ["/admin/articles/new/", "/admin/media/", "/admin/settings/", "/admin/users/", "/admin/logout/", "/admin/login/", "/admin/articles/1/delete/"])
@pytest.mark.parametrize("expect_continue", [False, True], ids=["plain", "Expect: 100-continue"])
def test_newsroom_posts_without_a_session_are_refused_before_the_body(site, path, expect_continue):
    headers = [b"Content-Type: multipart/form-data; boundary=x", b"Content-Length: " + BIG] + ([b"Expect: 100-continue"] if expect_continue else [])
    reply = raw(site, request_bytes(b"POST", path.encode(), headers, b"--x\r\n"), source=fresh_address())
    check_raw(site, f"POST {path} without a session, Content-Length: 41943040, 5 bytes sent{', Expect: 100-continue' if expect_continue else ''}", reply)
    assert reply.status in (403, 413), f"wanted 403 (or 413), got {reply!r}"
    assert reply.elapsed < 2, f"the refusal took {reply.elapsed:.1f} s: the server waited for the body: {reply!r}"
    assert_alive(site, f"POST {path} with a 40 MB Content-Length")


@pytest.mark.parametrize("path", ["/admin/login/", "/consent/", "/api/admin/articles/", "/api/admin/media/"])
def test_other_posts_refuse_a_huge_announced_body_promptly(site, path):
    """The sign-in form (with its cookie), privacy choices and the Admin API without a key answer at once."""
    session = client_from()
    cookie = b""
    if path == "/admin/login/":
        session.get(site.base + path, timeout=TIMEOUT)
        cookie = ("; ".join(f"{c.name}={c.value}" for c in session.cookies)).encode()
    headers = [b"Content-Type: application/x-www-form-urlencoded", b"Content-Length: " + BIG] + ([b"Cookie: " + cookie] if cookie else [])
    reply = raw(site, request_bytes(b"POST", path.encode(), headers, b"csrf=x"), source=session.adapters["http://"].source)
    check_raw(site, f"POST {path} Content-Length: 41943040, 6 bytes sent", reply)
    assert reply.elapsed < 2, f"the refusal took {reply.elapsed:.1f} s: the server waited for the body: {reply!r}"
    assert_alive(site, f"POST {path} with a 40 MB Content-Length")


@pytest.mark.parametrize("path", ["/admin/settings/", "/admin/articles/new/", "/admin/media/"])
def test_signed_in_posts_refuse_a_too_large_announced_body_promptly(site, owner_session, path):
    cookie = "; ".join(f"{c.name}={c.value}" for c in owner_session.cookies).encode()
    headers = [b"Content-Type: multipart/form-data; boundary=x", b"Content-Length: 419430400", b"Cookie: " + cookie]
    reply = raw(site, request_bytes(b"POST", path.encode(), headers, b"--x\r\n"))
    check_raw(site, f"POST {path} signed in, Content-Length: 419430400 (400 MB), 5 bytes sent", reply)
    assert reply.status == 413 and reply.elapsed < 2, f"wanted a prompt 413, got {reply!r}"
    assert_alive(site, f"POST {path} with a 400 MB Content-Length")


# MARK: 5. APIs

DEEP = 10_000

JSON_ROUTES = {
    "POST /articles/": ("POST", "/articles/", {"title": "t", "summary": "s", "body": "b", "slug": "s", "seo_title": "t", "seo_description": "d", "section": "world",
                                               "disclaimer": False, "tags": ["a"], "authors": [1], "image": None}),
    "PUT /articles/{draft}/": ("PUT", "/articles/{draft}/", {"version": 1, "title": "t", "section": "world", "tags": ["a"], "authors": [1], "disclaimer": False}),
    "POST /articles/{draft}/schedule/": ("POST", "/articles/{draft}/schedule/", {"publish_at": "2030-01-01T06:00:00Z"}),
    "POST /articles/{published}/corrections/": ("POST", "/articles/{published}/corrections/", {"kind": "correction", "text": "t"}),
    "POST /tags/": ("POST", "/tags/", {"name": "n"}),
    "POST /sections/": ("POST", "/sections/", {"name": "n"}),
}


def _swap(fields, kind):
    def swapped(value):
        if kind == "numbers for strings":
            return 12345 if isinstance(value, str) or value is None else value
        if kind == "strings for numbers":
            return "true" if isinstance(value, bool) else "1" if isinstance(value, (int, list)) else value
        if kind == "arrays for objects":
            return [value]
        if kind == "objects for everything":
            return {"value": value}
        if kind == "null everywhere":
            return None
        if kind == "huge numbers":
            return 1e308 if isinstance(value, (int, str)) else [99999999999999999999] if isinstance(value, list) else value
        raise AssertionError(kind)
    return {name: swapped(value) for name, value in fields.items()}


JSON_VARIANTS = [
    "numbers for strings", "strings for numbers", "arrays for objects", "objects for everything", "null everywhere", "huge numbers",
    "deeply nested array", "deeply nested object", "deeply nested top level", "10 MB body", "invalid UTF-8", "JSON array", "JSON string", "empty body",
    "truncated JSON", "text/plain", "no content type", "duplicate keys", "NUL in strings",
]
# Well-formed JSON of the right types, only odd: answered as the API sees fit, never with a 5xx.
LENIENT_JSON = {"duplicate keys", "NUL in strings"}


def _json_cases():
    for route, (_, _, fields) in JSON_ROUTES.items():
        has_numbers = any(isinstance(v, (int, bool, list)) for v in fields.values())
        for kind in JSON_VARIANTS:
            if kind == "strings for numbers" and not has_numbers:
                continue  # every field of this route is a string already
            yield pytest.param(route, kind, id=f"{route} [{kind}]")


def json_body(kind, fields):
    first = next(iter(fields))
    if kind in ("numbers for strings", "strings for numbers", "arrays for objects", "objects for everything", "null everywhere", "huge numbers"):
        return "application/json", json.dumps(_swap(fields, kind)).encode().replace(b"1e+308", b"1e400")
    if kind == "deeply nested array":
        return "application/json", (json.dumps(fields)[:-1] + f', "{first}": ' + "[" * DEEP + "]" * DEEP + "}").encode()
    if kind == "deeply nested object":
        return "application/json", ('{"%s": ' % first + '{"a": ' * DEEP + "1" + "}" * DEEP + "}").encode()
    if kind == "deeply nested top level":
        return "application/json", ("[" * DEEP + "]" * DEEP).encode()
    if kind == "10 MB body":
        return "application/json", json.dumps({**fields, first: "x" * (10 * MB)}).encode()
    if kind == "invalid UTF-8":
        return "application/json", b'{"%s": "\xff\xfe\xc0\xae"}' % first.encode()
    if kind == "JSON array":
        return "application/json", json.dumps([fields]).encode()
    if kind == "JSON string":
        return "application/json", b'"just a string"'
    if kind == "empty body":
        return "application/json", b""
    if kind == "truncated JSON":
        return "application/json", json.dumps(fields).encode()[:-3]
    if kind == "duplicate keys":
        return "application/json", (json.dumps(fields)[:-1] + f', "{first}": 5, "{first}": null}}').encode()
    if kind == "NUL in strings":
        return "application/json", json.dumps({k: ("a\u0000b" if isinstance(v, str) else v) for k, v in fields.items()}).encode()
    if kind == "text/plain":
        return "text/plain", json.dumps(fields).encode()
    if kind == "no content type":
        return None, json.dumps(fields).encode()
    raise AssertionError(kind)


@pytest.mark.parametrize("route,kind", list(_json_cases()))
def test_admin_api_with_wrong_json(site, api_key, scratch, route, kind):
    method, path, fields = JSON_ROUTES[route]
    path = path.format(**scratch)
    content_type, body = json_body(kind, fields)
    headers = {"Authorization": f"Bearer {api_key}"} | ({"Content-Type": content_type} if content_type else {})
    # Every one of these is wrong in shape or type: a refusal naming it, nothing saved.
    check_http(site, f"{method} /api/admin{path} [{kind}] Content-Type={content_type}, {len(body)} bytes: {body[:100]!r}",
               lambda: requests.request(method, site.base + "/api/admin" + path, data=body, headers=headers, timeout=TIMEOUT),
               expect="<500" if kind in LENIENT_JSON else "4xx", unwanted=(401,))
    assert_alive(site, f"{method} {path} [{kind}]")


EDGE_VALUES = [
    ("schedule in the year 9999", "POST", "/articles/{draft}/schedule/", {"publish_at": "9999-12-31T23:59:59Z"}),
    ("schedule in the year 0", "POST", "/articles/{draft}/schedule/", {"publish_at": "0000-01-01T00:00:00Z"}),
    ("schedule at month 13", "POST", "/articles/{draft}/schedule/", {"publish_at": "2030-13-45T99:99:99Z"}),
    ("schedule with a 1 MB string", "POST", "/articles/{draft}/schedule/", {"publish_at": "2" * MB}),
    ("version 2^63", "PUT", "/articles/{draft}/", {"version": 9223372036854775807, "title": "t"}),
    ("version -2^63", "PUT", "/articles/{draft}/", {"version": -9223372036854775808, "title": "t"}),
    ("version 1.5", "PUT", "/articles/{draft}/", {"version": 1.5, "title": "t"}),
    ("authors 2^63-1", "POST", "/articles/", {"title": "t", "section": "world", "authors": [9223372036854775807]}),
    ("authors -1", "POST", "/articles/", {"title": "t", "section": "world", "authors": [-1, 0]}),
    ("section id 2^63-1", "POST", "/articles/", {"title": "t", "section": 9223372036854775807}),
    ("media id -1", "POST", "/articles/", {"title": "t", "section": "world", "image": {"media_id": -1}}),
    ("media id of a string", "POST", "/articles/", {"title": "t", "section": "world", "image": {"media_id": "../../masthead.sqlite"}}),
    ("10,000 tags", "POST", "/articles/", {"title": "t", "section": "world", "tags": [f"t{i}" for i in range(10_000)]}),
    ("a 1 MB tag", "POST", "/tags/", {"name": "x" * MB}),
    ("a 1 MB section", "POST", "/sections/", {"name": "x" * MB}),
    ("a tag of control characters", "POST", "/tags/", {"name": "\u0000\u0001\u001b[31m\u202e"}),
    ("a correction kind of 1 MB", "POST", "/articles/{published}/corrections/", {"kind": "k" * MB, "text": "t"}),
    ("3 MB of body", "POST", "/articles/", {"title": "t", "section": "world", "body": "*" * (3 * MB)}),
]


@pytest.mark.parametrize("name,method,path,body", EDGE_VALUES, ids=[e[0] for e in EDGE_VALUES])
def test_admin_api_with_edge_values(site, api_key, scratch, name, method, path, body):
    path = path.format(**scratch)
    check_http(site, f"{method} /api/admin{path} [{name}]",
               lambda: requests.request(method, site.base + "/api/admin" + path, json=body, headers={"Authorization": f"Bearer {api_key}"}, timeout=TIMEOUT + 20),
               expect="<500", unwanted=(401,))
    assert_alive(site, name)


MEDIA_UPLOADS = [
    ("empty body", {"Content-Type": "image/png"}, b"", ""),
    ("not an image", {"Content-Type": "image/png"}, b"this is not a picture" * 100, "?filename=x.png"),
    ("a file name that climbs", {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "?filename=../../masthead.sqlite"),
    ("a PNG header and garbage", {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xff\xff\xff\xff\xff\xff\xff" + b"\x00" * 1000, "?filename=x.png"),
    ("multipart with no file part", *multipart([("alt", "a")]), ""),
    ("multipart cut short", *multipart([("file", b"\x89PNG" * 1000)], cut=-100), ""),
    ("multipart with no boundary", *multipart([("file", b"x")], content_type="multipart/form-data"), ""),
    ("multipart with a 10 KB boundary", *multipart([("file", b"x")], boundary="b" * 10_240), ""),
    ("400 MB announced, a few bytes sent", None, None, ""),
]


@pytest.mark.parametrize("name,headers,body,query", MEDIA_UPLOADS, ids=[m[0] for m in MEDIA_UPLOADS])
def test_admin_api_media_uploads(site, api_key, name, headers, body, query):
    if body is None:
        reply = raw(site, request_bytes(b"POST", b"/api/admin/media/?filename=x.png", [b"Authorization: Bearer " + api_key.encode(),
                                                                                       b"Content-Type: image/png", b"Content-Length: 419430400"], b"\x89PNG"))
        check_raw(site, "POST /api/admin/media/ Content-Length: 419430400, 4 bytes sent", reply, unwanted=(401,))
        assert reply.elapsed < 2, f"the refusal took {reply.elapsed:.1f} s: {reply!r}"
    else:
        check_http(site, f"POST /api/admin/media/{query} [{name}] {len(body)} bytes",
                   lambda: requests.post(site.base + "/api/admin/media/" + query, data=body, headers={"Authorization": f"Bearer {api_key}", **headers}, timeout=TIMEOUT),
                   unwanted=(401,))
    assert not any(p.parent != site.data for p in site.data.rglob("masthead.sqlite*")), "an upload was stored under the database's name"
    leftovers = _spooled_leftovers(site)
    assert not leftovers, f"POST /api/admin/media/ [{name}] left spooled uploads behind: {leftovers}"
    assert_alive(site, name)


BODILESS = ["POST /articles/{draft}/publish/", "POST /articles/{draft}/unpublish/", "POST /articles/{draft}/submit/", "DELETE /articles/999999/"]


@pytest.mark.parametrize("route", BODILESS)
@pytest.mark.parametrize("kind", ["deeply nested top level", "invalid UTF-8", "10 MB body", "JSON array"])
def test_admin_api_routes_without_a_body_ignore_garbage(site, api_key, scratch, route, kind):
    method, path = route.split(" ")
    path = path.format(**scratch)
    content_type, body = json_body(kind, {"x": 1})
    check_http(site, f"{method} /api/admin{path} with a body [{kind}]", lambda: requests.request(
        method, site.base + "/api/admin" + path, data=body, headers={"Authorization": f"Bearer {api_key}", "Content-Type": content_type}, timeout=TIMEOUT),
        expect="<500", unwanted=(401,))
    assert_alive(site, f"{route} [{kind}]")


ADMIN_API_ODDITIES = [
    ("PATCH articles", "PATCH", "/articles/"), ("DELETE articles", "DELETE", "/articles/"), ("PUT tags", "PUT", "/tags/"),
    ("POST an article id", "POST", "/articles/{draft}/"), ("GET publish", "GET", "/articles/{draft}/publish/"),
    ("id that is not a number", "GET", "/articles/abc/"), ("id of 30 digits", "GET", "/articles/" + "9" * 30 + "/"),
    ("negative id", "GET", "/articles/-1/"), ("id with a NUL", "GET", "/articles/1%00/"), ("unknown route", "GET", "/secrets/"),
    ("status=bogus", "GET", "/articles/?status=bogus"), ("limit=-5&page=-1", "GET", "/articles/?limit=-5&page=-1"),
    ("page of 30 digits", "GET", "/articles/?page=" + "9" * 30), ("media search of 60 KB", "GET", "/media/?search=" + "%25" * 20_000),
]


@pytest.mark.parametrize("name,method,path", ADMIN_API_ODDITIES, ids=[o[0] for o in ADMIN_API_ODDITIES])
def test_admin_api_odd_methods_and_addresses(site, api_key, scratch, name, method, path):
    path = path.format(**scratch)
    expect = "<500" if path.startswith("/articles/?") or path.startswith("/media/?") else "4xx"
    check_http(site, f"{method} /api/admin{path}", lambda: requests.request(
        method, site.base + "/api/admin" + path, headers={"Authorization": f"Bearer {api_key}"}, timeout=TIMEOUT), expect=expect, unwanted=(401,))
    assert_alive(site, name)


BAD_AUTHORIZATIONS = [
    ("none", None), ("empty", b""), ("Bearer and nothing", b"Bearer "), ("wrong key", b"Bearer mh_" + b"A" * 43), ("Basic", b"Basic YWRtaW46YWRtaW4="),
    ("60 KB key", b"Bearer " + b"k" * 60_000), ("SQL", b"Bearer ' OR 1=1 --"), ("non-UTF-8", b"Bearer \xff\xfe\xfd"), ("tab inside", b"Bearer\tmh_abc"),
    ("two keys", b"Bearer mh_a, Bearer mh_b"),
]


@pytest.mark.parametrize("name,value", BAD_AUTHORIZATIONS, ids=[b[0] for b in BAD_AUTHORIZATIONS])
@pytest.mark.parametrize("route", ["GET /api/admin/articles/", "POST /api/admin/articles/", "DELETE /api/admin/articles/1/"])
def test_admin_api_refuses_bad_keys(site, route, name, value):
    method, path = route.split(" ")
    headers = [b"Content-Type: application/json", b"Content-Length: 2"] + ([b"Authorization: " + value] if value is not None else [])
    reply = raw(site, request_bytes(method.encode(), path.encode(), headers, b"{}"))
    check_raw(site, f"{route} with Authorization [{name}]", reply)
    assert reply.status in (400, 401), f"wanted 401 (or 400 for bytes HTTP forbids), got {reply!r}"
    assert_alive(site, name)


CONTENT_KEYS = [("missing", ""), ("empty", "key="), ("wrong", "key=" + "0" * 26), ("10 KB", "key=" + "a" * 10_000), ("SQL", "key=" + urllib.parse.quote("' OR 1=1 --")),
                ("NUL", "key=%00"), ("invalid UTF-8", "key=%ff%fe"), ("two keys, bad first", "key=bad&key={key}"), ("percent garbage", "key=%zz")]


@pytest.mark.parametrize("name,query", CONTENT_KEYS, ids=[k[0] for k in CONTENT_KEYS])
@pytest.mark.parametrize("route", ["posts", "posts/1", "posts/slug/x", "tags", "authors", "pages", "sections", "search"])
def test_content_api_refuses_bad_keys(site, content_key, route, name, query):
    target = f"/api/content/{route}/?{query.format(key=content_key)}&q=port"
    reply = raw(site, request_bytes(b"GET", target.encode()))
    check_raw(site, f"GET {target[:120]}", reply)
    assert reply.status == 401, f"wanted 401, got {reply!r}"
    assert_alive(site, name)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "BREW", "PROPFIND"])
@pytest.mark.parametrize("route", ["posts", "posts/1", "tags", "search"])
def test_content_api_refuses_other_methods(site, content_key, route, method):
    reply = raw(site, request_bytes(method.encode(), f"/api/content/{route}/?key={content_key}".encode(),
                                    [b"Content-Type: application/json", b"Content-Length: 2"], b"{}"))
    check_raw(site, f"{method} /api/content/{route}/?key=KEY", reply, unwanted=(401,))
    assert_alive(site, f"{method} {route}")


# MARK: 6. Garbage cookies


@pytest.fixture(scope="module")
def ordinary_pages(site, content_key):
    ensure_running(site)  # module fixtures are made before the per-test check
    posts = requests.get(f"{site.base}/api/content/posts/?key={content_key}&limit=1&fields=url", timeout=TIMEOUT).json()["posts"]
    article = urllib.parse.urlsplit(posts[0]["url"]).path
    return ["/", article, "/world/", "/search/?q=port", "/consent/", "/tips/", "/admin/login/"]


COOKIE_VALUES = [
    ("4 KB", b"x" * 4096), ("60 KB", b"x" * 60_000), ("non-UTF-8 bytes", b"\xff\xfe\xc0\xae\xed\xa0\x80"), ("tab", b"a\tb"),
    ("percent-encoded control characters", b"%00%01%1b%7f%0d%0a"), ("quotes", b'"v1.1.none.abcdefgh"'), ("equals and semicolons", b"a=b=c;;;=;"),
    ("consent from the far future", b"v1.9223372036854775807.analytics-media.abcdefgh12"),
    ("consent from the far past", b"v1.-9223372036854775808.none.abcdefgh12"), ("consent version of 30 digits", b"v" + b"9" * 30 + b".1.none.abcdefgh12"),
    ("consent granting 3,000 categories", b"v1.1700000000." + b"-".join(b"c%d" % i for i in range(3000)) + b".abcdefgh12"),
    ("consent with empty parts", b"v..."), ("consent id with unicode", "v1.1700000000.none.ababababé".encode()),
    ("a session token of 10 KB", b"s" * 10_000),
]


@pytest.mark.parametrize("name,value", COOKIE_VALUES, ids=[c[0] for c in COOKIE_VALUES])
@pytest.mark.parametrize("cookie", ["masthead_consent", "masthead_session", "masthead_signin"])
def test_garbage_cookies_still_get_the_page(site, ordinary_pages, cookie, name, value):
    # A header line over 16 KB is refused whole (400) before any page code sees it.
    expect = "4xx" if len(value) > 16 * 1024 else "200"
    for path in ordinary_pages:
        reply = raw(site, request_bytes(b"GET", path.encode(), [b"Cookie: " + cookie.encode() + b"=" + value]))
        check_raw(site, f"GET {path} with Cookie: {cookie}=<{name}> ({len(value)} bytes)", reply, expect=expect)
    assert_alive(site, f"cookie {cookie} [{name}]")


def test_set_password_page_with_a_garbage_sign_in_cookie(site, scratch):
    """The invitation page, like the sign-in page, takes its form token from the sign-in cookie."""
    path = scratch["invite_path"]
    reply = raw(site, request_bytes(b"GET", path.encode(), [b"Cookie: masthead_signin=a\tb"]))
    check_raw(site, f"GET {path} (an open invitation) with Cookie: masthead_signin=a<TAB>b", reply, expect="200")
    assert_alive(site, "a garbage sign-in cookie on the invitation page")


GARBAGE_HEADERS = [
    ("the same cookie 100 times", [b"Cookie: " + b"; ".join(b"masthead_consent=v1.%d.none.abcdefgh12" % i for i in range(100))]),
    ("ten Cookie headers", [b"Cookie: masthead_session=x%d" % i for i in range(10)]),
    ("cookie without a name", [b"Cookie: =abc; =; ;"]),
    ("Referer of 8 KB", [b"Referer: http://" + b"r" * 8000 + b".example/"]),
    ("Referer that is not a URL", [b"Referer: \xff\xfe not a url"]),
    ("User-Agent of 8 KB", [b"User-Agent: Mozilla/5.0 " + b"u" * 8000]),
    ("Sec-GPC and DNT garbage", [b"Sec-GPC: " + b"1" * 1000, b"DNT: \xff"]),
    ("Accept garbage", [b"Accept: " + b"image/avif;q=abc," * 500]),
    ("Accept-Encoding garbage", [b"Accept-Encoding: " + b"gzip;q=2," * 500]),
    ("If-None-Match of 8 KB", [b"If-None-Match: " + b'"x",' * 2000]),
    ("If-Modified-Since garbage", [b"If-Modified-Since: yesterday at noon"]),
    ("Range garbage", [b"Range: bytes=-1-2,99999999999999999999-"]),
]


@pytest.mark.parametrize("name,headers", GARBAGE_HEADERS, ids=[g[0] for g in GARBAGE_HEADERS])
def test_garbage_headers_still_get_the_page(site, ordinary_pages, name, headers):
    for path in ordinary_pages:
        reply = raw(site, request_bytes(b"GET", path.encode(), headers))
        check_raw(site, f"GET {path} with [{name}]", reply, expect="<500")
        assert reply.status in (200, 304), f"wanted the page (200) for GET {path} with [{name}], got {reply!r}"
    assert_alive(site, name)


@pytest.mark.parametrize("value", [b"\x01", b"\x7f", b"\x1b[31m"], ids=["SOH", "DEL", "escape sequence"])
def test_raw_control_characters_in_cookies(site, value):
    """Raw control characters are not allowed in a header field (RFC 9110 section 5.5) and no browser
    sends them: the HTTP layer may refuse them (400) or the page may ignore them (200); never a 5xx."""
    for cookie in ("masthead_consent", "masthead_session"):
        reply = raw(site, request_bytes(b"GET", b"/", [b"Cookie: " + cookie.encode() + b"=a" + value + b"b"]))
        check_raw(site, f"GET / with Cookie: {cookie}=a{value!r}b", reply, expect="<500")
        assert reply.status in (200, 400), reply
    assert_alive(site, "control characters in cookies")


def test_nothing_in_the_data_folder_is_reachable_by_its_own_name(site):
    """Every file under the data folder, asked for under every folder the site serves, is not served."""
    prefixes = ["/", "/media/", "/media/../", "/assets/../../", "/admin/assets/../../", "/img/-/w320/../../"]
    # A file of the operator's own beside the site's (on PostgreSQL the folder may hold no other).
    (site.data / "operator-notes.txt").write_text("not for readers\n")
    tried = 0
    for path in sorted(site.data.rglob("*")):
        if path.is_dir() or "media" in path.relative_to(site.data).parts[:1]:
            continue
        relative = path.relative_to(site.data).as_posix()
        for prefix in prefixes:
            reply = raw(site, request_bytes(b"GET", (prefix + relative).encode()))
            check_raw(site, f"GET {prefix + relative}", reply, expect="<500")
            if 300 <= reply.status < 400:  # e.g. to the address with a trailing slash: follow it once
                followed = urllib.parse.urlsplit(urllib.parse.urljoin(site.base + prefix + relative, reply.headers["location"]))
                reply = raw(site, request_bytes(b"GET", (followed.path + ("?" + followed.query if followed.query else "")).encode()))
                check_raw(site, f"GET {prefix + relative} (after its redirect)", reply, expect="<500")
            assert reply.status != 200, f"GET {prefix + relative} served a data-folder file: {reply!r}"
            tried += 1
    assert tried >= 6, "the data folder holds no files?"
    assert_alive(site, "asking for data-folder files")
