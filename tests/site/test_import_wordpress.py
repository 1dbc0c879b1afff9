"""A newsroom moving from WordPress: its Tools → Export file goes into a running site with
`masthead import-wordpress`. Every public story and page is then at its new address with its
words, pictures and videos as a reader should see them; every old address sends readers on with
a 301; nothing unpublished, protected or dangerous reaches a reader; and importing the same file
again changes nothing."""
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlparse

import lxml.html
import pytest
import requests

from conftest import add_user, admin_key, serving_site

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
EXPORT = FIXTURES / "newsroom.xml"
POSTNAME_EXPORT = FIXTURES / "newsroom-postname.xml"
UPLOADS = FIXTURES / "uploads"
OLD_HOST = "old.example-newsroom.invalid"

# The export's public posts: old address (its <link>), WordPress id, new address, and what a reader must see.
STORIES = {
    "flood": dict(old="/2013/01/05/flood-barrier-holds/", id=110, new="/environment/flood-barrier-holds/",
                  title="Flood barrier holds as the River Wend reaches a record height", author="Marta Kowalski", section="Environment",
                  text=["Water in the River Wend rose to 4.9 metres overnight", "Engineers will inspect the barrier on Monday."]),
    "towpath": dict(old="/2019/06/08/towpath-cycle-lane-opens/", id=111, new="/transport/towpath-cycle-lane-opens/",
                    title="Towpath cycle lane opens after eleven years of campaigning", author="Daniel Osei", section="Transport",
                    text=["first protected cycle lane opened along the towpath on Saturday",
                          "The second stretch, to the station, is due to open in September."]),
    "festival": dict(old="/2019/08/17/river-festival-returns/", id=112, new="/culture/river-festival-returns/",
                     title="River Festival returns to the quay for its fortieth year", author="Daniel Osei", section="Culture",
                     text=["The River Festival returned to the quay on Saturday for its fortieth year",
                           "Organisers filmed the lantern parade from the Old Bridge.", "go on sale in March."]),
    "bridge": dict(old="/2020/02/11/old-bridge-repair-plan/", id=113, new="/city-hall/old-bridge-repair-plan/",
                   title="Councillors to vote on repairing the Old Bridge", author="Priya Natarajan", section="City Hall",
                   text=["Councillors will vote next month on a plan to repair the Old Bridge",
                         "The bridge, built in 1823, carries 9,000 vehicles a day.",
                         "Engineers estimate the repair will close the bridge to all traffic for six weeks."]),
    "works": dict(old="/2017/09/14/inside-the-treatment-works/", id=114, new="/environment/inside-the-treatment-works/",
                  title="Inside the valley", author="Marta Kowalski", section="Environment",
                  text=["cleans 40 million litres of water a day", "Page one ends at the settling tanks",
                        "Page two follows the water through sand filters", "Page three ends in the control room"]),
    "reservoir": dict(old="/2021/11/30/council-agrees-reservoir-plan/", id=122, new="/environment/council-agrees-reservoir-plan/",
                      title="Council agrees £3m plan to protect the reservoir", author="Priya Natarajan", section="Environment",
                      text=["after a survey found seepage under the dam wall", "Work on the access road begins in the spring."]),
    "library": dict(old="/2022/01/20/library-extends-opening-hours/", id=123, new="/culture/library-extends-opening-hours/",
                    title="Library extends its opening hours", author="Daniel Osei", section="Culture",
                    text=["The central library will open until 8pm on weekdays from February",
                          "Sunday opening will be reviewed in the summer."]),
}
# Posts whose slug WordPress kept in their own script, percent-encoded in the <link>.
NON_LATIN = {
    "greek": dict(old="/2021/03/02/%ce%b5%ce%bb%ce%bb%ce%b7%ce%bd%ce%b9%ce%ba%ce%ae-%ce%ba%ce%bf%ce%b9%ce%bd%cf%8c%cf%84%ce%b7%cf%84%ce%b1-"
                      "%ce%b3%ce%b9%ce%bf%cf%81%cf%84%ce%ac%ce%b6%ce%b5%ce%b9-50-%cf%87%cf%81%cf%8c%ce%bd%ce%b9%ce%b1/", id=120,
                  title="Η ελληνική κοινότητα γιορτάζει 50 χρόνια στην πόλη", text="The Greek community marked fifty years"),
    "ukrainian": dict(old="/2021/04/12/%d0%bd%d0%be%d0%b2%d0%b8%d0%b9-%d0%bc%d1%96%d1%81%d1%82-%d1%87%d0%b5%d1%80%d0%b5%d0%b7-%d0%b2%d0%b5%d0%bd%d0%b4/",
                      id=121, title="Новий міст через Венд відкриють восени", text="The new footbridge over the Wend will open"),
}
PAGES = {
    "about": dict(old_id=150, path="/about/", title="About", text="The Riverside Ledger has reported on the Wend valley since 1998."),
    "team": dict(old_id=151, path="/about/team/", title="Team", text="Marta Kowalski edits the Ledger."),
    "contact": dict(old_id=152, path="/contact/", title="Contact", text="Write to the newsroom at 4 Quay Street, Wendbridge."),
}
# Never public: (what it is, words only it contains, where it would be, its old addresses).
HIDDEN = [
    ("draft", ["Greenplate", "meals supplier"], "/city-hall/schools-to-change-meals-supplier/", ["/?p=115"]),
    ("pending review", ["Saltmarsh", "Rail timetable changes"], "/transport/rail-timetable-changes-from-may/", ["/?p=116"]),
    ("scheduled for 2031", ["Tidewater", "Polling stations for the by-election"], "/city-hall/polling-stations-for-the-by-election/", ["/?p=117"]),
    ("private", ["Marchbank", "office move"], "/culture/staff-notice-office-move/", ["/?p=118", "/2021/06/01/staff-notice-office-move/"]),
    ("password-protected", ["Quillfeather", "briefing"], "/city-hall/members-briefing-budget-figures/",
     ["/?p=119", "/2020/03/05/members-briefing-budget-figures/"]),
    ("draft page", ["display advertising", "Advertise with us"], "/advertise-with-us/", ["/?page_id=153"]),
]
# The sections the export's categories become, with the old category addresses.
CATEGORIES = {"environment": "/environment/", "transport": "/transport/", "culture": "/culture/", "city-hall": "/city-hall/"}
AUTHORS = {"mkowalski": "/author/marta-kowalski/", "dosei": "/author/daniel-osei/", "pnatarajan": "/author/priya-natarajan/"}
COUNTS = ["posts", "pages", "authors", "sections", "tags", "images", "redirects", "comments"]


