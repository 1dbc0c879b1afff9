"""Consent in a real browser: nothing stored or loaded before a choice, Reject as easy as Accept,
gated embeds only after Accept, Global Privacy Control honoured, one record per choice without an
address; and page counts that match a scripted visit sequence exactly."""
import re
from urllib.parse import urlparse

import pytest
import requests
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from conftest import add_user, new_browser, session_for
from test_newsroom import click_and_wait

VIDEO_ARTICLE = "/science/bees-map-city-gardens/"


@pytest.fixture()
def fresh():
    driver = new_browser()
    yield driver
    driver.quit()


def other_origin_requests(driver, base):
    host = urlparse(base).netloc
    entries = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [url for url in entries if urlparse(url).netloc not in (host, "")]


def storage(driver):
    return driver.get_cookies(), driver.execute_script("return Object.keys(window.localStorage)")


def consent_records(site):
    return site.query("SELECT consent_id, action, granted FROM consent_record ORDER BY id")


def test_first_visit_stores_and_loads_nothing_and_reject_stores_only_the_choice(site, fresh):
    fresh.get(site.base + VIDEO_ARTICLE)
    assert fresh.find_element(By.CSS_SELECTOR, ".embed__placeholder"), "the article with a video shows its placeholder"
    assert storage(fresh) == ([], [])
    assert other_origin_requests(fresh, site.base) == []
    assert not fresh.find_elements(By.TAG_NAME, "iframe")
    notice = fresh.find_element(By.CSS_SELECTOR, ".consent-notice")
    accept = notice.find_element(By.XPATH, ".//button[.='Accept all']")
    reject = notice.find_element(By.XPATH, ".//button[.='Reject all']")
    assert accept.size == reject.size or abs(accept.size["width"] - reject.size["width"]) < 30
    assert accept.value_of_css_property("background-color") == reject.value_of_css_property("background-color")
    assert notice.find_element(By.LINK_TEXT, "Choose").get_attribute("href").endswith("/consent/")
    axe = Axe(fresh)
    axe.inject()
    violations = axe.run(context={"include": [[".consent-notice"]]})["violations"]
    assert violations == [], axe.report(violations)

    before = len(consent_records(site))
    click_and_wait(fresh, reject)
    cookies, local = storage(fresh)
    assert [cookie["name"] for cookie in cookies] == ["masthead_consent"] and local == []
    assert ".none." in cookies[0]["value"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Lax"
    assert fresh.current_url == site.base + VIDEO_ARTICLE
    assert not fresh.find_elements(By.CSS_SELECTOR, ".consent-notice")
    assert not fresh.find_elements(By.TAG_NAME, "iframe")
    assert other_origin_requests(fresh, site.base) == []
    records = consent_records(site)
    assert len(records) == before + 1 and records[-1][1:] == ("reject", "")


def test_accept_loads_gated_content_and_privacy_settings_take_it_back(site, fresh):
    fresh.get(site.base + VIDEO_ARTICLE)
    assert fresh.find_element(By.CSS_SELECTOR, ".embed__placeholder")
    before = len(consent_records(site))
    click_and_wait(fresh, fresh.find_element(By.XPATH, "//button[.='Accept all']"))
    frame = fresh.find_element(By.CSS_SELECTOR, ".embed iframe")
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/embed/")
    status, headers, _ = site.get(VIDEO_ARTICLE, headers={"Cookie": "masthead_consent=" + fresh.get_cookie("masthead_consent")["value"]})
    assert "https://www.youtube-nocookie.com" in headers["Content-Security-Policy"]

    # The footer link reopens the choice; withdrawing is one click.
    click_and_wait(fresh, fresh.find_element(By.LINK_TEXT, "Privacy settings"))
    assert fresh.find_element(By.ID, "consent-media").is_selected()
    consent_id = fresh.find_element(By.XPATH, "//p[contains(., 'Your consent id is')]/code").text
    click_and_wait(fresh, fresh.find_element(By.XPATH, "//button[contains(., 'Withdraw consent')]"))
    assert not fresh.find_element(By.ID, "consent-media").is_selected()
    fresh.get(site.base + VIDEO_ARTICLE)
    assert not fresh.find_elements(By.TAG_NAME, "iframe")
    records = consent_records(site)
    assert [r[1] for r in records[before:]] == ["accept", "reject"]
    assert {r[0] for r in records[before:]} == {consent_id}

    # Choosing one category from the second layer.
    fresh.get(site.base + "/consent/")
    fresh.find_element(By.ID, "consent-media").click()
    click_and_wait(fresh, fresh.find_element(By.XPATH, "//button[.='Save my choices']"))
    assert consent_records(site)[-1][1:] == ("choose", "media")
    axe = Axe(fresh)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], axe.report(violations)


