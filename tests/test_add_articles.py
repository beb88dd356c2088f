"""The admin's "Add article" form (issue 12): URLs in, one result per URL out; login, CSRF and Origin enforced."""
from __future__ import annotations

import pytest
from admin_support import (  # noqa: F401
    PASSWORD,
    login,
    make_app,
    post_form,
    post_json,
    small_dir,
    small_template,
    snapshot,
)
from web_support import news_site

from mapapp.db import DATABASE_NAME


@pytest.fixture
def site():
    with news_site() as site:
        yield site


@pytest.fixture
def fetch_app(small_dir):  # noqa: F811
    return make_app(small_dir, FETCH_DELAY=0, FETCH_TIMEOUT=2, FETCH_ALLOW_PRIVATE=True)


@pytest.fixture
def editor(fetch_app):
    return login(fetch_app.test_client(), "alice")


def test_the_form_needs_a_login(fetch_app):
    client = fetch_app.test_client()
    assert client.get("/admin/articles/new").status_code in (302, 303)
    response = client.post("/admin/articles", data={"urls": "http://127.0.0.1:9/x"})
    assert response.status_code in (302, 303, 400, 401, 403)


def test_the_form_is_linked_and_shows_a_result_per_url(editor, site, small_dir):  # noqa: F811
    page = editor.get("/admin/articles/new").get_data(as_text=True)
    assert 'name="urls"' in page and 'href="/admin/articles/new"' in page
    good = site.add_page("/news/karabakh-talks.html", "karabakh-talks.html")
    missing = site.url("/news/gone.html")
    response = post_form(editor, "/admin/articles", {"urls": f"{good}\n{missing}\n\n{good}\njavascript:alert(1)"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1 added,\n  0 skipped,\n  2 failed." in html  # the repeated URL is asked once
    assert 'data-status="ingested" data-reason="new"' in html and "Armenia and Azerbaijan resume border talks" in html
    assert 'data-reason="http"' in html and "HTTP 404" in html
    assert 'data-reason="url"' in html and "javascript:alert(1)" in html  # shown as text, never a link
    assert 'href="javascript' not in html


def test_json_clients_get_the_results(editor, site):
    url = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    first = post_json(editor, "/admin/articles", {"urls": url}).get_json()["results"]
    again = post_json(editor, "/admin/articles", {"urls": url}).get_json()["results"]
    assert [r["status"] for r in first + again] == ["ingested", "skipped"]
    assert again[0]["reason"] == "duplicate-url" and again[0]["article_id"] == first[0]["article_id"]


@pytest.mark.parametrize("urls, message", [("", "paste at least one article URL"),
                                           (" ".join(f"http://x.example/{i}" for i in range(21)), "at most 20")])
def test_bad_input_is_a_400_naming_urls_and_stores_nothing(editor, small_dir, urls, message):  # noqa: F811
    before = snapshot(small_dir / DATABASE_NAME)
    response = post_json(editor, "/admin/articles", {"urls": urls})
    assert response.status_code == 400 and response.get_json()["field"] == "urls"
    assert message in response.get_json()["error"]
    form = post_form(editor, "/admin/articles", {"urls": urls})
    assert form.status_code == 400 and message in form.get_data(as_text=True)
    assert post_json(editor, "/admin/articles", {"urls": ["a"]}).status_code == 400
    assert snapshot(small_dir / DATABASE_NAME) == before


def test_csrf_and_origin_are_checked(editor, site, small_dir):  # noqa: F811
    url = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    before = snapshot(small_dir / DATABASE_NAME)
    assert editor.post("/admin/articles", data={"urls": url}).status_code == 400  # no CSRF token
    cross = post_form(editor, "/admin/articles", {"urls": url}, Origin="https://evil.example")
    assert cross.status_code == 403
    assert snapshot(small_dir / DATABASE_NAME) == before and site.requested("/news/gaza-aid.html") == 0


def test_by_default_the_server_does_not_fetch_its_own_network(small_dir, site):  # noqa: F811
    """Editors' URLs must not reach loopback or private addresses (FETCH_ALLOW_PRIVATE defaults to off)."""
    client = login(make_app(small_dir, FETCH_DELAY=0).test_client(), "alice")
    url = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    [result] = post_json(client, "/admin/articles", {"urls": url}).get_json()["results"]
    assert (result["status"], result["reason"]) == ("failed", "private-address")
    assert "127.0.0.1 is a local or private address" in result["message"]
    assert site.log == []  # not even robots.txt was asked for


def test_urls_left_when_the_time_budget_is_spent_are_reported_not_fetched(small_dir, site):  # noqa: F811
    client = login(make_app(small_dir, FETCH_DELAY=0, FETCH_ALLOW_PRIVATE=True, FETCH_FORM_BUDGET=0).test_client(),
                   "alice")
    urls = [site.add_page(f"/news/{name}", name) for name in ("gaza-aid.html", "sindh-floods.html")]
    results = post_json(client, "/admin/articles", {"urls": " ".join(urls)}).get_json()["results"]
    # The first URL starts at once; by the second the zero-second budget is spent.
    assert [r["reason"] for r in results] == ["new", "budget"]
    assert "send it again" in results[1]["message"] and site.requested("/news/sindh-floods.html") == 0