# Helpers, shared with test_import_ghost.py.

def has_class(name):
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def fetch_page(site, path):
    """The page at `path` (no redirect followed) as a parsed document; fails unless it is a 200."""
    response = requests.get(site.base + path, allow_redirects=False, timeout=30)
    assert response.status_code == 200, f"{path} answered {response.status_code}, not 200"
    return lxml.html.fromstring(response.text), response.text


def body_of(document):
    """The article's (or page's) body element."""
    bodies = document.xpath(f"//main//div[{has_class('article__body')}]")
    assert bodies, "the page has no article body"
    return bodies[0]


def text_of(element):
    return " ".join(element.text_content().split())


def moved_to(site, path):
    """Where a 301 from `path` points (a path on this site, query kept), or fails if it is not a 301."""
    response = requests.get(site.base + path, allow_redirects=False, timeout=30)
    assert response.status_code == 301, f"{path} answered {response.status_code}, not 301"
    location = response.headers["Location"]
    # A Location with raw UTF-8 in it arrives as Latin-1 text; read it as the bytes it was.
    try:
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    target = urlparse(urljoin(site.base + path, location))
    assert target.netloc in ("", urlparse(site.base).netloc), f"{path} is sent off-site, to {location}"
    return target.path + (f"?{target.query}" if target.query else "")


