"""Never locked in: `masthead export-markdown DIR` writes the whole site as Markdown, and
`masthead import-markdown DIR` on an empty site gives the same public pages — articles with
their pictures, corrections and tags, standing pages (nested ones too), sections in their
order, author pages with their biographies."""
import re
import shutil
import tempfile
from pathlib import Path

import lxml.html
import pytest
import requests

from conftest import RunningSite, serving_site, sitemap_paths
from test_import_ghost import EXPORT as GHOST_EXPORT, IMAGES as GHOST_IMAGES
from test_import_wordpress import EXPORT as WORDPRESS_EXPORT, UPLOADS as WORDPRESS_UPLOADS


@pytest.fixture(scope="module")
def original():
    """The demo newsroom plus a WordPress and a Ghost site moved in: images in bodies,
    nested pages, corrections, canonical addresses."""
    for site in serving_site("masthead-export-"):
        for command in (
            ["import-wordpress", str(WORDPRESS_EXPORT), "--uploads", str(WORDPRESS_UPLOADS), "--no-download"],
            ["import-ghost", str(GHOST_EXPORT), "--images", str(GHOST_IMAGES), "--no-download"],
        ):
            result = site.cli(*command)
            assert result.returncode == 0, result.stderr
        yield site


@pytest.fixture(scope="module")
def export_folder(original, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "site"
    result = original.cli("export-markdown", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def copy(export_folder):
    """A new, empty site that imported the export before it first started."""
    directory = tempfile.mkdtemp(prefix="masthead-export-copy-")
    site = RunningSite(directory)
    result = site.cli("import-markdown", str(export_folder))
    assert result.returncode == 0, result.stderr
    site.start()
    yield site
    assert site.stop() == 0
    shutil.rmtree(directory, ignore_errors=True)


def what_readers_see(site, path):
    """The page's main content as served, without what differs between any two sites:
    signed image addresses and form tokens."""
    response = requests.get(site.base + path, allow_redirects=False, timeout=30)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    main = lxml.html.fromstring(response.text).xpath("//main")[0]
    html = lxml.html.tostring(main, encoding="unicode")
    html = re.sub(r"/img/[A-Za-z0-9_-]+/", "/img/SIGNED/", html)
    return re.sub(r'name="csrf" value="[^"]*"', 'name="csrf"', html)


def test_the_export_holds_every_kind_of_content(export_folder):
    files = {str(path.relative_to(export_folder)) for path in export_folder.rglob("*") if path.is_file()}
    assert "site.yaml" in files
    assert any(name.startswith("articles/") and name.endswith(".md") for name in files)
    assert "pages/about/team.md" in files, "the nested page is missing"
    assert any(name.startswith("media/wordpress/") for name in files), "the imported pictures are missing"
    assert any("status: draft" in path.read_text() for path in export_folder.glob("articles/*/*.md")), "drafts are exported too"


def test_a_site_imported_from_the_export_shows_the_same_public_pages(original, copy):
    paths = sitemap_paths(original.base)
    assert len(paths) > 20, paths
    assert sitemap_paths(copy.base) == paths
    for path in paths:
        if path.endswith(".xml"):
            continue
        assert what_readers_see(copy, path) == what_readers_see(original, path), f"{path} differs after export and import"


def test_pictures_keep_their_addresses_and_are_served(original, copy):
    found = 0
    for path in sitemap_paths(copy.base):
        if path.endswith(".xml") or path.count("/") != 3:
            continue
        page = lxml.html.fromstring(requests.get(copy.base + path, timeout=30).text)
        for image in page.xpath("//main//article//img"):
            response = requests.get(copy.base + image.get("src"), timeout=30)
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("image/"), image.get("src")
            found += 1
    assert found >= 5


def test_exporting_into_a_folder_that_holds_files_is_refused(original, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = original.cli("export-markdown", str(tmp_path))
    assert result.returncode != 0
    assert "not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_a_bad_file_in_an_export_imports_nothing_at_all(export_folder, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(export_folder, broken)
    victim = sorted(broken.glob("articles/*/*.md"))[-1]
    victim.write_text("---\ntitle: [unclosed\n---\nBody.\n")
    site = RunningSite(tmp_path / "site")
    result = site.cli("import-markdown", str(broken))
    assert result.returncode != 0
    assert victim.name in result.stderr, result.stderr
    counts = {table: site.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in ("article", "page", "author", "section", "media")}
    assert counts == {"article": 0, "page": 0, "author": 0, "section": 0, "media": 0}, counts
    media = site.data / "media"
    assert not [path for path in media.rglob("*") if path.is_file() and not path.name.startswith(".")], "pictures were left behind"