def test_global_privacy_control_never_loads_gated_content(site, fresh):
    fresh.get(site.base + VIDEO_ARTICLE)
    click_and_wait(fresh, fresh.find_element(By.XPATH, "//button[.='Accept all']"))
    assert fresh.find_elements(By.CSS_SELECTOR, ".embed iframe")
    fresh.execute_cdp_cmd("Network.enable", {})
    fresh.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Sec-GPC": "1"}})
    fresh.get(site.base + VIDEO_ARTICLE)
    assert not fresh.find_elements(By.TAG_NAME, "iframe")
    assert "Global Privacy Control" in fresh.find_element(By.CSS_SELECTOR, ".consent-signal").text
    assert other_origin_requests(fresh, site.base) == []
    status, headers, html = site.get(VIDEO_ARTICLE, headers={"Sec-GPC": "1", "Cookie": "masthead_consent=" + fresh.get_cookie("masthead_consent")["value"]})
    assert "script-src 'none'" in headers["Content-Security-Policy"] and "youtube" not in headers["Content-Security-Policy"]
    assert "<iframe" not in html


def test_a_choice_posted_from_another_site_is_refused(site):
    response = requests.post(site.base + "/consent/", data={"choice": "accept"}, headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers


def test_consent_records_hold_no_address_and_can_be_exported_and_deleted(site):
    requests.post(site.base + "/consent/", data={"choice": "accept", "return": "/"}, allow_redirects=False)
    assert b"127.0.0.1" not in site.database_bytes()
    add_user(site, "privacy-admin@news.example", "Pia Admin", "admin")
    session = session_for(site, "privacy-admin@news.example")
    export = session.get(site.base + "/admin/consent/export.csv")
    assert export.status_code == 200 and export.text.startswith("time,consent_id,policy_version,action,granted")
    rows = export.text.strip().splitlines()[1:]
    assert len(rows) == len(consent_records(site))
    consent_id = rows[-1].split(",")[1]
    page = session.get(site.base + "/admin/consent/").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    deleted = session.post(site.base + "/admin/consent/delete/", data={"csrf": token, "consent_id": consent_id})
    assert deleted.status_code == 200 and "were deleted" in deleted.text
    assert consent_id not in [r[0] for r in consent_records(site)]


def dashboard(session, site):
    html = session.get(site.base + "/admin/audience/?days=1").text
    pages = dict((path, (int(views), int(visitors))) for path, views, visitors in
                 re.findall(r"<tr><td>(/[^<]*)</td><td>(\d+)</td><td>(\d+)</td></tr>", html))
    referrers = dict((domain, int(views)) for domain, views in re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", html))
    total = int(re.search(r'id="total-views">(\d+)<', html).group(1))
    return pages, referrers, total


def test_page_counts_match_a_scripted_visit_sequence(site):
    add_user(site, "counter@news.example", "Cora Editor", "editor")
    session = session_for(site, "counter@news.example")
    before_pages, before_referrers, before_total = dashboard(session, site)
    article = "/world/river-towns-share-flood-warnings/"
    visits = [
        ("reader-one", "/", None),
        ("reader-one", article, site.base + "/"),
        ("reader-one", article, "https://www.news-aggregator.example/today"),
        ("reader-two", article, "https://social.example/post/1"),
        ("reader-two", "/science/", None),
        ("reader-three", "/tag/climate/", "https://social.example/post/2"),
    ]
    for agent, path, referrer in visits:
        headers = {"User-Agent": f"Mozilla/5.0 ({agent})"}
        if referrer:
            headers["Referer"] = referrer
        assert requests.get(site.base + path, headers=headers).status_code == 200
    # Not counted: robots that say so, feeds, the newsroom.
    requests.get(site.base + article, headers={"User-Agent": "Googlebot/2.1"})
    requests.get(site.base + "/feed/", headers={"User-Agent": "Mozilla/5.0 (reader-one)"})
    after_pages, after_referrers, after_total = dashboard(session, site)

    def delta(path):
        now, then = after_pages.get(path, (0, 0)), before_pages.get(path, (0, 0))
        return now[0] - then[0], now[1] - then[1]

    assert delta("/") == (1, 1)
    assert delta(article) == (3, 2)
    assert delta("/science/") == (1, 1)
    assert delta("/tag/climate/") == (1, 1)
    assert after_total - before_total == 6
    assert after_referrers.get("social.example", 0) - before_referrers.get("social.example", 0) == 2
    assert after_referrers.get("news-aggregator.example", 0) - before_referrers.get("news-aggregator.example", 0) == 1
    # Nothing was set on the readers' devices.
    assert "Set-Cookie" not in requests.get(site.base + article).headers
