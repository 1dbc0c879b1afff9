#!/usr/bin/env python3
"""The driving half of bench/soak.sh (Python standard library only).

    soak_probe.py admin-key BASE --email E --password P    signs in through the newsroom's form and makes an
                                                           Admin API key on the account page; prints it
    soak_probe.py images BASE ARTICLES OUT [--max N] [--variants V]
                                                           writes up to V signed /img/ addresses from the home page
                                                           and N article pages to OUT, each requested once
    soak_probe.py run BASE --pid PID --lua FILE --rate R --duration S ...
                                                           the soak: wrk with FILE (a mixed read load paced at R
                                                           requests/s) in intervals, writes and forms from threads
                                                           of its own, the server's VmRSS sampled every second;
                                                           prints a row per interval and a summary (see soak.sh)

Exit status: 0 fine, 1 the soak failed (see the summary), 3 a 5xx answer, 4 another answer that is not the
expected one, 5 the server did not answer."""
import argparse
import http.client
import http.cookiejar
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def fail(code, message):
    print(f"soak_probe: {message}", file=sys.stderr)
    sys.exit(code)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One browser-like client: its own cookies, no redirects followed, an optional X-Forwarded-For
    (the server trusts 127.0.0.1 as a proxy in the soak, so each fake address has limits of its own)."""

    def __init__(self, base, forwarded_for=None, timeout=60):
        self.base = base
        self.headers = {"User-Agent": "masthead-soak"}
        if forwarded_for:
            self.headers["X-Forwarded-For"] = forwarded_for
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def call(self, method, path, data=None, headers=None):
        """(status, headers, body text); a failure to connect or read is status 0."""
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={**self.headers, **(headers or {})})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            return 0, {}, f"{type(error).__name__}: {error}"

    def form(self, path, fields):
        return self.call("POST", path, urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def sign_in(client, email, password):
    """Signs in through /admin/login/; None when it worked, else what went wrong."""
    status, _, page = client.call("GET", "/admin/login/")
    token = CSRF_FIELD.search(page)
    if status != 200 or not token:
        return status, f"GET /admin/login/ answered {status} without a form"
    status, headers, body = client.form("/admin/login/", {"csrf": token.group(1), "email": email, "password": password})
    if status != 303:
        return status, f"POST /admin/login/ answered {status}: {body[:200]}"
    return None


# --- admin-key --------------------------------------------------------------------------------------

def admin_key(args):
    client = Client(args.base)
    problem = sign_in(client, args.email, args.password)
    if problem:
        fail(3 if problem[0] >= 500 else 4, problem[1])
    status, _, page = client.call("GET", "/admin/account/")
    token = CSRF_FIELD.search(page)
    if status != 200 or not token:
        fail(4, f"GET /admin/account/ answered {status} without a form")
    status, _, page = client.form("/admin/account/keys/", {"csrf": token.group(1), "name": "soak", "password": args.password})
    key = re.search(r'aria-label="New API key" value="([^"]+)"', page)
    if status != 200 or not key:
        fail(3 if status >= 500 else 4, f"POST /admin/account/keys/ answered {status} without a key")
    print(key.group(1))


# --- images ---------------------------------------------------------------------------------------

def images(args):
    client = Client(args.base, timeout=120)
    with open(args.articles) as handle:
        pages = ["/"] + [line.strip() for line in handle if line.strip()][: args.max]
    found = []
    for page in pages:
        status, _, body = client.call("GET", page)
        if status != 200:
            fail(3 if status >= 500 else 4, f"{page} answered {status}")
        for address in re.findall(r'/img/[A-Za-z0-9_-]+/[^"\s,]+', body):
            if address not in found:
                found.append(address)
    # Spread over the pages (the home page alone has dozens), at most --variants of them.
    found = found[:: max(1, len(found) // args.variants)][: args.variants]
    for address in found:   # made once here, so the soak reads the variant cache
        status, _, _ = client.call("GET", address)
        if status != 200:
            fail(3 if status >= 500 else 4, f"{address} answered {status}")
    with open(args.out, "w") as handle:
        handle.writelines(a + "\n" for a in found)
    print(len(found))


# --- run: side actions ------------------------------------------------------------------------------

def png(width, height, seed):
    """A small real PNG (a gradient), for tip attachments."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 255 // width + seed) % 256, y * 255 // height, 120))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))


