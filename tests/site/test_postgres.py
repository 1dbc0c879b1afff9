"""Several instances on one PostgreSQL: a site moved from SQLite with `masthead db copy` reads the
same on two instances; an edit made through one shows on the other within a second; a story
scheduled a moment ahead is published once and announced once; PostgreSQL stopped and started
under load leaves readers with their cached pages and both instances taking edits again by
themselves; killing one instance under load leaves the other serving. Runs when the tests have a
PostgreSQL server (`make test` starts one: scripts/with-postgres.sh)."""
import json
import math
import os
import re
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import BINARY, POSTGRES, ROOT, RunningSite, add_user, admin_key, csrf_of, new_postgres_database, postgres, session_for

pytestmark = pytest.mark.skipif(POSTGRES is None, reason="needs the test PostgreSQL server (make test starts one)")

PUBLIC = "http://news.example"  # http: the tests speak plain HTTP, and https would make cookies Secure
SECRET = "the secret these two instances share, 32+ chars"


def pg_ctl(*args):
    """Runs pg_ctl on the test server's cluster (as its owner)."""
    command = [os.environ["MASTHEAD_TEST_POSTGRES_BIN"] + "/pg_ctl", "-D", os.environ["MASTHEAD_TEST_POSTGRES_DIR"], *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


class Instance(RunningSite):
    def env(self):
        env = super().env()
        env["MASTHEAD_BASE_URL"] = PUBLIC  # one public address, as behind a load balancer
        env["MASTHEAD_SECRET"] = SECRET
        return env

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()


def article_paths(site):
    """The story addresses the site's sitemaps list (as paths: the sitemaps name the public address)."""
    paths = []
    for sitemap in re.findall(r"<loc>([^<]+)</loc>", site.get("/sitemap.xml")[2]):
        paths += [loc.removeprefix(PUBLIC) for loc in re.findall(r"<loc>([^<]+)</loc>", site.get(sitemap.removeprefix(PUBLIC))[2])]
    return [path for path in paths if path.count("/") == 3]


def db_copy(source, target):
    return subprocess.run([str(BINARY), "db", "copy", "--from", source, "--to", target], cwd=ROOT, capture_output=True, text=True, timeout=300)


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers.get("Masthead-Event"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """A demo site served from SQLite, what its article pages read, then the site copied to a new
    PostgreSQL database: (the SQLite site, its pages, the new database's URL)."""
    folder = tmp_path_factory.mktemp("sqlite-site")
    original = Instance(folder, database_url=None)
    original.start()
    try:
        paths = article_paths(original)[:5]
        pages = {path: original.get(path) for path in paths}
    finally:
        assert original.stop() == 0
    target = new_postgres_database()
    copied = db_copy(f"sqlite://{original.data}/masthead.sqlite", target)
    assert copied.returncode == 0, copied.stderr
    assert "Copied" in copied.stdout and "article:" in copied.stdout, copied.stdout
    again = db_copy(f"sqlite://{original.data}/masthead.sqlite", target)
    assert again.returncode != 0 and "not empty" in again.stderr, "a second copy into the same database is refused"
    yield original, pages, target
    postgres(f'DROP DATABASE IF EXISTS "{target.split("/")[-1].split("?")[0]}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pair(moved, tmp_path_factory):
    """Two instances on the copied database, sharing the SQLite site's data folder (its media)."""
    original, _, target = moved
    instances = [Instance(tmp_path_factory.mktemp(name), database_url=target, data=original.data) for name in ("a", "b")]
    try:
        for instance in instances:
            instance.start()
        yield instances
    finally:
        for instance in instances:
            if instance.process and instance.process.poll() is None:
                assert instance.stop() == 0, instance.log_path.read_text()[-3000:]


def api(instance, key, method, path, **kwargs):
    return requests.request(method, instance.base + "/api/admin" + path, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs)


def without_related(page):
    """An article page without its "other articles" block, which each engine's search ranks its own way."""
    return re.sub(r'<section class="more".*?</section>', "", page, flags=re.S)


def test_the_same_articles_read_the_same_on_both_instances_as_on_sqlite(moved, pair):
    _, pages, _ = moved
    assert pages
    a, b = pair
    for path, (status, _, body) in pages.items():
        assert status == 200
        on_a, on_b = a.get(path), b.get(path)
        assert on_a[0] == on_b[0] == 200, path
        assert on_a[2] == on_b[2], f"{path} reads differently on the two instances"
        assert without_related(on_a[2]) == without_related(body), f"{path} reads differently on PostgreSQL than it did on SQLite"


def test_an_edit_through_one_instance_shows_on_the_other_within_a_second(pair):
    a, b = pair
    key = admin_key(a, add_user(a, "editor-two@news.example", "Eda Two", "editor"))
    created = api(a, key, "POST", "/articles/", json={"title": "Ferry timetable changes", "section": "world", "body": "The first ferry leaves at six."})
    assert created.status_code == 201, created.text
    article = created.json()["articles"][0]
    published = api(a, key, "POST", f"/articles/{article['id']}/publish")
    assert published.status_code == 200, published.text
    path = "/" + published.json()["articles"][0]["url"].split("/", 3)[3]
    deadline = time.time() + 5
    while b.get(path)[0] != 200 and time.time() < deadline:
        time.sleep(0.05)
    assert "Ferry timetable changes" in b.get(path)[2]  # now in b's page cache
    version = published.json()["articles"][0]["version"]
    edited = api(a, key, "PUT", f"/articles/{article['id']}/", json={"version": version, "title": "Ferry timetable changes again"})
    assert edited.status_code == 200, edited.text
    saved = time.time()
    while "Ferry timetable changes again" not in b.get(path)[2]:
        assert time.time() - saved < 1.0, "the edit made through one instance did not show on the other within a second"
        time.sleep(0.02)
    print(f"edit visible on the other instance after {time.time() - saved:.3f} s")


def test_a_story_scheduled_a_moment_ahead_is_published_once_and_announced_once(pair):
    a, b = pair
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received = []
    try:
        key = admin_key(a, add_user(a, "scheduler@news.example", "Sam Scheduler", "admin"))
        session = session_for(a, "scheduler@news.example")
        added = session.post(a.base + "/admin/webhooks/", data={
            "csrf": csrf_of(session, a.base + "/admin/webhooks/"), "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
            "events": "article.published"})
        assert added.status_code == 200 and "whsec_" in added.text, added.text[:500]
        ids = []
        for number in range(6):
            created = api(a if number % 2 else b, key, "POST", "/articles/", json={
                "title": f"Dawn briefing {number}", "section": "world", "body": f"Scheduled story {number}."})
            assert created.status_code == 201, created.text
            ids.append(created.json()["articles"][0]["id"])
        due = math.ceil(time.time()) + 3
        for article_id in ids:
            scheduled = api(b, key, "POST", f"/articles/{article_id}/schedule",
                            json={"publish_at": datetime.fromtimestamp(due, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
            assert scheduled.status_code == 200, scheduled.text
        deadline = time.time() + 30
        counts = {}
        while time.time() < deadline:
            counts = {}
            for event, body in list(Receiver.received):
                if event == "article.published":
                    article_id = json.loads(body)["article"]["id"]
                    counts[article_id] = counts.get(article_id, 0) + 1
            if set(counts) >= set(ids):
                break
            time.sleep(0.2)
        time.sleep(4)  # room for a duplicate to arrive
        counts = {}
        for event, body in list(Receiver.received):
            if event == "article.published":
                article_id = json.loads(body)["article"]["id"]
                counts[article_id] = counts.get(article_id, 0) + 1
        assert {i: counts.get(i, 0) for i in ids} == {i: 1 for i in ids}, "each story announced exactly once by the two instances"
        for article_id in ids:
            for instance in pair:
                article = api(instance, key, "GET", f"/articles/{article_id}").json()["articles"][0]
                assert article["status"] == "published"
    finally:
        server.shutdown()


def hammer(instance, paths, stop, outcomes):
    with requests.Session() as session:
        while not stop.is_set():
            for path in paths:
                try:
                    outcomes.append(session.get(instance.base + path, timeout=10).status_code)
                except requests.RequestException as error:
                    outcomes.append(repr(error))


def test_postgresql_restarting_under_load_keeps_pages_served_and_edits_come_back(pair):
    a, b = pair
    paths = ["/", "/world/", "/business/"]
    for instance in pair:
        with requests.Session() as session:  # as the readers below ask (gzip and all): now cached
            for path in paths:
                assert session.get(instance.base + path, timeout=10).status_code == 200
    key = admin_key(a, add_user(a, "outage@news.example", "Otto Outage", "editor"))
    created = api(a, key, "POST", "/articles/", json={"title": "Written before the outage", "section": "world", "body": "Text."})
    assert created.status_code == 201, created.text
    article_id = created.json()["articles"][0]["id"]

    stop, outcomes = threading.Event(), {a.base: [], b.base: []}
    threads = [threading.Thread(target=hammer, args=(instance, paths, stop, outcomes[instance.base])) for instance in pair]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    try:
        pg_ctl("-m", "fast", "-w", "stop")
        time.sleep(1)
        for instance in pair:
            assert instance.get("/readyz")[0] == 503, "not ready while the database is down"
            assert instance.get("/healthz")[0] == 200, "the process itself is fine"
            started = time.time()
            refused = api(instance, key, "PUT", f"/articles/{article_id}/", json={"version": 1, "title": "Written during the outage"})
            assert time.time() - started < 10, "a write during the outage must fail quickly, not hang"
            assert refused.status_code == 503, refused.text
            assert "database" in refused.json()["errors"][0]["message"]
        time.sleep(1)
    finally:
        pg_ctl("-w", "-t", "60", "-l", os.environ["MASTHEAD_TEST_POSTGRES_DIR"] + "/server.log",
               "-o", os.environ["MASTHEAD_TEST_POSTGRES_OPTIONS"], "start")
    restarted = time.time()
    version = 1
    for instance in pair:
        while True:
            reply = api(instance, key, "PUT", f"/articles/{article_id}/", json={"version": version, "title": f"Written after the outage {version}"})
            if reply.status_code == 200:
                version += 1
                break
            assert time.time() - restarted < 20, f"{instance.base} does not take edits again: {reply.status_code} {reply.text}"
            time.sleep(0.25)
        assert instance.get("/readyz")[0] == 200
    print(f"both instances took edits again {time.time() - restarted:.2f} s after PostgreSQL was back")
    stop.set()
    for thread in threads:
        thread.join()
    for base, statuses in outcomes.items():
        assert statuses and all(status == 200 for status in statuses), \
            f"{base}: readers of cached pages got {sorted(set(map(str, statuses)))} during the outage ({len(statuses)} requests)"


def test_killing_one_instance_under_load_leaves_the_other_serving(pair):
    a, b = pair
    paths = ["/", "/world/", "/search/?q=harbour", "/feed/"]
    stop, outcomes = threading.Event(), []
    thread = threading.Thread(target=hammer, args=(b, paths, stop, outcomes))
    thread.start()
    time.sleep(1)
    a.kill9()
    time.sleep(2)
    stop.set()
    thread.join()
    assert len(outcomes) > 20 and all(status == 200 for status in outcomes), sorted(set(map(str, outcomes)))
