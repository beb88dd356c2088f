"""A local news site for the web-ingest tests: a real http.server in a thread, serving fixture pages and feeds.

Nothing reaches the internet: every URL the tests fetch is on 127.0.0.1. The site logs each request (path
and headers) so that tests can assert what was, and was not, fetched.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "html"  # real-shaped news pages: menus, cookie banners, comments, related links, footers
WEB = FIXTURES / "web"  # feeds and extra pages; "{base}" in them is replaced by the site's address
ARTICLES = ["karabakh-talks.html", "sindh-floods.html", "gaza-aid.html", "springfield-council.html"]
ROBOTS = "User-agent: *\nDisallow: /admin/\n\nUser-agent: mapapp\nDisallow: /private/\n"


@dataclass
class Route:
    """One path's answer; `etag` / `last_modified` make it answer conditional requests with 304."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    wait: threading.Event | None = None  # hold the answer until this is set (a server that hangs)


class Site:
    """The fixture site: `routes` by path, `log` of (path, headers, arrival) requests, `url(path)`."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict, float]] = []  # (path, headers, time.monotonic() at arrival)
        self.release = threading.Event()  # set at the end: hanging routes let go
        self.base = ""

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this site."""
        return self.base + path

    def requested(self, path: str) -> int:
        """How many times `path` was requested."""
        return sum(1 for logged, _headers, _at in self.log if logged == path)

    def add(self, path: str, route: Route) -> str:
        """Serve `route` at `path`; returns its URL."""
        self.routes[path.split("?")[0]] = route
        return self.url(path)

    def add_page(self, path: str, name: str, *, replace: tuple[str, str] | None = None) -> str:
        """Serve the fixture page `name` (from tests/fixtures/html or web) at `path`; returns its URL."""
        source = PAGES / name if (PAGES / name).exists() else WEB / name
        text = source.read_text(encoding="utf-8").replace("{base}", self.base)
        if replace:
            text = text.replace(*replace)
        return self.add(path, Route(text.encode("utf-8")))

    def add_feed(self, path: str, name: str, *, content_type: str = "application/rss+xml", **route) -> str:
        """Serve the fixture feed `name` (tests/fixtures/web) at `path`, its links pointing at this site."""
        text = (WEB / name).read_text(encoding="utf-8").replace("{base}", self.base)
        return self.add(path, Route(text.encode("utf-8"), content_type=content_type, **route))


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the test output is the site's log
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            site.log.append((path, {key.lower(): value for key, value in self.headers.items()}, time.monotonic()))
            route = site.routes.get(path)
            if path == "/robots.txt" and route is None:
                route = Route(ROBOTS.encode(), content_type="text/plain")
            if route is None:
                route = Route(b"<html><body><h1>Not found</h1></body></html>", status=404)
            if route.wait is not None:
                route.wait.wait(timeout=30)
            conditional = (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified)
            status = 304 if conditional else route.status
            body = b"" if status == 304 else route.body
            self.send_response(status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (("ETag", route.etag), ("Last-Modified", route.last_modified)):
                if value:
                    self.send_header(key, value)
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up early is part of the tests
            super().handle_error(request, client_address)


@contextlib.contextmanager
def news_site():
    """A Site served on a free port of 127.0.0.1 for the duration of the block."""
    site = Site()
    server = _QuietServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        for route in site.routes.values():
            if route.wait is not None:
                route.wait.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)



def local_fetcher(**options):
    """A Fetcher for the local site: no delay between requests, a short timeout."""
    from mapapp.articles.fetch import Fetcher

    return Fetcher(**{"timeout": 2.0, "delay": 0.0, **options})
