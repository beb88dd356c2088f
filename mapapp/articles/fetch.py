"""Fetching pages and feeds over HTTP, politely: robots.txt, a per-host delay, timeouts and a size cap.

One Fetcher is shared by everything that fetches (`mapapp ingest URL`, `mapapp feeds poll`, the admin's
"Add article" form), so that its per-host delay holds across them. Every failure is a FetchError whose
`reason` names its class (timeout, http, not-html, too-large, robots, connection, url) and whose message is one
line naming the URL.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from mapapp.articles.documents import MAX_FILE_BYTES, format_size
from mapapp.errors import MapappError


def _version() -> str:
    try:
        return metadata.version("mapapp")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0"


USER_AGENT = f"mapapp/{_version()} (news geoparser)"
ROBOTS_AGENT = "mapapp"  # the product token robots.txt groups name
DEFAULT_TIMEOUT = 10.0
DEFAULT_DELAY = 1.0  # seconds between two requests to one host (a robots.txt Crawl-delay can raise it)
MAX_REDIRECTS = 5
TOTAL_TIMEOUTS = 3  # a whole response must arrive within this many timeouts
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 lets a crawler stop reading robots.txt at 500 KiB
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
              "application/feed+json")


# Failures that may pass by themselves: a feed's item that failed so is fetched again by the next poll.
PASSING_REASONS = frozenset({"timeout", "connection", "unavailable"})


class FetchError(MapappError):
    """A URL that could not be fetched as wanted; `reason` is its class, the message one line naming the URL."""

    status = 502

    def __init__(self, url: str, reason: str, message: str):
        super().__init__(f"{url}: {message}", field="url")
        self.url = url
        self.reason = reason


@dataclass
class Response:
    """What a GET returned: the final URL after redirects, status, headers, and the body (b"" for a 304)."""

    url: str
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional request."""
        return self.status == 304

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower case ("" when the server sent none)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body decoded: the charset the server or the page declares, else UTF-8 (bad bytes replaced)."""
        charset = _charset(self.headers.get("content-type", "")) or _declared_charset(self.body[:4096])
        try:
            return self.body.decode(charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def _declared_charset(head: bytes) -> str | None:
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", head, re.IGNORECASE) or re.search(
        rb"<\?xml[^>]+encoding\s*=\s*[\"']([\w.:-]+)", head, re.IGNORECASE)
    return match.group(1).decode("ascii") if match else None


def web_url(value: str) -> str:
    """`value` as an absolute http(s) URL without its #fragment; FetchError (reason "url") otherwise."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise FetchError(value[:200], "url", "not an http(s) URL")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def is_web_url(value: str) -> bool:
    """True when a command-line argument names a web page rather than a file."""
    return bool(re.match(r"^https?://", value.strip(), re.IGNORECASE))


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Fetcher:
    """An HTTP client for articles and feeds: one User-Agent naming mapapp, robots.txt, a delay per host.

    `timeout` bounds connecting and each read (seconds), three of them the whole body; `max_bytes` the body;
    `delay` the time between two requests to one host (robots.txt's Crawl-delay for mapapp wins when longer).
    Without `allow_private`, a URL whose host resolves to a loopback, private, link-local or otherwise
    non-public address is refused (reason "private-address"): the web app's editors must not be able to make
    the server read its own network. Thread-safe.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_FILE_BYTES,
                 delay: float = DEFAULT_DELAY, user_agent: str = USER_AGENT, respect_robots: bool = True,
                 allow_private: bool = True):
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.delay = delay
        self.respect_robots = respect_robots
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        self._client = self._new_client()
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0  # every request sent, robots.txt included (tests and benchmarks read it)

    def _new_client(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
                            headers=self._headers)

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def release(self) -> None:
        """Close the open connections but stay usable, keeping robots.txt answers and per-host delays.

        The web app's one Fetcher outlives each request: without this its pooled sockets would stay open
        until the app is collected."""
        with self._lock:
            self._client.close()
            self._client = self._new_client()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----------------------------------------------------------------------------------------- requests
    def get(self, url: str, *, accept: tuple[str, ...] = HTML_TYPES, etag: str | None = None,
            last_modified: str | None = None) -> Response:
        """GET `url` (following up to 5 redirects, each checked against robots.txt) and return its Response.

        Sends If-None-Match / If-Modified-Since when `etag` / `last_modified` are given (a 304 comes back as
        a Response with not_modified). FetchError for a bad URL, a robots.txt disallow, a timeout, a refused
        connection, an HTTP error status, a body over max_bytes, or a Content-Type not in `accept`.
        """
        url = web_url(url)
        headers = {"Accept": ", ".join(accept) + ", */*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_address(url)
            self._check_robots(url)
            response = self._send(url, headers)
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                url = web_url(urljoin(url, response.headers["location"]))
                continue
            if response.status == 304 and (etag or last_modified):
                return response
            if response.status >= 400 or response.status < 200 or response.status == 204:
                # 429 and 5xx may pass (feeds retry them); other statuses say the page is not there to have.
                passing = response.status == 429 or response.status >= 500
                raise FetchError(url, "unavailable" if passing else "http", f"HTTP {response.status}")
            if not _acceptable(response, accept):
                raise FetchError(url, "not-html" if accept == HTML_TYPES else "not-feed",
                                 f"not {'an HTML page' if accept == HTML_TYPES else 'a feed'} "
                                 f"(Content-Type {response.media_type or 'missing'})")
            return response
        raise FetchError(url, "http", f"more than {MAX_REDIRECTS} redirects")

    def _send(self, url: str, headers: dict, *, max_bytes: int | None = None) -> Response:
        """One request, after the host's delay; the body read up to the cap (redirects: no body)."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        self._wait_turn(url)
        try:
            with self._client.stream("GET", url, headers=headers) as reply:
                self.requests += 1
                found = {key.lower(): value for key, value in reply.headers.items()}
                if reply.status_code in (301, 302, 303, 307, 308, 304) or reply.status_code >= 400:
                    return Response(str(reply.url), reply.status_code, found)
                declared = found.get("content-length", "")
                if declared.isdigit() and int(declared) > limit and "content-encoding" not in found:
                    raise FetchError(url, "too-large", f"{int(declared):,} bytes is over the "
                                                       f"{format_size(limit)} limit")
                body = bytearray()
                # A server dripping a byte per second would pass every read timeout: bound the whole body too.
                deadline = time.monotonic() + TOTAL_TIMEOUTS * self.timeout
                for chunk in reply.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise FetchError(url, "too-large", f"over the {format_size(limit)} limit")
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the whole response took too long")
                return Response(str(reply.url), reply.status_code, found, bytes(body))
        except httpx.TimeoutException:
            raise FetchError(url, "timeout", f"timed out after {self.timeout:g} s") from None
        except httpx.ConnectError as error:
            raise FetchError(url, "connection", f"could not connect ({_reason(error)})") from None
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as error:
            raise FetchError(url, "connection", f"request failed ({_reason(error)})") from None

    def _wait_turn(self, url: str) -> None:
        """Sleep until this host's delay since its last request has passed, then claim the slot."""
        host = _host(url)
        with self._lock:
            delay = max(self.delay, self._crawl_delay(host))
            now = time.monotonic()
            start = max(now, self._last.get(host, -delay) + delay)
            self._last[host] = start
        if start > now:
            time.sleep(start - now)

    def _check_address(self, url: str) -> None:
        """FetchError (reason "private-address") when `url`'s host is not a public address, unless allowed."""
        if self.allow_private:
            return
        parts = urlsplit(url)
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError):
            raise FetchError(url, "connection", f"could not resolve {parts.hostname[:100]}") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not address.is_global:
                raise FetchError(url, "private-address", f"{parts.hostname[:100]} is a local or private address "
                                                         f"({address}), not fetched")

    # ----------------------------------------------------------------------------------------- robots.txt
    def _crawl_delay(self, host: str) -> float:
        parser = self._robots.get(host)
        value = parser.crawl_delay(ROBOTS_AGENT) if parser is not None else None
        return min(float(value), 60.0) if value else 0.0

    def _check_robots(self, url: str) -> None:
        """FetchError (reason "robots") when the host's robots.txt does not let mapapp fetch `url`."""
        if not self.respect_robots:
            return
        host = _host(url)
        if host not in self._robots:
            self._robots[host] = self._read_robots(host)
        parser = self._robots[host]
        if parser is not None and not parser.can_fetch(ROBOTS_AGENT, url):
            raise FetchError(url, "robots", "robots.txt does not allow mapapp to fetch it")

    def _read_robots(self, host: str) -> urllib.robotparser.RobotFileParser | None:
        """The host's robots.txt (None: no rules). As RFC 9309 says: 4xx means no rules, 5xx disallow all."""
        robots_url = host + "/robots.txt"
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            response = self._send(robots_url, {"Accept": "text/plain"}, max_bytes=MAX_ROBOTS_BYTES)
            for _hop in range(MAX_REDIRECTS):
                if response.status not in (301, 302, 303, 307, 308) or not response.headers.get("location"):
                    break
                response = self._send(urljoin(robots_url, response.headers["location"]), {"Accept": "text/plain"},
                                      max_bytes=MAX_ROBOTS_BYTES)
        except FetchError as error:
            if error.reason == "too-large":
                return None
            raise  # the host cannot be reached: the page cannot be either, and says so
        if 400 <= response.status < 500:
            return None
        if response.status >= 500:
            parser.disallow_all = True
            return parser
        parser.parse(response.text().splitlines())
        return parser


def _acceptable(response: Response, accept: tuple[str, ...]) -> bool:
    """The Content-Type is one of `accept`; a missing one is sniffed from the body's first bytes."""
    if response.media_type:
        return response.media_type in accept or (accept != HTML_TYPES and response.media_type.endswith("+xml"))
    head = response.body[:512].lstrip().lower()
    if accept == HTML_TYPES:
        return head.startswith((b"<!doctype html", b"<html"))
    return head.startswith((b"<?xml", b"<rss", b"<feed"))


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:120]
