"""Fixtures for the site tests: a real Masthead server on loopback with the demo newsroom,
the command-line tool against the same data folder, and headless Chromium."""
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest
import requests
from selenium import webdriver

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("MASTHEAD_BIN", ROOT / ".build/debug/masthead"))
# A PostgreSQL server to run the sites on (scripts/with-postgres.sh sets it); SQLite files otherwise.
POSTGRES = os.environ.get("MASTHEAD_TEST_POSTGRES_URL") or None
sqlite_only = pytest.mark.skipif(POSTGRES is not None, reason="reads or breaks the site's SQLite file")


def postgres(sql, url=POSTGRES):
    """Runs one statement on the test PostgreSQL server with psql."""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True, text=True)


def new_postgres_database():
    """A new, empty database on the test server; returns its URL."""
    name = "masthead_site_" + os.urandom(8).hex()
    postgres(f'CREATE DATABASE "{name}"')
    return re.sub(r"/postgres(\?|$)", f"/{name}\\1", POSTGRES, count=1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningSite:
    def __init__(self, directory, database_url="new", data=None):
        """A site in `directory`: its data folder there (or `data`, shared with another instance)
        and a new database on the test PostgreSQL server when there is one (or `database_url`;
        None for an SQLite file in the data folder)."""
        self.directory = Path(directory)
        self.data = Path(data) if data else self.directory / "data"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.directory / "server.log"
        self.process = None
        self.owns_database = database_url == "new" and POSTGRES is not None
        self.database_url = new_postgres_database() if self.owns_database else (None if database_url == "new" else database_url)

    def start(self):
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--data-dir", str(self.data), "--port", str(self.port), "--demo-if-empty"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=self.env())
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"masthead exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        raise RuntimeError("masthead did not answer /healthz within 180 s")

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_") or k == "MASTHEAD_CHECK_TEMPLATES"}
        env["MASTHEAD_BASE_URL"] = self.base
        # The webhook tests' receiver listens on loopback, which sites refuse by default.
        env["MASTHEAD_WEBHOOKS_ALLOW_PRIVATE"] = "true"
        if self.database_url:
            env["MASTHEAD_DATABASE_URL"] = self.database_url
            env["MASTHEAD_SECRET"] = "a secret for the tests, shared by their instances"
        return env

    def query(self, sql):
        """The rows of one SELECT on the site's database, whichever engine it is on."""
        if not self.database_url:
            with sqlite3.connect(self.data / "masthead.sqlite") as db:
                return db.execute(sql).fetchall()
        out = subprocess.run(["psql", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", self.database_url, "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(int(v) if re.fullmatch(r"-?\d+", v) else v for v in line.split("\t")) for line in out.splitlines()]

    def database_bytes(self):
        """Everything the site's database holds, as bytes (the file, or a dump of the database)."""
        if not self.database_url:
            return (self.data / "masthead.sqlite").read_bytes()
        return subprocess.run(["pg_dump", "--data-only", self.database_url], check=True, capture_output=True).stdout

    def drop_database(self):
        if self.database_url and self.owns_database:
            name = self.database_url.split("/")[-1].split("?")[0]
            postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            finally:
                self.log.close()
        return self.process.returncode if self.process else None

    def cli(self, *args, input=None):
        """Runs `masthead ARGS --data-dir DATA` as an operator would, while the server runs."""
        return subprocess.run(
            [str(BINARY), *args, "--data-dir", str(self.data)], cwd=ROOT, capture_output=True, text=True,
            env=self.env(), timeout=120, input=input)

    def get(self, path, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8")


def serving_site(prefix="masthead-site-"):
    """A demo newsroom served from a folder of its own for as long as the generator runs; checks
    that it shuts down cleanly. Fixtures of any scope build on it."""
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build` first (make test does)")
    directory = tempfile.mkdtemp(prefix=prefix)
    running = RunningSite(directory)
    running.start()
    yield running
    code = running.stop()
    log = running.log_path.read_text()
    running.drop_database()
    shutil.rmtree(directory, ignore_errors=True)
    assert code == 0, f"masthead did not shut down cleanly (exit {code}):\n{log[-3000:]}"


@pytest.fixture(scope="session")
def site():
    yield from serving_site()


def new_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    # Reduced motion: the theme scrolls smoothly otherwise, and WebDriver clicks before a smooth scroll ends.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--force-prefers-reduced-motion"):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture(scope="session")
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def write_png(path, width=800, height=450):
    """A real PNG (an RGB gradient), written without any imaging library."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((x * 255 // width, y * 255 // height, 120))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b""))


PASSWORD = "a long enough passphrase"


def add_user(site, email, name, role, password=PASSWORD):
    result = site.cli("user", "add", "--email", email, "--name", name, "--role", role, input=password + "\n")
    assert result.returncode == 0, result.stderr
    return email


def session_for(site, email, password=PASSWORD):
    """A requests session signed in through the form, as a browser would be."""
    session = requests.Session()
    page = session.get(site.base + "/admin/login/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = session.post(site.base + "/admin/login/", data={"csrf": token, "email": email, "password": password}, allow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return session


def csrf_of(session, url):
    return re.search(r'name="csrf" value="([^"]+)"', session.get(url).text).group(1)


def admin_key(site, email, name="Tests", password=PASSWORD):
    """An Admin API key for the account, made on its account page (which asks for the password again)."""
    session = session_for(site, email, password)
    page = session.post(site.base + "/admin/account/keys/", data={
        "csrf": csrf_of(session, site.base + "/admin/account/"), "name": name, "password": password})
    return re.search(r'aria-label="New API key" value="([^"]+)"', page.text).group(1)


def jpeg_with_gps(path):
    png = path.with_suffix(".png")
    write_png(png, 320, 200)
    subprocess.run(["convert", str(png), str(path)], check=True)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-GPSLatitude=51.5072", "-GPSLatitudeRef=N", "-GPSLongitude=0.1276",
                    "-GPSLongitudeRef=W", "-Model=Informant Camera", str(path)], check=True)
    assert "GPS Latitude" in subprocess.run(["exiftool", str(path)], capture_output=True, text=True).stdout
    return path


def sitemap_paths(base, sitemaps=""):
    """Every address the sitemaps at `base` list (only those whose sitemap name starts with
    `sitemaps`, if given), as paths; each must be an address of that site."""
    index = requests.get(base + "/sitemap.xml", timeout=30).text
    paths = set()
    for sitemap in re.findall(r"<loc>([^<]+/sitemaps/" + re.escape(sitemaps) + r"[^<]*)</loc>", index):
        for location in re.findall(r"<loc>([^<]+)</loc>", requests.get(sitemap, timeout=30).text):
            assert location.startswith(base + "/"), f"{sitemap} lists {location}, not an address of {base}"
            paths.add(location[len(base):])
    return sorted(paths)
