"""A newsroom moving from Ghost: its Labs → Export file goes into a running site with
`masthead import-ghost`. Posts and pages are at their new addresses with their authors, tags,
feature images and captions; Ghost's addresses send readers on; drafts and scheduled posts stay
private; internal tags never show. Front ends written for Ghost then read the site through
`/ghost/api/content/` exactly as the official JavaScript client asks."""
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urljoin

import lxml.html
import pytest
import requests

from conftest import serving_site
from test_import_wordpress import (
    article_snapshot, assert_image_served, body_of, fetch_page, final_page, has_class, media_files, moved_to, published_time, text_of,
    visible_markup_problems)

FIXTURES = Path(__file__).parent / "fixtures" / "ghost"
EXPORT = FIXTURES / "newsroom.json"
IMAGES = FIXTURES / "images"

POSTS = {
    "ferry": dict(slug="harbour-ferry-returns", new="/transport/harbour-ferry-returns/", title="Harbour ferry returns after its winter refit",
                  text=["carried its first passengers of the year across the harbour", "use a fifth less fuel"],
                  published=datetime(2024, 2, 20, 7, 30, tzinfo=timezone.utc)),
    "wall": dict(slug="harbour-wall-repairs", new="/city-council/harbour-wall-repairs/", title="Council approves harbour wall repairs",
                 text=["to repair the harbour wall, damaged in the January storms", "Work will close the east quay from May to August."],
                 published=datetime(2024, 1, 15, 18, 5, tzinfo=timezone.utc)),
    "cottage": dict(slug="lighthouse-cottage-restored", new="/heritage/lighthouse-cottage-restored/", title="Lighthouse keeper",
                    text=["has reopened as a museum after a two-year restoration", "Volunteers rebuilt the range"],
                    published=datetime(2023, 11, 28, 9, 0, tzinfo=timezone.utc)),
}
HIDDEN = [
    ("draft", "why-a-second-ferry", ["Pellworth", "second ferry"]),
    ("scheduled for 2031", "ferry-fares-april", ["Brackwater", "Ferry fares rise"]),
]
COUNTS = ["posts", "pages", "authors", "sections", "tags", "images", "redirects"]


@pytest.fixture(scope="module")
def ghost_site():
    yield from serving_site("masthead-ghost-")


@pytest.fixture(scope="module")
def imported(ghost_site, tmp_path_factory):
    site = ghost_site
    report = tmp_path_factory.mktemp("ghost") / "report.json"
    result = site.cli("import-ghost", str(EXPORT), "--images", str(IMAGES), "--report", str(report))
    assert result.returncode == 0, f"the import failed:\n{result.stdout}\n{result.stderr}"
    site.result = result
    site.report = json.loads(report.read_text())
    return site


def test_the_import_reports_what_it_did(imported):
    report = imported.report
    missing = [key for key in COUNTS + ["skipped", "missing_images"] if key not in report]
    assert not missing, f"the report lacks {missing}"
    assert imported.result.stdout.strip(), "the import printed no summary"
    assert report["posts"] == 5, "published, draft and scheduled posts all become articles"
    assert report["pages"] == 1
    assert report["sections"] == 3, "Transport, City Council and Heritage: each post's primary tag"
    assert report["authors"] >= 2
    assert report["redirects"] >= 3
    for entry in report["skipped"]:
        assert isinstance(entry, dict) and entry.get("item") and entry.get("reason"), entry
    assert "lighthouse.jpg" in json.dumps(report["missing_images"]), report["missing_images"]


@pytest.mark.parametrize("name", POSTS)
def test_each_published_post_is_at_its_new_address_and_ghost_s_address_sends_readers_there(imported, name):
    post = POSTS[name]
    document, html = fetch_page(imported, post["new"])
    assert post["title"] in text_of(document.xpath("//main//h1")[0])
    body = text_of(body_of(document))
    for words in post["text"]:
        assert words in body, f"{name}: '{words}' is not in the body"
    assert published_time(document) == post["published"]
    assert "__GHOST_URL__" not in html
    assert not visible_markup_problems(document.xpath("//main")[0].text_content())
    assert moved_to(imported, f"/{post['slug']}/") == post["new"]


