"""The failure profile end to end, as a user runs it: a generated model (a tiny random
Llama: its token counts are real) beside precomputed systems built to fail in known
ways, through `mtbench run --metrics bleu,failures` and `mtbench report`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_lines

SRC = [f"Das Haus Nummer {i} ist sehr alt und steht am Fluss im Dorf." for i in range(12)]
REF = [f"House number {i} is very old and stands by the river in the village." for i in range(12)]
LIMIT = 6


def layout(root: Path) -> Path:
    folder = root / "wmt22" / "de-en"
    write_lines(folder / "src.txt", SRC)
    write_lines(folder / "refs" / "ref.A.txt", REF)
    good = list(REF)
    copier = list(REF)
    copier[0:3] = SRC[0:3]  # 3 of 12 copied
    echoer = list(REF)
    echoer[4] = "Translate this from German to English: " + REF[4]  # ALMA's instruction line
    looper = list(REF)
    looper[7] = "the river, the river, the river, the river, the river"
    blank = list(REF)
    blank[2] = ""
    for name, lines in {"good": good, "copier": copier, "echoer": echoer, "looper": looper, "blank": blank}.items():
        write_lines(folder / "systems" / f"{name}.txt", lines)
    return root


def mtbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def profile_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("profile")
    data = layout(root / "data")
    out = root / "run"
    proc = mtbench("run", "--tasks", "wmt22:de-en", "--data-dir", str(data), "--model", f"hf:{tiny_llama_dir}",
                   "--model", "files", "--adapter", "alma", "--max-new-tokens", str(LIMIT), "--num-beams", "1",
                   "--device", "cpu", "--metrics", "bleu,failures", "--n-resamples", "100", "--out", str(out),
                   "--cache", str(root / "cache.sqlite"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))


def rate(run: Path, system: str, metric: str) -> float | None:
    score = results(run)["tasks"]["wmt22:de-en"]["scores"][system].get(metric)
    return None if score is None else score["score"]


def test_profile_rates_of_systems_built_to_fail(profile_run: Path) -> None:
    assert rate(profile_run, "copier", "copy") == pytest.approx(100 * 3 / 12, rel=1e-12)
    assert rate(profile_run, "echoer", "echo") == pytest.approx(100 / 12, rel=1e-12)
    assert rate(profile_run, "looper", "repetition") == pytest.approx(100 / 12, rel=1e-12)
    assert rate(profile_run, "blank", "empty") == pytest.approx(100 / 12, rel=1e-12)
    for metric in ("empty", "copy", "echo", "overlong", "repetition"):
        assert rate(profile_run, "good", metric) == 0.0, metric


def test_truncated_follows_the_recorded_token_counts(profile_run: Path) -> None:
    model = next(m for m, info in results(profile_run)["models"].items() if info["kind"] == "generated")
    rows = [json.loads(line) for line in
            next((profile_run / "generations").glob(f"*/{model}.jsonl")).read_text(encoding="utf-8").splitlines()]
    expected = 100.0 * sum(r["tokens"] >= LIMIT for r in rows) / len(rows)
    assert rate(profile_run, model, "truncated") == pytest.approx(expected, rel=1e-12)
    assert expected > 0  # a random model rarely stops by itself within 6 tokens


def test_precomputed_systems_are_not_judged_for_truncation_and_the_report_says_so(profile_run: Path) -> None:
    task = results(profile_run)["tasks"]["wmt22:de-en"]
    assert rate(profile_run, "good", "truncated") is None
    assert set(task["not_scored"]["truncated"]) == {"good", "copier", "echoer", "looper", "blank"}
    board = (profile_run / "report" / "leaderboard.md").read_text(encoding="utf-8")
    assert "truncated: not scored for 5 system(s)" in board
    failures = (profile_run / "report" / "failures.md").read_text(encoding="utf-8")
    assert "truncated n/a for 5 system(s): no token counts recorded" in failures


def test_failures_table_links_to_examples(profile_run: Path) -> None:
    report = profile_run / "report"
    failures = (report / "failures.md").read_text(encoding="utf-8")
    row = next(line for line in failures.splitlines() if line.startswith("| copier |"))
    assert "[25.00](failures-examples.md#ex-wmt22_de_en-copier-copy)" in row
    examples = (report / "failures-examples.md").read_text(encoding="utf-8")
    section = examples.split('<a id="ex-wmt22_de_en-copier-copy"></a>', 1)[1].split("<a id=", 1)[0]
    assert section.count("- line ") == 3 and SRC[0] in section and "- line 1 (segment id 0)" in section
    page = (report / "index.html").read_text(encoding="utf-8")
    assert 'id="ex-wmt22_de_en-copier-copy"' in page.replace("'", '"')
    assert "Failure profile" in page and (report / "failures.png").is_file()


def test_scores_are_reused_and_only_the_generation_reading_metric_reruns(profile_run: Path) -> None:
    proc = mtbench("score", "--run", str(profile_run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "0 score file(s) computed" in proc.stderr


def test_a_rate_link_opens_its_examples_in_the_browser(profile_run: Path, tmp_path: Path) -> None:
    from tests import browser

    why = browser.missing()
    if why:
        pytest.skip(why)
    from selenium.webdriver.common.by import By

    d = browser.driver(tmp_path / "profile")
    try:
        d.get((profile_run / "report" / "index.html").as_uri())
        target = d.find_element(By.ID, "ex-wmt22_de_en-copier-copy")
        assert target.get_attribute("open") is None  # folded until asked for
        link = d.find_element(By.CSS_SELECTOR, "a[href='#ex-wmt22_de_en-copier-copy']")
        d.execute_script("arguments[0].click();", link)  # the link may sit in a folded per-direction table
        assert target.get_attribute("open") == "true"
        assert SRC[0] in target.text
        assert not browser.severe(d.get_log("browser"))
    finally:
        d.quit()
