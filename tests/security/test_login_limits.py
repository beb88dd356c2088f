"""The login rate limit holds under parallel requests and cannot be used to lock an admin out.

Issue 7, fault 4: 40 parallel wrong logins got 17 password checks instead of 10 (check, hash, then record),
and while an address was limited the right password got 429 too. The attempt is now recorded before the
password is hashed, in the transaction that counts; the limits are per (client, user name) and per user name
with backoff, and a browser that logged in before (device cookie) is not locked out by guessers.
"""
from __future__ import annotations

import threading

import pytest
import requests
from admin_support import PASSWORD, csrf_from, make_app, row

from mapapp import accounts

PARALLEL = 40


@pytest.fixture
def app(small_app):  # noqa: F811
    """The live_server fixture (tests/conftest.py) serves the small gazetteer app of these tests."""
    return small_app


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts the real password verifications (werkzeug's check_password_hash, called through)."""
    calls = []
    lock = threading.Lock()
    real = accounts.check_password_hash

    def counting(pwhash, password):
        with lock:
            calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return calls


def _login_form(client, username, password, **environ):
    token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base=environ or {})


def _attempts(app) -> int:
    return row(app, "SELECT count(*) AS n FROM login_attempts")["n"]


def test_parallel_wrong_logins_get_at_most_the_limit_of_password_checks(app, live_server, hash_checks):
    limit = app.config["LOGIN_FAILURE_LIMIT"]
    sessions, tokens = [], []
    for _ in range(PARALLEL):
        http = requests.Session()
        tokens.append(csrf_from(http.get(f"{live_server}/auth/login", timeout=30).text))
        sessions.append(http)
    start = threading.Barrier(PARALLEL)
    statuses = []

    def attempt(http, token):
        start.wait()
        response = http.post(f"{live_server}/auth/login", timeout=120, allow_redirects=False,
                             data={"username": "alice", "password": "wrong password!", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(sessions, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(statuses) == PARALLEL
    assert len(hash_checks) == limit, f"{len(hash_checks)} password checks for a limit of {limit}"
    assert sorted(statuses) == [401] * limit + [429] * (PARALLEL - limit)
    assert _attempts(app) == limit  # each check was recorded before it ran

    # The same address can still log in as another user, and alice's right password is refused without a
    # password check while her pair is limited.
    checks = len(hash_checks)
    bob = requests.Session()
    token = csrf_from(bob.get(f"{live_server}/auth/login", timeout=30).text)
    ok = bob.post(f"{live_server}/auth/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=60)
    assert ok.status_code == 302 and bob.get(f"{live_server}/admin/", timeout=30).status_code == 200
    alice = requests.Session()
    token = csrf_from(alice.get(f"{live_server}/auth/login", timeout=30).text)
    blocked = alice.post(f"{live_server}/auth/login", allow_redirects=False, timeout=60,
                         data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert len(hash_checks) == checks + 1  # bob's only


def test_alice_logs_in_from_another_address_while_one_address_is_limited(app, hash_checks):
    guesser = app.test_client()
    for _ in range(app.config["LOGIN_FAILURE_LIMIT"]):
        assert _login_form(guesser, "alice", "wrong password!").status_code == 401
    assert _login_form(guesser, "alice", PASSWORD).status_code == 429
    assert _login_form(app.test_client(), "alice", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302


def test_a_successful_login_clears_its_pair(app):
    client = app.test_client()
    limit = app.config["LOGIN_FAILURE_LIMIT"]
    for _ in range(limit - 1):
        assert _login_form(client, "alice", "wrong password!").status_code == 401
    assert _login_form(client, "alice", PASSWORD).status_code == 302
    assert _attempts(app) == 0
    for _ in range(limit):  # a full allowance again, not one attempt
        assert _login_form(client, "alice", "wrong password!").status_code == 401
    assert _login_form(client, "alice", "wrong password!").status_code == 429


@pytest.fixture
def backoff_app(small_dir):  # noqa: F811
    """The small app with a per-user threshold of 5 failures and a first backoff long enough to observe."""
    return make_app(small_dir, LOGIN_USER_FAILURES=5, LOGIN_BACKOFF_START=120)


def test_guessing_one_name_from_many_addresses_backs_off_but_a_known_browser_still_logs_in(backoff_app,
                                                                                         hash_checks):
    app = backoff_app
    known = app.test_client()  # alice's own browser: it logged in before and keeps its device cookie
    assert _login_form(known, "alice", PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302
    assert known.get_cookie("mapapp_device", path="/auth/login") is not None
    for n in range(5):  # a guesser spreading over addresses: each pair is far below its limit
        assert _login_form(app.test_client(), "alice", "wrong password!",
                           REMOTE_ADDR=f"198.51.100.{n}").status_code == 401
    checks = len(hash_checks)
    fresh = _login_form(app.test_client(), "alice", "wrong password!", REMOTE_ADDR="198.51.100.200")
    assert fresh.status_code == 429 and int(fresh.headers["Retry-After"]) > 60
    right = _login_form(app.test_client(), "alice", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert right.status_code == 429  # an unknown browser waits out the backoff, even with the right password
    assert len(hash_checks) == checks  # refused before any password check
    # Her known browser is not locked out, even behind the guessers' own address.
    assert _login_form(known, "alice", PASSWORD, REMOTE_ADDR="198.51.100.0").status_code == 302
    # Another user is not affected at all.
    assert _login_form(app.test_client(), "bob", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_a_forged_or_foreign_device_cookie_counts_as_unknown(backoff_app):
    app = backoff_app
    bobs = app.test_client()
    assert _login_form(bobs, "bob", PASSWORD).status_code == 302  # a device cookie issued to bob
    for n in range(5):
        assert _login_form(app.test_client(), "alice", "wrong password!", REMOTE_ADDR=f"198.51.100.{n}"
                           ).status_code == 401
    assert _login_form(bobs, "alice", PASSWORD).status_code == 429  # bob's cookie does not vouch for alice
    forged = app.test_client()
    forged.set_cookie("mapapp_device", "eyJ1IjoiYWxpY2UiLCJkIjoieCJ9.forged", path="/auth/login")
    assert _login_form(forged, "alice", PASSWORD).status_code == 429