def final_page(site, path):
    """Follows redirects from `path` as a browser would: (status, final path, text)."""
    response = requests.get(site.base + path, timeout=30)
    return response.status_code, urlparse(response.url).path, response.text


def assert_image_served(site, src, what):
    """`src` is one of this site's images and the server answers it with a picture."""
    assert src.startswith(("/img/", "/media/")), f"{what}: {src} is not an image of this site"
    response = requests.get(urljoin(site.base, src), timeout=30)
    assert response.status_code == 200, f"{what}: {src} answered {response.status_code}"
    assert response.headers["Content-Type"].startswith("image/"), f"{what}: {src} is {response.headers['Content-Type']}"


def published_time(document):
    value = document.xpath("//main//article//header//time/@datetime")[0]
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def run_import(site, *arguments):
    started = time.time()
    result = site.cli(*arguments)
    return result, time.time() - started


def read_report(path):
    report = json.loads(Path(path).read_text())
    missing = [key for key in COUNTS + ["skipped", "missing_images"] if key not in report]
    assert not missing, f"the report lacks {missing}: {report}"
    return report


def media_files(site):
    """The files readers can be served from the media folder (not the import's staging area)."""
    folder = site.data / "media"
    files = [path.relative_to(folder) for path in folder.rglob("*") if path.is_file()] if folder.exists() else []
    return sorted(str(path) for path in files if not path.parts[0].startswith("."))


def article_snapshot(site, path):
    """What a reader sees of an article or page: its <article> element, as served."""
    document, _ = fetch_page(site, path)
    return lxml.html.tostring(document.xpath("//main//article")[0], encoding="unicode")


@pytest.fixture(scope="module")
def wordpress_site():
    yield from serving_site("masthead-wordpress-")


@pytest.fixture(scope="module")
def imported(wordpress_site, tmp_path_factory):
    """The site with the export imported while it serves."""
    site = wordpress_site
    report = tmp_path_factory.mktemp("wordpress") / "report.json"
    result, seconds = run_import(site, "import-wordpress", str(EXPORT), "--uploads", str(UPLOADS), "--report", str(report))
    assert result.returncode == 0, f"the import failed:\n{result.stdout}\n{result.stderr}"
    site.report = read_report(report)
    site.result = result
    site.seconds = seconds
    return site


# The import and its report.

def test_the_import_finishes_quickly_and_reports_what_it_did(imported):
    report = imported.report
    # Images are read from the uploads copy: the dead old host is never waited for.
    assert imported.seconds < 60, f"the import took {imported.seconds:.0f} s"
    assert imported.result.stdout.strip(), "the import printed no summary"
    assert report["posts"] == 14, "every post (public or not) becomes an article; menu items, styles and attachments do not"
    assert report["pages"] >= 3
    assert report["authors"] == 3
    assert report["sections"] == 4, "Environment, Transport, Culture and City Hall"
    assert report["comments"] == 4, "comments are counted, not imported"
    assert report["images"] >= 3
    assert report["redirects"] >= len(STORIES) + len(NON_LATIN) + len(PAGES)
    assert isinstance(report["skipped"], list)
    for entry in report["skipped"]:
        assert isinstance(entry, dict) and entry.get("item") and entry.get("reason"), entry


def test_a_missing_image_is_listed_and_left_out_while_its_story_is_imported(imported):
    assert "old-bridge" in json.dumps(imported.report["missing_images"]), imported.report["missing_images"]
    assert "council-chamber" not in json.dumps(imported.report["missing_images"]), \
        "a resized name (council-chamber-1024x640.jpg) should find the original the uploads copy holds"
    document, _ = fetch_page(imported, STORIES["bridge"]["new"])
    assert not [source for source in document.xpath("//@src | //@srcset") if "old-bridge" in source]
    assert not document.xpath("//main//figure[contains(@class, 'article__image')]"), "a featured image that was never found is shown"


