"""A headless Chromium driven through Debian's chromedriver (``make chromium``), and a
generated full-size output-viewer payload, shared by the viewer's browser tests and
its benchmark.

The binary and driver paths are given explicitly so that Selenium Manager never looks
for (or downloads) a browser."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    absent = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists() and not shutil.which(Path(p).name)]
    if absent:
        return f"{', '.join(absent)} not found (make chromium installs Debian's chromium and chromium-driver)"
    return None


def driver(profile: Path, width: int = 1400, height: int = 1200) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def severe(logs: list[dict[str, Any]]) -> list[str]:
    return [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]


METRICS = [{"name": "bleu", "label": "bleu ↑", "heading": "bleu (higher is better)", "higher": True, "failure": False},
           {"name": "chrf", "label": "chrf ↑", "heading": "chrf (higher is better)", "higher": True, "failure": False},
           {"name": "flagged", "label": "flagged (% of lines) ↓", "heading": "flagged (lower is better, % of lines)",
            "higher": False, "failure": True}]


def synthetic_payload(segments: int = 2000, systems: int = 10, seed: int = 0, directions: int = 1) -> dict[str, Any]:
    """A viewer payload the size of a full test set: per direction ``systems`` systems (the
    first under test) with 15-30-word outputs, two score metrics and one failure metric."""
    rnd = random.Random(seed)
    return {"version": 1, "metrics": [dict(m) for m in METRICS],
            "directions": [_direction(f"wmt22:de-x{k}" if k else "wmt22:de-en", segments, systems, rnd)
                           for k in range(directions)]}


def _direction(task: str, segments: int, systems: int, rnd: random.Random) -> dict[str, Any]:
    vocab = [f"w{i}" for i in range(400)]
    refs = [" ".join(rnd.choice(vocab) for _ in range(rnd.randint(15, 30))) for _ in range(segments)]
    out = []
    for k in range(systems):
        outputs = [" ".join(w if rnd.random() > 0.1 + 0.05 * k else rnd.choice(vocab) for w in r.split()) for r in refs]
        flagged = sorted(rnd.sample(range(segments), segments // 20))
        out.append({"name": f"system-{k}", "under_test": k == 0, "outputs": outputs,
                    "corpus": {"bleu": 50.0 - k, "chrf": 70.0 - k, "flagged": 5.0},
                    "scores": {"bleu": [round(rnd.uniform(0, 100), 2) for _ in range(segments)],
                               "chrf": [round(rnd.uniform(0, 100), 2) for _ in range(segments)]},
                    "flags": {"flagged": flagged}, "notes": {"flagged": ["" for _ in flagged]}})
    return {"task": task, "src": "de", "tgt": "en", "segments": segments, "in_test_set": segments, "ref_id": "A",
            "source": [f"src {i} {r}" for i, r in enumerate(refs)], "reference": refs, "systems": out}


def write_page(payload: dict[str, Any], path: Path) -> Path:
    """index.html with nothing but the provenance and the viewer (render_html directly)."""
    from mtbench.report.html import render_html
    from mtbench.report.viewer import render_section

    path.write_text(render_html("viewer", [], [], {}, {}, ["synthetic payload"], viewer=render_section(payload)),
                    encoding="utf-8")
    return path