def test_the_lowest_sort_order_tag_is_the_section_and_internal_tags_never_show(imported):
    # The wall story's Harbour row comes first in posts_tags, but City Council has sort_order 0.
    document, _ = fetch_page(imported, POSTS["wall"]["new"])
    assert text_of(document.xpath(f"//main//p[{has_class('kicker')}]/a")[0]) == "City Council"
    assert "/tag/harbour/" in document.xpath("//main//nav[@aria-label='Tags']//a/@href")
    for name in ("ferry", "cottage"):
        document, html = fetch_page(imported, POSTS[name]["new"])
        assert "#import-batch-1" not in html and "#newsletter" not in html
        tags = " ".join(document.xpath("//main//nav[@aria-label='Tags']//a/@href"))
        assert "import-batch" not in tags and "newsletter" not in tags, tags
    for path in ("/tag/hash-import-batch-1/", "/tag/import-batch-1/", "/tag/hash-newsletter/", "/tag/newsletter/"):
        assert requests.get(imported.base + path, timeout=30).status_code == 404, path


def test_several_authors_are_credited_in_ghost_s_order(imported):
    document, _ = fetch_page(imported, POSTS["ferry"]["new"])
    byline = document.xpath(f"//main//p[{has_class('byline')}]//a")
    assert [text_of(a) for a in byline] == ["Ines Carvalho", "Tom Hadley"]
    assert [a.get("href") for a in byline] == ["/author/ines-carvalho/", "/author/tom-hadley/"]


def test_the_feature_image_has_its_alt_text_and_a_plain_caption(imported):
    document, _ = fetch_page(imported, POSTS["ferry"]["new"])
    figure = document.xpath("//main//figure[contains(@class, 'article__image')]")
    assert figure, "the feature image is missing"
    image = figure[0].xpath(".//img")[0]
    assert image.get("alt") == "The Wend Queen leaving the quay"
    assert_image_served(imported, image.get("src"), "feature image")
    caption = text_of(figure[0].xpath(".//figcaption")[0])
    assert "leaves the quay" in caption and "Ines Carvalho" in caption
    assert "<" not in caption, f"the caption's HTML shows as text: {caption}"


def test_the_custom_excerpt_is_the_dek(imported):
    document, _ = fetch_page(imported, POSTS["ferry"]["new"])
    assert text_of(document.xpath(f"//main//p[{has_class('dek')}]")[0]) == "The Wend Queen is back on the crossing with new engines."


def test_cards_and_links_in_the_body_work(imported):
    body = body_of(fetch_page(imported, POSTS["ferry"]["new"])[0])
    figure = [f for f in body.xpath(".//figure") if f.xpath(".//img")][0]
    assert text_of(figure.xpath(".//figcaption")[0]) == "Passengers on the upper deck on Tuesday morning."
    for image in body.xpath(".//img"):
        assert_image_served(imported, image.get("src"), "body image")
    assert "We missed it more than we expected." in text_of(body.xpath(".//blockquote")[0])
    assert [text_of(h) for h in body.xpath(".//h2")] == ["Timetable"]
    assert len(body.xpath(".//ul/li")) == 2
    # A link to another story on the old site leads to that story here.
    link = [a.get("href") for a in body.xpath(".//a") if "harbour wall repairs" in text_of(a)][0]
    assert urljoin(imported.base + "/", link).startswith(imported.base + "/"), f"the link {link} leaves the site"
    response = requests.get(urljoin(imported.base + "/", link), timeout=30)
    assert response.status_code == 200 and POSTS["wall"]["title"] in response.text, f"the link {link} does not lead to the story"


def test_a_body_image_with_ghost_s_size_variants_is_shown_from_the_images_folder(imported):
    document, html = fetch_page(imported, POSTS["cottage"]["new"])
    body = body_of(document)
    images = body.xpath(".//img")
    assert images and images[0].get("alt") == "The restored cottage kitchen"
    for image in images:
        assert_image_served(imported, image.get("src"), "body image")
        for candidate in (image.get("srcset") or "").split(","):
            if candidate.strip():
                assert_image_served(imported, candidate.split()[0], "srcset entry")
    assert "/content/images/size/" not in html
    # The feature image was not in the export's images: the story is there without it.
    assert not document.xpath("//main//figure[contains(@class, 'article__image')]")


def test_the_canonical_url_is_kept(imported):
    document, _ = fetch_page(imported, POSTS["cottage"]["new"])
    assert document.xpath("//head/link[@rel='canonical']/@href") == ["https://www.wend-gazette.example/2023/11/lighthouse-cottage/"]


def test_a_youtube_embed_card_waits_for_the_reader_s_consent(imported):
    document, html = fetch_page(imported, POSTS["wall"]["new"])
    assert body_of(document).xpath(".//figure[@data-consent='media'][@data-embed='youtube:HarbWall_01']")
    assert not document.xpath("//iframe") and "youtube.com/embed" not in html


