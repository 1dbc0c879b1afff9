"""The Content API: a Ghost client's request gets Ghost's shape, and schemathesis finds no server
error and no response that breaks the served OpenAPI document."""
import json
import urllib.error
import urllib.request

import pytest
import schemathesis

from conftest import add_user, admin_key
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance


@pytest.fixture(scope="session")
def content_key(site):
    result = site.cli("content-key", "add", "Test client")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(key) == 26
    return key


def get_json(site, path):
    try:
        with urllib.request.urlopen(site.base + path, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_a_ghost_client_request_gets_ghosts_shape(site, content_key):
    status, headers, body = get_json(site, f"/api/content/posts/?key={content_key}&include=tags,authors&limit=5&filter=tag:climate")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert set(body) == {"posts", "meta"}
    pagination = body["meta"]["pagination"]
    assert pagination["page"] == 1 and pagination["limit"] == 5 and pagination["total"] == len(body["posts"]) >= 2
    assert pagination["prev"] is None
    for post in body["posts"]:
        for field in ("id", "uuid", "title", "slug", "html", "feature_image", "published_at", "updated_at", "url", "excerpt", "reading_time"):
            assert field in post, field
        assert any(tag["slug"] == "climate" for tag in post["tags"])
        assert post["primary_tag"]["slug"] == post["tags"][0]["slug"]
        assert post["primary_author"]["name"] and post["authors"][0]["url"].startswith(site.base + "/author/")
        assert post["published_at"].endswith(".000Z")


def test_slugs_fields_pages_and_errors(site, content_key):
    status, _, body = get_json(site, f"/api/content/posts/slug/port-strike-ends/?key={content_key}&fields=title,slug")
    assert status == 200 and body["posts"] == [{"title": "Port workers return as twelve-day strike ends with pay deal", "slug": "port-strike-ends"}]
    status, _, body = get_json(site, f"/api/content/posts/?key={content_key}&limit=2&page=2&filter=author:amara-okafor%2Bsection:world")
    assert status == 200 and body["meta"]["pagination"]["page"] == 2 and body["meta"]["pagination"]["prev"] == 1
    status, _, body = get_json(site, f"/api/content/tags/?key={content_key}&include=count.posts&limit=all")
    assert status == 200 and any(tag["slug"] == "climate" and tag["count"]["posts"] >= 2 for tag in body["tags"])
    assert get_json(site, "/api/content/posts/")[0] == 401
    status, _, body = get_json(site, f"/api/content/posts/slug/no-such-story/?key={content_key}")
    assert status == 404 and body["errors"][0]["type"] == "NotFoundError"
    status, _, body = get_json(site, f"/api/content/posts/?key={content_key}&filter=colour:red")
    assert status == 400 and "colour" in body["errors"][0]["context"]


def test_search_endpoint_finds_body_words(site, content_key):
    status, _, body = get_json(site, f"/api/content/search/?key={content_key}&q=tributaries&fields=slug,snippet")
    assert status == 200
    assert body["posts"][0]["slug"] == "river-towns-share-flood-warnings"
    assert "<mark>tributaries</mark>" in body["posts"][0]["snippet"]
    assert body["meta"]["pagination"]["total"] == 1
    assert get_json(site, f"/api/content/search/?key={content_key}&q=")[0] == 400


@pytest.fixture(scope="session")
def api_schema(site):
    return schemathesis.openapi.from_url(site.base + "/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="session")
def fuzzing_admin_key(site):
    """The Admin API is fuzzed with a contributor's key: every route runs its checks for real,
    and nothing a contributor may do can touch the published articles other tests read."""
    add_user(site, "fuzz@news.example", "Fuzz Contributor", "contributor")
    return admin_key(site, "fuzz@news.example", "Fuzzing")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_openapi_document(case, content_key, fuzzing_admin_key):
    """Every check but the two about which requests a server should accept: a filter string that
    does not parse is a 400 the document declares, as Ghost answers it."""
    headers = {}
    if case.path.startswith("/api/admin/"):
        headers["Authorization"] = f"Bearer {fuzzing_admin_key}"
    else:
        case.query = {**(case.query or {}), "key": content_key}
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance, negative_data_rejection])
