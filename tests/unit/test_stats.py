"""Paired significance tests and corpus aggregators (mtbench.stats).

Hand-computed / enumerated cases on tiny inputs, agreement of the vectorized
aggregators with sacrebleu's own score functions, agreement of the vectorized tests
with a plain per-resample loop and with sacrebleu's PairedTest on a small synthetic
corpus, seeding and input validation."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from mtbench import stats as S
from mtbench.metrics import sacrebleu_metrics as M
from mtbench.metrics.base import MetricResult, ScoringContext, mean_from_stats, segment_score_stats
from mtbench.metrics.offtarget import OffTarget
from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf, Ter

MEAN = S.SegmentMean("comet")  # a segment-level metric, higher is better

# ----------------------------------------------------------------------------------
# Aggregators
# ----------------------------------------------------------------------------------


def sacrebleu_bleu(row: list[int], **kw: object) -> float:
    return BLEU(**kw)._compute_score_from_stats([int(x) for x in row]).score


BLEU_EDGE_CASES = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # empty corpus
    [5, 7, 0, 0, 0, 0, 5, 4, 3, 2],  # no match at all: early 0
    [3, 7, 2, 0, 0, 0, 3, 2, 1, 0],  # no 4-grams: sacrebleu breaks -> 0
    [10, 12, 6, 0, 0, 0, 10, 9, 8, 7],  # exp smoothing on three orders, brevity penalty
    [10, 8, 6, 3, 0, 1, 10, 9, 8, 7],  # a zero order in the middle
    [10, 10, 10, 9, 8, 7, 10, 9, 8, 7],  # perfect match
    [0, 4, 0, 0, 0, 0, 0, 0, 0, 0],  # empty hypothesis, non-empty reference
    [1, 0, 1, 0, 0, 0, 1, 0, 0, 0],  # one word, nothing beyond unigrams
    [20000, 21000, 15000, 9000, 5000, 3000, 20000, 19000, 18000, 17000],
]


@pytest.mark.parametrize("row", BLEU_EDGE_CASES)
@pytest.mark.parametrize("smooth", ["exp", "none", "floor", "add-k"])
def test_bleu_aggregator_matches_sacrebleu_edge_cases(row: list[int], smooth: str) -> None:
    ours = float(M.bleu_from_stats(np.array(row), smooth_method=smooth))
    assert ours == pytest.approx(sacrebleu_bleu(row, smooth_method=smooth), rel=1e-12, abs=1e-9)


@st.composite
def bleu_rows(draw: st.DrawFn) -> list[int]:
    hyp = draw(st.integers(0, 3000))
    ref = draw(st.integers(0, 3000))
    total = [max(hyp - n, 0) for n in range(4)]
    if draw(st.booleans()):  # also inconsistent sums, sacrebleu does not check
        total = [draw(st.integers(0, 3000)) for _ in range(4)]
    correct = [draw(st.integers(0, t)) if draw(st.integers(0, 4)) else 0 for t in total]
    return [hyp, ref] + correct + total


@settings(max_examples=300, deadline=None)
@given(bleu_rows())
def test_bleu_aggregator_matches_sacrebleu_random(row: list[int]) -> None:
    assert float(M.bleu_from_stats(np.array(row))) == pytest.approx(sacrebleu_bleu(row), rel=1e-12, abs=1e-9)


def test_bleu_aggregator_vectorized_over_resamples() -> None:
    rng = np.random.default_rng(0)
    hyp = rng.integers(0, 500, size=(64, 3))
    total = np.maximum(hyp[..., None] - np.arange(4), 0)
    correct = (total * rng.random(total.shape) * (rng.random(total.shape) > 0.2)).astype(int)
    rows = np.concatenate([hyp[..., None], rng.integers(0, 500, size=(64, 3, 1)), correct, total], axis=-1)
    out = M.bleu_from_stats(rows)
    assert out.shape == (64, 3)
    expected = np.array([[sacrebleu_bleu(list(r)) for r in block] for block in rows])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-9)


def test_bleu_aggregator_rejects_bad_width() -> None:
    with pytest.raises(ValueError):
        M.bleu_from_stats(np.zeros((3, 7)))
    with pytest.raises(ValueError):
        M.bleu_from_stats(np.zeros(10), smooth_method="nope")


@pytest.mark.parametrize("word_order", [0, 2])
def test_chrf_aggregator_matches_sacrebleu(word_order: int) -> None:
    rng = np.random.default_rng(1)
    orders = 6 + word_order
    hyp = rng.integers(0, 400, size=(50, orders))
    ref = rng.integers(0, 400, size=(50, orders))
    match = (np.minimum(hyp, ref) * rng.random((50, orders))).astype(int)
    match[:5] = 0  # no match at all
    hyp[5:8, 3:] = 0  # short hypotheses
    rows = np.stack([hyp, ref, match], axis=-1).reshape(50, 3 * orders)
    chrf = CHRF(word_order=word_order)
    expected = [chrf._compute_score_from_stats([int(x) for x in r]).score for r in rows]
    assert M.chrf_from_stats(rows).tolist() == expected  # bit-identical


def test_ter_aggregator_matches_sacrebleu() -> None:
    rows = [[0, 0], [3, 0], [0, 5], [3, 5], [12.0, 7]]
    ter = TER()
    expected = [ter._compute_score_from_stats(r).score for r in rows]
    np.testing.assert_allclose(M.ter_from_stats(np.array(rows)), expected, rtol=0, atol=1e-12)


def test_mean_aggregator_and_segment_stats() -> None:
    st2 = segment_score_stats([0.5, 0.25, 1.0])
    assert st2.tolist() == [[0.5, 1.0], [0.25, 1.0], [1.0, 1.0]]
    assert float(mean_from_stats(st2.sum(axis=0))) == pytest.approx(1.75 / 3)
    with pytest.raises(ValueError):
        segment_score_stats(np.zeros((3, 2)))


def test_metrics_own_their_aggregation_and_direction() -> None:
    """No table keyed by metric name: each metric aggregates with its own settings."""
    row = np.array([10, 12, 6, 0, 0, 0, 10, 9, 8, 7])
    assert float(Bleu().aggregate(row)) == pytest.approx(sacrebleu_bleu(list(row)), rel=1e-12)
    assert float(Bleu(smooth_method="floor").aggregate(row)) == pytest.approx(
        sacrebleu_bleu(list(row), smooth_method="floor"), rel=1e-12)
    chrf_row = np.array([10, 12, 6] * 6)
    assert float(Chrf().aggregate(chrf_row)) == CHRF()._compute_score_from_stats(list(chrf_row)).score
    assert float(Ter().aggregate(np.array([3, 12]))) == pytest.approx(25.0)
    assert float(OffTarget().aggregate(np.array([200.0, 4.0]))) == 50.0  # mean of 0/100 segment scores
    assert [m.info().aggregation for m in (Bleu(), Chrf(), Ter(), OffTarget())] == [
        "corpus statistics", "corpus statistics", "corpus statistics", "mean of segment scores"]
    assert [m.higher_is_better for m in (Bleu(), Chrf(), Ter(), OffTarget())] == [True, True, False, False]


# ----------------------------------------------------------------------------------
# Approximate randomization: exact p-value by enumeration
# ----------------------------------------------------------------------------------

# Mean metric, 4 segments. Baseline scores 0, system scores d = [3, -1, 1, 2]; the real
# difference of means is 5/4. A trial swaps a subset of segments, which flips the
# sign of those d_i, so |A - B| = |sum(+-d_i)| / 4 over the 16 sign patterns:
#   7 1 5 5 3 1 1 3 3 1 1 3 5 5 1 7   (times 1/4)
# Strictly greater than 5 (sacrebleu counts ">"): the two 7s -> exact p = 2/16.
AR_BASE = [0.0, 0.0, 0.0, 0.0]
AR_SYS = [3.0, -1.0, 1.0, 2.0]
AR_EXACT_P = 2 / 16


def test_ar_exact_p_value_by_enumeration() -> None:
    d = np.array(AR_SYS) - np.array(AR_BASE)
    observed = abs(d.sum()) / 4
    stats = [abs(sum(s * x for s, x in zip(signs, d))) / 4 for signs in itertools.product([1, -1], repeat=4)]
    assert sum(t > observed for t in stats) / len(stats) == AR_EXACT_P


@pytest.mark.parametrize("seed", [12345, 7])
def test_ar_monte_carlo_close_to_exact(seed: int) -> None:
    res = S.paired_approximate_randomization({"base": AR_BASE, "sys": AR_SYS}, MEAN, seed=seed)
    r = res["sys"]
    assert r.delta == pytest.approx(1.25)
    assert r.score == pytest.approx(1.25) and r.baseline_score == 0.0
    # MC standard error sqrt(p(1-p)/10000) = 0.0033
    assert abs(r.p_value - AR_EXACT_P) < 0.015
    assert r.test == "ar" and r.n_resamples == 10000


def test_bootstrap_monte_carlo_close_to_enumeration() -> None:
    # All 4**4 resamples are equally likely: the exact limit of sacrebleu's statistic.
    d = np.array(AR_SYS)
    diffs = np.array([abs(d[list(ix)].mean()) for ix in itertools.product(range(4), repeat=4)])
    exact = float(np.mean(diffs - diffs.mean() > 1.25))
    r = S.paired_bootstrap({"base": AR_BASE, "sys": AR_SYS}, MEAN, n_resamples=20000)["sys"]
    assert abs(r.p_value - exact) < 0.015
    # bootstrap mean of the system's mean score is the sample mean
    assert r.mean == pytest.approx(1.25, abs=0.03)


# ----------------------------------------------------------------------------------
# Behaviour
# ----------------------------------------------------------------------------------


def noisy_scores(n: int, shift: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.5, 0.2, size=n) + shift


def test_identical_systems() -> None:
    base = noisy_scores(200, 0.0, 1)
    systems = {"base": base, "same": base.copy()}
    for res in (S.paired_bootstrap(systems, MEAN), S.paired_approximate_randomization(systems, MEAN)):
        r = res["same"]
        assert r.delta == 0.0 and r.p_value == 1.0
        assert r.verdict() == "same" and not r.significant()


def test_identical_corpus_stats() -> None:
    rng = np.random.default_rng(3)
    hyp = rng.integers(1, 30, size=(100, 1))
    total = np.maximum(hyp - np.arange(4), 0)
    stats = np.concatenate([hyp, hyp + 1, total // 2, total], axis=1)
    res = S.paired_bootstrap({"a": stats, "b": stats}, Bleu())
    assert res["b"].p_value == 1.0 and res["b"].delta == 0.0
    assert res["b"].mean == res["a"].mean  # paired: the same resamples


def test_clearly_better_and_direction() -> None:
    base = noisy_scores(300, 0.0, 1)
    better = base + 0.05 + noisy_scores(300, -0.5, 2) * 0.1
    systems = {"base": base, "better": better}
    for res in (S.paired_bootstrap(systems, MEAN), S.paired_approximate_randomization(systems, MEAN)):
        r = res["better"]
        assert r.p_value < 0.01 and r.delta > 0 and r.verdict() == "better"
        assert r.ci_low < r.mean < r.ci_high
        assert res["base"].p_value is None and res["base"].verdict() == "baseline"
    # same numbers for a lower-is-better metric: a higher score is significantly worse
    r = S.paired_bootstrap(systems, OffTarget())["better"]
    assert not r.higher_is_better and r.verdict() == "worse"
    r = S.paired_bootstrap(systems, S.SegmentMean(higher_is_better=False))["better"]
    assert r.verdict() == "worse"


def test_seeding_and_signature() -> None:
    systems = {"a": noisy_scores(100, 0, 1), "b": noisy_scores(100, 0.02, 2)}
    r1 = S.paired_bootstrap(systems, MEAN)
    r2 = S.paired_bootstrap(systems, MEAN)
    assert r1 == r2
    assert r1["b"].seed == 12345 and r1["b"].signature == "bs:1000|seed:12345"
    r3 = S.paired_bootstrap(systems, MEAN, seed=1)
    assert r3["b"].mean != r1["b"].mean and r3["b"].signature == "bs:1000|seed:1"
    free = S.paired_bootstrap(systems, MEAN, seed=None)
    again = S.paired_bootstrap(systems, MEAN, seed=free["b"].seed)
    assert free == again  # an unseeded run records the seed it drew
    ar = S.paired_approximate_randomization(systems, MEAN, n_trials=500)
    assert ar["b"].signature == "ar:500|bs:1000|seed:12345" and ar["b"].n_confidence == 1000
    assert ar == S.paired_approximate_randomization(systems, MEAN, n_trials=500)
    no_ci = S.paired_approximate_randomization(systems, MEAN, n_trials=500, n_confidence=0)
    assert no_ci["b"].signature == "ar:500|seed:12345"
    assert no_ci["b"].ci_low is None and no_ci["b"].mean is None and no_ci["b"].n_confidence == 0
    assert no_ci["b"].p_value == ar["b"].p_value  # the CI draws come after the mask


def test_shapes_order_and_validation() -> None:
    systems = {f"s{i}": noisy_scores(50, 0.01 * i, i) for i in range(4)}
    res = S.paired_bootstrap(systems, MEAN, baseline="s2", n_resamples=100)
    assert list(res) == ["s2", "s0", "s1", "s3"]
    assert all(r.baseline == "s2" and r.n_resamples == 100 for r in res.values())
    assert res["s2"].to_dict()["system"] == "s2"
    assert [r.system for r in S.iter_significant(res)] == [r.system for r in res.values()
                                                            if r.p_value is not None and r.p_value < 0.05]
    with pytest.raises(ValueError, match="nope"):
        S.paired_bootstrap(systems, MEAN, baseline="nope")
    with pytest.raises(ValueError, match="differ"):
        S.paired_bootstrap({"a": [1.0, 2.0], "b": [1.0]}, MEAN)
    with pytest.raises(ValueError, match="segments"):
        S.paired_bootstrap({"a": np.zeros((0, 10)), "b": np.zeros((0, 10))}, Bleu())
    with pytest.raises(ValueError):
        S.paired_bootstrap({"a": [1.0, float("nan")], "b": [1.0, 2.0]}, MEAN)
    with pytest.raises(ValueError):
        S.paired_bootstrap({}, MEAN)
    with pytest.raises(ValueError):
        S.paired_approximate_randomization(systems, MEAN, n_trials=0)
    with pytest.raises(ValueError):
        S.paired_bootstrap({"a": np.zeros(10), "b": np.zeros(10)}, Bleu())  # scores given for a corpus metric
    single = S.paired_approximate_randomization({"only": [1.0, 2.0]}, MEAN, n_trials=10)
    assert list(single) == ["only"] and single["only"].p_value is None


def test_estimate_ci_convention() -> None:
    scores = np.arange(1000, dtype=float)[::-1]
    mean, lo, hi = S.estimate_ci(scores)
    # sorted positions 25 and 974 -> half width 474.5 around the mean 499.5
    assert (mean, lo, hi) == (499.5, 25.0, 974.0)


# ----------------------------------------------------------------------------------
# Against a plain loop and against sacrebleu itself
# ----------------------------------------------------------------------------------


def synthetic_corpus(n: int = 40, seed: int = 0) -> tuple[list[str], dict[str, list[str]]]:
    rnd = random.Random(seed)
    vocab = [f"w{i}" for i in range(60)] + ["the", "a", "of", ",", "."]
    refs = [" ".join(rnd.choice(vocab) for _ in range(rnd.randint(3, 18))) for _ in range(n)]

    def corrupt(line: str, p: float) -> str:
        words = [w if rnd.random() > p else rnd.choice(vocab) for w in line.split()]
        if rnd.random() < p:
            words = words[: max(1, len(words) - 2)]
        return " ".join(words)

    systems = {"base": [corrupt(r, 0.3) for r in refs], "good": [corrupt(r, 0.15) for r in refs],
               "close": [corrupt(r, 0.28) for r in refs], "bad": [corrupt(r, 0.5) for r in refs]}
    systems["copy"] = list(systems["base"])
    return refs, systems


def test_bootstrap_equals_plain_loop() -> None:
    refs, systems = synthetic_corpus()
    ctx = ScoringContext("xx", "en", refs, {"A": refs})
    stats = Bleu(tokenize="13a").segment_statistics(ctx, systems)
    names = list(systems)
    res = S.paired_bootstrap({n: stats[i] for i, n in enumerate(names)}, Bleu(), n_resamples=200, seed=5)
    idx = np.random.default_rng(5).choice(len(refs), size=(200, len(refs)), replace=True)
    bleu = BLEU()
    loop = {n: np.array([bleu._compute_score_from_stats([int(x) for x in stats[i][ix].sum(0)]).score for ix in idx])
            for i, n in enumerate(names)}
    for n in names:
        mean, lo, hi = S.estimate_ci(loop[n])
        assert res[n].mean == pytest.approx(mean, abs=1e-9)
        assert (res[n].ci_low, res[n].ci_high) == pytest.approx((lo, hi), abs=1e-9)
        assert res[n].std == pytest.approx(loop[n].std(), abs=1e-9)
        if n != "base":
            d = np.abs(loop[n] - loop["base"])
            observed = abs(res[n].score - res[n].baseline_score)
            expected = 1.0 if n == "copy" else (np.sum(d - d.mean() > observed) + 1) / 201
            assert res[n].p_value == pytest.approx(expected)


@pytest.mark.parametrize("test_type", ["bs", "ar"])
def test_same_numbers_as_sacrebleu_paired_test(test_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed -> same draws as sacrebleu -> same p-values, means and CIs (up to
    sacrebleu's float32 arithmetic), for BLEU and chrF."""
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    refs, systems = synthetic_corpus()
    names = [n for n in systems if n != "copy"]  # sacrebleu's p for an identical system is 1/(R+1)
    n_samples = 1000 if test_type == "bs" else 2000
    metrics = {"BLEU": BLEU(references=[refs]), "chrF": CHRF(references=[refs])}
    sb = PairedTest([(n, systems[n]) for n in names], metrics, None, test_type=test_type, n_samples=n_samples,
                    n_ar_confidence=1000)
    _, sb_scores = sb()
    ctx = ScoringContext("xx", "en", refs, {"A": refs})
    hyps = {n: systems[n] for n in names}
    for key, metric in (("BLEU", Bleu(tokenize="13a")), ("chrF2", Chrf())):
        results = metric.score_systems(ctx, hyps)
        ours = S.paired_test(results, metric, test_type, n_samples=n_samples)
        for n, sb_res in zip(sb_scores["System"], sb_scores[key]):
            r = ours[n]
            assert r.score == pytest.approx(sb_res.score, abs=1e-9)
            if n == names[0]:
                assert sb_res.p_value is None and r.p_value is None
                if test_type == "ar":  # sacrebleu draws the baseline's CI from a fresh generator
                    continue
            else:
                assert r.p_value == pytest.approx(sb_res.p_value, abs=2.5 / (n_samples + 1))
                assert r.significant() == (sb_res.p_value < 0.05)
            assert r.mean == pytest.approx(sb_res.mean, abs=1e-3)
            assert (r.ci_high - r.ci_low) / 2 == pytest.approx(sb_res.ci, abs=1e-3)


