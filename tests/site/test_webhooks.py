"""Webhooks end to end: an admin adds one in the browser, an article is published through the
Admin API, and a real receiver gets a POST whose signature checks out with the secret shown once."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from conftest import add_user, admin_key
from test_newsroom import click_and_wait, sign_in


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}/purge"
    server.shutdown()


def test_publishing_sends_a_signed_webhook(site, browser, receiver):
    add_user(site, "hook-admin@news.example", "Hana Admin", "admin")
    sign_in(browser, site, "hook-admin@news.example")
    browser.get(site.base + "/admin/webhooks/")
    browser.find_element(By.ID, "url").send_keys(receiver)
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Add webhook')]"))
    secret = browser.find_element(By.CSS_SELECTOR, "input[aria-label='Signing secret']").get_attribute("value")
    assert secret.startswith("whsec_")

    key = admin_key(site, "hook-admin@news.example")
    auth = {"Authorization": f"Bearer {key}"}
    created = requests.post(site.base + "/api/admin/articles/", headers=auth, json={
        "title": "Tram line opens to the harbour", "section": "business", "body": "The first tram ran at dawn.", "tags": ["Transport"]})
    assert created.status_code == 201, created.text
    article_id = created.json()["articles"][0]["id"]
    assert requests.post(f"{site.base}/api/admin/articles/{article_id}/publish", headers=auth).status_code == 200

    deadline = time.time() + 15
    while time.time() < deadline and not Receiver.received:
        time.sleep(0.2)
    assert Receiver.received, "no webhook arrived"
    headers, body = Receiver.received[0]
    assert headers["Masthead-Event"] == "article.published"
    fields = dict(part.split("=", 1) for part in headers["Masthead-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    payload = json.loads(body)
    assert payload["article"]["url"] == site.base + "/business/tram-line-opens-to-the-harbour/"
    assert site.base + "/tag/transport/" in payload["purge_urls"]

    browser.get(site.base + "/admin/webhooks/")
    log = browser.find_element(By.TAG_NAME, "main").text
    assert "article.published" in log and "Delivered" in log and "HTTP 200" in log
    axe = Axe(browser)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], axe.report(violations)