@pytest.mark.parametrize("what, slug, words", HIDDEN, ids=[entry[0] for entry in HIDDEN])
def test_drafts_and_scheduled_posts_stay_private(imported, what, slug, words):
    assert requests.get(f"{imported.base}/transport/{slug}/", allow_redirects=False, timeout=30).status_code == 404
    status, path, html = final_page(imported, f"/{slug}/")
    assert not any(word in html for word in words), f"/{slug}/ led a reader to the {what} post ({path}, {status})"
    feed = requests.get(imported.base + "/feed/", timeout=30).text
    assert not any(word in feed for word in words)
    results = lxml.html.fromstring(requests.get(imported.base + "/search/", params={"q": words[0]}, timeout=30).text)
    assert not results.xpath("//ol[contains(@class, 'search-results')]/li")


def test_the_page_replaces_the_site_s_own(imported):
    document, html = fetch_page(imported, "/about/")
    assert text_of(document.xpath("//main//h1")[0]) == "About the Harbour Herald"
    assert "The Harbour Herald has covered the Wend estuary since 2016." in text_of(body_of(document))
    assert "is an independent newsroom" not in html


def test_importing_the_same_export_again_changes_nothing(imported, tmp_path):
    paths = [post["new"] for post in POSTS.values()] + ["/about/"]
    before = {path: article_snapshot(imported, path) for path in paths}
    files_before = media_files(imported)
    report = tmp_path / "again.json"
    result = imported.cli("import-ghost", str(EXPORT), "--images", str(IMAGES), "--report", str(report))
    assert result.returncode == 0, result.stderr
    again = json.loads(report.read_text())
    assert again["post_changes"] == {"unchanged": again["posts"]}, f"the second run changed posts: {again['post_changes']}"
    assert again["images"] == 0, "the second run copied images again"
    assert media_files(imported) == files_before
    for path in paths:
        assert article_snapshot(imported, path) == before[path], f"{path} changed"


# The Content API as @tryghost/content-api asks for it.

CLIENT_VERSION = "1.11.25"


class GhostAPIError(Exception):
    """What the client throws for an error answer: `errors[0]`, its `type` as the error's name."""

    def __init__(self, status, props):
        super().__init__(props["message"])
        self.status = status
        self.type = props["type"]
        self.props = props


class GhostContentClient:
    """The requests @tryghost/content-api 1.11 (lib/content-api.js, its default axios transport)
    makes, and what it does with the answers.

    - URL: `{url}/{ghostPath}/api/content/{resource}/` and `…/{id}/` or `…/slug/{slug}/` for a
      read (always a trailing slash), for `version` 'v5.0' or true.
    - Query: `key` first, then the caller's options in their order; array values joined with
      commas; each value through encodeURIComponent, names as they are. A read also sends its
      `slug` as a parameter (only `id` is removed).
    - Headers: `Accept-Version: v5.0`; in Node `User-Agent: GhostContentSDK/<version>` (browser
      builds send none); axios's `Accept: application/json, text/plain, */*`.
    - Answers: a non-array `data[resource]` is returned as is; a one-item array without `meta` is
      returned as that item (a read); any other array is returned with `meta` attached. A status
      outside 2xx rejects: with `errors[0]` (message, type) when the body has `errors`."""

    def __init__(self, url, key, version="v5.0", ghost_path="ghost", user_agent=True):
        assert not url.endswith("/") and re.search(r"[0-9a-f]{26}", key), "the client refuses this configuration"
        self.url, self.key, self.version, self.ghost_path, self.user_agent = url, key, version, ghost_path, user_agent

    @staticmethod
    def encode(value):
        text = ",".join(str(item) for item in value) if isinstance(value, (list, tuple)) else str(value)
        return quote(text, safe="-_.!~*'()")  # encodeURIComponent

    def request(self, resource, params, identifier=None):
        params = {"key": self.key, **{name: value for name, value in params.items() if name != "id"}}
        query = "&".join(f"{name}={self.encode(value)}" for name, value in params.items())
        url = f"{self.url}/{self.ghost_path}/api/content/{resource}/{identifier + '/' if identifier else ''}?{query}"
        headers = {"Accept": "application/json, text/plain, */*", "Accept-Version": self.version}
        if self.user_agent:
            headers["User-Agent"] = f"GhostContentSDK/{CLIENT_VERSION}"
        response = requests.get(url, headers=headers, timeout=30)
        # A browser's preflighted request cannot follow a redirect: the API answers where it is asked.
        assert not response.history, f"{url} was redirected to {response.url}"
        data = response.json()
        if not 200 <= response.status_code < 300:
            if "errors" in data:
                raise GhostAPIError(response.status_code, data["errors"][0])
            raise AssertionError(f"{response.status_code} without an errors list: {data}")
        value = data[resource]
        if not isinstance(value, list):
            return value
        if len(value) == 1 and "meta" not in data:
            return value[0]
        return value, data["meta"]

    def browse(self, resource, options=None):
        return self.request(resource, dict(options or {}))

    def read(self, resource, data, options=None):
        return self.request(resource, {**data, **(options or {})}, data.get("id") or f"slug/{data['slug']}")


