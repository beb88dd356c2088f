"""Blueprint 'auth' (/auth): log in and out, the login rate limit, CSRF and Origin checks for the whole app.

Sessions: Flask's signed cookie carries only a random `sid`; the `user_sessions` table says which user it
belongs to, so logout (and a password change) really ends it, and the `sid` is new at every login.
Rate limit: every login attempt is a row of the `login_attempts` table, written before the password is
checked in the same BEGIN IMMEDIATE transaction that counts the earlier ones, so parallel requests cannot
slip past the count, and every worker and process of one install shares it. Two limits, after OWASP's
advice against both guessing and lock-out:
- per (client, user name): LOGIN_FAILURE_LIMIT attempts in LOGIN_FAILURE_WINDOW seconds, then 429 until the
  oldest is out of the window; a successful login clears the pair. Another user behind the same address (NAT,
  proxy) is not affected.
- per user name, across clients: after LOGIN_USER_FAILURES failed attempts in LOGIN_USER_WINDOW seconds, each
  further attempt waits an exponential backoff (LOGIN_BACKOFF_START s, doubling, at most LOGIN_BACKOFF_MAX)
  after the last one.
  A browser that has logged in as that user before carries a signed device cookie: it is counted on its own
  (as 'device:<id>') and is exempt from the per-user backoff, so a guesser cannot lock out a known browser.
Behind a reverse proxy, set TRUSTED_PROXIES (the app then wraps itself in werkzeug's ProxyFix) so that the
client address, host and scheme are the real ones.
"""
from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import Forbidden, TooManyRequests

from mapapp import accounts
from mapapp.db import get_db, transaction
from mapapp.errors import InvalidInput
from mapapp.web.clients import wants_json
from mapapp.web.headers import content_security_policy

bp = Blueprint("auth", __name__, url_prefix="/auth")
csrf = CSRFProtect()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOGIN_FAILED = "Unknown user or wrong password."
DEVICE_COOKIE = "mapapp_device"
DEVICE_MAX_AGE = 90 * 24 * 3600


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


def login_required_here():
    """Before-request hook of the admin: unless someone is logged in, redirect to login (JSON clients: 401)."""
    if g.get("user") is not None:
        return None
    if wants_json():
        abort(401, "log in first")
    # script_root: the app may be mounted below a path prefix, and `next` is a path on the whole site.
    target = request.script_root + (request.full_path if request.query_string else request.path)
    return redirect(url_for("auth.login", next=target))


def _client() -> str:
    return request.remote_addr or "unknown"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mapapp-login-device")


def _device_of(username: str) -> str | None:
    """The id of this browser's device cookie if it is valid and was issued to `username`, else None."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie or not username:
        return None
    try:
        payload = _devices().loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("u") != username or not isinstance(payload.get("d"), str):
        return None
    return payload["d"]


def _login_name(raw) -> str:
    try:
        return accounts.clean_username(raw if isinstance(raw, str) else "")
    except InvalidInput:
        return ""


def _record_attempt(conn, client: str, username: str, trusted: bool) -> None:
    """Count the earlier attempts and record this one in one transaction; 429 (nothing recorded) if over a limit."""
    config = current_app.config
    window, user_window = config["LOGIN_FAILURE_WINDOW"], config["LOGIN_USER_WINDOW"]
    now = time.time()
    with transaction(conn):
        conn.execute("DELETE FROM login_attempts WHERE at < ?", (now - max(window, user_window),))
        pair = conn.execute("SELECT count(*), min(at) FROM login_attempts WHERE client = ? AND username = ?"
                            " AND at >= ?", (client, username, now - window)).fetchone()
        if pair[0] >= config["LOGIN_FAILURE_LIMIT"]:
            retry = max(1, int(pair[1] + window - now) + 1)
            raise TooManyRequests(f"too many failed logins; try again in {retry} seconds", retry_after=retry)
        if not trusted:
            user = conn.execute("SELECT count(*), max(at) FROM login_attempts WHERE username = ? AND trusted = 0"
                                " AND at >= ?", (username, now - user_window)).fetchone()
            over = user[0] - config["LOGIN_USER_FAILURES"]
            if over >= 0:
                wait = min(config["LOGIN_BACKOFF_START"] * 2.0 ** min(over, 30), config["LOGIN_BACKOFF_MAX"])
                if now < user[1] + wait:
                    retry = max(1, int(user[1] + wait - now) + 1)
                    raise TooManyRequests(f"too many failed logins for this user; try again in {retry} seconds",
                                          retry_after=retry)
        conn.execute("INSERT INTO login_attempts (client, username, trusted, at) VALUES (?, ?, ?, ?)",
                     (client, username, int(trusted), now))


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
    next_url = safe_next(request.values.get("next"), url_for("admin.index"))
    error = None
    status = 200
    if request.method == "POST":
        username = _login_name(request.form.get("username", ""))
        device = _device_of(username)
        client = f"device:{device}" if device else _client()
        # Recorded before the (slow) password check: a failure, unless the login succeeds and clears it.
        _record_attempt(conn, client, username, trusted=device is not None)
        user = accounts.authenticate(conn, username, request.form.get("password", ""))
        if user is not None:
            with transaction(conn):
                conn.execute("DELETE FROM login_attempts WHERE client = ? AND username = ?", (client, username))
            _start_session(conn, user)
            response = redirect(next_url)
            response.set_cookie(DEVICE_COOKIE, _devices().dumps({"u": username, "d": device or
                                                                 secrets.token_urlsafe(16)}),
                                max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                                secure=current_app.session_interface.get_cookie_secure(current_app),
                                path=url_for("auth.login"))
            return response
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
    app.session_interface = SessionInterface()
    app.before_request(check_origin)
    csrf.init_app(app)
    app.before_request(load_user)

