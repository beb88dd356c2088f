"""Fuzz every route of the app with hostile values in every path and query parameter, and hostile JSON and
form bodies (logged in, with the CSRF token, for the admin): no response may be a 5xx (issue 7, fault 3).

The app runs in TESTING mode, so an unhandled exception is raised here with its traceback, not turned into
a 500 page; either way the test fails and hypothesis shrinks the input that caused it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from admin_support import post_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mapdata import add_article

from mapapp import create_app
from mapapp.db import opened

ROOT = Path(__file__).resolve().parents[2]
YEREVAN = "gn:616052"
# Every query parameter the app reads (test_every_query_parameter_is_fuzzed checks the list against the code).
QUERY_NAMES = ["source", "from", "to", "article", "place", "feature", "q", "demonyms", "lat", "lon", "zoom",
               "sel", "limit", "offset", "page", "a", "b", "name", "next", "country", "sort", "undated", "article_id",
               "start", "end", "by", "count", "step", "view", "at", "text"]
BODY_FIELDS = ["name", "aliases", "feature", "country_code", "population", "notes", "lat", "lon", "geometry",
               "id", "version", "expected_version", "place_id", "delete", "key", "username", "password",
               "article_id", "start", "end", "text", "action", "urls"]
DIGITS = st.builds(lambda digit, count, sign: sign + digit * count, st.sampled_from("19"),
                   st.sampled_from([19, 20, 400, 4300, 4301, 6000]), st.sampled_from(["", "-", "+"]))
HOSTILE_TEXT = ["", " ", "0", "-1", "1", "2", "1.5", "1e999", "-0", "0x10", "NaN", "Infinity", "-inf", "１２", "١٢",
                "9223372036854775807", "9223372036854775808", "\x00", "%00", "..", "../../etc/passwd", "'",
                "' OR 1=1 --",
                "<img src=x onerror=alert(1)>", "{{7*7}}", "\u202e", "a" * 5000, "[" * 100, "[" * 100_000,
                "2024-02-30", "0000-00-00", "true", "null", YEREVAN, "cur:lachin-corridor"]
VALUES = st.one_of(st.sampled_from(HOSTILE_TEXT), DIGITS, st.text(max_size=40),
                   st.floats().map(repr), st.integers().map(str))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**4000),
                         st.integers(max_value=-(10**300), min_value=-(10**4000)), st.floats(),
                         st.text(max_size=30), st.sampled_from(HOSTILE_TEXT))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
RAW_BODIES = ["[" * 100_000, "{\"a\":" * 50_000, '{"lat": 1' + "0" * 5000 + "}", "{", "null", "[]", '"x"', "1e999",
              '{"geometry": "' + "[" * 100_000 + '"}', '{"place_id": ["a"]}', '{"version": ' + "9" * 400 + "}",
              b"\xff\xfe{}", '{"lat": NaN, "lon": Infinity}']


def _routes() -> list[tuple[str, str, str]]:
    app = create_app(ROOT / "instance-fuzz-unused", {"TESTING": True, "SECRET_KEY": "x",
                                                     "LOAD_SEEDS": False})
    return sorted((rule.endpoint, rule.rule, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


ROUTES = _routes()


@pytest.fixture
def fuzz_app(small_app):  # noqa: F811
    """The small app with one article naming Yerevan (so valid ids lead somewhere)."""
    with opened(small_app.config["DATABASE"]) as conn:
        add_article(conn, title="Talks", source="Wire", published="2024-01-02",
                    text="Talks\nOfficials met in Yerevan. Yerevan was calm.", places={"Yerevan": YEREVAN})
    return small_app


def _url(rule: str, values: dict[str, str], query: list[tuple[str, str]]) -> str:
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule)
    return path + ("?" + urlencode(query) if query else "")


def _check(response, method: str, url: str, body=None) -> None:
    assert response.status_code < 500, (f"{method} {url[:300]} {str(body)[:300]} -> {response.status_code}: "
                                        f"{response.get_data(as_text=True)[:300]}")


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=[f"{m} {r}" for _e, r, m in ROUTES])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_route_answers_5xx_to_hostile_parameters(fuzz_app, alice, endpoint, rule, method, data):  # noqa: F811
    # Logging out would end alice's session for the other examples: that route gets a client of its own.
    client = fuzz_app.test_client() if endpoint == "auth.logout" else alice
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    values = {name: data.draw(VALUES, label=name) for name in names}
    query = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), VALUES), max_size=4), label="query")
    url = _url(rule, values, query)
    headers = {"X-CSRFToken": getattr(client, "csrf", "")}
    if method == "GET":
        _check(client.get(url), method, url)
        return
    body = data.draw(st.dictionaries(st.sampled_from(BODY_FIELDS), JSON_VALUES, max_size=6), label="json")
    _check(client.post(url, data=json.dumps(body), content_type="application/json", headers=headers),
           method, url, body)
    raw = data.draw(st.sampled_from(RAW_BODIES), label="raw")
    _check(client.post(url, data=raw, content_type="application/json", headers=headers), method, url, raw)
    form = {key: data.draw(VALUES, label=key) for key in data.draw(st.sets(st.sampled_from(BODY_FIELDS),
                                                                            max_size=6), label="form")}
    _check(client.post(url, data={**form, "csrf_token": headers["X-CSRFToken"]}, headers=headers),
           method, url, form)


def test_every_route_is_fuzzed():
    assert {endpoint for endpoint, _rule, _method in ROUTES} >= {
        "public.overview", "public.article", "public.place", "embed.article", "api.article", "api.articles",
        "api.features", "api.place", "admin.index", "admin.impact", "admin.place_version", "admin.create_place",
        "admin.create_correction", "admin.undo_correction", "admin.correction_candidates", "admin.correction_search",
        "api.export", "api.density"}


def test_every_query_parameter_is_fuzzed():
    """Each parameter the web code reads by name (request.args, form, JSON body) is in the fuzzed lists."""
    pattern = re.compile(r'(?:args\.get|args\.getlist|values\.get|form\.get|data\.get|_single\(args,|'
                         r'_values\(args,|_choice\(args,|_int_arg\()\(?\s*"([a-z_]+)"')
    files = [*(ROOT / "mapapp" / "web").glob("*.py"), ROOT / "mapapp" / "maps" / "filters.py",
             *(ROOT / "mapapp" / "maps" / name for name in ("features.py", "views.py", "density.py"))]
    read = {name for path in files for name in pattern.findall(path.read_text(encoding="utf-8"))}
    assert read and read <= set(QUERY_NAMES) | set(BODY_FIELDS), read - set(QUERY_NAMES) - set(BODY_FIELDS)


def test_the_fuzzing_client_gets_past_login_and_csrf(fuzz_app, alice):  # noqa: F811
    """Otherwise every admin example would stop at a redirect or a 400 and test nothing."""
    assert alice.get("/admin/").status_code == 200
    response = post_json(alice, "/admin/impact", {"place_id": YEREVAN, "delete": True})
    assert response.status_code == 200 and response.get_json()["articles_checked"] == 1
