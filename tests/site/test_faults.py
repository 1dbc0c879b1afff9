"""Faults against the real server and command-line tool: `kill -9` in the middle of an import, of
saves, of a scheduled publication and of tip submissions; a full disk; a read-only database.
Whatever happens, nothing acknowledged is lost, nothing is left half-written, and the next start is
clean. Sites here run on data folders of their own (copies of one demo newsroom made once)."""
import json
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from conftest import BINARY, ROOT, RunningSite, add_user, admin_key, csrf_of, session_for, sqlite_only, write_png

# These faults are SQLite's: its file's write lock, its file on a full or read-only disk.
# PostgreSQL's outages are tested in test_postgres.py.
pytestmark = sqlite_only

EDITOR = "faults-admin@news.example"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="mounting a small filesystem or making files immutable needs root")


class Site(RunningSite):
    """A site whose log keeps every run: a restart after a kill appends instead of starting afresh."""

    earlier_log = ""

    def start(self):
        if self.log_path.exists():
            self.earlier_log += self.log_path.read_text(errors="replace") + "\n---- restarted ----\n"
        super().start()

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()

    def full_log(self):
        current = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return self.earlier_log + current

    def log_tail(self, lines=25):
        return "\n".join(self.full_log().splitlines()[-lines:])

    @property
    def database(self):
        return self.data / "masthead.sqlite"

    def query(self, sql, *args):
        connection = sqlite3.connect(self.database, timeout=10)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One demo newsroom with an admin and an Admin API key, stopped, to copy for each test."""
    directory = tmp_path_factory.mktemp("faults-template")
    site = Site(directory)
    site.start()
    add_user(site, EDITOR, "Fay Ults", "admin")
    key = admin_key(site, EDITOR)
    assert site.stop() == 0, site.log_tail()
    return site.data, key


def own_site(directory, template, data=None):
    """A stopped site in `directory` with a copy of the template's data (at `data` if given)."""
    site = Site(directory)
    if data is not None:
        site.data = Path(data)
    shutil.copytree(template[0], site.data, symlinks=True)
    site.key = template[1]
    site.auth = {"Authorization": f"Bearer {site.key}"}
    return site


def healthy(site):
    status, _, body = site.get("/healthz")
    return status == 200, f"/healthz answered {status}: {body[:200]}"


def assert_clean_stop(site):
    code = site.stop()
    log = site.full_log()
    assert code == 0, f"the server did not stop cleanly on SIGTERM (exit {code}):\n{site.log_tail()}"
    assert "Program crashed" not in log and "Fatal error" not in log, f"the server crashed at some point:\n{site.log_tail(60)}"


def ensure_stopped(site):
    """Stops a server left running by a failed test: SIGTERM, then SIGKILL."""
    if site.process and site.process.poll() is None:
        try:
            site.stop()
        except subprocess.TimeoutExpired:
            site.kill9()


# 1. kill -9 during import-markdown


STORIES = 3000


def write_stories(folder, prefix, count=STORIES, image_every=10):
    """`count` small stories with front matter (every `image_every`th with a featured image)."""
    folder.mkdir(parents=True)
    write_png(folder / "harbour.png", 64, 40)
    for number in range(count):
        image = "image: harbour.png\nimage_caption: The harbour at dawn.\n" if number % image_every == 0 else ""
        (folder / f"{number:04d}.md").write_text(
            f"---\ntitle: {prefix} story number {number}\nslug: {prefix}-{number:04d}\nsection: Faults\n"
            f"tags: [Crash tests]\ndate: 2026-01-01T10:00:00Z\n{image}---\n{story_body(prefix, number)}\n")
    return folder


def story_body(prefix, number):
    return f"The {prefix} story {number} begins here.\n\nIt has a second paragraph, and it ends with {prefix}-end-{number}."


def start_import(site, folder, tmp_path):
    out = open(tmp_path / f"import-{folder.name}.out", "w")
    return subprocess.Popen(
        [str(BINARY), "import-markdown", str(folder), "--data-dir", str(site.data)],
        cwd=ROOT, env=site.env(), stdout=out, stderr=subprocess.STDOUT)


