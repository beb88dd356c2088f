"""Take the README's overview screenshots of a running seed map in Debian's Chromium (Playwright).

    mapapp serve --data DATA --port 5055 &      # the seed map
    python scripts/screenshots.py http://127.0.0.1:5055 docs/screenshots

Writes overview-markers.png (1280x800, the overview as it opens) and overview-desktop.png (a region's popup
open, with the legend). Each waits on the map's state, not on time.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
REGION = "cur:lachin-corridor"  # a region the seeds name, small enough to show its neighbours around it


def _ready(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => window.mapapp && mapapp.current && mapapp.current.visible.length > 0")


def take(base: str, out: Path) -> None:
    """Write the screenshots of the site at `base` into the folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/")
        _ready(page)
        page.screenshot(path=str(out / "overview-markers.png"))
        page.evaluate(f"() => mapapp.current.select({REGION!r})")
        page.wait_for_selector(".leaflet-popup-content .mapapp-popup h2")
        # Leaflet fades a popup in: wait until it is fully shown.
        page.wait_for_function("() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "overview-desktop.png"))
        browser.close()


def main() -> None:
    """Parse the command line and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the site's address, e.g. http://127.0.0.1:5055")
    parser.add_argument("out", type=Path, help="the folder to write the PNG files into")
    args = parser.parse_args()
    take(args.base.rstrip("/"), args.out)


if __name__ == "__main__":
    main()
