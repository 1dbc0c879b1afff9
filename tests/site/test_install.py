"""`make install PREFIX=…` (scripts/install.sh) puts the binary in PREFIX/bin and the themes, the
newsroom's files and the demo in PREFIX/share/masthead, so `masthead serve` works from any folder:
here, from an empty one, with the demo loaded, the theme's pages and assets and the newsroom's
sign-in page all served."""
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from conftest import BINARY, ROOT, free_port


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix") / "opt" / "masthead"
    result = subprocess.run([str(ROOT / "scripts/install.sh"), str(prefix), str(BINARY)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return prefix


def test_the_binary_and_its_files_are_installed_under_the_prefix(installed):
    assert os.access(installed / "bin" / "masthead", os.X_OK)
    for folder in ("Themes/default/templates", "Admin", "Demo/articles"):
        assert (installed / "share" / "masthead" / folder).is_dir(), folder


def test_a_relative_prefix_is_refused(tmp_path):
    result = subprocess.run([str(ROOT / "scripts/install.sh"), "relative/prefix", str(BINARY)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "absolute" in result.stderr
    assert not (tmp_path / "relative").exists()


def test_the_installed_binary_serves_the_site_from_any_folder(installed, tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MASTHEAD_")}
    environment["MASTHEAD_BASE_URL"] = base
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [str(installed / "bin" / "masthead"), "serve", "--data-dir", str(elsewhere / "data"), "--port", str(port), "--demo-if-empty"],
        cwd=elsewhere, stdout=log, stderr=subprocess.STDOUT, env=environment)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        home = requests.get(base + "/", timeout=10)
        assert home.status_code == 200
        assert "river towns" in home.text.lower(), "the demo newsroom was not loaded"
        stylesheet = re.search(r'href="(/assets/[^"?]+\.css)', home.text).group(1)
        assert requests.get(base + stylesheet, timeout=10).status_code == 200
        sign_in = requests.get(base + "/admin/login", timeout=10, allow_redirects=True)
        assert sign_in.status_code == 200 and "<form" in sign_in.text
        admin_asset = re.search(r'"(/admin/assets/[^"?]+)', sign_in.text).group(1)
        assert requests.get(base + admin_asset, timeout=10).status_code == 200
        assert not (elsewhere / "Themes").exists() and not (elsewhere / "Admin").exists()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
