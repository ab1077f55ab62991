"""How many segments a difference needs: the pilot-study estimate from the paired
bootstrap's spread (mtbench.stats.segments_for_power), checked against hand
computation, the analytic standard error of a mean and a power simulation, and the
note the leaderboard prints for a difference that is not significant."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtbench.stats import PairedTest, SegmentMean, segments_for_power
from mtbench.textio import read_json
from tests.conftest import synthetic_layout


def test_the_formula_by_hand() -> None:
    # z(0.975) + z(0.8) = 1.959964 + 0.841621 = 2.801585; 100 * (2.801585 * 0.5 / 1)^2 = 196.22 -> 197
    assert segments_for_power(1.0, 0.5, 100) == 197
    assert segments_for_power(-1.0, 0.5, 100) == 197  # the sign does not matter
    # alpha 0.01, power 0.9: 2.575829 + 1.281552 = 3.857381; 50 * (3.857381 * 0.2 / 0.1)^2 = 2975.9 -> 2976
    assert segments_for_power(0.1, 0.2, 50, alpha=0.01, power=0.9) == 2976
    assert segments_for_power(0.0, 0.5, 100) is None and segments_for_power(1.0, 0.0, 100) is None
    with pytest.raises(ValueError):
        segments_for_power(1.0, 0.5, 100, power=1.0)


def test_the_bootstrap_spread_of_a_mean_difference_is_its_standard_error() -> None:
    rng = np.random.default_rng(7)
    n = 400
    a = rng.normal(0.5, 0.2, n)
    b = a + rng.normal(0.02, 0.1, n)
    r = PairedTest({"a": a, "b": b}, SegmentMean(), n=2000, seed=1).against("a")["b"]
    se = np.std(b - a) / math.sqrt(n)  # the paired difference's standard error, analytically
    # 2000 resamples estimate an SD to about 1/sqrt(2 * 2000) = 1.6 % (relative)
    assert r.delta_sd == pytest.approx(se, rel=0.06)
    assert r.segments == n
    z = 1.959964 + 0.841621
    assert r.segments_for_power() == pytest.approx(n * (z * se / abs(r.delta)) ** 2, rel=0.13)


def test_at_the_estimated_size_about_four_in_five_samples_are_significant() -> None:
    """The estimate means what it says: fresh paired samples of the estimated size from
    the same populations reach p < 0.05 about 80 % of the time."""
    rng = np.random.default_rng(3)
    delta, noise = 0.03, 0.2
    pilot = rng.normal(0.5, 0.2, 100)
    r = PairedTest({"a": pilot, "b": pilot + delta + rng.normal(0, noise, 100)}, SegmentMean(), seed=2).against("a")["b"]
    # plan with the true difference and the pilot's spread, as a reader would for "a difference of this size"
    n = segments_for_power(delta, r.delta_sd, r.segments)
    assert n == pytest.approx((2.801585 * noise / delta) ** 2, rel=0.3)  # ~349 for these populations
    hits = 0
    trials = 60
    for k in range(trials):
        a = rng.normal(0.5, 0.2, n)
        b = a + delta + rng.normal(0, noise, n)
        hits += PairedTest({"a": a, "b": b}, SegmentMean(), n=500, seed=k).against("a")["b"].significant()
    # binomial(60, 0.8) lies in [38, 56] with probability > 0.999; the planning error of the
    # pilot's spread (100 segments) widens it a little
    assert 34 <= hits <= 58, hits


def test_the_leaderboard_says_how_many_segments_a_difference_that_is_not_significant_needs(tmp_path: Path) -> None:
    data = synthetic_layout(tmp_path / "data", pairs=("de-en",), n=40, systems=(("ref-system", 0.30),), seed=5)
    mine = synthetic_layout(tmp_path / "mine", pairs=("de-en",), n=40, systems=(("mine", 0.33),), seed=5)
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "mtbench", "run", "--tasks", "wmt22:de-en", "--data-dir", str(data),
                          "--model", "files", "--model", f"files:{mine}", "--metrics", "chrf", "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    cmp = read_json(out / "results.json")["tasks"]["wmt22:de-en"]["scores"]["mine"]["chrf"]["comparison"]
    assert cmp["verdict"] == "same", cmp
    needed = cmp["segments_for_power"]
    # not significant at 40 segments: a difference that size needs well over 40 (about 2x at p = 0.05)
    assert needed > 40
    board = (out / "report" / "leaderboard.md").read_text(encoding="utf-8")
    assert "with 80% power" in board and f"wmt22:de-en mine vs ref-system ≈{needed:,} (has 40)" in board