def test_no_page_loads_anything_from_the_old_site(imported):
    paths = [story["new"] for story in STORIES.values()] + [page["path"] for page in PAGES.values()]
    for path in paths:
        document, _ = fetch_page(imported, path)
        sources = document.xpath("//@src | //@srcset")
        assert not [source for source in sources if OLD_HOST in source], f"{path} still loads from the old site"


# Stories, pages and their addresses.

@pytest.mark.parametrize("name", STORIES)
def test_each_public_story_is_at_its_new_address(imported, name):
    story = STORIES[name]
    document, _ = fetch_page(imported, story["new"])
    assert story["title"] in text_of(document.xpath("//main//h1")[0])
    body = text_of(body_of(document))
    for words in story["text"]:
        assert words in body, f"{name}: '{words}' is not in the body"
    assert story["author"] in text_of(document.xpath(f"//main//p[{has_class('byline')}]")[0])
    assert text_of(document.xpath(f"//main//p[{has_class('kicker')}]/a")[0]) == story["section"]


@pytest.mark.parametrize("name", STORIES)
def test_each_story_s_old_addresses_send_readers_to_it(imported, name):
    story = STORIES[name]
    assert moved_to(imported, story["old"]) == story["new"]
    assert moved_to(imported, f"/?p={story['id']}") == story["new"]


def test_old_section_and_author_addresses_send_readers_on(imported):
    for category, section in CATEGORIES.items():
        assert moved_to(imported, f"/category/{category}/") == section
        fetch_page(imported, section)
    for login, author in AUTHORS.items():
        assert moved_to(imported, f"/author/{login}/") == author
    document, _ = fetch_page(imported, "/author/marta-kowalski/")
    listed = text_of(document.xpath("//main")[0])
    assert STORIES["flood"]["title"] in listed and "Inside the valley" in listed


@pytest.mark.parametrize("slug, story", [("flooding", "flood"), ("covid", "library"), ("council-budget", "reservoir")])
def test_old_tag_addresses_lead_to_the_tag_s_stories(imported, slug, story):
    """A tag whose WordPress slug differs from its name ("COVID-19" was `covid`) still finds its stories."""
    status, path, html = final_page(imported, f"/tag/{slug}/")
    assert status == 200 and path.startswith("/tag/"), f"/tag/{slug}/ ended at {path} with {status}"
    assert STORIES[story]["title"] in html


def test_pages_keep_their_addresses_and_hierarchy(imported):
    for name, page in PAGES.items():
        document, _ = fetch_page(imported, page["path"])
        assert text_of(document.xpath("//main//h1")[0]) == page["title"]
        assert page["text"] in text_of(body_of(document))
        assert moved_to(imported, f"/?page_id={page['old_id']}") == page["path"]
    # The imported About replaced the site's own.
    assert "is an independent newsroom" not in fetch_page(imported, "/about/")[1]


def test_stories_in_other_scripts_are_reachable_and_keep_apart(imported):
    addresses = set()
    for name, story in NON_LATIN.items():
        new = moved_to(imported, story["old"])
        status, _, html = final_page(imported, new)
        assert status == 200, f"{name}: {new} answered {status}"
        document = lxml.html.fromstring(html)
        assert text_of(document.xpath("//main//h1")[0]) == story["title"]
        assert story["text"] in text_of(body_of(document))
        addresses.add(new)
    assert len(addresses) == len(NON_LATIN), f"two stories share one address: {addresses}"


def test_dates_are_the_utc_times_wordpress_recorded(imported):
    # 10:15 in London in June is 09:15 UTC: wp:post_date_gmt, not wp:post_date.
    document, _ = fetch_page(imported, STORIES["towpath"]["new"])
    assert published_time(document) == datetime(2019, 6, 8, 9, 15, tzinfo=timezone.utc)
    document, _ = fetch_page(imported, STORIES["flood"]["new"])
    assert published_time(document) == datetime(2013, 1, 5, 8, 30, tzinfo=timezone.utc)


