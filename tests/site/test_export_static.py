"""`masthead export-static DIR` writes the public site as files: every page a reader can reach,
byte for byte as the server sends it, the feeds, the sitemaps, the image variants the pages use
and the theme's assets — served here by nginx with the configuration docs/static.md gives, and
read in a real browser. Nothing unpublished is written, a second export of an unchanged site is
identical, and a folder holding anything else is refused."""
import filecmp
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import ROOT, free_port, serving_site, sitemap_paths, write_png

DRAFT_SLUG = "embargoed-merger-story"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo newsroom with a draft whose picture is on no public page."""
    for running in serving_site("masthead-static-"):
        folder = tmp_path_factory.mktemp("draft")
        write_png(folder / "merger-photo.png", 640, 360)
        (folder / f"{DRAFT_SLUG}.md").write_text(
            "---\ntitle: Embargoed merger\nsection: Business\nstatus: draft\nimage: merger-photo.png\n---\n"
            "The merger is not announced until Monday.\n")
        for number in range(1, 15):   # enough for a page 2 of the section and the tag
            (folder / f"relay-{number}.md").write_text(
                f"---\ntitle: Relay results, day {number}\nsection: Sport\ntags: [Relay]\n"
                f"date: 2026-10-{number:02d}T09:00:00Z\n---\nThe relay team ran on day {number}.\n")
        result = running.cli("import-markdown", str(folder))
        assert result.returncode == 0, result.stderr
        yield running


@pytest.fixture(scope="module")
def export(site, tmp_path_factory):
    folder = tmp_path_factory.mktemp("static") / "public"
    result = site.cli("export-static", str(folder))
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout
    return folder


def file_for(folder, path, index="index.html"):
    relative = requests.utils.unquote(path).strip("/")
    if path.endswith("/"):
        return folder / relative / index if relative else folder / index
    return folder / relative


def test_every_address_in_the_sitemaps_is_written_as_the_server_sends_it(site, export):
    paths = sitemap_paths(site.base)
    assert len(paths) > 40 and "/" in paths
    for path in paths:
        served = requests.get(site.base + path, timeout=30)
        assert served.status_code == 200, path
        written = file_for(export, path)
        assert written.is_file(), f"{path} was not exported"
        assert written.read_bytes() == served.content, f"{path} differs from what the server sends"


def test_list_pages_after_the_first_feeds_and_sitemaps_are_written(site, export):
    assert (export / "sitemap.xml").read_bytes() == requests.get(site.base + "/sitemap.xml", timeout=30).content
    for sitemap in re.findall(r"<loc>[^<]+(/sitemaps/[^<]+)</loc>", (export / "sitemap.xml").read_text()):
        assert (export / sitemap.lstrip("/")).is_file(), sitemap
    assert (export / "robots.txt").read_text().startswith("User-agent: *")
    for path, name in (("/feed/", "index.xml"), ("/feed/atom/", "index.xml"), ("/feed/json/", "index.json"),
                       ("/world/feed/", "index.xml"), ("/politics/feed/", "index.xml")):
        assert file_for(export, path, name).read_bytes() == requests.get(site.base + path, timeout=30).content, path
    # Page 2 of a list is linked from page 1 only: following links found it.
    for path in ("/sport/page/2/", "/tag/relay/page/2/"):
        assert file_for(export, path).read_bytes() == requests.get(site.base + path, timeout=30).content, path


def test_pictures_are_written_in_their_own_format_and_every_one_a_page_uses_is_there(export):
    used = set()
    for page in export.rglob("index.html"):
        for address in re.findall(r'(/img/[^"\s,]+)', page.read_text()):
            used.add(address)
    assert len(used) > 20
    for address in used:
        written = export / requests.utils.unquote(address).lstrip("/")
        assert written.is_file(), f"{address} is used by a page but was not exported"
        head = written.read_bytes()[:8]
        if address.lower().endswith((".jpg", ".jpeg")):
            assert head.startswith(b"\xff\xd8\xff"), f"{address} is not JPEG"
        elif address.lower().endswith(".png"):
            assert head.startswith(b"\x89PNG"), f"{address} is not PNG"
    assert (export / "assets").is_dir() and any((export / "assets").rglob("*.css"))


def test_nothing_unpublished_or_server_only_is_written(export):
    files = [str(path.relative_to(export)) for path in export.rglob("*") if path.is_file()]
    assert not [name for name in files if DRAFT_SLUG in name or "merger-photo" in name]
    assert not any(DRAFT_SLUG in path.read_text(errors="replace") for path in export.rglob("*.html"))
    for server_only in ("admin", "api", "search", "tips", "consent", "preview"):
        assert not (export / server_only).exists(), f"/{server_only}/ was exported"
    assert "Error 404" in (export / "404.html").read_text()


def test_a_second_export_of_an_unchanged_site_is_identical_and_replaces_the_first(site, export, tmp_path):
    second = tmp_path / "public"
    shutil.copytree(export, second)
    (second / "feed" / "stale-page.html").write_text("from an earlier export")
    result = site.cli("export-static", str(second))
    assert result.returncode == 0, result.stderr
    assert not (second / "feed" / "stale-page.html").exists(), "the earlier export was not replaced"

    def differences(comparison):
        found = comparison.left_only + comparison.right_only + comparison.diff_files + comparison.funny_files
        return found + [name for sub in comparison.subdirs.values() for name in differences(sub)]

    assert differences(filecmp.dircmp(export, second, ignore=[])) == []
    assert not [path for path in second.parent.iterdir() if path.name.startswith(".public.")], "work folders were left behind"


def test_an_earlier_export_with_files_added_since_is_refused_and_left_alone(site, export, tmp_path):
    published = tmp_path / "public"
    shutil.copytree(export, published)
    (published / ".git").mkdir()
    (published / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (published / "CNAME").write_text("news.example.org\n")
    result = site.cli("export-static", str(published))
    assert result.returncode != 0
    assert ".git" in result.stderr and "CNAME" in result.stderr, result.stderr
    assert (published / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (published / "index.html").read_bytes() == (export / "index.html").read_bytes()


def test_a_folder_with_other_files_is_refused_and_left_alone(site, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("my only copy")
    result = site.cli("export-static", str(folder))
    assert result.returncode != 0
    assert str(folder) in result.stderr and "not empty" in result.stderr
    assert [path.name for path in folder.iterdir()] == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text() == "my only copy"


@pytest.fixture(scope="module")
def nginx(export, tmp_path_factory):
    """nginx serving the export with the configuration docs/static.md gives."""
    if not shutil.which("nginx"):
        pytest.fail("nginx is missing: run scripts/install-deps.sh test (make test does)")
    work = Path(tempfile.mkdtemp(prefix="masthead-static-nginx-"))
    port = free_port()
    server = re.search(r"```nginx\n(server \{.*?\n\})\n```", (ROOT / "docs" / "static.md").read_text(), re.S).group(1)
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("/srv/news/public", str(export))
    server = re.sub(r"\n\s*server_name [^;]*;", "", server)
    (work / "nginx.conf").write_text(
        f"worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  {server}\n}}\n")
    for path in [export, *export.parents]:
        if path == Path("/"):
            break
        path.chmod(path.stat().st_mode | 0o005)   # nginx's workers run as another user
    subprocess.run(["chmod", "-R", "a+rX", str(export)], check=True)
    subprocess.run(["nginx", "-c", str(work / "nginx.conf")], check=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            requests.get(base + "/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield base
    subprocess.run(["kill", (work / "nginx.pid").read_text().strip()], check=False)
    shutil.rmtree(work, ignore_errors=True)


def test_a_plain_web_server_serves_the_export(site, nginx):
    article = next(path for path in sitemap_paths(site.base) if path.count("/") == 3 and not path.startswith(("/tag/", "/author/")))
    for path in ("/", article, "/feed/", "/sitemap.xml"):
        served = requests.get(nginx + path, timeout=10)
        assert served.status_code == 200, path
        assert served.content == requests.get(site.base + path, timeout=10).content, path
    # By file name: an XML type for RSS and Atom, a JSON one for JSON Feed (feed readers take these).
    assert "xml" in requests.get(nginx + "/feed/", timeout=10).headers["Content-Type"]
    assert "json" in requests.get(nginx + "/feed/json/", timeout=10).headers["Content-Type"]
    missing = requests.get(nginx + "/no-such-story/", timeout=10)
    assert missing.status_code == 404 and "<main" in missing.text


def test_a_reader_sees_the_article_with_its_pictures_from_the_export(site, nginx, browser):
    home = requests.get(nginx + "/", timeout=10).text
    article = re.search(r'<a[^>]+href="(/[a-z-]+/[a-z0-9-]+/)"', home.split("<main", 1)[1]).group(1)
    browser.get(nginx + article)
    headline = browser.find_element("css selector", "main h1").text
    assert headline and headline in requests.get(site.base + article, timeout=10).text
    loaded = browser.execute_script(
        "return Array.from(document.querySelectorAll('main img')).map(i => [i.currentSrc, i.complete && i.naturalWidth > 0]);")
    assert loaded, "the article shows no picture"
    assert all(ok for _, ok in loaded), f"pictures that did not load from the export: {loaded}"
