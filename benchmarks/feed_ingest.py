"""Benchmark feed ingest: one 200-item RSS feed, served from a local HTTP server, polled into a fresh database.

    python benchmarks/feed_ingest.py --gazetteer DIR [--items 200] [--timeout 2] [--keep DIR] [--write DIR]

The fixture is generated here (seeded, so every run serves the same feed): real-shaped news pages (menus, a
cookie banner, related stories, reader comments, a footer around the article) with distinct stories naming
real places, and the problems a real feed brings, in fixed numbers: the same story under a second address
(same canonical URL), syndicated copies (same text, another site), pages that are gone (404), PDFs, pages over
the 5 MB cap, pages robots.txt disallows, and servers that hang past --timeout. `--write DIR` saves the feed
and pages as files.

Prints the wall and CPU time of the first poll (fetch, extract, geoparse, store: --delay 0, the server is
local), what was skipped and failed and why, and the time of the second and third polls (the second retries
the items that may pass, the hanging servers, so it reads the whole feed again; the third is a 304).
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from web_scale import prepare_gazetteer  # noqa: E402 (the path above first)
from web_support import Route, news_site  # noqa: E402

from mapapp.db import DATABASE_NAME, connect  # noqa: E402

PLACES = ["Yerevan", "Baku", "Tbilisi", "Ankara", "Tehran", "Moscow", "Kyiv", "Odesa", "Warsaw", "Berlin", "Paris",
          "Madrid", "Lisbon", "Rome", "Athens", "Cairo", "Amman", "Beirut", "Damascus", "Baghdad", "Riyadh", "Doha",
          "Dubai", "Karachi", "Lahore", "Delhi", "Mumbai", "Dhaka", "Kathmandu", "Colombo", "Bangkok", "Hanoi",
          "Manila", "Jakarta", "Nairobi", "Lagos", "Accra", "Dakar", "Addis Ababa", "Khartoum", "Tunis", "Algiers",
          "Casablanca", "Lima", "Bogota", "Quito", "Santiago", "Buenos Aires", "Montevideo", "Caracas", "Havana",
          "Mexico City", "Chicago", "Houston", "Toronto", "Vancouver", "Sydney", "Auckland", "Almaty", "Tashkent"]
SOURCES = ["Caucasus Wire", "The Indus Courier", "Levant Dispatch", "Prairie State Ledger", "Andes Post"]
SENTENCES = [
    "Officials in {a} said on {day} that talks with {b} would resume within {n} days.",
    "Thousands of people marched through central {a}, demanding answers about the {n} million dollar budget.",
    "The airport in {a} reopened after {n} hours, and the first flights left for {b} in the evening.",
    "Farmers near {a} reported that the harvest was {n} per cent smaller than last year.",
    "A delegation from {b} arrived in {a} to discuss trade, energy and the rail link between the two cities.",
    "Police in {a} detained {n} people after clashes near the parliament building on {day}.",
    "Engineers from {b} began repairs on the bridge outside {a}, which floods closed in the spring.",
    "The mayor of {a} promised {n} new buses and a tram line to the northern districts by next summer.",
    "Doctors in {a} warned that hospitals were running short of staff as the {day} heatwave continued.",
    "Exporters in {a} said shipping costs to {b} had risen for the {n}th week in a row.",
    "Students from universities in {a} and {b} held a joint conference on water and climate.",
    "Residents of villages east of {a} said the road to {b} had been cut by landslides since {day}.",
    "The central bank in {a} left interest rates unchanged at {n} per cent, citing prices of fuel and food.",
    "Rescue teams searched the rubble in {a} for a {n}th day after the earthquake.",
    "A court in {a} postponed the trial of the former minister until {day}, lawyers said.",
    "Football fans in {a} celebrated late into the night after the team beat {b} by {n} goals.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PROBLEMS = {"same canonical URL": 8, "syndicated copy": 6, "gone (404)": 4, "PDF": 3, "over 5 MB": 3,
            "robots.txt disallow": 2, "server hangs": 2}


def story(rng: random.Random, number: int) -> tuple[str, list[str]]:
    """A headline and six paragraphs of two sentences, naming real places."""
    first, second = rng.sample(PLACES, 2)
    paragraphs = []
    for _ in range(6):
        sentences = []
        for template in rng.sample(SENTENCES, 2):
            a, b = rng.sample(PLACES, 2)
            sentences.append(template.format(a=a, b=b, n=rng.randint(2, 97), day=rng.choice(DAYS)))
        paragraphs.append(" ".join(sentences))
    return f"Story {number}: {first} and {second} after a week of news", paragraphs


def page(headline: str, paragraphs: list[str], *, canonical: str, source: str, date: str) -> str:
    """A real-shaped news page around the story."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{headline} | {source}</title>
