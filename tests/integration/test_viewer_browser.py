"""The output viewer of index.html, driven in a real headless Chromium (Selenium and
Debian's chromedriver): sorting by a clicked header, the failure filter, the text
search and the word diff are checked against what Python computes from the run's own
files and the embedded payload; outputs with HTML in them stay text; no console errors.

A run directory is built in seconds from a synthetic data layout: three reference
systems, the user's own outputs (files:DIR, under test) in one of two directions, a
third direction without any output, and a plugin failure metric (``failure_profile``)
that flags outputs containing ZZZ -- the viewer must take its failure metrics from the
metric declarations, not from names it knows."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from mtbench.cli import main
from mtbench.report.viewer import DATA_ID, embed_payload
from mtbench.textio import read_jsonl
from tests import browser
from tests.conftest import synthetic_layout, write_lines

WHY_NOT = browser.missing()
needs_browser = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")

N = 60  # segments of de-en: more than one page of 50
NASTY = "</script><script>window.pwned=1</script> <b>bold</b> & <!-- a <i>comment"

FAILURE_PLUGIN = '''
from mtbench.metrics import METRICS
from mtbench.metrics.base import Metric, MetricResult


class Zzz(Metric):
    """100 for an output that contains ZZZ, 0 otherwise: one failure flag per segment."""
    name = "viewer-zzz"
    higher_is_better = False
    unit = "% of lines"
    failure_profile = True

    def config(self, ctx=None):
        return {"v": 1}

    def score_systems(self, ctx, hypotheses):
        out = {}
        for system, lines in hypotheses.items():
            segs = [100.0 if "ZZZ" in h else 0.0 for h in lines]
            out[system] = MetricResult(self.name, sum(segs) / max(len(segs), 1), "viewer-zzz|v1", segs)
        return out


METRICS.register("viewer-zzz", Zzz)
'''


def my_output(i: int, ref: str) -> str:
    words = ref.split()
    if i == 3:
        return NASTY
    if i == 1:
        return " ".join([words[0], "QQQ"] + words[2:])
    if i % 5 == 0:
        return ref + " ZZZ"
    return " ".join(words[: max(1, len(words) // 2)])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("viewer")
    data = synthetic_layout(root / "data", n=N)
    fr = data / "wmt22" / "ru-en"  # a direction without any system output
    write_lines(fr / "src.txt", ["Привет.", "Спасибо."])
    write_lines(fr / "refs" / "ref.A.txt", ["Hello.", "Thanks."])
    mid = data / "wmt22" / "de-en" / "systems" / "mid.txt"
    lines = mid.read_text(encoding="utf-8").splitlines()
    write_lines(mid, [line + " ZZZ" if i % 7 == 0 else line for i, line in enumerate(lines)])
    refs = (data / "wmt22" / "de-en" / "refs" / "ref.A.txt").read_text(encoding="utf-8").splitlines()
    mine = root / "mine"
    write_lines(mine / "wmt22" / "de-en" / "systems" / "my-model.txt", [my_output(i, r) for i, r in enumerate(refs)])
    inc = root / "inc"
    inc.mkdir()
    (inc / "viewer_zzz.py").write_text(FAILURE_PLUGIN, encoding="utf-8")
    out = root / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de,wmt22:ru-en", "--metrics", "bleu,chrf,viewer-zzz",
                 "--include-path", str(inc), "--data-dir", str(data), "--model", "files", "--model", f"files:{mine}",
                 "--significance", "none", "--out", str(out), "--workers", "1"]) == 0
    return out


def payload_of(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    m = re.search(rf"<script type='application/octet-stream' id='{DATA_ID}' data-encoding='gzip\+base64'>(.*?)</script>",
                  text, re.S)
    assert m, "no viewer payload in index.html"
    return json.loads(gzip.decompress(base64.b64decode(m.group(1))).decode("utf-8"))  # the standard library's reading


def system(payload: dict[str, Any], task: str, name: str) -> dict[str, Any]:
    direction = next(d for d in payload["directions"] if d["task"] == task)
    return next(s for s in direction["systems"] if s["name"] == name)


# --- the payload, without a browser -------------------------------------------------------------

def test_payload_follows_the_run_files_and_the_metric_declarations(run: Path) -> None:
    payload = payload_of(run / "report" / "index.html")
    metrics = {m["name"]: m for m in payload["metrics"]}
    assert [m for m, info in metrics.items() if info["failure"]] == ["viewer-zzz"]
    assert metrics["bleu"]["label"] == "bleu ↑" and metrics["viewer-zzz"]["label"] == "viewer-zzz (% of lines) ↓"
    de = next(d for d in payload["directions"] if d["task"] == "wmt22:de-en")
    assert de["ref_id"] == "A" and len(de["source"]) == len(de["reference"]) == N
    names = [s["name"] for s in de["systems"]]
    assert names[0] == "my-model" and set(names) == {"my-model", "best", "mid", "worst"}  # under test first
    assert [s["under_test"] for s in de["systems"]] == [True, False, False, False]
    mine = system(payload, "wmt22:de-en", "my-model")
    outputs = mine["outputs"]
    assert outputs[3] == NASTY
    assert mine["flags"] == {"viewer-zzz": [i for i, o in enumerate(outputs) if "ZZZ" in o]}
    assert "viewer-zzz" not in mine["scores"]  # a flag, not a column of numbers
    raw = [r["score"] for r in read_jsonl(run / "scores" / "wmt22_de-en" / "my-model" / "bleu.jsonl")]
    assert mine["scores"]["bleu"] == pytest.approx(raw, rel=1e-3, abs=1e-3)
    en = next(d for d in payload["directions"] if d["task"] == "wmt22:en-de")
    assert "my-model" not in [s["name"] for s in en["systems"]]
    fr = next(d for d in payload["directions"] if d["task"] == "wmt22:ru-en")
    assert fr["systems"] == []


def test_embedded_json_cannot_end_the_script_element() -> None:
    payload = {"directions": [{"outputs": [NASTY, "</SCRIPT >", "<!--<script>"]}]}
    text = embed_payload(payload)
    assert "<" not in text and json.loads(gzip.decompress(base64.b64decode(text))) == payload


# --- in the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    d = browser.driver(tmp_path_factory.mktemp("profile"))
    yield d
    d.quit()


def viewer(d) -> Any:
    from selenium.webdriver.common.by import By

    return d.find_element(By.ID, "mtbench-viewer")


def load(d, page: Path) -> None:
    d.get(page.as_uri())
    wait(d, lambda: viewer(d).get_attribute("data-ready") == "true", "the viewer never became ready")


def wait(d, cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(what)


def act(d, action: Callable[[], None]) -> None:
    """Do something and wait for the viewer's next render (the search is debounced)."""
    before = int(viewer(d).get_attribute("data-renders"))
    action()
    wait(d, lambda: int(viewer(d).get_attribute("data-renders")) > before, "the viewer did not re-render")


