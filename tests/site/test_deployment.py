"""docs/deployment.md, done as it says: a backup taken with `VACUUM INTO` while the server serves
and an import writes is a consistent copy (the import is in it whole or not at all), and a site
restored from it (database, media, keys) serves the same stories with their pictures. `/healthz`
and `/readyz` answer as documented."""
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import RunningSite, serving_site, sitemap_paths, sqlite_only

IMPORTED = 40


@pytest.fixture(scope="module")
def site():
    yield from serving_site("masthead-deploy-")


def documented(section):
    """The shell lines of the fenced block under `section` in docs/deployment.md."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text()
    block = re.search(r"## " + re.escape(section) + r".*?```sh\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]


def test_health_is_about_the_process_and_readiness_about_the_database(site):
    health = requests.get(site.base + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = requests.get(site.base + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["content_version"] >= 1
    assert ready.headers["Cache-Control"] == "no-store"


@sqlite_only
def test_a_backup_taken_while_serving_and_writing_restores_to_the_same_site(site, tmp_path):
    stories = tmp_path / "stories"
    stories.mkdir()
    for number in range(IMPORTED):
        (stories / f"flood-update-{number}.md").write_text(
            f"---\ntitle: Flood update {number}\nsection: World\ndate: 2026-11-0{1 + number % 9}T08:00:00Z\n---\nRiver levels, report {number}.\n")
    before = sitemap_paths(site.base, "articles-")
    results = []
    importing = threading.Thread(target=lambda: results.append(site.cli("import-markdown", str(stories))))

    backup = tmp_path / "backup"
    backup.mkdir()
    commands = documented("Backups, while serving")
    assert len(commands) == 3 and commands[0].startswith("sqlite3 ") and "VACUUM INTO" in commands[0]
    replacements = {"/srv/news/data": str(site.data), "/srv/backup": str(backup), "$(date +%F)": "snapshot"}

    importing.start()
    for command in commands:
        for old, new in replacements.items():
            command = command.replace(old, new)
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    importing.join(timeout=120)
    assert results and results[0].returncode == 0, results[0].stderr if results else "the import did not finish"
    time.sleep(1)   # the server notices another process's import within a moment
    after = sitemap_paths(site.base, "articles-")
    assert len(after) == len(before) + IMPORTED

    directory = Path(tempfile.mkdtemp(prefix="masthead-restored-"))
    restored = RunningSite(directory)
    restored.data.mkdir(parents=True)
    shutil.copy(backup / "masthead-snapshot.sqlite", restored.data / "masthead.sqlite")
    shutil.copytree(backup / "media", restored.data / "media")
    shutil.copytree(backup / "keys", restored.data / "keys")
    restored.start()
    try:
        kept = sitemap_paths(restored.base, "articles-")
        # A consistent copy: the import is in it whole, or not at all.
        assert kept in (before, after), f"the backup holds {len(kept)} stories: neither {len(before)} nor {len(after)}"
        for path in kept[:25]:
            original = requests.get(site.base + path, timeout=30)
            copy = requests.get(restored.base + path, timeout=30)
            assert copy.status_code == 200, path
            # The story itself; its related stories may be picked afresh (the import changes which words are rare).
            main = lambda html: re.sub(r'<ul class="related">.*?</ul>', "", re.search(r"<main.*?</main>", html, re.S).group(0), flags=re.S)
            assert main(copy.text) == main(original.text), f"{path} reads differently after the restore"
            for picture in re.findall(r'<img[^>]+src="(/img/[^"]+)"', copy.text)[:2]:
                assert requests.get(restored.base + picture, timeout=30).status_code == 200, picture
    finally:
        assert restored.stop() == 0
        shutil.rmtree(directory, ignore_errors=True)
