"""mtbench.stats against sacrebleu's own paired tests on real WMT22 systems.

wmt22/en-de (reference A, the 9 system files; baseline = the first in name order),
BLEU and chrF, sacrebleu's ``PairedTest`` with paired bootstrap (1000 resamples) and
approximate randomization (10000 trials; its optional AR confidence bootstrap is run
for one system only, to keep the test near one minute on one core), default seed.

Asserted: the same corpus scores, the same significance decision at 0.05 for every
system and metric, p-values within 2.5 / (R + 1), bootstrap means and CI half-widths
within 0.3 points (Monte-Carlo noise). Because mtbench draws exactly sacrebleu's
random numbers for the same seed, the observed differences are in fact float32
rounding in sacrebleu (~1e-5), not Monte-Carlo noise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from mtbench import stats as S
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf

pytestmark = [pytest.mark.data, pytest.mark.slow]

PAIR = "en-de"
N_BS = 1000
N_AR = 10000
SEED = 12345
TOL_POINTS = 0.3
METRICS = {"BLEU": "bleu", "chrF2": "chrf"}  # sacrebleu's score name -> mtbench metric


def data_root() -> Path | None:
    env = os.environ.get("MTBENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "mtdata"
    return root if (root / "wmt22" / PAIR / "systems").is_dir() else None


def read_segments(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], dict[str, list[str]]]:
    root = data_root()
    if root is None:
        pytest.skip("wmt22/en-de not found: set MTBENCH_DATA to the mtdata folder (or put it in ../shared/mtdata)")
    pair = root / "wmt22" / PAIR
    refs = read_segments(pair / "refs" / "ref.A.txt")
    systems = {p.stem: read_segments(p) for p in sorted((pair / "systems").glob("*.txt"))}
    assert len(systems) >= 5 and all(len(h) == len(refs) for h in systems.values())
    return refs, systems


def run_sacrebleu(refs: list[str], systems: dict[str, list[str]], test: str, n: int,
                  n_ar_confidence: int = -1, bleu_only: bool = False) -> dict[str, list[Any]]:
    metrics = {"BLEU": BLEU(references=[refs])}
    if not bleu_only:
        metrics["chrF"] = CHRF(references=[refs])
    _, scores = PairedTest(list(systems.items()), metrics, None, test_type=test, n_samples=n,
                           n_ar_confidence=n_ar_confidence)()
    return scores


@pytest.fixture(scope="module")
def ours(corpus: tuple[list[str], dict[str, list[str]]]) -> dict[str, dict[str, S.PairedTestResult]]:
    refs, systems = corpus
    ctx = ScoringContext("en", "de", refs, {"A": refs})
    out = {}
    for name, metric in (("bleu", Bleu(tokenize="13a")), ("chrf", Chrf())):
        arr = metric.segment_statistics(ctx, systems)
        per_sys = {s: arr[i] for i, s in enumerate(systems)}
        out[f"bs/{name}"] = S.paired_bootstrap(per_sys, metric, n_resamples=N_BS, seed=SEED)
        out[f"ar/{name}"] = S.paired_approximate_randomization(per_sys, metric, n_trials=N_AR, seed=SEED)
    return out


@pytest.fixture(autouse=True)
def _sacrebleu_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SACREBLEU_SEED", str(SEED))


def compare(scores: dict[str, list[Any]], ours: dict[str, dict[str, S.PairedTestResult]], test: str, n: int,
            check_ci: bool) -> list[str]:
    problems = []
    for key, metric in METRICS.items():
        if key not in scores:
            continue
        mine = ours[f"{test}/{metric}"]
        for name, sb in zip(scores["System"], scores[key]):
            r = mine[name]
            where = f"{test} {metric} {name}"
            if abs(r.score - sb.score) > 1e-9:
                problems.append(f"{where}: score {r.score} vs {sb.score}")
            if sb.p_value is not None:
                if r.significant(0.05) != (sb.p_value < 0.05):
                    problems.append(f"{where}: decision differs, p {r.p_value} vs {sb.p_value}")
                if abs(r.p_value - sb.p_value) > 2.5 / (n + 1):
                    problems.append(f"{where}: p {r.p_value} vs {sb.p_value}")
            if check_ci and sb.mean is not None:
                half = (r.ci_high - r.ci_low) / 2
                if abs(r.mean - sb.mean) > TOL_POINTS or abs(half - sb.ci) > TOL_POINTS:
                    problems.append(f"{where}: mean/CI {r.mean:.4f}+-{half:.4f} vs {sb.mean:.4f}+-{sb.ci:.4f}")
    return problems


def test_paired_bootstrap_agrees_with_sacrebleu(corpus, ours) -> None:
    refs, systems = corpus
    scores = run_sacrebleu(refs, systems, "bs", N_BS)
    assert set(scores) == {"System", *METRICS}
    problems = compare(scores, ours, "bs", N_BS, check_ci=True)
    assert not problems, "\n".join(problems)
    # the baseline row carries its own bootstrap mean and CI, as in sacrebleu
    base = next(iter(systems))
    assert ours["bs/bleu"][base].p_value is None and ours["bs/bleu"][base].ci_low is not None


def test_paired_ar_agrees_with_sacrebleu(corpus, ours) -> None:
    refs, systems = corpus
    scores = run_sacrebleu(refs, systems, "ar", N_AR)
    problems = compare(scores, ours, "ar", N_AR, check_ci=False)
    assert not problems, "\n".join(problems)


def test_paired_ar_confidence_agrees_with_sacrebleu(corpus, ours) -> None:
    """sacrebleu's AR confidence bootstrap (n_ar_confidence=1000) for the baseline and
    one system, BLEU only (the full table would add ~20 s of sacrebleu time)."""
    refs, systems = corpus
    names = list(systems)[:2]
    scores = run_sacrebleu(refs, {n: systems[n] for n in names}, "ar", N_AR, n_ar_confidence=1000, bleu_only=True)
    problems = compare(scores, ours, "ar", N_AR, check_ci=True)
    assert not problems, "\n".join(problems)
    # the system's CI resamples are drawn right after the mask, as sacrebleu does
    sb, r = scores["BLEU"][1], ours["ar/bleu"][names[1]]
    assert abs(r.mean - sb.mean) < 1e-3 and abs((r.ci_high - r.ci_low) / 2 - sb.ci) < 1e-3


def test_decisions_cover_both_outcomes(ours) -> None:
    """The comparison is only meaningful if some systems are and some are not
    significantly different from the baseline."""
    decisions = {r.significant() for res in ours.values() for r in res.values() if not r.is_baseline}
    assert decisions == {True, False}
    signatures = {res[next(iter(res))].signature for res in ours.values()}
    assert signatures == {f"bs:{N_BS}|seed:{SEED}", f"ar:{N_AR}|bs:1000|seed:{SEED}"}
    assert all(np.isfinite(r.std) for res in ours.values() for r in res.values())