@pytest.fixture(scope="module")
def client(imported):
    result = imported.cli("content-key", "add", "Ghost front end")
    assert result.returncode == 0, result.stderr
    return GhostContentClient(imported.base, result.stdout.strip())


def test_a_ghost_client_pages_through_every_post_once(imported, client):
    seen, page, pages_read = [], 1, 0
    while page is not None:
        posts, meta = client.browse("posts", {"limit": 2, "page": page, "include": ["tags", "authors"], "formats": ["html"]})
        pagination = meta["pagination"]
        assert pagination["page"] == page and pagination["limit"] == 2
        assert pagination["prev"] == (page - 1 if page > 1 else None)
        seen += [post["id"] for post in posts]
        for post in posts:
            assert post["html"] and post["url"].startswith(imported.base + "/") and isinstance(post["tags"], list) and post["authors"]
        page = pagination["next"]
        pages_read += 1
        assert pages_read <= 100, "meta.pagination.next never became null"
    assert len(seen) == len(set(seen)), "a post came twice"
    assert len(seen) == pagination["total"], "a post was never reached"
    slugs = set()
    for post_id in seen:
        slugs.add(client.read("posts", {"id": post_id}, {"fields": "slug"})["slug"])
    assert {post["slug"] for post in POSTS.values()} <= slugs
    assert not {slug for _, slug, _ in HIDDEN} & slugs


def test_a_ghost_client_reads_filters_and_gets_errors_it_understands(imported, client):
    post = client.read("posts", {"slug": "harbour-ferry-returns"}, {"include": "tags,authors"})
    assert post["title"] == POSTS["ferry"]["title"] and post["url"] == imported.base + POSTS["ferry"]["new"]
    assert [author["name"] for author in post["authors"]] == ["Ines Carvalho", "Tom Hadley"]
    assert post["custom_excerpt"] == "The Wend Queen is back on the crossing with new engines."
    assert "__GHOST_URL__" not in post["html"] and "__GHOST_URL__" not in (post["feature_image"] or "")
    assert requests.get(post["feature_image"], timeout=30).headers["Content-Type"].startswith("image/")

    posts, meta = client.browse("posts", {"filter": "tag:harbour", "limit": "all", "fields": ["title", "slug", "url"]})
    assert {p["slug"] for p in posts} == {"harbour-ferry-returns", "harbour-wall-repairs"}
    assert all(set(p) == {"title", "slug", "url"} for p in posts)
    assert meta["pagination"]["total"] == 2

    pages, _ = client.browse("pages", {"limit": "all"})
    assert "about" in {page["slug"] for page in pages}

    with pytest.raises(GhostAPIError) as missing:
        client.read("posts", {"slug": "why-a-second-ferry"})
    assert missing.value.status == 404 and missing.value.type == "NotFoundError"
    with pytest.raises(GhostAPIError) as refused:
        GhostContentClient(imported.base, "0123456789abcdef0123456789").browse("posts")
    assert refused.value.status == 401 and refused.value.type == "UnauthorizedError"


def test_a_browser_may_call_the_ghost_address_from_another_origin(imported, client):
    """The browser build sends Accept-Version (and no User-Agent), so every call is preflighted."""
    path = "/ghost/api/content/posts/"
    preflight = requests.options(imported.base + path, timeout=30, headers={
        "Origin": "https://reader.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept-version"})
    assert 200 <= preflight.status_code < 300, preflight.status_code
    allowed = preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    assert allowed.strip() == "*" or "accept-version" in [name.strip() for name in allowed.split(",")], allowed
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", "https://reader.example")
    answer = requests.get(f"{imported.base}{path}?key={client.key}&limit=1", timeout=30,
                          headers={"Origin": "https://reader.example", "Accept-Version": "v5.0"})
    assert answer.status_code == 200 and answer.headers.get("Access-Control-Allow-Origin") in ("*", "https://reader.example")