def test_the_excerpt_is_the_dek(imported):
    document, _ = fetch_page(imported, STORIES["flood"]["new"])
    assert text_of(document.xpath(f"//main//p[{has_class('dek')}]")[0]) == "The new barrier at Mill Lane kept the river out of 300 homes."


def test_yoast_s_primary_category_is_the_section_and_the_others_are_tags(imported):
    document, _ = fetch_page(imported, STORIES["reservoir"]["new"])
    tags = set(document.xpath("//main//nav[@aria-label='Tags']//a/@href"))
    assert {"/tag/city-hall/", "/tag/transport/", "/tag/council-budget/"} <= tags, tags
    assert "/tag/environment/" not in tags, "the section is not repeated as a tag"


@pytest.mark.parametrize("what, words, address, old_addresses", HIDDEN, ids=[entry[0] for entry in HIDDEN])
def test_nothing_unpublished_reaches_a_reader(imported, what, words, address, old_addresses):
    assert requests.get(imported.base + address, allow_redirects=False, timeout=30).status_code == 404
    for old in old_addresses:
        status, path, html = final_page(imported, old)
        # A 404 page may repeat the address it was asked for: only words the address lacks count.
        unseen = [word for word in words if word.lower() not in old.lower()]
        assert not any(word in html for word in unseen), f"{old} led a reader to the {what} post (at {path}, {status})"
    feed = requests.get(imported.base + "/feed/", timeout=30).text
    assert not any(word in feed for word in words), f"the feed shows the {what} post"
    results = requests.get(imported.base + "/search/", params={"q": words[0]}, timeout=30)
    document = lxml.html.fromstring(results.text)
    assert not document.xpath("//ol[contains(@class, 'search-results')]/li"), f"search finds the {what} post"


# What readers see in the body.

def test_classic_editor_text_keeps_its_paragraphs(imported):
    body = body_of(fetch_page(imported, STORIES["flood"]["new"])[0])
    paragraphs = [text_of(p) for p in body.xpath(".//p")]

    def paragraph_with(words):
        found = [index for index, text in enumerate(paragraphs) if words in text]
        assert found, f"no paragraph holds '{words}': {paragraphs}"
        return found[0]

    # A blank line starts a paragraph; a single line break does not.
    assert paragraph_with("Water in the River Wend rose") != paragraph_with("Engineers will inspect the barrier")
    assert paragraph_with("first winter in a decade") == paragraph_with("We watched it from the bridge")
    assert body.xpath(".//strong[normalize-space(.)='three']")
    assert "<p>" not in text_of(body) and "&#8220;" not in text_of(body)


def test_a_caption_shortcode_is_a_figure_with_its_caption(imported):
    body = body_of(fetch_page(imported, STORIES["flood"]["new"])[0])
    figures = [figure for figure in body.xpath(".//figure") if figure.xpath(".//img") and figure.xpath(".//figcaption")]
    assert figures, "the [caption] shortcode is not a figure with an image and a caption"
    assert text_of(figures[0].xpath(".//figcaption")[0]) == "The barrier was raised at 4am on Saturday."
    image = figures[0].xpath(".//img")[0]
    assert image.get("alt") == "The steel barrier at Mill Lane"
    assert_image_served(imported, image.get("src"), "captioned image")


def test_block_editor_content_keeps_its_structure(imported):
    body = body_of(fetch_page(imported, STORIES["towpath"]["new"])[0])
    assert [text_of(h) for h in body.xpath(".//h2")] == ["What changes for riders"]
    assert [text_of(li) for li in body.xpath(".//ul/li")] == ["A kerbed lane from Mill Lane to Quay Street",
                                                              "New crossings at the lock and the boatyard"]
    figure = [f for f in body.xpath(".//figure") if f.xpath(".//img")][0]
    assert text_of(figure.xpath(".//figcaption")[0]) == "Riders tried the lane within minutes of it opening."
    assert_image_served(imported, figure.xpath(".//img")[0].get("src"), "block image")
    assert "We have waited eleven years for this lane." in text_of(body.xpath(".//blockquote")[0])
    table = body.xpath(".//table")[0]
    assert [text_of(th) for th in table.xpath(".//th")] == ["Stretch", "Length", "Opens"]
    assert ["Mill Lane to Quay Street", "1.2 km", "June 2019"] == [text_of(td) for td in table.xpath(".//tr[td]")[0].xpath("./td")]
    assert body.xpath(".//pre")[0].text_content().strip() == "Lane hours: 06:00 to 22:00\nLights: required after dusk"