<meta property="og:title" content="{headline}"><meta property="og:site_name" content="{source}">
<link rel="canonical" href="{canonical}"><meta property="article:published_time" content="{date}T08:00:00Z">
<meta name="author" content="Desk of {source}"></head><body>
<div class="cookie-banner"><p>We use cookies to improve your experience.</p><button>Accept</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/city/reykjavik">Reykjavik</a></li></ul></nav></header>
<main><article><h1>{headline}</h1><p class="byline">By Desk of {source}</p>{body}</article>
<aside class="related"><h2>Related</h2><ul><li><a href="/a/1">Snow in Oslo</a></li>
<li><a href="/a/2">Fog in Bergen</a></li>
</ul></aside><section class="comments"><h3>Comments</h3><div class="comment"><p>Greetings from Helsinki!</p></div>
</section></main><footer><p>Copyright 2024 {source}. All rights reserved.</p></footer></body></html>"""


def build_fixture(site, items: int, seed: int = 12) -> list[tuple[str, str]]:
    """Serve `items` feed items on `site` (PROBLEMS included); returns [(link, what it is)] in feed order."""
    rng = random.Random(seed)
    entries, good = [], items - sum(PROBLEMS.values())
    stories = []
    for number in range(good):
        headline, paragraphs = story(rng, number)
        source = SOURCES[number % len(SOURCES)]
        date = f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}"
        path = f"/news/{number}.html"
        canonical = f"https://{source.lower().replace(' ', '')}.example/news/{number}"
        site.add(path, Route(page(headline, paragraphs, canonical=canonical, source=source, date=date).encode()))
        stories.append((headline, paragraphs, canonical, source, date))
        entries.append((site.url(path), "story"))
    for offset, (kind, count) in enumerate(PROBLEMS.items()):
        for index in range(count):
            # Each problem copies its own stories, so every duplicate has one original.
            headline, paragraphs, canonical, source, date = stories[(offset * 20 + index * 2) % len(stories)]
            path = f"/problem/{kind.split()[0].lower()}-{index}.html"
            if kind == "same canonical URL":
                html = page(headline, paragraphs, canonical=canonical, source=source, date=date)
                site.add(path + "?utm_source=rss", Route(html.replace("Greetings", "Hello").encode()))
                path += "?utm_source=rss"
            elif kind == "syndicated copy":
                site.add(path, Route(page(headline, paragraphs, canonical=f"https://digest.example/{index}",
                                          source="Regional Digest", date=date).encode()))
            elif kind == "PDF":
                site.add(path, Route(b"%PDF-1.7 ...", content_type="application/pdf"))
            elif kind == "over 5 MB":
                site.add(path, Route(b"<html><body>" + b"<p>news</p>" * 600_000 + b"</body></html>"))
            elif kind == "robots.txt disallow":
                path = f"/private/{index}.html"
                site.add(path, Route(b"<html></html>"))
            elif kind == "server hangs":
                site.add(path, Route(b"<html></html>", wait=site.release))
            entries.append((site.url(path), kind))
    rng.shuffle(entries)
    items_xml = "\n".join(f"<item><title>Item {n}</title><link>{link.replace('&', '&amp;')}</link></item>"
                          for n, (link, _kind) in enumerate(entries))
    feed = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Benchmark wire</title>'
            f"<link>{site.url('/')}</link><description>{items} items</description>{items_xml}</channel></rss>")
    site.add("/feed.rss", Route(feed.encode(), content_type="application/rss+xml", etag='"bench-1"'))
    return entries


def main() -> None:
    """Generate, serve, poll twice, print."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--gazetteer", type=Path, required=True, help="data folder whose built gazetteer is copied")
    options.add_argument("--items", type=int, default=200)
    options.add_argument("--timeout", type=float, default=2.0)
    options.add_argument("--keep", type=Path, help="keep the data folder here (default: a temporary one)")
    options.add_argument("--write", type=Path, help="also save the feed and its pages as files in this folder")
    args = options.parse_args()

    from mapapp.articles.feeds import add_feed, poll_feeds
    from mapapp.articles.fetch import Fetcher
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="feed-bench-"))
    prepare_gazetteer(data_dir, args.gazetteer)
    parser = Geoparser(open_gazetteer(data_dir))
    parser.parse("Warm-up in Yerevan.")  # the name index loads once per process; not part of the poll
    with news_site() as site, Fetcher(timeout=args.timeout, delay=0.0) as fetcher:
        entries = build_fixture(site, args.items)
        if args.write:
            args.write.mkdir(parents=True, exist_ok=True)
            for path, route in site.routes.items():
                (args.write / (path.strip("/").replace("/", "_") or "index")).write_bytes(route.body)
        conn = connect(data_dir / DATABASE_NAME)
        add_feed(conn, site.url("/feed.rss"))
        wall, cpu = time.perf_counter(), time.process_time()
        [first] = poll_feeds(conn, parser, fetcher=fetcher, progress=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        requests = fetcher.requests
        later = []
        for _ in range(2):
            again = time.perf_counter()
            [poll] = poll_feeds(conn, parser, fetcher=fetcher, progress=False)
            later.append((poll, time.perf_counter() - again))
        articles, mentions = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)"
                                          ).fetchone()
        conn.close()
    kinds = {link: kind for link, kind in entries}
    by_reason = collections.Counter((o.status, o.reason, kinds.get(o.url, "?")) for o in first.outcomes)
    print(f"feed: {len(entries)} items; first poll: {first.status}")
    print(f"first poll: {wall:.1f} s wall, {cpu:.1f} s CPU, {requests} HTTP requests; "
          f"{articles} articles, {mentions} mentions stored ({wall / max(1, articles) * 1000:.0f} ms wall per "
          "stored article)")
    for (status, reason, kind), count in sorted(by_reason.items()):
        print(f"  {count:>4}  {status:<8} {reason:<20} (fixture: {kind})")
    for name, (poll, seconds) in zip(("second", "third"), later):
        print(f"{name} poll: {poll.status}; {seconds * 1000:.0f} ms")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
