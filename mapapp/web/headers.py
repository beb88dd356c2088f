"""Security headers on every response: only /embed/ pages may be framed, and only by allowed origins."""
from __future__ import annotations

from flask import Flask, current_app, request


def _frame_ancestors() -> str:
    allowed = current_app.config.get("EMBED_FRAME_ANCESTORS", "*")
    if isinstance(allowed, (list, tuple)):
        allowed = " ".join(allowed)
    return allowed.strip() or "'none'"


def content_security_policy(frame_ancestors: str, *, inline_scripts: bool = True, base_uri: str = "'self'") -> str:
    """The CSP header value; map pages need inline scripts (folium), pages without them should forbid them."""
    tiles = current_app.config.get("TILES_URL") or ""
    tile_origin = "/".join(tiles.split("/")[:3]).replace("{s}.", "*.") if tiles.startswith("http") else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'" if inline_scripts else "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: {tile_origin}".strip(),
        "connect-src 'self'",
        "object-src 'none'",
        f"base-uri {base_uri}",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


def init_app(app: Flask) -> None:
    """Register the after-request hook that sets framing, CSP and sniffing headers."""

    @app.after_request
    def _security_headers(response):
        is_embed = request.blueprint == "embed"
        ancestors = _frame_ancestors() if is_embed else "'none'"
        response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
        if not is_embed:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