def test_a_youtube_embed_waits_for_the_reader_s_consent(imported):
    document, html = fetch_page(imported, STORIES["towpath"]["new"])
    body = body_of(document)
    placeholders = body.xpath(".//figure[contains(@class, 'embed')][@data-consent='media'][@data-embed='youtube:T0wpAth_L4n']")
    assert placeholders, "the wp:embed block is not the consent placeholder"
    assert placeholders[0].xpath(".//button"), "the placeholder has no button to allow the video"
    assert not document.xpath("//iframe"), "an iframe is on the page before consent"
    assert "youtube.com/embed" not in html and "youtube-nocookie.com/embed" not in html


def test_shortcodes_become_media_or_links_never_text(imported):
    document, html = fetch_page(imported, STORIES["festival"]["new"])
    body = body_of(document)
    assert body.xpath(".//figure[@data-embed='vimeo:76979871']"), "[embed] of a Vimeo video is not the consent placeholder"
    assert not document.xpath("//iframe") and "player.vimeo.com" not in html
    # A bare X status address on its own line: the placeholder, with a link to read the post there.
    placeholders = body.xpath(".//figure[@data-consent='media'][@data-embed='x:1163412345678901234']")
    assert placeholders, "the X post is not the consent placeholder"
    assert [href for href in placeholders[0].xpath(".//a/@href") if "1163412345678901234" in href]
    assert "platform.twitter.com" not in html and "twitter-tweet" not in html
    assert "twitter.com/wendriverfest" not in text_of(body), "the X address shows as text"


def visible_markup_problems(text):
    markers = ["[caption", "[/caption", "[gallery", "[embed", "[/embed", "[video", "[/video", "[audio", "[/audio",
               "<!--", "-->", "wp:", "nextpage", "&#82", "&nbsp;"]
    return [marker for marker in markers if marker in text]


@pytest.mark.parametrize("path", [story["new"] for story in STORIES.values()] + [page["path"] for page in PAGES.values()])
def test_no_shortcode_or_block_markup_is_visible(imported, path):
    document, _ = fetch_page(imported, path)
    text = document.xpath("//main")[0].text_content()
    assert not visible_markup_problems(text), f"{path} shows {visible_markup_problems(text)}"


def test_a_post_split_with_more_and_nextpage_is_whole_on_one_page(imported):
    for name in ("bridge", "works"):
        body = text_of(body_of(fetch_page(imported, STORIES[name]["new"])[0]))
        positions = [body.find(words) for words in STORIES[name]["text"]]
        assert -1 not in positions, f"{name}: {[w for w, at in zip(STORIES[name]['text'], positions) if at < 0]} missing"
        assert positions == sorted(positions), f"{name}: its parts are out of order"


def test_scripts_styles_forms_and_unknown_iframes_never_reach_readers(imported):
    document, html = fetch_page(imported, STORIES["library"]["new"])
    for trace in ["trackReader", "ledger-ad", "subscribe.php", "ledger_email", "Get the Ledger by email",
                  "ads.example-tracker.invalid", "trackClick", "onclick"]:
        assert trace not in html, f"'{trace}' reached the page"
    body = body_of(document)
    assert not body.xpath(".//script | .//style | .//form | .//iframe | .//input")
    links = body.xpath(".//a[@href='https://www.wendvalley.example/library']")
    assert links and text_of(links[0]) == "full opening hours"


