"""The inputs of issue 7, fault 3, one by one: numbers over Python's 4,300-digit limit, integers beyond any
float, JSON nested 100,000 deep and lists where ids belong give a 4xx naming the parameter, and store nothing."""
from __future__ import annotations

import pytest
from admin_support import VILLAGE, db_path, post_json, snapshot

from mapapp.errors import InvalidInput
from mapapp.params import MAX_ID, load_json, whole_number

HUGE = "9" * 5000
BIG_INT = int("9" * 400)


@pytest.mark.parametrize("url, status, field", [
    (f"/api/articles/{HUGE}", 404, "article_id"), (f"/api/articles?limit={HUGE}", 400, "limit"),
    (f"/api/articles?offset={HUGE}", 400, "offset"), (f"/api/features?article={HUGE}", 400, "article"),
    (f"/api/articles/1?offset={HUGE}", 400, "offset"), (f"/api/places/gn:616052?limit={HUGE}", 400, "limit"),
    (f"/articles/{HUGE}", 404, None), (f"/embed/articles/{HUGE}", 404, None), (f"/?article={HUGE}", 400, None),
    (f"/articles/1?offset={HUGE}", 400, None), (f"/places/gn:616052?offset={HUGE}", 400, None),
])
def test_huge_numbers_in_public_urls_are_4xx_naming_the_parameter(anon, url, status, field):  # noqa: F811
    response = anon.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    if field:
        assert response.get_json()["field"] == field


@pytest.mark.parametrize("change, field", [
    ({"lat": BIG_INT}, "lat"), ({"lon": -BIG_INT}, "lon"),
    ({"geometry": {"type": "LineString", "coordinates": [[BIG_INT, 40], [46, 41]]}}, "geometry"),
    ({"geometry": "[" * 100_000}, "geometry"), ({"population": BIG_INT}, "population"),
])
def test_huge_values_in_admin_fields_are_400_and_store_nothing(small_app, alice, change, field):  # noqa: F811
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/places", {**VILLAGE, **change})
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert snapshot(db_path(small_app)) == before


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 50_000, '{"lat": 1' + "0" * 5000 + "}"])
def test_deep_or_huge_json_bodies_are_400_naming_the_body(small_app, alice, body):  # noqa: F811
    before = snapshot(db_path(small_app))
    response = alice.post("/admin/places", data=body, content_type="application/json",
                          headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 400 and response.get_json()["field"] == "body"
    assert snapshot(db_path(small_app)) == before


def test_admin_page_number_beyond_sqlite_is_400(alice):  # noqa: F811
    response = alice.get("/admin/?page=99999999999999999999", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["field"] == "page"
    assert alice.get("/admin/?page=2").status_code == 200


@pytest.mark.parametrize("place_id", [["a"], {"a": 1}, 7, "x" * 201])
def test_impact_with_a_place_id_that_is_not_text_is_400(alice, place_id):  # noqa: F811
    response = post_json(alice, "/admin/impact", {"place_id": place_id})
    assert response.status_code == 400 and response.get_json()["field"] == "place_id"


def test_version_in_a_path_beyond_any_id_is_404(alice):  # noqa: F811
    assert alice.get(f"/admin/places/gn:174982/versions/{HUGE}").status_code == 404
    assert alice.get("/admin/places/gn:174982/versions/1").status_code == 200


@pytest.mark.parametrize("value", ["", None])
def test_whole_number_blank_gives_the_default(value):
    assert whole_number(value, "n", default=3) == 3


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "１２", "١٢", "1.0", "1e3", " ", "0x1", True, 1.0, [1],
                                   MAX_ID + 1, str(MAX_ID + 1), "-1"])
def test_whole_number_refuses_what_is_not_a_bounded_whole_number(value):
    with pytest.raises(InvalidInput) as caught:
        whole_number(value, "n", default=None) if value != " " else whole_number(value, "n")
    assert getattr(caught.value, "field", None) == "n" and caught.value.status == 400


def test_whole_number_accepts_the_bounds():
    assert whole_number(str(MAX_ID), "n") == MAX_ID and whole_number("007", "n") == 7
    assert whole_number(0, "n") == 0


def test_load_json_refuses_depth_beyond_the_limit_but_not_at_it():
    assert load_json("[" * 32 + "]" * 32, "b") is not None
    with pytest.raises(InvalidInput) as caught:
        load_json("[" * 33 + "]" * 33, "b")
    assert caught.value.field == "b"
