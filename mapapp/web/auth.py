"""Blueprint 'auth' (/auth): log in and out, the login rate limit, CSRF and Origin checks for the whole app.

Sessions: Flask's signed cookie carries only a random `sid`; the `user_sessions` table says which user it
belongs to, so logout (and a password change) really ends it, and the `sid` is new at every login.
Rate limit: failed logins are rows of the `login_failures` table (client address, time), so every worker and
process of one install shares the count; a client with LOGIN_FAILURE_LIMIT failures in the last
LOGIN_FAILURE_WINDOW seconds gets 429 until the oldest of them is out of the window. Behind a reverse proxy,
wrap the app in werkzeug's ProxyFix so that the client address, host and scheme are the real ones.
"""
from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden, TooManyRequests

from mapapp import accounts
from mapapp.db import get_db, transaction
from mapapp.web.headers import content_security_policy

bp = Blueprint("auth", __name__, url_prefix="/auth")
csrf = CSRFProtect()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOGIN_FAILED = "Unknown user or wrong password."


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, with the Secure flag set whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure if configured so, or if this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (bool(request) and request.is_secure)


def safe_next(target: str | None, default: str = "/admin/") -> str:
    """`target` if it is a path on this site, else `default` (no scheme, host, `//` or backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin() -> None:
    """Refuse a state-changing request whose Origin (or, lacking it, Referer) is another site."""
    if request.method in SAFE_METHODS:
        return
    own = _origin(request.host_url)
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin.lower() != own:  # also refuses "null" (sandboxed frames, file:// pages)
            raise Forbidden("cross-origin request refused (Origin)")
        return
    referer = request.headers.get("Referer")
    if referer and _origin(referer) != own:
        raise Forbidden("cross-origin request refused (Referer)")


def load_user() -> None:
    """Set g.user to the logged-in user's row (or None) from the session's sid."""
    g.user = None
    sid = session.get("sid")
    if not isinstance(sid, str):
        return
    row = get_db().execute(
        "SELECT users.*, user_sessions.created_at AS session_created FROM user_sessions "
        "JOIN users ON users.id = user_sessions.user_id WHERE sid = ?", (sid,)).fetchone()
    if row is not None and row["session_created"] + current_app.config["SESSION_MAX_AGE"] > time.time():
        g.user = row


def wants_json() -> bool:
    """True for fetch/XHR/JSON clients, who get status codes rather than redirects."""
    accept = request.accept_mimetypes
    return (request.is_json or accept.best == "application/json"
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")


def login_required_here():
    """Before-request hook of the admin: unless someone is logged in, redirect to login (JSON clients: 401)."""
    if g.get("user") is not None:
        return None
    if wants_json():
        abort(401, "log in first")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _client() -> str:
    return request.remote_addr or "unknown"


def _check_rate_limit(conn) -> None:
    window = current_app.config["LOGIN_FAILURE_WINDOW"]
    now = time.time()
    with transaction(conn):
        conn.execute("DELETE FROM login_failures WHERE at < ?", (now - window,))
        rows = conn.execute("SELECT at FROM login_failures WHERE client = ? ORDER BY at",
                            (_client(),)).fetchall()
    if len(rows) >= current_app.config["LOGIN_FAILURE_LIMIT"]:
        retry = max(1, int(rows[0]["at"] + window - now) + 1)
        raise TooManyRequests(f"too many failed logins; try again in {retry} seconds", retry_after=retry)


def _start_session(conn, user) -> None:
    old_sid = session.get("sid")
    sid = secrets.token_urlsafe(32)
    with transaction(conn):
        if isinstance(old_sid, str):
            conn.execute("DELETE FROM user_sessions WHERE sid = ?", (old_sid,))
        conn.execute("INSERT INTO user_sessions (sid, user_id, created_at) VALUES (?, ?, ?)",
                     (sid, user["id"], time.time()))
    # A fresh session: nothing set before login (a planted CSRF token included) survives it.
    session.clear()
    session["sid"] = sid


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password and start a new session."""
    conn = get_db()
    next_url = safe_next(request.values.get("next"))
    error = None
    status = 200
    if request.method == "POST":
        _check_rate_limit(conn)
        user = accounts.authenticate(conn, request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            _start_session(conn, user)
            return redirect(next_url)
        with transaction(conn):
            conn.execute("INSERT INTO login_failures (client, at) VALUES (?, ?)", (_client(), time.time()))
        error, status = LOGIN_FAILED, 401
    return render_template("auth/login.html", error=error, next=next_url,
                           no_users=accounts.user_count(conn) == 0), status


@bp.post("/logout")
def logout():
    """End the session here and on the server."""
    sid = session.get("sid")
    if isinstance(sid, str):
        conn = get_db()
        with transaction(conn):
            conn.execute("DELETE FROM user_sessions WHERE sid = ?", (sid,))
    session.clear()
    return redirect(url_for("auth.login"))


def private_headers(response):
    """Headers of every admin and login response: never cached, never framed, no inline script."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = content_security_policy("'none'", base_uri="'none'")
    return response


bp.after_request(private_headers)


def init_app(app: Flask) -> None:
    """CSRF tokens and an Origin check on every state-changing request; the logged-in user on g.user."""
    app.config.setdefault("SESSION_MAX_AGE", 12 * 3600)
    app.config.setdefault("LOGIN_FAILURE_LIMIT", 10)
    app.config.setdefault("LOGIN_FAILURE_WINDOW", 60)
    # The token lives as long as the session (bounded by SESSION_MAX_AGE on the server).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.session_interface = SessionInterface()
    app.before_request(check_origin)
    csrf.init_app(app)
    app.before_request(load_user)

