"""Zero-shot directions: a suite names the tasks its models never saw in training,
runs record it per task, and leaderboards average supervised and zero-shot apart
(summary.md puts every metric's averages side by side)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtbench.errors import MtbenchError
from mtbench.report.leaderboard import build_tables, render_summary, write_leaderboards
from mtbench.tasks import Task, resolve_tasks
from tests.results_factory import make_results


def _suite(folder: Path, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "s.yaml").write_text(body, encoding="utf-8")
    return folder


def test_suite_marks_its_zero_shot_tasks(tmp_path: Path) -> None:
    inc = _suite(tmp_path / "inc", "suite: mine\ntasks: [wmt22:de-en, wmt22:cs-en, wmt22:en-cs]\n"
                                    "zero_shot: [wmt22:cs-en, wmt22:en-cs]\n")
    tasks = resolve_tasks("mine", [inc])
    assert [(t.name, t.zero_shot) for t in tasks] == [("wmt22:de-en", False), ("wmt22:cs-en", True),
                                                      ("wmt22:en-cs", True)]
    # the mark is about the suite's models, not the task's identity
    assert tasks[1] == Task("wmt22", "cs-en")
    # outside the suite the registry's flag applies (WMT22 flags no direction)
    assert resolve_tasks("wmt22:cs-en")[0].zero_shot is False


def test_zero_shot_true_means_every_task(tmp_path: Path) -> None:
    inc = _suite(tmp_path / "inc", "suite: all0\ntasks: [wmt22:de-en, wmt22:fr-de]\nzero_shot: true\n")
    assert all(t.zero_shot for t in resolve_tasks("all0", [inc]))


def test_zero_shot_naming_a_task_outside_the_suite_is_an_error(tmp_path: Path) -> None:
    inc = _suite(tmp_path / "inc", "suite: bad\ntasks: [wmt22:de-en]\nzero_shot: [wmt22:cs-en]\n")
    with pytest.raises(MtbenchError, match=r"s\.yaml: `zero_shot:` .*not in `tasks:`: \['wmt22:cs-en'\]"):
        resolve_tasks("bad", [inc])


def _results(zero_shot: tuple[str, ...] = ("wmt22:cs-en",)):
    scores = {  # task -> model -> (bleu, off-target)
        "wmt22:de-en": {"a": (30.0, 1.0), "b": (20.0, 2.0)},
        "wmt22:en-de": {"a": (20.0, 3.0), "b": (24.0, 1.0)},
        "wmt22:cs-en": {"a": (10.0, 40.0), "b": (16.0, 10.0)},
    }
    return make_results({t: {m: {"bleu": b, "off-target": o} for m, (b, o) in per.items()} for t, per in scores.items()},
                        {"bleu": True, "off-target": False}, zero_shot=zero_shot)


def test_supervised_and_zero_shot_averages_by_hand() -> None:
    bleu, otr = build_tables(_results())
    assert bleu.average_columns == ["xx->en", "en->xx", "supervised", "zero-shot", "avg"]
    rows = {r.model: r.averages for r in bleu.rows}
    assert rows["a"]["supervised"] == pytest.approx(25.0)  # (30 + 20) / 2
    assert rows["a"]["zero-shot"] == pytest.approx(10.0)
    assert rows["b"]["supervised"] == pytest.approx(22.0)  # (20 + 24) / 2
    assert rows["b"]["avg"] == pytest.approx(20.0)  # (20 + 24 + 16) / 3
    orows = {r.model: r.averages for r in otr.rows}
    assert orows["a"]["zero-shot"] == pytest.approx(40.0) and otr.best["zero-shot"] == pytest.approx(10.0)


def test_no_zero_shot_columns_without_both_kinds() -> None:
    assert build_tables(_results(zero_shot=()))[0].average_columns == ["xx->en", "en->xx", "avg"]


def test_summary_puts_metrics_side_by_side(tmp_path: Path) -> None:
    results = _results()
    tables = write_leaderboards(tmp_path, results)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert text == render_summary(tables, results)
    header = next(line for line in text.splitlines() if line.startswith("| model"))
    assert "bleu supervised ↑" in header and "off-target zero-shot ↓" in header
    row_a = next(line for line in text.splitlines() if line.startswith("| a |")).split(" | ")
    # a: bleu xx->en (30+10)/2, en->xx 20, supervised 25, zero-shot 10, avg 20; then off-target
    assert [c.strip("*") for c in row_a[1:6]] == ["20.00", "20.00", "25.00", "10.00", "20.00"]
    assert row_a[3] == "**25.00**" and row_a[2] == "20.00"  # best supervised bold; en->xx b's 24 wins
    assert row_a[9].strip(" |*") == "40.00"  # off-target zero-shot of a (worst, not bold)
    assert "Zero-shot (unseen in training): wmt22:cs-en" in text
    assert text.startswith("# Summary — 100 segments per direction")


@pytest.mark.parametrize("suite, n_tasks, n_zero_shot", [("repro-lat", 2, 1), ("repro-lat-ablation", 1, 1), ("repro-mfti", 3, 2), ("mfti-unseen", 18, 10)])
def test_shipped_training_suites(suite: str, n_tasks: int, n_zero_shot: int) -> None:
    """The suites of the CPU reproductions and the XGLM-study config resolve, mark
    their unseen directions, and carry run settings that validate."""
    from mtbench.config import RunConfig
    from mtbench.runner import apply_suite_settings

    tasks = resolve_tasks(suite)
    assert len(tasks) == n_tasks and sum(t.zero_shot for t in tasks) == n_zero_shot
    cfg = apply_suite_settings(RunConfig(tasks=suite), [])
    assert "off-target" in cfg.metrics
