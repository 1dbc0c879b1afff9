"""The newsroom in a real browser: invitation and sign-in, writing with an image, scheduling
that publishes on time, two people editing at once, roles, CSRF, lockout, and axe on every page."""
import datetime
import re
import subprocess
import time
import uuid

import pytest
import requests
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait


from conftest import PASSWORD, add_user, admin_key, csrf_of, jpeg_with_gps, new_browser, session_for, write_png


def click_and_wait(driver, element):
    """Clicks a submit button or link and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()

    def replaced(_):
        try:
            page.is_enabled()
            return False
        except WebDriverException:  # stale, or gone while the next page loads
            return True

    WebDriverWait(driver, 20).until(replaced)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(browser, site, email, password=PASSWORD):
    browser.delete_all_cookies()
    browser.get(site.base + "/admin/login/")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.panel button[type=submit]"))
    assert "/admin/articles/" in browser.current_url, browser.page_source[:2000]


@pytest.fixture(scope="module")
def owner(site):
    return add_user(site, "owner@news.example", "Olive Owner", "owner")


@pytest.fixture(scope="module")
def second_browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_invited_author_writes_with_an_image_and_it_publishes_on_time(site, browser, owner, tmp_path):
    invite = site.cli("user", "add", "--email", "nadia@news.example", "--name", "Nadia Reporter", "--role", "author", "--invite")
    assert invite.returncode == 0, invite.stderr
    link = invite.stdout.strip().splitlines()[-1]
    assert link.startswith(site.base + "/admin/set-password/")

    browser.delete_all_cookies()
    browser.get(link)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "confirm").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.panel button[type=submit]"))
    assert "password is set" in browser.page_source
    sign_in(browser, site, "nadia@news.example")

    marker = "quayside" + uuid.uuid4().hex[:8]
    image = tmp_path / "harbour-cranes.png"
    write_png(image, 960, 540)
    browser.get(site.base + "/admin/articles/new/")
    browser.find_element(By.ID, "title").send_keys(f"Night shift at the {marker}")
    browser.find_element(By.ID, "summary").send_keys("Cranes work until dawn.")
    body = browser.find_element(By.ID, "body")
    body.send_keys(f"The **{marker}** never sleeps.\n\nSecond paragraph.")
    # The live preview renders the Markdown while typing.
    deadline = time.time() + 10
    while time.time() < deadline and "<strong>" + marker not in browser.find_element(By.ID, "preview").get_attribute("innerHTML"):
        time.sleep(0.2)
    assert "<strong>" + marker + "</strong>" in browser.find_element(By.ID, "preview").get_attribute("innerHTML")
    Select(browser.find_element(By.ID, "section")).select_by_visible_text("Business")
    browser.find_element(By.ID, "tags").send_keys("Ports, Night work")
    browser.find_element(By.ID, "image_file").send_keys(str(image))
    browser.find_element(By.ID, "image_alt").send_keys("Container cranes lit at night")
    browser.find_element(By.ID, "image_credit").send_keys("Photo: Desk")

    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=25)
    field = browser.find_element(By.ID, "publish_at")
    browser.execute_script("arguments[0].value = arguments[1]", field, when.strftime("%Y-%m-%dT%H:%M:%S"))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=schedule]"))
    assert "Saved and scheduled." in browser.page_source, browser.page_source[:3000]
    assert "Scheduled" in browser.find_element(By.CSS_SELECTOR, ".status").text

    path = f"/business/night-shift-at-the-{marker}/"
    status, _, _ = site.get(path)
    assert status == 404, "a scheduled story must not be public before its time"
    while datetime.datetime.now(datetime.timezone.utc) < when - datetime.timedelta(seconds=1):
        time.sleep(0.5)
    appeared = None
    deadline = time.time() + 30
    while time.time() < deadline:
        status, _, html = site.get(path)
        if status == 200:
            appeared = datetime.datetime.now(datetime.timezone.utc)
            break
        time.sleep(0.25)
    assert appeared is not None, "the scheduled story never appeared"
    print(f"scheduled story public {(appeared - when).total_seconds():.2f} s after its time")
    assert (appeared - when).total_seconds() < 5, f"appeared {(appeared - when).total_seconds():.1f} s late"
    assert "<strong>" + marker + "</strong>" in html
    assert 'alt="Container cranes lit at night"' in html and "/img/" in html
    assert "Photo: Desk" in html
    assert "By <a" in html and "Nadia Reporter" in html
    home_status, _, home = site.get("/")
    assert marker in home


def test_two_people_editing_at_once_lose_nothing(site, browser, second_browser, owner):
    add_user(site, "erin@news.example", "Erin Editor", "editor")
    session = session_for(site, "erin@news.example")
    token = csrf_of(session, site.base + "/admin/articles/new/")
    sections = re.findall(r'<option value="(\d+)"', session.get(site.base + "/admin/articles/new/").text)
    created = session.post(site.base + "/admin/articles/new/", data={
        "csrf": token, "title": "Council budget explained", "section": sections[0], "body": "Original text.", "action": "save", "image_media": "none",
    }, allow_redirects=False)
    assert created.status_code == 303
    editor_path = created.headers["Location"].split("?")[0]

    sign_in(browser, site, owner)
    sign_in(second_browser, site, "erin@news.example")
    browser.get(site.base + editor_path)
    second_browser.get(site.base + editor_path)

    first = browser.find_element(By.ID, "body")
    first.clear()
    first.send_keys("The owner's rewrite of the budget story.")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=save]"))
    assert "Saved." in browser.page_source

    second = second_browser.find_element(By.ID, "body")
    second.clear()
    second.send_keys("Erin's careful paragraph about the budget.")
    click_and_wait(second_browser, second_browser.find_element(By.CSS_SELECTOR, "button[value=save]"))
    alert = second_browser.find_element(By.ID, "conflict").text
    assert "changed by Olive Owner at" in alert
    assert second_browser.find_element(By.ID, "body").get_attribute("value") == "Erin's careful paragraph about the budget."

    # The stored text is the owner's; Erin's is kept as a revision and shown in the diff.
    browser.get(site.base + editor_path)
    assert browser.find_element(By.ID, "body").get_attribute("value") == "The owner's rewrite of the budget story."
    browser.get(site.base + editor_path + "revisions/")
    assert "Kept from a conflicting save" in browser.page_source
    kept = browser.find_element(By.XPATH, "//tr[td[contains(., 'Kept from a conflicting save')]]//a")
    click_and_wait(browser, kept)
    assert "Erin&#39;s careful paragraph" in browser.page_source or "Erin's careful paragraph" in browser.find_element(By.TAG_NAME, "pre").text


def test_contributor_cannot_publish_by_ui_or_api(site, browser, owner):
    add_user(site, "cai@news.example", "Cai Contributor", "contributor")
    sign_in(browser, site, "cai@news.example")
    browser.get(site.base + "/admin/articles/new/")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[value=publish]")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[value=schedule]")
    browser.find_element(By.ID, "title").send_keys("Contributor's first draft")
    browser.find_element(By.ID, "body").send_keys("Draft text.")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=review]"))
    assert "Saved and sent for review." in browser.page_source
    editor_path = browser.current_url.replace(site.base, "").split("?")[0]
    article_id = editor_path.strip("/").split("/")[-1]

    # A hand-made form post asking to publish is refused.
    session = session_for(site, "cai@news.example")
    page = session.get(site.base + editor_path).text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    section = re.search(r'<option value="(\d+)" selected', page).group(1)
    refused = session.post(site.base + editor_path, data={
        "csrf": token, "version": version, "title": "Contributor's first draft", "section": section, "body": "Draft text.",
        "action": "publish", "image_media": "none"}, allow_redirects=False)
    assert refused.status_code == 403

    # And so is the Admin API with the contributor's own key, made on the account page.
    browser.get(site.base + "/admin/account/")
    browser.find_element(By.ID, "key-name").send_keys("My script")
    browser.find_element(By.ID, "key-password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Create a key')]"))
    key = browser.find_element(By.CSS_SELECTOR, "input[aria-label='New API key']").get_attribute("value")
    api = requests.post(f"{site.base}/api/admin/articles/{article_id}/publish", headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 403 and api.json()["errors"][0]["type"] == "NoPermissionError"
    listed = requests.get(f"{site.base}/api/admin/articles/{article_id}/", headers={"Authorization": f"Bearer {key}"}).json()
    assert listed["articles"][0]["status"] == "review"
    status, _, _ = site.get("/world/contributors-first-draft/")
    assert status == 404


def test_a_request_without_csrf_token_changes_nothing(site, owner):
    session = session_for(site, owner)
    before = session.get(site.base + "/admin/settings/").text
    refused = session.post(site.base + "/admin/settings/", data={"title": "Hijacked Herald"}, allow_redirects=False)
    assert refused.status_code == 403
    wrong = session.post(site.base + "/admin/sections/", data={"name": "Hijacked", "csrf": "not-the-token"}, allow_redirects=False)
    assert wrong.status_code == 403
    assert "Hijacked" not in session.get(site.base + "/admin/settings/").text
    assert "Hijacked" not in session.get(site.base + "/admin/taxonomy/").text
    assert session.get(site.base + "/admin/settings/").text.count("Hijacked") == before.count("Hijacked") == 0


def test_twenty_wrong_passwords_lock_the_account(site, owner):
    add_user(site, "lee@news.example", "Lee Locked", "author")
    session = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(site.base + "/admin/login/").text).group(1)
    statuses = []
    for attempt in range(20):
        response = session.post(site.base + "/admin/login/", data={"csrf": token, "email": "lee@news.example", "password": f"wrong guess {attempt}"})
        statuses.append(response.status_code)
    assert statuses[0] == 401 and statuses[-1] == 429
    right = session.post(site.base + "/admin/login/", data={"csrf": token, "email": "lee@news.example", "password": PASSWORD}, allow_redirects=False)
    assert right.status_code == 429
    assert "locked until" in right.text
    assert "masthead_session" not in session.cookies
    log = site.log_path.read_text()
    assert "account locked" in log
    assert "wrong guess" not in log


@pytest.mark.parametrize("page", [
    "/admin/login/", "/admin/articles/", "/admin/articles/new/", "EDITOR", "EDITOR/revisions/", "REVISION", "/admin/media/",
    "/admin/taxonomy/", "/admin/authors/", "/admin/authors/new/", "/admin/users/", "/admin/account/", "/admin/settings/",
    "/admin/webhooks/", "/admin/audience/", "/admin/consent/",
])
def test_admin_page_has_no_axe_violations(site, browser, owner, page):
    if page == "/admin/login/":
        browser.delete_all_cookies()
    elif "admin_signed_in" not in browser.get_cookies().__repr__():
        sign_in(browser, site, owner)
    if page in ("EDITOR", "EDITOR/revisions/", "REVISION"):
        browser.get(site.base + "/admin/articles/")
        editor = browser.find_element(By.CSS_SELECTOR, "table.list tbody a").get_attribute("href")
        if page == "EDITOR":
            url = editor
        else:
            if page == "REVISION":
                # A save makes sure the article has a revision to show.
                browser.get(editor)
                click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=save]"))
            browser.get(editor + "revisions/")
            url = editor + "revisions/" if page.endswith("revisions/") else browser.find_element(By.CSS_SELECTOR, "table.list tbody a").get_attribute("href")
    else:
        url = site.base + page
    browser.get(url)
    assert "<h1>" in browser.page_source
    axe = Axe(browser)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], axe.report(violations)


def test_uploaded_photos_lose_their_location_before_they_are_public(site, owner, tmp_path):
    photo = jpeg_with_gps(tmp_path / "from-the-scene.jpg")
    key = admin_key(site, owner, "Photo desk")
    uploaded = requests.post(f"{site.base}/api/admin/media/?filename=from-the-scene.jpg&alt=The%20scene",
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"}, data=photo.read_bytes())
    assert uploaded.status_code == 201, uploaded.text
    public = requests.get(site.base + uploaded.json()["media"][0]["url"])
    assert public.status_code == 200
    served = tmp_path / "served.jpg"
    served.write_bytes(public.content)
    exif = subprocess.run(["exiftool", str(served)], capture_output=True, text=True).stdout
    assert "GPS" not in exif and "Informant Camera" not in exif
    assert "Image Size                      : 320x200" in exif