class WriteLockProbe:
    """Whether some process holds the database's write lock (a write transaction is open)."""

    def __init__(self, database):
        self.connection = sqlite3.connect(database, timeout=0, isolation_level=None)

    def held(self):
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return True
            raise
        self.connection.execute("ROLLBACK")
        return False

    def close(self):
        self.connection.close()


def wait_for_write_transaction(process, probe, deadline=90):
    """Waits until the write lock has been held for several polls in a row; False if the process ended first."""
    end = time.time() + deadline
    streak = 0
    while time.time() < end and process.poll() is None:
        streak = streak + 1 if probe.held() else 0
        if streak >= 3:
            return True
        time.sleep(0.01)
    return False


def imported(site, prefix):
    return site.query("SELECT count(*) FROM article WHERE slug LIKE ?", prefix + "-%")[0][0]


def staged_leftovers(site):
    return sorted(str(p.relative_to(site.data / "media")) for p in (site.data / "media").rglob("*.importing"))


def check_all_or_nothing(site, prefix, when):
    count = imported(site, prefix)
    assert count in (0, STORIES), (
        f"after kill -9 {when}, {count} of the import's {STORIES} articles are in the database: "
        "an import is one transaction, so it must hold none or all of them")
    if count == STORIES:
        wrong = site.query("SELECT slug FROM article WHERE slug LIKE ? AND body_markdown NOT LIKE ?", prefix + "-%", "%" + prefix + "-end-%")
        assert not wrong, f"articles imported without their full body: {wrong[:5]}"
    return count


def test_an_import_killed_while_it_reads_the_files_imports_nothing_and_the_running_server_carries_on(tmp_path, template):
    site = own_site(tmp_path, template)
    site.start()
    folder = write_stories(tmp_path / "early", "early")
    process = start_import(site, folder, tmp_path)
    time.sleep(0.6)
    assert process.poll() is None, "the import of 3,000 files ended within 0.6 s; nothing was interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()

    count = check_all_or_nothing(site, "early", "0.6 s into the import")
    ok, why = healthy(site)
    assert ok, why
    assert site.get("/")[0] == 200 and site.get("/faults/")[0] in ((200,) if count else (404,))
    # The running server still writes: a later import goes through.
    later = write_stories(tmp_path / "later", "later", count=3)
    result = site.cli("import-markdown", str(later))
    assert result.returncode == 0, f"an import after the killed one failed: {result.stderr}"
    assert site.get("/faults/later-0001/")[0] == 200
    assert_clean_stop(site)


def test_an_import_killed_inside_its_transaction_imports_nothing_and_its_staged_images_do_not_linger(tmp_path, template):
    site = own_site(tmp_path, template)
    site.start()
    folder = write_stories(tmp_path / "middle", "middle")
    process = start_import(site, folder, tmp_path)
    probe = WriteLockProbe(site.database)
    try:
        in_transaction = wait_for_write_transaction(process, probe)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        probe.close()
    assert in_transaction, "the import ended before its write transaction was seen; nothing was interrupted"

    count = check_all_or_nothing(site, "middle", "inside the import's transaction")
    assert count == 0, f"the transaction was interrupted, yet {count} articles were imported"
    ok, why = healthy(site)
    assert ok, why
    assert site.get("/")[0] == 200
    assert site.get("/faults/middle-0000/")[0] == 404

    leftovers = staged_leftovers(site)
    served = {path: site.get("/media/" + path)[0] for path in leftovers[:3]}
    # The next import (of other stories, while the server runs) should leave the media folder clean.
    later = write_stories(tmp_path / "next", "next", count=2)
    result = site.cli("import-markdown", str(later))
    assert result.returncode == 0, f"the next import failed: {result.stderr}"
    after_next = staged_leftovers(site)
    site.stop()
    site.start()  # and a restart, in case starting is what cleans up
    after_restart = staged_leftovers(site)
    assert not [p for p, status in served.items() if status == 200], (
        f"images staged by the killed import (for articles that do not exist) are served publicly: {served}")
    assert not after_restart, (
        f"{len(leftovers)} half-imported images (*.importing) were left in media/ by the killed import; "
        f"{len(after_next)} were still there after the next import and {len(after_restart)} after a restart, "
        f"e.g. {after_restart[:3]}")
    assert_clean_stop(site)


