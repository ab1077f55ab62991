"""The failure-profile tables of a report, from hand-built results and segment flags."""

from __future__ import annotations

from typing import Any

import pytest

from mtbench.metrics.base import MetricInfo
from mtbench.report.failures import ANY, build_failure_tables, failures_markdown
from tests.results_factory import make_results

FLAGS = {  # task -> model -> metric -> flagged segment ids (4 segments per task)
    "wmt22:de-en": {"mine": {"empty": [0], "copy": [0, 1]}, "other": {"empty": [], "copy": [3]}},
    "wmt22:en-de": {"mine": {"empty": [], "copy": [2]}, "other": {"empty": [1, 2], "copy": []},
                    "partial": {"empty": [], "copy": []}},
}
N = 4


class Flags:
    """What build.SegmentSource gives, from FLAGS."""

    def rows(self, task: str, model: str, metric: str) -> list[dict[str, Any]]:
        hit = FLAGS[task][model][metric]
        return [{"id": i, "score": 100.0 if i in hit else 0.0, "stats": []} for i in range(N)]

    def outputs(self, task: str, model: str) -> list[str]:
        return [f"out {i}" for i in range(N)]

    def testdata(self, task: str, model: str) -> dict[str, Any]:
        return {"source": [f"src {i}" for i in range(N)], "references": {"A": [f"ref {i}" for i in range(N)]}}


@pytest.fixture
def results():  # type: ignore[no-untyped-def]
    scores = {t: {m: {k: 100.0 * len(v) / N for k, v in per.items()} | {"bleu": 30.0} for m, per in models.items()}
              for t, models in FLAGS.items()}
    res = make_results(scores, {"empty": False, "copy": False, "bleu": True}, segments=N, in_test_set=N,
                       under_test=("mine",))
    res.metrics["empty"] = MetricInfo("empty", False, unit="% of lines", failure_profile=True)
    res.metrics["copy"] = MetricInfo("copy", False, unit="% of lines", failure_profile=True)
    res.tasks["wmt22:de-en"].reference_floor = {"empty": 0.0}
    res.tasks["wmt22:en-de"].reference_floor = {"empty": 25.0}
    return res


def test_profile_has_the_metrics_that_declared_it_and_not_bleu(results) -> None:  # type: ignore[no-untyped-def]
    tables = build_failure_tables(results, Flags())
    assert [t.task for t in tables] == [None, "wmt22:de-en", "wmt22:en-de"]
    assert tables[0].metrics == ["empty", "copy"]


def test_any_is_the_share_of_lines_with_at_least_one_flag(results) -> None:  # type: ignore[no-untyped-def]
    de = build_failure_tables(results, Flags())[1]
    mine = next(r for r in de.rows if r.system == "mine")
    assert mine.rates == {"empty": 25.0, "copy": 50.0, ANY: 50.0}  # lines 0, 1 of 4
    other = next(r for r in de.rows if r.system == "other")
    assert other.rates[ANY] == 25.0


def test_mean_over_directions_only_for_systems_in_every_direction(results) -> None:  # type: ignore[no-untyped-def]
    overall = build_failure_tables(results, Flags())[0]
    assert [r.system for r in overall.rows] == ["mine", "other"]  # under test first; "partial" only in en-de
    mine = overall.rows[0]
    assert mine.rates["copy"] == pytest.approx((50.0 + 25.0) / 2, rel=1e-15)
    assert mine.rates[ANY] == pytest.approx((50.0 + 25.0) / 2, rel=1e-15)
    assert overall.floor == {"empty": 12.5}
    assert "1 others: per-direction tables" in overall.scope


def test_markdown_links_rates_to_examples_and_shows_the_floor(results) -> None:  # type: ignore[no-untyped-def]
    tables = build_failure_tables(results, Flags())
    md = failures_markdown(results, tables, "failures-examples.md")
    assert "| ▸ mine | [25.00](failures-examples.md#ex-wmt22_de_en-mine-empty) |" in md
    assert "| reference | 0.00 |" in md


def test_no_profile_without_failure_metrics() -> None:
    res = make_results({"wmt22:de-en": {"a": {"bleu": 1.0}}}, {"bleu": True})
    assert build_failure_tables(res, Flags()) == []
