"""Security headers on every response: only /embed/ pages may be framed, and only by allowed origins.

No page runs inline script unless it carries this response's nonce: a page's own inline scripts (the folium
map bootstrap) are stamped with `csp_nonce()` in its template, so text injected into a page cannot run.
"""
from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request


def _frame_ancestors() -> str:
    allowed = current_app.config["EMBED_FRAME_ANCESTORS"]
    if isinstance(allowed, (list, tuple)):
        allowed = " ".join(allowed)
    return allowed.strip() or "'none'"


def csp_nonce() -> str:
    """This response's script nonce (made on first use); templates put it on each inline <script>."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(frame_ancestors: str, *, nonce: str | None = None, base_uri: str = "'self'") -> str:
    """The CSP header value: scripts from this origin only, plus inline ones carrying `nonce` when given.

    Styles keep 'unsafe-inline': folium's map container rule is an inline <style> and Leaflet sets inline
    styles on its panes, markers and popups; styles cannot run script.
    """
    tiles = current_app.config.get("TILES_URL") or ""
    tile_origin = "/".join(tiles.split("/")[:3]).replace("{s}.", "*.") if tiles.startswith("http") else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: {tile_origin}".strip(),
        "connect-src 'self'",
        "object-src 'none'",
        f"base-uri {base_uri}",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


def init_app(app: Flask) -> None:
    """Register `csp_nonce` for templates and the after-request hook that sets framing, CSP and sniffing headers."""
    app.add_template_global(csp_nonce)

    @app.after_request
    def _security_headers(response):
        is_embed = request.blueprint == "embed"
        ancestors = _frame_ancestors() if is_embed else "'none'"
        # Only a response whose template asked for a nonce allows inline script at all.
        nonce = g.get("csp_nonce")
        response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors, nonce=nonce))
        if not is_embed:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
