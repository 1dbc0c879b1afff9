"""Feeds, sitemaps and structured data, read by the tools that consume them."""
import json
import re
import urllib.request
import xml.etree.ElementTree as ElementTree

import extruct
import feedparser
import pytest

LISTS = ["/", "/world/", "/opinion/", "/tag/climate/", "/author/amara-okafor/"]
FORMATS = {"feed/": "rss20", "feed/atom/": "atom10", "feed/json/": "json"}
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def published_paths(site):
    """Every article address reachable from the section pages (all pages of each)."""
    _, _, home = site.get("/")
    sections = sorted(set(re.findall(r'<a href="(/[a-z-]+/)"[^>]*>', home.split('aria-label="Sections"')[1].split("</nav>")[0])))
    paths = set()
    for section in sections:
        page = section
        while page:
            _, _, html = site.get(page)
            main = html.split('<main id="content"')[1].split("</main>")[0]
            paths.update(re.findall(rf'<h3 class="card__title"><a href="({re.escape(section)}[^"]+/)">', main))
            following = re.search(r'<a rel="next" href="([^"]+)"', main)
            page = following.group(1) if following else None
    return paths


@pytest.mark.parametrize("base", LISTS)
@pytest.mark.parametrize("suffix", FORMATS)
def test_every_feed_parses_cleanly(site, base, suffix):
    status, headers, body = site.get(base + suffix)
    assert status == 200
    if suffix == "feed/json/":
        feed = json.loads(body)
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"] and feed["items"]
        for item in feed["items"]:
            assert item["id"] and (item.get("content_html") or item.get("content_text"))
            assert item["url"].startswith(site.base)
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$", item["date_published"])
        return
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == FORMATS[suffix]
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.link.startswith(site.base) and entry.title and entry.published_parsed
    # Conditional GET: the same feed again with its validator is 304.
    request_headers = {"If-None-Match": headers["ETag"]}
    assert site.get(base + suffix, request_headers)[0] == 304


def test_feed_items_carry_full_text_images_and_authors(site):
    parsed = feedparser.parse(site.get("/world/feed/")[2])
    entry = next(e for e in parsed.entries if e.link.endswith("/world/river-towns-share-flood-warnings/"))
    assert "Emergency services" in entry.content[0].value  # the whole body, table included
    assert "Millbrook joins next spring" in entry.content[0].value  # and its correction
    assert entry.media_content[0]["url"].startswith(site.base + "/img/")
    assert entry.author == "Amara Okafor"


def test_pages_announce_their_feeds(site):
    _, _, html = site.get("/tag/climate/")
    assert f'<link rel="alternate" type="application/rss+xml" title="#Climate – The Masthead Courier (RSS)" href="{site.base}/tag/climate/feed/">' in html
    assert f'href="{site.base}/feed/atom/"' in html


def test_sitemaps_list_exactly_the_published_articles(site):
    status, _, robots = site.get("/robots.txt")
    assert status == 200 and f"Sitemap: {site.base}/sitemap.xml" in robots
    index = ElementTree.fromstring(site.get("/sitemap.xml")[2])
    assert index.tag == SITEMAP + "sitemapindex"
    in_sitemaps = []
    for sitemap in index.iter(SITEMAP + "sitemap"):
        location = sitemap.find(SITEMAP + "loc").text
        assert location.startswith(site.base + "/sitemaps/")
        document = ElementTree.fromstring(site.get(location[len(site.base):])[2])
        urls = [u.find(SITEMAP + "loc").text for u in document.iter(SITEMAP + "url")]
        assert len(urls) <= 50000
        if not location.endswith("/news.xml"):
            for url in document.iter(SITEMAP + "url"):
                assert re.match(r"\d{4}-\d\d-\d\dT", url.find(SITEMAP + "lastmod").text)
        if "/sitemaps/articles-" in location:
            in_sitemaps += [u[len(site.base):] for u in urls]
    assert len(in_sitemaps) == len(set(in_sitemaps))
    assert set(in_sitemaps) == published_paths(site)


def test_news_sitemap_has_publication_name_date_and_title(site):
    document = ElementTree.fromstring(site.get("/sitemaps/news.xml")[2])
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    for url in document.iter(SITEMAP + "url"):
        assert url.find(f"{news}news/{news}publication/{news}name").text == "The Masthead Courier"
        assert url.find(f"{news}news/{news}publication_date").text
        assert url.find(f"{news}news/{news}title").text


def test_article_pages_carry_a_complete_news_article(site):
    path = "/world/river-towns-share-flood-warnings/"
    _, _, html = site.get(path)
    data = extruct.extract(html, base_url=site.base + path, syntaxes=["json-ld"])["json-ld"]
    article = next(d for d in data if d["@type"] == "NewsArticle")
    for field in ("headline", "description", "image", "datePublished", "dateModified", "author", "publisher",
                  "articleSection", "keywords", "isAccessibleForFree", "mainEntityOfPage"):
        assert article.get(field) not in (None, "", []), field
    assert len(article["image"]) == 3
    assert article["author"][0]["url"] == site.base + "/author/amara-okafor/"
    assert article["publisher"]["logo"]["url"].endswith("/assets/logo.png")
    assert article["correction"][0]["text"].startswith("An earlier version")
    assert "Climate" in article["keywords"]
    breadcrumbs = next(d for d in data if d["@type"] == "BreadcrumbList")
    assert [i["name"] for i in breadcrumbs["itemListElement"]] == ["The Masthead Courier", "World", "Eleven river towns agree to share flood warnings across the border"]
    for url in article["image"]:
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("image/")


def test_author_pages_carry_a_profile(site):
    _, _, html = site.get("/author/amara-okafor/")
    data = extruct.extract(html, syntaxes=["json-ld"])["json-ld"]
    profile = next(d for d in data if d["@type"] == "ProfilePage")
    assert profile["mainEntity"]["name"] == "Amara Okafor"
    assert profile["mainEntity"]["jobTitle"] == "International correspondent"


def test_search_finds_a_body_word_the_moment_an_article_is_published(site, tmp_path):
    word = "quincunxial"
    (tmp_path / "fresh.md").write_text(
        f"---\ntitle: Council approves the new ferry pier\nsection: Politics\n---\nThe design is {word}, engineers said.\n")
    result = site.cli("import-markdown", str(tmp_path / "fresh.md"))
    assert result.returncode == 0, result.stderr
    status, headers, html = site.get(f"/search/?q={word}")
    assert status == 200
    assert "1 result for" in html
    assert 'href="/politics/council-approves-the-new-ferry-pier/"' in html
    assert f"<mark>{word}</mark>" in html


def test_search_filters_and_escapes(site):
    _, _, html = site.get("/search/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "<script>alert" not in html
    _, _, html = site.get("/search/?q=bench&section=opinion")
    assert "towns-need-more-benches" in html
    _, _, html = site.get("/search/?q=bench&section=world")
    assert "towns-need-more-benches" not in html