def multipart(fields, files):
    boundary = f"soak{random.getrandbits(64):016x}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, kind, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Side:
    """What wrk cannot do, each on a thread of its own at a slow fixed pace: consent choices, newsroom
    sign-ins, tips, and stories written and published through the Admin API (so pages are forgotten
    and made again during the soak). Each action counts as ok or failed; failures are kept to show."""

    ADDRESSES = [f"198.51.100.{n}" for n in range(1, 65)] + [f"203.0.113.{n}" for n in range(1, 65)]

    def __init__(self, args, words, sections):
        self.args = args
        self.words = words or ["harbour", "council", "river"]
        self.sections = sections or ["world"]
        self.lock = threading.Lock()
        self.counts = {}       # action → [ok, failed]
        self.fivexx = 0
        self.failures = []     # the first few, to show
        self.stop = threading.Event()
        self.rng = random.Random(7)
        self.address_turn = 0
        self.written = []      # (id, version, path) of published soak stories

    def address(self):
        with self.lock:
            self.address_turn += 1
            return self.ADDRESSES[self.address_turn % len(self.ADDRESSES)]

    def record(self, action, ok, status=None, message=""):
        with self.lock:
            counts = self.counts.setdefault(action, [0, 0])
            counts[0 if ok else 1] += 1
            if not ok:
                if status and status >= 500:
                    self.fivexx += 1
                if len(self.failures) < 20:
                    self.failures.append(f"{action}: {message}"[:300])

    def totals(self):
        with self.lock:
            return sum(c[0] for c in self.counts.values()), sum(c[1] for c in self.counts.values()), self.fivexx

    def expect(self, action, result, wanted, path):
        status, headers, body = result
        ok = status in wanted
        if not ok:
            where = f" to {headers.get('Location')}" if 300 <= status < 400 else ""
            self.record(action, False, status, f"{path} answered {status or 'nothing'}{where} (wanted {'/'.join(map(str, wanted))}): {body[:160]!r}")
        return ok

    STALE_S = 5.0

    def eventually(self, call, done):
        """call() until done(answer), for up to STALE_S seconds; the last answer."""
        deadline = time.monotonic() + self.STALE_S
        while True:
            answer = call()
            if done(answer) or time.monotonic() > deadline:
                return answer
            time.sleep(0.1)

    def sentence(self, n):
        return " ".join(self.rng.choice(self.words) for _ in range(n)).capitalize()

    # The actions ----------------------------------------------------------------------------------
    def consent(self, turn):
        client = Client(self.args.base, self.address())
        choice = ("accept", "reject")[turn % 2]
        result = client.form("/consent/", {"choice": choice, "return": "/"})
        if self.expect("consent", result, (303,), "POST /consent/"):
            self.record("consent", True)

    def sign_in(self, turn):
        client = Client(self.args.base, self.address())
        problem = sign_in(client, self.args.email, self.args.password)
        if problem:
            self.record("sign-in", False, problem[0], problem[1])
            return
        result = client.call("GET", "/admin/articles/")
        if not self.expect("sign-in", result, (200,), "GET /admin/articles/"):
            return
        token = CSRF_FIELD.search(result[2])
        result = client.form("/admin/logout/", {"csrf": token.group(1) if token else ""})
        if self.expect("sign-in", result, (303,), "POST /admin/logout/"):
            self.record("sign-in", True)

    def tip(self, turn):
        client = Client(self.args.base, self.address())
        result = client.call("GET", "/tips/")
        token = re.search(r'name="token" value="([^"]+)"', result[2])
        if not self.expect("tip", result, (200,), "GET /tips/"):
            return
        if not token:
            self.record("tip", False, result[0], "GET /tips/ has no form token (is the tip line open?)")
            return
        files = [("files", "photo.png", "image/png", png(64, 48, turn))] if turn % 2 else []
        body, kind = multipart({"token": token.group(1), "message": self.sentence(30), "contact": ""}, files)
        result = client.call("POST", "/tips/", body, {"Content-Type": kind})
        if not self.expect("tip", result, (200,), "POST /tips/"):
            return
        if 'class="tips__receipt"' not in result[2]:
            self.record("tip", False, result[0], "POST /tips/ answered 200 without a receipt")
            return
        self.record("tip", True)

    def write(self, turn):
        """Create and publish a story; every third turn also edit an earlier one, every fifth take one down."""
        client = Client(self.args.base)
        headers = {"Authorization": "Bearer " + self.args.api_key, "Content-Type": "application/json"}

        def api(method, path, payload=None):
            data = json.dumps(payload).encode() if payload is not None else None
            status, response_headers, text = client.call(method, path, data, headers)
            try:
                parsed = json.loads(text) if text else {}
            except ValueError:
                parsed = {}
            return (status, response_headers, text), parsed

        title = f"Soak {turn}: {self.sentence(self.rng.randint(4, 8))}"
        body = "\n\n".join(self.sentence(self.rng.randint(20, 40)) + "." for _ in range(4))
        result, created = api("POST", "/api/admin/articles/", {
            "title": title, "section": self.rng.choice(self.sections), "body": body, "summary": self.sentence(12) + ".",
            "tags": ["Soak test"]})
        if not self.expect("write", result, (201,), "POST /api/admin/articles/"):
            return
        article = created["articles"][0]
        result, published = api("POST", f"/api/admin/articles/{article['id']}/publish")
        if not self.expect("write", result, (200,), "POST …/publish"):
            return
        story = published["articles"][0]
        path = f"/{story['section']['slug']}/{story['slug']}/"
        result = client.call("GET", path)
        if not self.expect("write", result, (200,), f"GET {path} after publishing"):
            return
        # Pages are forgotten by a watcher that polls the store (every 250 ms): soon, not at once.
        home = self.eventually(lambda: client.call("GET", "/"), lambda r: r[0] != 200 or story["slug"] in r[2])
        if not self.expect("write", home, (200,), "GET /"):
            return
        if story["slug"] not in home[2]:
            self.record("write", False, 200, f"the home page does not list {path} {self.STALE_S:g} s after it was published")
            return
        self.written.append((story["id"], story.get("version", 1), path))
        if turn % 3 == 2 and len(self.written) >= 2:
            number, version, old = self.written[-2]
            result, edited = api("PUT", f"/api/admin/articles/{number}/", {"summary": self.sentence(10) + ".", "version": version})
            if not self.expect("write", result, (200,), f"PUT /api/admin/articles/{number}/"):
                return
            self.written[-2] = (number, edited["articles"][0].get("version", version + 1), old)
        if turn % 5 == 4 and len(self.written) >= 3:
            number, _, old = self.written.pop(0)
            result, _ = api("POST", f"/api/admin/articles/{number}/unpublish")
            if not self.expect("write", result, (200,), f"POST /api/admin/articles/{number}/unpublish"):
                return
            result = self.eventually(lambda: client.call("GET", old), lambda r: r[0] != 200)
            if not self.expect("write", result, (404, 410), f"GET {old} {self.STALE_S:g} s after taking it down"):
                return
        self.record("write", True)

    def loop(self, name, action, every, offset):
        if self.stop.wait(offset):
            return
        turn = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            try:
                action(turn)
            except Exception as error:  # a bug here must not end the soak silently
                self.record(name, False, None, f"{type(error).__name__}: {error}")
            turn += 1
            next_at += every
            if self.stop.wait(max(0.0, next_at - time.monotonic())):
                return

    def start(self, schedule):
        self.threads = [threading.Thread(target=self.loop, args=(name, getattr(self, name.replace("-", "_")), every, offset), daemon=True)
                        for name, every, offset in schedule]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)