def test_an_import_killed_just_after_it_commits_leaves_every_article_with_its_images(tmp_path, template):
    # The server is down during this import and started afterwards.
    site = own_site(tmp_path, template)
    folder = write_stories(tmp_path / "late", "late")
    process = start_import(site, folder, tmp_path)
    probe = WriteLockProbe(site.database)
    try:
        in_transaction = wait_for_write_transaction(process, probe)
        while process.poll() is None and probe.held():
            pass
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        probe.close()
    assert in_transaction, "the import ended before its write transaction was seen; nothing was interrupted"

    count = check_all_or_nothing(site, "late", "just after the import's transaction")
    site.start()
    ok, why = healthy(site)
    assert ok, why
    if count:
        rows = site.query("SELECT slug, image_source FROM article WHERE slug LIKE 'late-%' AND image_source IS NOT NULL ORDER BY slug")
        assert len(rows) == STORIES // 10
        missing = [(slug, image) for slug, image in rows if not (site.data / "media" / image).is_file()]
        staged = [p for p in staged_leftovers(site) if p.startswith("late-")]
        status, _, page = site.get("/faults/late-0000/")
        assert status == 200
        sources = re.findall(r'<img[^>]+src="(/[^"]+)"', page)
        image_status = requests.get(site.base + sources[0], timeout=10).status_code if sources else None
        assert not missing, (
            f"the import committed, but {len(missing)} of its {len(rows)} articles point at images that are not in media/ "
            f"(e.g. {missing[:2]}; {len(staged)} files still named *.importing, e.g. {staged[:2]}); "
            f"the featured image of /faults/late-0000/ answers {image_status}")
    assert_clean_stop(site)


# 2. kill -9 while saves are in flight


def article_body(title, version):
    paragraph = f"{title}, version {version}. " + "The council met late into the night. " * 40
    return "\n\n".join([paragraph] * 12) + f"\n\nEnd of {title} v{version}."


def test_saves_acknowledged_before_a_kill_survive_it_whole_with_their_revisions(tmp_path, template):
    site = own_site(tmp_path, template)
    site.start()
    run = uuid.uuid4().hex[:6]
    acknowledged = {}  # article id -> (title, version)
    unexpected = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(number):
        session = requests.Session()
        for count in range(1, 10_000):
            if stop.is_set():
                return
            title = f"Crash save {run} {number}-{count}"
            try:
                created = session.post(site.base + "/api/admin/articles/", headers=site.auth, timeout=15,
                                       json={"title": title, "section": "world", "body": article_body(title, 1), "tags": ["Crash"]})
            except requests.RequestException:
                return
            if created.status_code != 201:
                unexpected.append(f"create: {created.status_code} {created.text[:200]}")
                continue
            article = created.json()["articles"][0]
            with lock:
                acknowledged[article["id"]] = (title, 1)
            try:
                updated = session.put(f"{site.base}/api/admin/articles/{article['id']}", headers=site.auth, timeout=15,
                                      json={"version": article["version"], "body": article_body(title, 2)})
            except requests.RequestException:
                return
            if updated.status_code == 200:
                with lock:
                    acknowledged[article["id"]] = (title, 2)
            else:
                unexpected.append(f"update: {updated.status_code} {updated.text[:200]}")

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 30
    while time.time() < deadline and len(acknowledged) < 12:
        time.sleep(0.05)
    time.sleep(0.3)
    site.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not unexpected, f"saves were refused before the kill: {unexpected[:3]}"
    assert len(acknowledged) >= 12, f"only {len(acknowledged)} saves were acknowledged in 30 s"

    site.start()
    lost, wrong = [], []
    for article_id, (title, version) in sorted(acknowledged.items()):
        response = requests.get(f"{site.base}/api/admin/articles/{article_id}", headers=site.auth, timeout=10)
        if response.status_code != 200:
            lost.append(f"{article_id} ({title}, v{version}): {response.status_code}")
            continue
        article = response.json()["articles"][0]
        if article["version"] < version or article["body"] != article_body(title, article["version"]) or article["title"] != title:
            wrong.append(f"{article_id}: acknowledged v{version}, now v{article['version']} with a body of {len(article['body'])} characters")
    assert not lost, f"articles whose save was acknowledged (201/200) are gone after kill -9: {lost}"
    assert not wrong, f"articles came back with another body than a saved version's: {wrong}"

    # Every article of the run, acknowledged or not, is whole, and its revisions are versions 1…n, the last one its text.
    problems = []
    for article_id, title, version, body in site.query(
            "SELECT id, title, version, body_markdown FROM article WHERE title LIKE ?", f"Crash save {run} %"):
        if body != article_body(title, version):
            problems.append(f"article {article_id} holds a body that is no saved version")
        revisions = site.query("SELECT version, content FROM revision WHERE article_id = ? AND kind = 'save' ORDER BY id", article_id)
        versions = [v for v, _ in revisions]
        if versions != list(range(1, version + 1)):
            problems.append(f"article {article_id} is at version {version} but its revisions are {versions}")
        elif json.loads(revisions[-1][1]).get("bodyMarkdown") != body:
            problems.append(f"article {article_id}'s latest revision is not its current text")
    assert not problems, problems
    session = session_for(site, EDITOR)
    some = next(iter(acknowledged))
    assert session.get(f"{site.base}/admin/articles/{some}/revisions/").status_code == 200
    assert_clean_stop(site)