# Pictures.

@pytest.mark.parametrize("name", ["flood", "towpath", "reservoir"])
def test_the_featured_image_comes_from_the_uploads_copy(imported, name):
    document, _ = fetch_page(imported, STORIES[name]["new"])
    images = document.xpath("//main//figure[contains(@class, 'article__image')]//img")
    assert images, f"{name} has no featured image"
    assert_image_served(imported, images[0].get("src"), f"{name}'s featured image")


def test_a_resized_image_name_finds_its_original(imported):
    body = body_of(fetch_page(imported, STORIES["reservoir"]["new"])[0])
    images = body.xpath(".//img")
    assert images, "council-chamber-1024x640.jpg was dropped although council-chamber.jpg is in the uploads"
    assert images[0].get("alt") == "Councillors voting in the chamber"
    assert_image_served(imported, images[0].get("src"), "resized body image")


def test_old_picture_addresses_send_readers_to_the_pictures(imported):
    for old in ["/wp-content/uploads/2013/01/flood-barrier.jpg", "/wp-content/uploads/2016/03/council-chamber-1024x640.jpg"]:
        target = moved_to(imported, old)
        assert target.startswith("/media/wordpress/"), f"{old} sent readers to {target}"
        assert_image_served(imported, target, old)
    assert requests.get(imported.base + "/wp-content/uploads/2013/01/nothing-here.jpg", allow_redirects=False, timeout=30).status_code == 404


