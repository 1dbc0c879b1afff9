"""The confidential tip line, on a site of its own: nothing of a tip or of the source's address is
found anywhere on disk or in the logs; the newsroom's key opens it offline and a wrong key cannot;
image metadata is gone; a source and an editor converse in real browsers."""
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from conftest import BINARY, RunningSite, add_user, jpeg_with_gps, new_browser
from test_newsroom import click_and_wait, sign_in

PASSPHRASE = "ink and paper and patience"


@pytest.fixture(scope="module")
def tip_site():
    directory = Path(tempfile.mkdtemp(prefix="masthead-tips-"))
    site = RunningSite(directory)
    key_file = directory / "newsroom-tip-key.txt"
    made = site.cli("tips", "keygen", "--store-protected", "--out", str(key_file), input=PASSPHRASE + "\n")
    assert made.returncode == 0, made.stderr
    site.key_file = key_file
    site.start()
    add_user(site, "tips-editor@news.example", "Tess Editor", "editor")
    yield site
    assert site.stop() == 0
    shutil.rmtree(directory, ignore_errors=True)


def send_tip(site, message, files=(), contact=""):
    session = requests.Session()
    page = session.get(site.base + "/tips/").text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    upload = [("files", (Path(f).name, Path(f).read_bytes(), "image/jpeg")) for f in files]
    started = time.monotonic()
    response = session.post(site.base + "/tips/", data={"token": token, "message": message, "contact": contact}, files=upload or None)
    assert response.status_code == 200, response.text[:2000]
    assert time.monotonic() - started >= 2.5, "a form sent at once is answered only once it is 3 seconds old"
    again = session.post(site.base + "/tips/", data={"token": token, "message": message})
    assert again.status_code == 422 and "already sent" in again.text
    return re.search(r'id="receipt">([^<]+)<', response.text).group(1), response


