"""Admin security: login required everywhere, CSRF and Origin checks, rate limit, sessions, redirects, headers."""
from __future__ import annotations

import tempfile

import pytest
from admin_support import PASSWORD, VILLAGE, csrf_from, db_path, login, post_form, post_json, row, snapshot

from mapapp import create_app

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
SAMPLE_ARGS = {"place_id": "gn:174982", "version": 1, "correction_id": 1}


def _admin_rules():
    # The app is made only to read its URL map (at collection): nothing is written to its data folder.
    with tempfile.TemporaryDirectory(prefix="mapapp-rules-") as folder:
        app = create_app(folder, {"TESTING": True, "SECRET_KEY": "x"})
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<{name}>", str(SAMPLE_ARGS[name])).replace(
                    f"<int:{name}>", str(SAMPLE_ARGS[name]))
            rules.append((url, sorted(rule.methods - {"HEAD", "OPTIONS"})))
    return rules


ADMIN_RULES = _admin_rules()
STATE_CHANGING = [url for url, methods in ADMIN_RULES if "POST" in methods]
BODIES = {  # a valid body for each state-changing route, so only the missing protection can refuse it
    "/admin/places": VILLAGE,
    "/admin/places/gn:174982": {"population": 1, "version": 1},
    "/admin/places/gn:174982/delete": {"version": 1},
    "/admin/places/gn:174982/restore": {"version": 1, "expected_version": 1},
    "/admin/impact": VILLAGE,
    "/admin/review/alias": {"name": "Hayastan", "place_id": "gn:174982"},
    "/admin/review/not-place": {"name": "Armenia"},
    "/admin/review/not-place/undo": {"key": "armenia"},
    "/admin/corrections": {"article_id": 1, "start": 0, "end": 7, "text": "Armenia", "action": "not_place"},
    "/admin/corrections/1/undo": {},
    # Loopback: refused before any request (FETCH_ALLOW_PRIVATE is off), so nothing leaves the machine.
    "/admin/articles": {"urls": "http://127.0.0.1:9/news.html"},
}


def test_every_admin_route_is_covered():
    assert len(ADMIN_RULES) >= 14
    assert set(STATE_CHANGING) == set(BODIES)


@pytest.mark.parametrize("url", [url for url, _ in ADMIN_RULES])
@pytest.mark.parametrize("method", METHODS)
def test_logged_out_every_route_and_method_is_refused(small_app, anon, url, method):
    before = snapshot(db_path(small_app))
    # A valid CSRF token from the login page, so that only the missing login can stop the request.
    token = csrf_from(anon.get("/auth/login").get_data(as_text=True))
    response = anon.open(url, method=method, data={**BODIES.get(url, {}), "csrf_token": token})
    assert response.status_code in (302, 405), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/auth/login?next=")
    json_response = anon.open(url, method=method, json=BODIES.get(url, {}), headers={"X-CSRFToken": token})
    assert json_response.status_code in (401, 405)
    assert snapshot(db_path(small_app)) == before


@pytest.mark.parametrize("url", STATE_CHANGING)
def test_logged_out_without_csrf_token_is_refused(small_app, anon, url):
    before = snapshot(db_path(small_app))
    assert anon.post(url, data=BODIES[url]).status_code in (302, 400)
    assert snapshot(db_path(small_app)) == before


@pytest.mark.parametrize("url", STATE_CHANGING)
@pytest.mark.parametrize("case", ["no token", "wrong token", "token in body of JSON only", "foreign origin",
                                  "null origin", "foreign referer"])
def test_state_changing_requests_need_csrf_token_and_same_origin(small_app, alice, url, case):
    before = snapshot(db_path(small_app))
    body = BODIES[url]
    if case == "no token":
        response = alice.post(url, data=body)
    elif case == "wrong token":
        response = alice.post(url, data={**body, "csrf_token": "forged"})
    elif case == "token in body of JSON only":
        response = alice.post(url, json={**body, "csrf_token": "forged"})
    elif case == "foreign origin":
        response = post_form(alice, url, body, Origin="https://evil.example")
    elif case == "null origin":
        response = post_form(alice, url, body, Origin="null")
    else:
        response = post_form(alice, url, body, Referer="https://evil.example/page")
    assert response.status_code in (400, 403), response.status_code
    assert snapshot(db_path(small_app)) == before


