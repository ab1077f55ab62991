"""A claim tested by `mtbench report --claim ... --expect 'A > B: metric'`: the paired
test is sacrebleu's, the verdict follows the stated rule, and a name that is not in
the report is one line before anything is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mtbench.errors import MtbenchError
from mtbench.report.claims import Expectation
from tests.conftest import synthetic_layout


def _mtbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two directions of 60 segments: `best` corrupts 5% of the words, `worst` 70%,
    `twin` 5% too (as good as best, other words)."""
    root = tmp_path_factory.mktemp("claims")
    data = synthetic_layout(root / "data", n=60, systems=(("best", 0.05), ("twin", 0.05), ("worst", 0.7)), seed=11)
    out = root / "run"
    res = _mtbench("run", "--tasks", "wmt22:de-en,wmt22:en-de", "--data-dir", str(data), "--metrics", "bleu,chrf",
                   "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_parse() -> None:
    e = Expectation.parse(" tim+alma > mle+alma : bleu, chrf ")
    assert (e.better, e.worse, e.metrics) == ("tim+alma", "mle+alma", ("bleu", "chrf"))
    assert Expectation.parse("a/ALMA > b").metrics == ()
    for bad in ("a >", "a < b", "a > b > c", "a b"):
        with pytest.raises(MtbenchError, match="write SYSTEM_A > SYSTEM_B"):
            Expectation.parse(bad)


def test_the_claims_paired_test_is_sacrebleus(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    from mtbench.metrics import make_metric
    from mtbench.report.build import SegmentSource
    from mtbench.report.claims import evaluate
    from mtbench.results import Results
    from mtbench.significance import SignificanceOptions

    results = Results.load(run)
    claim = evaluate("twin beats best", Expectation.parse("twin > best: bleu"), results, SegmentSource(results).statistics,
                     {"bleu": make_metric("bleu")}, SignificanceOptions("bs", 1000, 12345))
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    src = SegmentSource(results)
    for f in claim.findings:
        refs = [src.testdata(f.task, "best")["references"]["A"]]
        sb = PairedTest([("best", src.outputs(f.task, "best")), ("twin", src.outputs(f.task, "twin"))],
                        {"BLEU": BLEU(references=refs)}, None, test_type="bs", n_samples=1000)
        _, scores = sb()
        assert f.p_value == pytest.approx(scores["BLEU"][1].p_value, abs=1e-12)
        assert f.delta == pytest.approx(scores["BLEU"][1].score - scores["BLEU"][0].score, abs=1e-9)


def test_verdicts_follow_the_rule(run: Path, tmp_path: Path) -> None:
    res = _mtbench("report", str(run), "--out", str(tmp_path / "a"), "--claim", "best beats worst",
                   "--expect", "best > worst: bleu,chrf", "--expect", "worst > best: chrf", "--expect", "twin > best: bleu",
                   "--expect", "best > twin: bleu")
    assert res.returncode == 0, res.stderr
    claims = (tmp_path / "a" / "claims.md").read_text(encoding="utf-8")
    assert "**Verdict: reproduced** — best is significantly better than worst (bleu in 2 of 2 direction(s), chrf in 2 " \
           "of 2 direction(s)), and worse nowhere." in claims
    assert "**Verdict: not reproduced** — worst is significantly worse than best (chrf on wmt22:de-en, chrf on " \
           "wmt22:en-de)." in claims
    assert "**Verdict: inconclusive** — no significant difference on bleu at p < 0.05 (segments per direction: 60); " \
           "twin is not ahead on bleu." in claims
    # best is ahead of twin but not significantly: how many segments that would take, the table's largest
    need = re.search(r"the differences in best's favour would need up to ([\d,]+) segments per direction for 80% "
                     r"power", claims)
    table = claims.split("Expectation `best > twin: bleu`: `best` better than `twin`")[1]
    column = [int(line.split("|")[-2].replace(",", "")) for line in table.splitlines() if line.startswith("| bleu |")]
    assert need and int(need.group(1).replace(",", "")) == max(column) > 60
    # One claim, four expectations: the claim once, its verdict (not reproduced: one expectation
    # is), then each expectation's own.
    summary = (tmp_path / "a" / "summary.md").read_text(encoding="utf-8").splitlines()
    assert summary[2] == "> best beats worst" and summary.count("> best beats worst") == 1
    assert summary[4].startswith("**Verdict: not reproduced** — 4 expectations, reproduced only when every one is")
    assert summary[6].startswith("- `best > worst: bleu,chrf`: **reproduced** — ")
    assert summary[7].startswith("- `worst > best: chrf`: **not reproduced** — ")
    assert claims.count("> best beats worst") == 1 and "**Verdict of the claim: not reproduced**" in claims
    html = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert "claim: best beats worst — verdict: not reproduced" in html
    assert "expectation best &gt; worst: bleu,chrf: reproduced" in html


def test_one_expectation_opens_the_summary_with_its_own_verdict(run: Path, tmp_path: Path) -> None:
    res = _mtbench("report", str(run), "--out", str(tmp_path / "a"), "--claim", "best beats worst",
                   "--expect", "best > worst: bleu")
    assert res.returncode == 0, res.stderr
    summary = (tmp_path / "a" / "summary.md").read_text(encoding="utf-8").splitlines()
    assert summary[2] == "> best beats worst" and summary[4].startswith("**Verdict: reproduced** — best is")
    assert summary[4].endswith("(`best > worst: bleu`; claims.md).")
    assert "claim: best beats worst — verdict: reproduced (best is" in (tmp_path / "a" / "index.html").read_text("utf-8")


def test_parse_directions() -> None:
    e = Expectation.parse("a > b: bleu, chrf on zero-shot")
    assert (e.better, e.worse, e.metrics, e.directions) == ("a", "b", ("bleu", "chrf"), ("zero-shot",))
    e = Expectation.parse("a > b on wmt22:de-en, wmt22:en-de")
    assert (e.worse, e.metrics, e.directions) == ("b", (), ("wmt22:de-en", "wmt22:en-de"))
    assert Expectation.parse("model on cpu > b").better == "model on cpu"  # " on " before '>' is part of a name
    for bad in ("a > b: bleu on ", "a > b: bleu on"):
        with pytest.raises(MtbenchError, match="write SYSTEM_A > SYSTEM_B"):
            Expectation.parse(bad)
    e = Expectation.parse("a > b: bleu\ton  zero-shot")
    assert (e.metrics, e.directions) == (("bleu",), ("zero-shot",))


def test_an_expectation_on_some_directions_tests_only_those(run: Path, tmp_path: Path) -> None:
    res = _mtbench("report", str(run), "--out", str(tmp_path / "a"), "--claim", "best beats worst on de-en",
                   "--expect", "best > worst: bleu on wmt22:de-en")
    assert res.returncode == 0, res.stderr
    claims = (tmp_path / "a" / "claims.md").read_text(encoding="utf-8")
    rows = [line for line in claims.splitlines() if line.startswith("| bleu |")]
    assert len(rows) == 1 and rows[0].startswith("| bleu | wmt22:de-en |")
    assert "(bleu in 1 of 1 direction(s) on wmt22:de-en), and worse nowhere" in claims


@pytest.mark.parametrize("args, needle", [
    (("--expect", "bset > worst"), "'bset' is not a system of this report: did you mean 'best'?"),
    (("--expect", "best > worst: bleux"), "metric 'bleux' was not scored: did you mean 'bleu'?"),
    (("--expect", "best worst"), "write SYSTEM_A > SYSTEM_B"),
    (("--claim", "x"), "--claim needs at least one --expect"),
    (("--expect", "best > worst: bleu on zero-shot"), "no zero-shot direction in this report (its task list marks none"),
    (("--expect", "best > worst on wmt22:de-fr"), "direction 'wmt22:de-fr' is not scored in this report: did you mean"),
    (("--expect", "best > worst on supervised"), "no supervised direction in this report (its task list marks none"),
])
def test_a_bad_expectation_is_one_line_and_writes_nothing(run: Path, tmp_path: Path, args: tuple[str, ...],
                                                          needle: str) -> None:
    res = _mtbench("report", str(run), "--out", str(tmp_path / "r"), *args)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and needle in res.stderr, res.stderr
    assert not (tmp_path / "r").exists()