def test_a_tip_is_sealed_before_it_touches_disk_and_leaves_no_trace(tip_site, tmp_path):
    marker = "quill" + uuid.uuid4().hex
    photo = jpeg_with_gps(tmp_path / "leak.jpg")
    receipt, response = send_tip(tip_site, f"The minutes were altered. {marker}", [photo], contact=f"signal {marker}")
    assert len(receipt.split()) >= 7
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    time.sleep(6)  # let every periodic writer (audience counts, checkpoints) run

    client_ip = "127.0.0.1"
    for path in [p for p in Path(tip_site.directory).rglob("*") if p.is_file() and p != tip_site.key_file]:
        data = path.read_bytes()
        assert marker.encode() not in data, f"the tip's text is in {path}"
        assert client_ip.encode() not in data, f"the client's address is in {path}"
        assert b"Informant Camera" not in data, f"the photo's metadata is in {path}"

    opened = tip_site.cli("tips", "open", "--key", str(tip_site.key_file), "--files", str(tmp_path / "out"))
    assert opened.returncode == 0, opened.stderr
    assert marker in opened.stdout and f"Contact: signal {marker}" in opened.stdout
    saved = list((tmp_path / "out").rglob("*.jpg"))
    assert len(saved) == 1
    exif = subprocess.run(["exiftool", str(saved[0])], capture_output=True, text=True).stdout
    assert "GPS" not in exif and "Informant Camera" not in exif
    assert "Image Size                      : 320x200" in exif

    # The export, read offline, opens the same way; another key opens nothing.
    export = tmp_path / "tips.json"
    assert tip_site.cli("tips", "export", "--out", str(export)).returncode == 0
    assert marker.encode() not in export.read_bytes()
    offline = tip_site.cli("tips", "open", "--key", str(tip_site.key_file), "--from", str(export), "--files", str(tmp_path / "offline"))
    assert offline.returncode == 0 and marker in offline.stdout
    other_dir = tmp_path / "other"
    wrong_key = tmp_path / "wrong-key.txt"
    made = subprocess.run([str(BINARY), "tips", "keygen", "--out", str(wrong_key), "--data-dir", str(other_dir)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert made.returncode == 0, made.stderr
    refused = tip_site.cli("tips", "open", "--key", str(wrong_key), "--from", str(export), "--files", str(tmp_path / "nope"))
    assert refused.returncode == 1
    assert "was not sealed to this key" in refused.stderr
    assert marker not in refused.stdout + refused.stderr


def test_the_tip_page_loads_nothing_from_anywhere_else(tip_site):
    driver = new_browser()
    try:
        driver.get(tip_site.base + "/tips/")
        host = urlparse(tip_site.base).netloc
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(urlparse(url).netloc == host for url in resources), resources
        assert driver.get_cookies() == []
        assert not driver.find_elements(By.TAG_NAME, "script")
        assert not driver.find_elements(By.TAG_NAME, "iframe")
        text = driver.find_element(By.TAG_NAME, "main").text
        assert "What this tip line protects" in text and "What it cannot protect" in text
        axe = Axe(driver)
        axe.inject()
        violations = axe.run()["violations"]
        assert violations == [], axe.report(violations)
    finally:
        driver.quit()


def test_a_source_and_an_editor_converse_and_a_wrong_receipt_reveals_nothing(tip_site):
    source = new_browser()
    editor = new_browser()
    try:
        marker = "inkwell" + uuid.uuid4().hex[:10]
        source.get(tip_site.base + "/tips/")
        source.find_element(By.ID, "tip-message").send_keys(f"Please look into the harbour contracts. {marker}")
        time.sleep(3.2)
        click_and_wait(source, source.find_element(By.XPATH, "//button[.='Encrypt and send']"))
        receipt = source.find_element(By.ID, "receipt").text
        assert len(receipt.split()) == 8

        sign_in(editor, tip_site, "tips-editor@news.example")
        editor.get(tip_site.base + "/admin/tips/")
        editor.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
        click_and_wait(editor, editor.find_element(By.XPATH, "//button[.='Unlock']"))
        assert "unlocked" in editor.page_source
        axe = Axe(editor)
        axe.inject()
        assert axe.run()["violations"] == []
        links = editor.find_elements(By.CSS_SELECTOR, "table.list a")
        opened = None
        for link in [l.get_attribute("href") for l in links]:
            editor.get(link)
            if marker in editor.page_source:
                opened = link
                break
        assert opened, "the editor could not read the tip"
        reply = f"Thank you. Can you send the contract numbers? {marker}-reply"
        editor.find_element(By.ID, "reply").send_keys(reply)
        click_and_wait(editor, editor.find_element(By.XPATH, "//button[contains(., 'Seal and send')]"))
        axe = Axe(editor)
        axe.inject()
        assert axe.run()["violations"] == []

        source.delete_all_cookies()
        source.get(tip_site.base + "/tips/return/")
        source.find_element(By.ID, "tip-receipt").send_keys(receipt.upper())
        click_and_wait(source, source.find_element(By.XPATH, "//button[.='Show replies']"))
        assert reply in source.find_element(By.TAG_NAME, "main").text
        source.find_element(By.ID, "tip-message").send_keys("The numbers are 14 and 15.")
        time.sleep(3.2)
        click_and_wait(source, source.find_element(By.XPATH, "//button[.='Encrypt and send']"))
        assert "Your message was encrypted and sent." in source.page_source

        words = receipt.split()
        wrong = " ".join(words[:-1] + ["zebra" if words[-1] != "zebra" else "zipper"])
        source.get(tip_site.base + "/tips/return/")
        source.find_element(By.ID, "tip-receipt").send_keys(wrong)
        click_and_wait(source, source.find_element(By.XPATH, "//button[.='Show replies']"))
        page = source.find_element(By.TAG_NAME, "main").text
        assert "No conversation matches that receipt" in page
        assert marker not in source.page_source

        editor.get(opened)
        assert "The numbers are 14 and 15." in editor.page_source
    finally:
        source.quit()
        editor.quit()


def test_the_tip_line_stays_closed_to_third_parties_even_after_accept_all(tip_site):
    session = requests.Session()
    session.post(tip_site.base + "/consent/", data={"choice": "accept", "return": "/"}, allow_redirects=False)
    assert "masthead_consent" in session.cookies
    article = session.get(tip_site.base + "/")
    page = session.get(tip_site.base + "/tips/")
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]
    assert "youtube" not in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text and "<iframe" not in page.text
    assert article.status_code == 200