# 3. kill -9 during a scheduled publication


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers.get("Masthead-Event"), self.headers.get("Masthead-Delivery"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def published_webhooks():
    counts = {}
    for event, _, body in list(Receiver.received):
        if event == "article.published":
            article_id = json.loads(body)["article"]["id"]
            counts[article_id] = counts.get(article_id, 0) + 1
    return counts


def test_a_kill_at_the_scheduled_time_publishes_each_article_once_and_announces_it_once(tmp_path, template, receiver):
    site = own_site(tmp_path, template)
    site.start()
    session = session_for(site, EDITOR)
    added = session.post(site.base + "/admin/webhooks/", data={
        "csrf": csrf_of(session, site.base + "/admin/webhooks/"), "url": receiver, "events": "article.published"})
    assert added.status_code == 200 and "whsec_" in added.text, added.text[:500]

    ids = []
    for number in range(8):
        created = requests.post(site.base + "/api/admin/articles/", headers=site.auth, timeout=10, json={
            "title": f"Scheduled at dawn {number} {uuid.uuid4().hex[:6]}", "section": "business", "body": f"Scheduled story {number}."})
        assert created.status_code == 201, created.text
        ids.append(created.json()["articles"][0]["id"])
    due = math.ceil(time.time()) + 4
    due_text = datetime.fromtimestamp(due, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for article_id in ids:
        scheduled = requests.post(f"{site.base}/api/admin/articles/{article_id}/schedule", headers=site.auth, timeout=10,
                                  json={"publish_at": due_text})
        assert scheduled.status_code == 200 and scheduled.json()["articles"][0]["status"] == "scheduled", scheduled.text

    # kill -9 the moment the scheduler has published the first of them.
    marks = ",".join(str(i) for i in ids)
    connection = sqlite3.connect(site.database, timeout=10)
    published_before_kill = 0
    while time.time() < due + 5:
        published_before_kill = connection.execute(
            f"SELECT count(*) FROM article WHERE id IN ({marks}) AND status = 'published'").fetchone()[0]
        if published_before_kill:
            break
        time.sleep(0.002)
    connection.close()
    site.kill9()
    received_before_restart = dict(published_webhooks())

    site.start()
    deadline = time.time() + 25
    while time.time() < deadline and set(published_webhooks()) < set(ids):
        time.sleep(0.2)
    time.sleep(4)  # room for a duplicate to arrive

    not_published, counts = [], published_webhooks()
    for article_id in ids:
        article = requests.get(f"{site.base}/api/admin/articles/{article_id}", headers=site.auth, timeout=10).json()["articles"][0]
        path = "/" + article["url"].split("/", 3)[3]
        if article["status"] != "published" or article["published_at"] != due_text or site.get(path)[0] != 200:
            not_published.append(f"{article_id}: {article['status']}, published_at {article['published_at']}, {path} → {site.get(path)[0]}")
    deliveries = site.query("SELECT id, payload, state, attempts, next_attempt_at FROM webhook_delivery WHERE event = 'article.published'")
    rows_per_article = {}
    for delivery_id, payload, state, attempts, next_at in deliveries:
        rows_per_article.setdefault(json.loads(payload)["article"]["id"], []).append((delivery_id, state, attempts, next_at))
    observed = (f"{published_before_kill} of 8 were published when the server was killed; webhooks received before the restart: "
                f"{received_before_restart}; after: {counts}; queued deliveries per article: {rows_per_article}")
    assert not not_published, f"scheduled articles not published exactly as scheduled after the restart: {not_published}\n{observed}"
    never = [i for i in ids if counts.get(i, 0) == 0]
    twice = [i for i in ids if counts.get(i, 0) > 1]
    pending_again = [i for i in ids if counts.get(i, 0) and any(state == "pending" for _, state, _, _ in rows_per_article.get(i, []))]
    assert not never, f"articles published by the scheduler whose article.published webhook never came: {never}\n{observed}"
    assert not twice, f"article.published delivered more than once for {twice}\n{observed}"
    assert not pending_again, f"delivered, yet still queued to be sent again (a later duplicate): {pending_again}\n{observed}"
    assert_clean_stop(site)


# 4. kill -9 during tip submissions


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given loopback address, so each thread is a client of its own for the hourly limit."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def source_session(address):
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session


RECEIPT = re.compile(r'id="receipt">([^<]+)<')


def test_tips_with_a_receipt_survive_a_kill_and_open_whole(tmp_path, template):
    site = own_site(tmp_path, template)
    key_file = tmp_path / "tip-key.txt"
    made = site.cli("tips", "keygen", "--out", str(key_file))
    assert made.returncode == 0, made.stderr
    site.start()
    run = uuid.uuid4().hex[:8]
    receipts = {}
    unexpected = []
    stop = threading.Event()

    def source(number):
        time.sleep(number * 0.45)  # staggered, so that some tips are being sealed and stored at any moment
        session = source_session(f"127.88.{number + 1}.{int(run[:2], 16) % 250 + 1}")
        for count in range(1, 100):
            if stop.is_set():
                return
            marker = f"tipmark-{run}-{number}-{count}"
            try:
                form = session.get(site.base + "/tips/", timeout=10).text
                token = re.search(r'name="token" value="([^"]+)"', form).group(1)
                answer = session.post(site.base + "/tips/", timeout=30, data={
                    "token": token, "message": f"The ledger on page {count} was altered. {marker} (end of tip)"})
            except requests.RequestException:
                return
            found = RECEIPT.search(answer.text)
            if answer.status_code == 200 and found:
                receipts[marker] = found.group(1)
            else:
                unexpected.append(f"{answer.status_code}: {answer.text[:200]}")

    threads = [threading.Thread(target=source, args=(n,), daemon=True) for n in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 40
    while time.time() < deadline and len(receipts) < 9:
        time.sleep(0.05)
    site.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not unexpected, f"tips were refused before the kill: {unexpected[:3]}"
    assert len(receipts) >= 9, f"only {len(receipts)} tips got a receipt in 40 s"

    site.start()
    opened = site.cli("tips", "open", "--key", str(key_file), "--files", str(tmp_path / "tip-files"))
    assert opened.returncode == 0, f"tips open failed after the kill (a tip cannot be opened?): {opened.stderr[-1000:]}"
    lost = [marker for marker in receipts if marker not in opened.stdout]
    assert not lost, f"tips whose sender was shown a receipt cannot be found after kill -9: {lost}"
    messages = re.findall(r"^== Tip .*\n(.*)$", opened.stdout, re.MULTILINE)
    partial = [m for m in messages if run in m and not re.fullmatch(rf"The ledger on page \d+ was altered\. tipmark-{run}-\d+-\d+ \(end of tip\)", m)]
    assert not partial, f"tips opened only in part: {partial}"
    empty = site.query("SELECT t.id FROM tip_thread t LEFT JOIN tip_message m ON m.thread_id = t.id WHERE m.id IS NULL")
    assert not empty, f"tip conversations without any message: {empty}"
    # A source comes back after the restart: the receipt still opens the conversation.
    for number, receipt in enumerate(list(receipts.values())[:2]):
        back = source_session(f"127.88.200.{number + 1}").post(site.base + "/tips/return/", data={"receipt": receipt}, timeout=30)
        assert back.status_code == 200 and "No conversation matches" not in back.text, f"receipt {number} no longer opens its tip: {back.status_code}"
    assert_clean_stop(site)


# 5. A full disk


@pytest.fixture()
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk):
    subprocess.run(["dd", "if=/dev/zero", f"of={disk / 'filler'}", "bs=64k"], capture_output=True)
    stat = os.statvfs(disk)
    assert stat.f_bavail == 0, "the disk could not be filled"


def says_disk(text):
    return re.search(r"disk|storage|space|full", text, re.IGNORECASE) is not None


GENERIC_500 = "Something went wrong on our side"


@needs_root
def test_a_full_disk_refuses_uploads_and_saves_clearly_keeps_serving_and_recovers(tmp_path, template, small_disk):
    site = own_site(tmp_path, template, data=small_disk / "data")
    site.start()
    picture = tmp_path / "upload.png"
    write_png(picture, 400, 300)
    session = session_for(site, EDITOR)
    assert site.get("/")[0] == 200  # now in the page cache
    sections = requests.get(site.base + "/api/admin/sections/", headers=site.auth, timeout=10)  # the key's use is now recorded
    assert sections.status_code == 200
    fill(small_disk)

    answers = {}
    try:
        answers["API upload"] = requests.post(site.base + "/api/admin/media/?filename=upload.png", data=picture.read_bytes(),
                                              headers=site.auth, timeout=30)
        answers["media library upload"] = session.post(site.base + "/admin/media/", timeout=30, allow_redirects=False, data={
            "csrf": csrf_of(session, site.base + "/admin/media/"), "alt": "A test picture"},
            files={"file": ("upload.png", picture.read_bytes(), "image/png")})
        answers["API save"] = requests.post(site.base + "/api/admin/articles/", headers=site.auth, timeout=30, json={
            "title": "Written on a full disk", "section": "world", "body": "The presses ran all night. " * 40_000})
    except requests.Timeout as timeout:
        pytest.fail(f"a write on a full disk hung: {timeout}\n{site.log_tail()}")

    assert site.process.poll() is None, f"the server died when the disk filled:\n{site.log_tail()}"
    ok, why = healthy(site)
    assert ok, why
    assert site.get("/")[0] == 200, "the cached front page is not served with the disk full"
    assert site.get("/world/")[0] == 200 and site.get("/about/")[0] == 200, "uncached pages are not served with the disk full"

    problems = []
    for name, answer in answers.items():
        if not (400 <= answer.status_code < 500 or answer.status_code == 507) or not says_disk(answer.text) or GENERIC_500 in answer.text:
            problems.append(f"{name}: HTTP {answer.status_code}, {answer.headers.get('Content-Type')}, "
                            f"{'the generic error page' if GENERIC_500 in answer.text else answer.text[:200]!r}")
    log = "\n".join(line for line in site.full_log().splitlines() if " error " in line or " warning " in line)[-2500:]
    assert not problems, "writes on a full disk must get a clear 4xx/507 answer naming the disk:\n" + "\n".join(problems) + f"\nlog:\n{log}"

    (small_disk / "filler").unlink()
    upload = requests.post(site.base + "/api/admin/media/?filename=upload.png", data=picture.read_bytes(), headers=site.auth, timeout=30)
    save = requests.post(site.base + "/api/admin/articles/", headers=site.auth, timeout=30,
                         json={"title": "Written after the disk was freed", "section": "world", "body": "Space again."})
    assert upload.status_code == 201, f"an upload after freeing space: {upload.status_code} {upload.text[:300]}"
    assert save.status_code == 201, f"a save after freeing space: {save.status_code} {save.text[:300]}"
    assert_clean_stop(site)


# 6. A read-only database


def start_or_refuse(site, seconds=60):
    """Starts the server; returns "serving" once /healthz answers, or "exited" if it stops first."""
    site.earlier_log += site.log_path.read_text(errors="replace") if site.log_path.exists() else ""
    site.log = open(site.log_path, "w")
    site.process = subprocess.Popen(
        [str(BINARY), "serve", "--data-dir", str(site.data), "--port", str(site.port)],
        cwd=ROOT, stdout=site.log, stderr=subprocess.STDOUT, env=site.env())
    deadline = time.time() + seconds
    while time.time() < deadline:
        if site.process.poll() is not None:
            site.log.close()
            return "exited"
        try:
            if requests.get(site.base + "/healthz", timeout=2).status_code == 200:
                return "serving"
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return "hung"


@needs_root
@pytest.mark.parametrize("how", ["immutable database file", "read-only filesystem"])
def test_a_read_only_database_is_refused_clearly_or_served_with_clear_write_errors(tmp_path, template, how):
    # As root, chmod 0444 / 0555 does not stop writes; an immutable file (chattr +i) or a filesystem
    # remounted read-only does.
    if how == "read-only filesystem":
        disk = tmp_path / "disk"
        disk.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        site = own_site(tmp_path, template, data=disk / "data")
    else:
        disk = None
        site = own_site(tmp_path, template)
    try:
        site.start()
        assert requests.get(site.base + "/api/admin/sections/", headers=site.auth, timeout=10).status_code == 200
        assert site.stop() == 0
        if disk:
            made = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
        else:
            made = subprocess.run(["chattr", "+i", str(site.database)], capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"cannot make the database read-only here: {made.stderr.strip()}")

        outcome = start_or_refuse(site)
        log = site.log_path.read_text(errors="replace")
        summary = "\n".join(line for line in log.splitlines() if not line.startswith("0x"))[:3000]
        assert outcome != "hung", f"the server neither served nor exited within 60 s on a read-only database:\n{summary}"
        assert "Program crashed" not in log and "Assertion failed" not in log and "Fatal error" not in log, (
            f"the server crashed on a read-only database ({how}; exit {site.process.returncode}):\n{summary}")
        if outcome == "exited":
            code = site.process.returncode
            assert code == 1, f"the server refused to start, but with exit {code} instead of 1:\n{summary}"
            assert str(site.database) in log or str(site.data) in log, f"the refusal does not name the database file:\n{summary}"
        else:
            ok, why = healthy(site)
            assert ok, why
            assert site.get("/")[0] == 200
            try:
                save = requests.post(site.base + "/api/admin/articles/", headers=site.auth, timeout=30,
                                     json={"title": "Written to a read-only database", "section": "world", "body": "Nothing."})
            except requests.Timeout:
                pytest.fail(f"a save to a read-only database hung:\n{site.log_tail()}")
            clear = re.search(r"read-only|readonly|cannot (be )?writ|not writable", save.text, re.IGNORECASE)
            assert save.status_code >= 400 and clear and GENERIC_500 not in save.text, (
                f"the server started on a read-only database ({how}), but a save answered HTTP {save.status_code} "
                f"{'with the generic error page' if GENERIC_500 in save.text else save.text[:200]!r} instead of a clear error; "
                f"log:\n{site.log_tail(8)}")
            assert site.process.poll() is None
            assert site.stop() == 0
    finally:
        ensure_stopped(site)
        if disk:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)
        else:
            subprocess.run(["chattr", "-i", str(site.database)], capture_output=True)