def test_paired_test_from_metric_results() -> None:
    comet = {n: MetricResult("comet", float(np.mean(s)), "sig", list(s)) for n, s in
             (("a", noisy_scores(80, 0, 1)), ("b", noisy_scores(80, 0.1, 2)))}
    res = S.paired_test(comet, MEAN, "ar", n_samples=1000)
    assert res["b"].metric == "comet" and res["b"].signature.startswith("ar:1000|")
    assert res["b"].score == pytest.approx(comet["b"].score)
    bad = {"a": MetricResult("bleu", 50.0, "sig", [1.0], [[3, 3, 3, 2, 1, 0, 3, 2, 1, 0]])}
    with pytest.raises(ValueError, match="aggregate"):
        S.paired_test(bad, Bleu())
    with pytest.raises(ValueError, match="unknown test"):
        S.paired_test(comet, MEAN, "t-test")
    ter = {n: MetricResult("ter", 10.0 * e, "sig", [10.0 * e], [[e, 10]]) for n, e in (("a", 2), ("b", 5))}
    out = S.paired_test(ter, Ter(), n_samples=50)
    assert out["b"].delta == pytest.approx(30.0) and not out["b"].higher_is_better
    assert math.isclose(out["a"].score, 20.0)


@pytest.mark.parametrize("test_type", ["bs", "ar"])
def test_pairwise_matrix_is_the_table_test(test_type: str) -> None:
    """A pairwise matrix over any subset of the systems gives, for each column, the
    p-values that the same test against that column's system gives (shared draws)."""
    refs, systems = synthetic_corpus()
    ctx = ScoringContext("xx", "en", refs, {"A": refs})
    stats = Bleu(tokenize="13a").segment_statistics(ctx, systems)
    data = {n: stats[i] for i, n in enumerate(systems)}
    test = S.PairedTest(data, Bleu(), test_type, n=300, seed=7)
    names, p, delta = test.pairwise(["good", "base", "bad"])
    assert names == ["good", "base", "bad"] and np.isnan(p[0, 0]) and np.isnan(delta[1, 1])
    for j, col in enumerate(names):
        alone = S.PairedTest(data, Bleu(), test_type, n=300, seed=7).against(col)
        for i, row in enumerate(names):
            if i != j:
                assert p[i, j] == alone[row].p_value
                assert delta[i, j] == pytest.approx(alone[row].delta, abs=1e-12)
    assert np.allclose(delta, -delta.T, equal_nan=True)
    assert np.array_equal(p, p.T, equal_nan=True)  # both tests are symmetric in the pair
