"""Public pages run only their own scripts: files from this origin, or inline ones carrying the response's nonce.

The CSP is the second line of defence behind escaping: even markup that slipped into a page could not run.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

PUBLIC_PAGES = ["/", "/?source=Azernews&lat=40&lon=45&zoom=6", "/articles/{a1}", "/articles/{a1}?place={yerevan}",
                "/places/{yerevan}", "/places/{corridor}", "/embed/", "/embed/articles/{a1}",
                "/embed/places/{corridor}"]
# Error pages and other responses of the public site: no inline script, so no nonce either.
OTHER_PAGES = ["/articles/999999", "/places/nowhere", "/api/features", "/outlines.json", "/?zoom=99"]


def directives(policy: str) -> dict[str, list[str]]:
    """The CSP header split into {directive: [source, ...]}."""
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


class _Scripts(HTMLParser):
    """Every <script> start tag's attributes, and every attribute that would be an inline handler or JS URL."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.handlers.append((tag, name, value))


def scripts_of(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


def script_nonce(policy: str) -> str | None:
    """The nonce that script-src allows, or None."""
    nonces = [s for s in directives(policy)["script-src"] if s.startswith("'nonce-")]
    assert len(nonces) <= 1
    return nonces[0][len("'nonce-"):-1] if nonces else None


def assert_strict_script_src(policy: str) -> None:
    """script-src allows this origin and at most a nonce: no 'unsafe-inline', 'unsafe-eval', hosts or schemes."""
    sources = directives(policy)["script-src"]
    assert sources[0] == "'self'"
    assert all(re.fullmatch(r"'nonce-[A-Za-z0-9_-]{22,}'", s) for s in sources[1:]), sources
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_allow_only_own_scripts_and_nonced_inline_ones(client, sample, url):
    response = client.get(url.format(**sample))
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert_strict_script_src(policy)
    assert directives(policy)["object-src"] == ["'none'"]
    nonce = script_nonce(policy)
    assert nonce, "a map page's inline bootstrap needs the response's nonce"
    found = scripts_of(response.get_data(as_text=True))
    inline = [s for s in found.scripts if "src" not in s]
    assert inline, "the map bootstrap is an inline script"
    for script in found.scripts:
        if "src" in script:
            parts = urlsplit(script["src"])
            assert not parts.scheme and not parts.netloc and script["src"].startswith("/"), script
        else:
            assert script.get("nonce") == nonce, script
    assert not found.handlers, f"inline handlers or javascript: URLs: {found.handlers}"


def test_each_response_gets_its_own_nonce(client, sample):
    nonces = {script_nonce(client.get("/").headers["Content-Security-Policy"]) for _ in range(5)}
    assert len(nonces) == 5 and None not in nonces


@pytest.mark.parametrize("url", OTHER_PAGES)
def test_responses_without_inline_scripts_allow_none(client, sample, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    assert_strict_script_src(policy)
    assert script_nonce(policy) is None
    if response.mimetype == "text/html":
        assert not [s for s in scripts_of(response.get_data(as_text=True)).scripts if "src" not in s]


def test_embeds_keep_their_frame_ancestors(client, sample):
    policy = directives(client.get("/embed/articles/{a1}".format(**sample)).headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["*"]
    assert directives(client.get("/").headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
