"""The vintage's summary page in headless Chromium, as a program manager opens it: at 1280 px
nothing runs off to the side, the charts are drawn, suppressed cells read as suppressed."""
from __future__ import annotations

import os
import shutil
import struct

import pytest

from publication.export import SUMMARY, write_package
from tests.publication.tables import META, vintage_tables

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.skipif(not os.path.exists(CHROMIUM),
                    reason="Chromium is missing: scripts/install-chromium.sh installs it")
def test_summary_fits_1280_px_with_its_charts_and_tables(tmp_path):
    from playwright.sync_api import sync_playwright

    folder = write_package(tmp_path / "publish", META, vintage_tables())
    shots = tmp_path / "screenshots"
    shots.mkdir()
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto((folder / SUMMARY).as_uri())
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            page.screenshot(path=shots / "summary-top.png")
            page.screenshot(path=shots / "summary-full.png", full_page=True)
            engagement = page.locator("#engagement svg").count()
            bars = page.locator("#engagement svg rect.bar").count()
            buckets = page.locator("#time-to-engagement svg").count()
            hidden_bars = page.locator("svg rect.suppressed").count()
            box = page.locator("#time-to-engagement svg").bounding_box()
            marked = page.locator("td.suppressed").all_text_contents()
            tables = page.locator("#tables details").count()
            widest = page.evaluate(
                "Math.max(...[...document.querySelectorAll('section')]"
                ".map(s => s.getBoundingClientRect().right))")
            folded = page.locator("#tables details:not([open])").count()
            # a reader unfolds every table: still nothing runs off to the side
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            overflow_open = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            page.screenshot(path=shots / "summary-unfolded.png", full_page=True)
        finally:
            browser.close()
    assert overflow <= 0 and overflow_open <= 0
    assert folded >= 1  # long tables start folded, so the page opens on the charts
    assert widest <= 1280
    # the rate of all programs and of each of the 4, a bar per quarter where published
    assert engagement == 1 and bars > 5
    assert buckets == 1 and box["width"] > 300 and box["height"] > 150
    assert hidden_bars >= 1
    assert marked and set(marked) == {"s"}
    assert tables == 3
    # nothing but the page itself is fetched: it opens offline
    assert requests == [(folder / SUMMARY).as_uri()]
    top, full = shots / "summary-top.png", shots / "summary-full.png"
    assert _png_size(top) == (1280, 900)
    width, height = _png_size(full)
    assert width == 1280 and height > 900
    assert top.stat().st_size > 20_000 and full.stat().st_size > top.stat().st_size
    unfolded = shots / "summary-unfolded.png"
    assert _png_size(unfolded)[0] == 1280 and _png_size(unfolded)[1] > height