def test_same_origin_post_with_token_is_accepted(small_app, alice):
    response = post_json(alice, "/admin/places", VILLAGE, Origin="http://localhost")
    assert response.status_code == 201
    assert row(small_app, "SELECT name FROM places WHERE id = 'admin:zorvanik'")["name"] == "Zorvanik"


def test_login_form_itself_needs_the_csrf_token(small_app, anon):
    response = anon.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert anon.get("/admin/").status_code == 302
    assert row(small_app, "SELECT count(*) AS n FROM user_sessions")["n"] == 0


def test_logout_is_post_only(alice):
    assert alice.get("/auth/logout").status_code == 405
    assert alice.get("/admin/").status_code == 200


def _failed_login(client, username="alice", password="wrong password!", **environ):
    token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base=environ or {})


def test_same_message_for_unknown_user_and_wrong_password(anon):
    wrong = _failed_login(anon, "alice", "wrong password!")
    unknown = _failed_login(anon, "mallory", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: r.get_data(as_text=True).replace(csrf_from(r.get_data(as_text=True)), "")  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert "Unknown user or wrong password." in strip(wrong)


def test_rate_limit_429_after_ten_failures_a_minute(small_app, anon):
    for _ in range(10):
        assert _failed_login(anon).status_code == 401
    token = csrf_from(anon.get("/auth/login").get_data(as_text=True))
    blocked = anon.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert row(small_app, "SELECT count(*) AS n FROM user_sessions")["n"] == 0
    # Another client is not blocked.
    other = small_app.test_client()
    token = csrf_from(other.get("/auth/login").get_data(as_text=True))
    ok = other.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                    environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert ok.status_code == 302


def test_failures_older_than_the_window_do_not_count(small_app, anon):
    import time

    from mapapp.db import connect

    conn = connect(db_path(small_app))
    conn.executemany("INSERT INTO login_attempts (client, username, at) VALUES ('127.0.0.1', 'alice', ?)",
                     [(time.time() - 61,)] * 10)
    conn.close()
    login(anon, "alice")
    assert anon.get("/admin/").status_code == 200


def test_session_is_renewed_at_login(small_app):
    client = small_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["sid"] = "guessed-sid"
    before = client.get_cookie("session").value
    login(client, "alice")
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        new_sid = session["sid"]
    assert new_sid != "guessed-sid" and len(new_sid) >= 40
    assert row(small_app, "SELECT sid FROM user_sessions")["sid"] == new_sid
    # A second login gets yet another session id.
    login(client, "alice")
    with client.session_transaction() as session:
        assert session["sid"] != new_sid


def test_an_old_session_cookie_is_dead_after_logout(small_app, alice):
    cookie = alice.get_cookie("session").value
    post_form(alice, "/auth/logout", {})
    replay = small_app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/admin/").status_code == 302


def test_expired_sessions_are_refused(small_app, alice):
    from mapapp.db import connect

    conn = connect(db_path(small_app))
    conn.execute("UPDATE user_sessions SET created_at = created_at - 13 * 3600")
    conn.close()
    assert alice.get("/admin/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com/admin", "/\\evil.com", "javascript:alert(1)",
                                    "http:evil.com", "/\t/evil.com", "evil.com", "///evil.com"])
def test_next_only_goes_to_local_paths(anon, target):
    token = csrf_from(anon.get(f"/auth/login?next={target}").get_data(as_text=True))
    response = anon.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token,
                                              "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_next_to_a_local_path_is_followed(anon):
    token = csrf_from(anon.get("/auth/login").get_data(as_text=True))
    response = anon.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token,
                                              "next": "/admin/review?x=1"})
    assert response.headers["Location"] == "/admin/review?x=1"


def test_session_cookie_flags_and_secure_over_https(small_app):
    plain = small_app.test_client()
    token = csrf_from(plain.get("/auth/login").get_data(as_text=True))
    response = plain.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = small_app.test_client()
    page = secure.get("/auth/login", base_url="https://localhost")
    assert "Secure" in page.headers["Set-Cookie"]
    token = csrf_from(page.get_data(as_text=True))
    response = secure.post("/auth/login", base_url="https://localhost",
                           data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                           headers={"Referer": "https://localhost/auth/login"})
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("url", [url for url, methods in ADMIN_RULES if "GET" in methods] + ["/auth/login"])
def test_admin_pages_are_never_framed_or_cached(alice, url):
    response = alice.get(url)
    assert response.status_code in (200, 400, 404)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
