"""Benchmark: the output viewer of index.html on a full-size report (default 2,000
segments x 10 systems, generated: ``tests.browser.synthetic_payload``), in headless
Chromium through Debian's chromedriver (``make chromium``).

Prints, as the median of --repeat fresh page loads,
  first render: navigation start -> first page of rows painted (``performance.now()``
                that viewer.js records in ``data-first-render-ms``), which includes
                parsing the page and its JSON payload;
  sort:         one click on a score header (filter + sort + render one page, in page);
  search:       one search pass after the debounce (in page).

    python tests/benchmarks/bench_viewer.py [--segments 2000] [--systems 10] [--directions 1] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests import browser  # noqa: E402


def wait_for(d, script: str, timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = d.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(script)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=2000)
    ap.add_argument("--systems", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--directions", type=int, default=1, help="directions in the page (one is shown at a time)")
    args = ap.parse_args()
    why = browser.missing()
    if why:
        print(f"bench_viewer: skipped: {why}")
        return 0
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as tmp:
        page = browser.write_page(browser.synthetic_payload(args.segments, args.systems, directions=args.directions), Path(tmp) / "index.html")
        size = page.stat().st_size / 1e6
        d = browser.driver(Path(tmp) / "profile")
        first, sort, search = [], [], []
        try:
            for _ in range(args.repeat):
                d.get(page.as_uri())
                first.append(float(wait_for(d, "return document.getElementById('mtbench-viewer').dataset.firstRenderMs")))
                renders = int(d.find_element(By.ID, "mtbench-viewer").get_attribute("data-renders"))
                d.find_element(By.CSS_SELECTOR, "#mtv-table th[data-metric='bleu']").click()
                wait_for(d, f"return Number(document.getElementById('mtbench-viewer').dataset.renders) > {renders}")
                sort.append(float(d.execute_script("return document.getElementById('mtbench-viewer').dataset.lastRefreshMs")))
                renders += 1
                d.find_element(By.ID, "mtv-search").send_keys("w12")
                wait_for(d, f"return Number(document.getElementById('mtbench-viewer').dataset.renders) > {renders}")
                search.append(float(d.execute_script("return document.getElementById('mtbench-viewer').dataset.lastRefreshMs")))
                errors = browser.severe(d.get_log("browser"))
                if errors:
                    print("console errors:", *errors, sep="\n  ")
                    return 1
        finally:
            d.quit()
    print(f"output viewer, {args.directions} direction(s) of {args.segments:,} segments x {args.systems} systems, index.html {size:.1f} MB, "
          f"median of {args.repeat} loads (headless Chromium):")
    print(f"  first render (navigation start -> first 50 rows painted): {statistics.median(first):8.1f} ms"
          f"  (min {min(first):.1f}, max {max(first):.1f})")
    print(f"  sort by a clicked score header (filter + sort + one page): {statistics.median(sort):7.1f} ms")
    print(f"  text search (after the 200 ms debounce):                  {statistics.median(search):7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