def visible(d) -> list[int]:
    """The segment ids of the rendered rows, top to bottom (one round trip, not one per row)."""
    return d.execute_script("return Array.from(document.querySelectorAll('#mtv-table tbody.mtv-seg'), "
                            "b => Number(b.dataset.seg))")


def select(d, element_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    element = d.find_element(By.ID, element_id)
    if element.get_property("value") != value:  # choosing the chosen option fires no change event
        act(d, lambda: Select(element).select_by_value(value))


def count_line(d) -> str:
    from selenium.webdriver.common.by import By

    return d.find_element(By.ID, "mtv-count").text


def no_console_errors(d) -> None:
    errors = browser.severe(d.get_log("browser"))
    assert not errors, errors


def by_key(scores: list[float | None], descending: bool) -> list[int]:
    """The order the viewer must show: missing scores last, ties by segment id."""
    return sorted(range(len(scores)), key=lambda i: (scores[i] is None,
                                                      0 if scores[i] is None else (-scores[i] if descending else scores[i]), i))


@needs_browser
def test_clicking_a_score_header_sorts_by_that_score(run: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    page = run / "report" / "index.html"
    bleu = system(payload_of(page), "wmt22:de-en", "my-model")["scores"]["bleu"]
    load(driver, page)
    assert visible(driver) == list(range(50))
    assert count_line(driver).startswith(f"showing 1–50 of {N} segments (filter: none)")
    header = driver.find_element(By.CSS_SELECTOR, "#mtv-table th[data-metric='bleu']")
    assert header.text == "bleu ↑"
    act(driver, header.click)  # first click: worst first (ascending for a higher-is-better metric)
    assert visible(driver) == by_key(bleu, descending=False)[:50]
    assert "sorted by bleu ↑ of my-model, lowest first" in count_line(driver)
    act(driver, driver.find_element(By.ID, "mtv-next").click)
    assert visible(driver) == by_key(bleu, descending=False)[50:]
    assert count_line(driver).startswith(f"showing 51–{N} of {N}")
    act(driver, driver.find_element(By.CSS_SELECTOR, "#mtv-table th[data-metric='bleu']").click)
    assert visible(driver) == by_key(bleu, descending=True)[:50]
    no_console_errors(driver)


@needs_browser
def test_difference_sort_between_two_systems(run: Path, driver) -> None:
    page = run / "report" / "index.html"
    payload = payload_of(page)
    a = system(payload, "wmt22:de-en", "my-model")["scores"]["chrf"]
    b = system(payload, "wmt22:de-en", "best")["scores"]["chrf"]
    load(driver, page)
    select(driver, "mtv-sort-kind", "diff")
    select(driver, "mtv-sort-metric", "chrf")
    select(driver, "mtv-sort-a", "my-model")
    select(driver, "mtv-sort-b", "best")
    select(driver, "mtv-sort-order", "desc")
    assert visible(driver) == by_key([x - y for x, y in zip(a, b)], descending=True)[:50]
    assert "chrf(my-model) − chrf(best), largest first" in count_line(driver)
    no_console_errors(driver)


@needs_browser
def test_failure_filter_shows_exactly_the_flagged_segments(run: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    page = run / "report" / "index.html"
    payload = payload_of(page)
    mine = system(payload, "wmt22:de-en", "my-model")["outputs"]
    mid = system(payload, "wmt22:de-en", "mid")["outputs"]
    load(driver, page)
    select(driver, "mtv-flag", "viewer-zzz")
    expected_any = [i for i in range(N) if "ZZZ" in mine[i] or "ZZZ" in mid[i]]
    assert visible(driver) == expected_any
    select(driver, "mtv-flag-system", "my-model")
    expected = [i for i in range(N) if "ZZZ" in mine[i]]
    assert visible(driver) == expected and expected != expected_any
    assert f"of {len(expected)} segments (of {N} in this direction; filter: viewer-zzz in my-model)" in count_line(driver)
    for seg in expected:  # every visible row carries the badge on the user's output
        badge = driver.find_element(By.CSS_SELECTOR, f"tbody[data-seg='{seg}'] tr[data-system='my-model'] .mtv-flag")
        assert badge.text == "viewer-zzz"
    no_console_errors(driver)


@needs_browser
def test_search_shows_exactly_the_segments_with_the_text(run: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    page = run / "report" / "index.html"
    payload = payload_of(page)
    de = next(d for d in payload["directions"] if d["task"] == "wmt22:de-en")
    load(driver, page)
    select(driver, "mtv-page-size", "200")
    shown = [s["name"] for s in de["systems"]]  # default: under test + up to 3 others = all four here
    checked = driver.find_elements(By.CSS_SELECTOR, "#mtv-systems input:checked")
    assert sorted(c.get_attribute("data-system") for c in checked) == sorted(shown)

    def texts(i: int) -> list[str]:
        return [de["source"][i], de["reference"][i]] + [s["outputs"][i] for s in de["systems"]]

    expected = [i for i in range(N) if any("w7" in t.lower() for t in texts(i))]
    assert 0 < len(expected) < N
    act(driver, lambda: driver.find_element(By.ID, "mtv-search").send_keys("W7"))  # case-insensitive
    assert visible(driver) == expected
    assert "text “W7”" in count_line(driver)
    # a system taken out of the view no longer counts for the search
    act(driver, lambda: driver.find_element(By.CSS_SELECTOR, "#mtv-systems input[data-system='my-model']").click())
    rest = [s for s in de["systems"] if s["name"] != "my-model"]
    assert visible(driver) == [i for i in range(N) if any(
        "w7" in t.lower() for t in [de["source"][i], de["reference"][i]] + [s["outputs"][i] for s in rest])]
    no_console_errors(driver)


@needs_browser
def test_word_diff_marks_the_differing_words(run: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    page = run / "report" / "index.html"
    payload = payload_of(page)
    de = next(d for d in payload["directions"] if d["task"] == "wmt22:de-en")
    load(driver, page)
    select(driver, "mtv-diff-a", "my-model")
    select(driver, "mtv-diff-b", "@ref")

    def marks(seg: int, row: str) -> list[str]:
        return [m.text for m in driver.find_elements(By.CSS_SELECTOR, f"tbody[data-seg='{seg}'] {row} mark.mtv-diff")]

    def text(seg: int, row: str) -> str:
        return driver.find_element(By.CSS_SELECTOR, f"tbody[data-seg='{seg}'] {row} td.mtv-text").get_property("textContent")

    mine = "tr[data-system='my-model']"
    assert marks(1, mine) == ["QQQ"] and marks(1, "tr.mtv-ref") == [de["reference"][1].split()[1]]
    assert marks(5, mine) == ["ZZZ"] and marks(5, "tr.mtv-ref") == []
    assert text(1, mine) == system(payload, "wmt22:de-en", "my-model")["outputs"][1]  # marks keep the text whole
    assert text(5, "tr.mtv-ref") == de["reference"][5]
    select(driver, "mtv-diff-a", "")  # no diff: no marks anywhere
    assert driver.find_elements(By.CSS_SELECTOR, "#mtv-table mark") == []
    no_console_errors(driver)


@needs_browser
def test_outputs_with_html_stay_text_and_every_direction_renders(run: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    page = run / "report" / "index.html"
    title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8")).group(1)
    load(driver, page)
    cell = driver.find_element(By.CSS_SELECTOR, "tbody[data-seg='3'] tr[data-system='my-model'] td.mtv-text")
    assert cell.get_property("textContent") == NASTY
    assert driver.execute_script("return window.pwned") is None and driver.title == title
    assert driver.find_elements(By.CSS_SELECTOR, "#mtv-table b, #mtv-table i, #mtv-table script") == []
    tasks = [o.text.split(" (")[0] for o in driver.find_elements(By.CSS_SELECTOR, "#mtv-direction option")]
    assert tasks == ["wmt22:de-en", "wmt22:en-de", "wmt22:ru-en"]
    select(driver, "mtv-direction", "1")  # my-model has no outputs here: the other three stay chosen
    boxes = driver.find_elements(By.CSS_SELECTOR, "#mtv-systems input")
    assert sorted(b.get_attribute("data-system") for b in boxes) == ["best", "mid", "worst"]
    assert all(b.is_selected() for b in boxes) and visible(driver) == list(range(50))
    select(driver, "mtv-direction", "2")  # no outputs at all
    assert visible(driver) == [] and "No system has outputs" in driver.find_element(By.ID, "mtv-empty").text
    assert count_line(driver).startswith("showing 0 of 0 segments")
    no_console_errors(driver)


@needs_browser
def test_no_failure_metrics_short_systems_and_empty_directions(tmp_path: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    payload = browser.synthetic_payload(segments=30, systems=3)
    payload["metrics"] = [m for m in payload["metrics"] if not m["failure"]]
    direction = payload["directions"][0]
    for s in direction["systems"]:
        s["flags"], s["notes"] = {}, {}
    direction["systems"][2]["outputs"] = direction["systems"][2]["outputs"][:10]  # fewer outputs than segments
    direction["systems"][2]["scores"] = {"bleu": [None] * 30}  # and no chrf at all
    payload["directions"].append({"task": "wmt22:xx-yy", "systems": [], "source": [], "reference": []})
    load(driver, browser.write_page(payload, tmp_path / "index.html"))
    assert len(visible(driver)) == 30
    assert driver.find_elements(By.CSS_SELECTOR, "#mtv-table .mtv-flags, #mtv-table .mtv-flag") == []
    assert "no failure metric" in driver.find_element(By.ID, "mtv-flag").text
    act(driver, driver.find_element(By.CSS_SELECTOR, "#mtv-table th[data-metric='chrf']").click)
    select(driver, "mtv-sort-a", "system-2")  # every score missing: test-set order
    assert visible(driver) == list(range(30))
    select(driver, "mtv-direction", "1")
    assert visible(driver) == []
    no_console_errors(driver)


@needs_browser
def test_full_size_report_renders_one_page_and_stays_interactive(tmp_path: Path, driver) -> None:
    from selenium.webdriver.common.by import By

    payload = browser.synthetic_payload(segments=2000, systems=10)
    load(driver, browser.write_page(payload, tmp_path / "index.html"))
    assert len(visible(driver)) == 50 and int(viewer(driver).get_attribute("data-rows")) == 50
    assert count_line(driver).startswith("showing 1–50 of 2,000 segments (filter: none)")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#mtv-systems input:checked")) == 4  # under test + 3 others
    assert len(driver.find_elements(By.CSS_SELECTOR, "#mtv-systems input")) == 10
    assert float(viewer(driver).get_attribute("data-first-render-ms")) > 0
    bleu = payload["directions"][0]["systems"][0]["scores"]["bleu"]
    act(driver, driver.find_element(By.CSS_SELECTOR, "#mtv-table th[data-metric='bleu']").click)
    assert visible(driver) == by_key(bleu, descending=False)[:50]
    act(driver, driver.find_element(By.ID, "mtv-next").click)
    assert count_line(driver).startswith("showing 51–100 of 2,000")
    select(driver, "mtv-flag", "flagged")
    assert len(visible(driver)) == 50
    no_console_errors(driver)
