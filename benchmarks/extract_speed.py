"""Article extraction speed: mapapp.articles.extract.extract_article on the fixture news pages.

    python benchmarks/extract_speed.py [--repeat N] [--big N]

Prints, per page, its size and the median milliseconds (CPU time, one core, warm) to extract it; the
time to import trafilatura (paid once per process, only when an HTML file is read); and the time for one
synthetic page of N paragraphs (--big, default 2000, about 320 kB; 30000 is near the 5 MB file limit) to
show how it grows with page size. The plain reader alone (mapapp.articles.documents.html_document, the
fallback for tiny pages, run inside every extraction) is timed beside it.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "html"


def timed(function, *args, repeat: int) -> float:
    """Median CPU milliseconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        function(*args)
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def big_page(paragraphs: int) -> str:
    """A page with a menu, `paragraphs` article paragraphs and a footer."""
    body = "".join(f"<p>Paragraph {number}: talks continued in Baku and Yerevan on Monday, officials said, "
                   "as delegations met again to discuss the border and the return of villages.</p>"
                   for number in range(paragraphs))
    return (f"<html><head><title>Big page</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Big page</h1>{body}</article><footer>Copyright 2024</footer></body></html>")


def main() -> None:
    """Print the table."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=20)
    options.add_argument("--big", type=int, default=2000)
    args = options.parse_args()

    started = time.perf_counter()
    from mapapp.articles.documents import html_document
    from mapapp.articles.extract import extract_article
    print(f"import mapapp.articles.extract (trafilatura): {(time.perf_counter() - started) * 1000:.0f} ms wall")

    pages = sorted(PAGES.glob("*.html"))
    extract_article(pages[0].read_text(encoding="utf-8"))  # first call: lazy tables, config
    print(f"{'page':<28} {'bytes':>8} {'extract ms':>11} {'plain ms':>9}")
    for path in pages:
        html = path.read_text(encoding="utf-8")
        print(f"{path.name:<28} {len(html.encode()):>8} {timed(extract_article, html, repeat=args.repeat):>11.1f}"
              f" {timed(html_document, html, repeat=args.repeat):>9.1f}")
    html, repeat = big_page(args.big), max(1, args.repeat // 10)
    print(f"{'synthetic ' + str(args.big) + ' paragraphs':<28} {len(html.encode()):>8} "
          f"{timed(extract_article, html, repeat=repeat):>11.1f} {timed(html_document, html, repeat=repeat):>9.1f}")


if __name__ == "__main__":
    main()