def test_a_document_type_with_entities_is_refused(untouched, tmp_path):
    export = tmp_path / "entities.xml"
    export.write_text('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                      '<rss><channel><title>&b;</title></channel></rss>')
    result = untouched.cli("import-wordpress", str(export))
    assert result.returncode != 0
    assert "document type" in result.stderr and "entities.xml" in result.stderr


# Running it again.

def test_importing_the_same_export_again_changes_nothing(imported, tmp_path):
    paths = [story["new"] for story in STORIES.values()] + [page["path"] for page in PAGES.values()]
    before = {path: article_snapshot(imported, path) for path in paths}
    files_before = media_files(imported)
    report = tmp_path / "again.json"
    result = imported.cli("import-wordpress", str(EXPORT), "--uploads", str(UPLOADS), "--report", str(report))
    assert result.returncode == 0, result.stderr
    again = read_report(report)
    assert again["post_changes"] == {"unchanged": again["posts"]}, f"the second run changed posts: {again['post_changes']}"
    assert again["images"] == 0, "the second run copied images again"
    assert media_files(imported) == files_before, "the second run copied images again"
    for path in paths:
        assert article_snapshot(imported, path) == before[path], f"{path} changed"
    assert requests.get(imported.base + "/environment/flood-barrier-holds-2/", timeout=30).status_code == 404
    listed = fetch_page(imported, "/environment/")[1]
    assert listed.count(f'<a href="{STORIES["flood"]["new"]}">') == 1, "the story is listed twice in its section"


# After the import: the newsroom goes on editing.

@pytest.fixture(scope="module")
def admin_api(imported):
    add_user(imported, "import-admin@news.example", "Import Admin", "admin")
    return {"Authorization": f"Bearer {admin_key(imported, 'import-admin@news.example', 'Import check')}"}


def admin_article(site, headers, slug):
    page = 1
    while True:
        response = requests.get(f"{site.base}/api/admin/articles/", params={"limit": 100, "page": page}, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        found = [article for article in response.json()["articles"] if article["slug"] == slug]
        if found:
            return found[0]
        page = response.json()["meta"]["pagination"]["next"]
        assert page, f"no article {slug} in the Admin API"


@pytest.mark.parametrize("name", ["flood", "reservoir"])
def test_an_imported_story_saved_unchanged_in_the_editor_keeps_its_images(imported, admin_api, name):
    story = STORIES[name]
    article = admin_article(imported, admin_api, story["new"].strip("/").split("/")[-1])
    current = requests.get(f"{imported.base}/api/admin/articles/{article['id']}", headers=admin_api, timeout=30).json()["articles"][0]
    saved = requests.put(f"{imported.base}/api/admin/articles/{article['id']}", headers=admin_api, timeout=30, json={
        "version": current["version"], "title": current["title"], "summary": current["summary"], "body": current["body"]})
    assert saved.status_code == 200, saved.text
    body = body_of(fetch_page(imported, story["new"])[0])
    images = body.xpath(".//img")
    assert images, f"{name}: the body image is gone after saving"
    for image in images:
        assert_image_served(imported, image.get("src"), f"{name}'s body image after saving")
    if name == "flood":
        assert text_of(body.xpath(".//figure/figcaption")[0]) == "The barrier was raised at 4am on Saturday."


# An older export: WXR 1.1 (http namespace) from a site with /%postname%/ addresses.

def test_an_older_export_with_postname_addresses(imported):
    result = imported.cli("import-wordpress", str(POSTNAME_EXPORT))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    document, _ = fetch_page(imported, "/sport/wend-rovers-win-county-cup/")
    assert text_of(document.xpath("//main//h1")[0]) == "Wend Rovers win the county cup"
    assert "Sam Achterberg" in text_of(document.xpath(f"//main//p[{has_class('byline')}]")[0])
    assert text_of(document.xpath(f"//main//p[{has_class('dek')}]")[0]) == "A late header from Kofi Mensah won it."
    assert moved_to(imported, "/wend-rovers-win-county-cup/") == "/sport/wend-rovers-win-county-cup/"
    assert moved_to(imported, "/rowing-regatta-moves/") == "/sport/rowing-regatta-moves/"
    assert moved_to(imported, "/author/sportsdesk/") == "/author/sam-achterberg/"
    document, _ = fetch_page(imported, "/fixtures/")
    assert "Home games kick off at 3pm" in text_of(body_of(document))


# A dry run, and an export that cannot be read: nothing changes on a site of their own.

@pytest.fixture(scope="module")
def untouched():
    yield from serving_site("masthead-wordpress-dry-")


def assert_nothing_imported(site, files_before):
    assert requests.get(site.base + STORIES["flood"]["new"], timeout=30).status_code == 404
    assert requests.get(site.base + STORIES["library"]["new"], timeout=30).status_code == 404
    assert requests.get(site.base + "/author/marta-kowalski/", timeout=30).status_code == 404
    assert requests.get(site.base + "/contact/", timeout=30).status_code == 404
    assert requests.get(site.base + STORIES["flood"]["old"], allow_redirects=False, timeout=30).status_code != 301
    assert "is an independent newsroom" in fetch_page(site, "/about/")[1], "the site's own About page was replaced"
    assert media_files(site) == files_before


def test_a_dry_run_reports_and_writes_nothing(untouched, tmp_path):
    files_before = media_files(untouched)
    result = untouched.cli("import-wordpress", str(EXPORT), "--uploads", str(UPLOADS), "--dry-run", "--report", str(tmp_path / "dry.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the dry run printed no summary"
    assert_nothing_imported(untouched, files_before)


def test_an_export_cut_short_is_refused_whole_and_says_where(untouched, tmp_path):
    text = EXPORT.read_text(encoding="utf-8")
    cut = text.index("<wp:post_id>113</wp:post_id>")  # after the pages and several posts
    broken = tmp_path / "newsroom-cut.xml"
    broken.write_text(text[:cut], encoding="utf-8")
    files_before = media_files(untouched)
    result = untouched.cli("import-wordpress", str(broken), "--uploads", str(UPLOADS))
    assert result.returncode != 0
    # Named as the site names bad input: the file and the line (`…/newsroom-cut.xml:1114: …`).
    assert re.search(r"newsroom-cut\.xml:\d+", result.stderr), result.stderr
    assert "Traceback" not in result.stderr and "Fatal error" not in result.stderr
    assert_nothing_imported(untouched, files_before)