# --- run: memory ---------------------------------------------------------------------------------

def server_state(pid):
    """(alive, VmRSS in kB or None)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            status = handle.read()
    except OSError:
        return False, None
    state = re.search(r"^State:\s+(\S)", status, re.M)
    rss = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
    if state and state.group(1) in "ZX":
        return False, None
    return True, int(rss.group(1)) if rss else None


class Sampler(threading.Thread):
    def __init__(self, pid, started):
        super().__init__(daemon=True)
        self.pid, self.started = pid, started
        self.samples = []   # (seconds since the soak began, kB)
        self.alive = True
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            alive, kb = server_state(self.pid)
            if not alive:
                self.alive = False
                return
            if kb:
                self.samples.append((time.monotonic() - self.started, kb))
            self.stop.wait(1.0)

    def median(self, start, end):
        values = [kb for t, kb in self.samples if start <= t <= end]
        return statistics.median(values) if values else None


# --- run: the soak --------------------------------------------------------------------------------

def run_wrk(args, seconds, rate):
    env = dict(os.environ, SOAK_RATE=f"{rate:.3f}", SOAK_THREADS=str(args.threads))
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "30s", "-s", args.lua, args.base]
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    line = next((l for l in finished.stdout.splitlines() if l.startswith("SOAK ")), None)
    if finished.returncode != 0 or not line:
        return None, (finished.stderr or finished.stdout).strip()[-500:]
    return {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}, ""


def mb(kb):
    return kb / 1024


def run(args):
    lists = args.lists
    words = [w.strip() for w in open(os.path.join(lists, "words.txt")) if w.strip()]
    sections = [s.strip().strip("/") for s in open(os.path.join(lists, "sections.txt")) if s.strip()]
    side = Side(args, words, sections)
    every = 0.5 if args.smoke else 1.0
    schedule = [("consent", 2 * every, 0.3), ("sign-in", 15 * every, 1.1), ("tip", 20 * every, 0.7)]
    if args.api_key:
        schedule.append(("write", 5 * every, 0.5))
    print(f"# side actions: " + ", ".join(f"{name} every {period:g} s" for name, period, _ in schedule)
          + ("" if args.api_key else " (no Admin API key: no writes)"))

    started = time.monotonic()
    sampler = Sampler(args.pid, started)
    sampler.start()
    side.start(schedule)
    header = f"{'time':>6} {'RSS MB':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>8} {'non-2/3xx':>9} {'5xx':>5} {'sock err':>8} {'side ok':>7} {'side fail':>9}"
    print(header)
    print("-" * len(header))
    totals = {"requests": 0, "c4": 0, "c5": 0, "errors": 0, "status": 0}
    rows, wrk_problem, elapsed = [], "", 0.0
    side_before = (0, 0, 0)
    while elapsed < args.duration - 0.5 and sampler.alive:
        seconds = max(1, round(min(args.interval, args.duration - elapsed)))
        stats, wrk_problem = run_wrk(args, seconds, args.rate)
        elapsed = time.monotonic() - started
        alive, kb = server_state(args.pid)
        if stats is None or not alive:
            break
        errors = stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
        for key, value in (("requests", stats["requests"]), ("c4", stats["c4"]), ("c5", stats["c5"]), ("errors", errors), ("status", stats["status"])):
            totals[key] += value
        side_now = side.totals()
        rate = stats["requests"] / (stats["duration_us"] / 1e6) if stats["duration_us"] else 0
        rows.append({"t": elapsed, "rss": kb, "rate": rate, "p99": stats["p99_us"] / 1000})
        print(f"{elapsed:6.0f} {mb(kb or 0):7.1f} {rate:8.1f} {stats['p50_us'] / 1000:7.2f} {stats['p99_us'] / 1000:8.2f} "
              f"{stats['status']:9.0f} {stats['c5']:5.0f} {errors:8.0f} {side_now[0] - side_before[0]:7d} {side_now[1] - side_before[1]:9d}", flush=True)
        side_before = side_now
    side.finish()
    sampler.stop.set()
    sampler.join(timeout=5)
    alive, _ = server_state(args.pid)
    elapsed = time.monotonic() - started

    # --- The summary -------------------------------------------------------------------------------
    print()
    problems = []
    if not alive:
        problems.append("the server died")
    if wrk_problem:
        problems.append(f"wrk failed: {wrk_problem}")
    samples = sampler.samples
    window = max(args.interval, min(60.0, args.duration / 10))
    start_kb = samples[0][1] if samples else None
    peak_kb = max((kb for _, kb in samples), default=None)
    warm_kb = sampler.median(args.warmup, args.warmup + window)
    mid_kb = sampler.median(elapsed / 2 - window / 2, elapsed / 2 + window / 2)
    end_kb = sampler.median(elapsed - window, elapsed)
    if None in (start_kb, warm_kb, mid_kb, end_kb):
        print(f"RSS: too few samples ({len(samples)}) to judge memory")
        if not args.smoke:
            problems.append("too few memory samples")
    else:
        print(f"RSS: idle {args.idle_rss_kb / 1024:.1f} MB, soak start {mb(start_kb):.1f} MB, after warm-up ({args.warmup:g} s) "
              f"{mb(warm_kb):.1f} MB, peak {mb(peak_kb):.1f} MB, end {mb(end_kb):.1f} MB (medians over {window:g} s)")
        growth = end_kb - warm_kb
        percent = 100 * growth / warm_kb
        over = percent > args.rss_max_percent and mb(growth) > args.rss_min_mb
        verdict = "not judged (smoke)" if args.smoke else ("TOO MUCH" if over else "ok")
        print(f"RSS growth after warm-up: {mb(growth):+.1f} MB ({percent:+.1f}%); fails above +{args.rss_max_percent:g}% "
              f"and +{args.rss_min_mb:g} MB: {verdict}")
        half_hours = (elapsed / 2) / 3600
        second = end_kb - mid_kb
        print(f"RSS growth over the second half: {mb(second):+.1f} MB ({100 * second / mid_kb:+.1f}%, "
              f"{100 * second / mid_kb / half_hours:+.1f} %/hour extrapolated)")
        if over and not args.smoke:
            problems.append(f"resident memory grew {mb(growth):.1f} MB ({percent:.1f}%) after warm-up")
    achieved = totals["requests"] / elapsed if elapsed else 0
    print(f"requests: {totals['requests']:.0f} from wrk ({achieved:.1f}/s against a target of {args.rate:.1f}/s"
          + (f"; p99 at most {max(r['p99'] for r in rows):.2f} ms in an interval" if rows else "") + ")")
    counts = ", ".join(f"{name} {ok}" + (f" ({failed} failed)" if failed else "") for name, (ok, failed) in sorted(side.counts.items()))
    side_ok, side_failed, side_5xx = side.totals()
    print(f"side actions: {side_ok} ok, {side_failed} failed: {counts or 'none'}")
    fivexx = totals["c5"] + side_5xx
    print(f"failed: {totals['status']:.0f} wrk answers not 2xx/3xx ({totals['c4']:.0f} 4xx, {totals['c5']:.0f} 5xx), "
          f"{totals['errors']:.0f} socket errors or timeouts, {side_failed} side actions ({side_5xx} 5xx); 5xx in all: {fivexx:.0f}")
    for failure in side.failures[:10]:
        print(f"  {failure}")
    if fivexx:
        problems.append(f"{fivexx:.0f} answers were 5xx")
    if totals["status"] - totals["c5"] or totals["errors"] or side_failed - side_5xx:
        problems.append("some requests failed")
    if rows and achieved < 0.9 * args.rate:
        print(f"# NOTE: the load reached {achieved:.1f}/s, under 90% of its target: the server or this machine could not keep up")
    print(f"verdict: {'FAIL: ' + '; '.join(problems) if problems else 'PASS'}")
    sys.exit(1 if problems else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("admin-key")
    command.add_argument("base")
    command.add_argument("--email", required=True)
    command.add_argument("--password", required=True)
    command.set_defaults(run=admin_key)
    command = commands.add_parser("images")
    command.add_argument("base")
    command.add_argument("articles")
    command.add_argument("out")
    command.add_argument("--max", type=int, default=40, help="article pages to read")
    command.add_argument("--variants", type=int, default=400, help="image addresses to keep")
    command.set_defaults(run=images)
    command = commands.add_parser("run")
    command.add_argument("base")
    command.add_argument("--pid", type=int, required=True)
    command.add_argument("--lua", required=True)
    command.add_argument("--lists", required=True, help="the folder of address lists (words.txt, sections.txt, …)")
    command.add_argument("--rate", type=float, required=True, help="wrk requests/s")
    command.add_argument("--duration", type=float, required=True)
    command.add_argument("--interval", type=float, default=30)
    command.add_argument("--warmup", type=float, default=180)
    command.add_argument("--threads", type=int, default=2)
    command.add_argument("--connections", type=int, default=16)
    command.add_argument("--email", required=True)
    command.add_argument("--password", required=True)
    command.add_argument("--api-key", default="")
    command.add_argument("--idle-rss-kb", type=float, default=0)
    command.add_argument("--rss-max-percent", type=float, default=10)
    command.add_argument("--rss-min-mb", type=float, default=10)
    command.add_argument("--smoke", action="store_true")
    command.set_defaults(run=run)
    args = parser.parse_args()
    try:
        args.run(args)
    except KeyboardInterrupt:
        fail(130, "interrupted")


if __name__ == "__main__":
    main()
