"""Paired significance tests (bootstrap resampling, approximate randomization) and
vectorized corpus aggregators.

Why this module exists: sacrebleu's paired tests recompute a corpus score in Python
once per resample and per system (1000 x N calls for the bootstrap, 20000 x N for
approximate randomization). Here every resample of every system is scored at once:

* the random draws are made once per test and shared by all systems (the tests are
  *paired*), and they are the very draws sacrebleu makes for the same seed
  (``default_rng(seed).choice(L, (R, L))`` for the bootstrap,
  ``default_rng(seed).integers(2, (R, L), dtype=bool)`` for AR), so the resamples
  reproduce sacrebleu's;
* resampled corpus statistics are matrix products: bootstrap ``counts @ stats`` with
  ``counts`` the (R, L) multiplicity matrix, AR ``mask @ (baseline - system)``; for
  integer statistics the product is done in float32 when that is provably exact,
  float64 otherwise;
* the corpus metric is then computed for all (R, systems) rows by one vectorized
  aggregator (BLEU, chrF, TER, or the mean of segment scores).

Conventions taken from sacrebleu 2.x (``sacrebleu/significance.py``):

* p-value (both tests): ``(#{t > observed} + 1) / (R + 1)`` with a strict ``>``;
  bootstrap ``t`` is the resampled absolute difference minus its mean over the
  resamples, AR ``t`` is the absolute difference of the two shuffled pseudo-systems;
  ``observed`` is the absolute difference of the real corpus scores. One deliberate
  exception: when the observed difference is 0 and so is every resampled one (the
  system is indistinguishable from the baseline) p = 1 instead of sacrebleu's
  1 / (R + 1). Differences within 1e-12 (relative) of the observed one count as
  ties, so float summation order cannot turn a tie into "greater".
* "significant" means ``p < alpha`` (sacrebleu marks p < 0.05).
* 95% CI: sacrebleu's ``estimate_ci``: the bootstrap mean of the resampled scores plus
  or minus half the width of the empirical interval between the sorted resamples at
  positions ``R // 40`` and ``R - R // 40 - 1`` (about the 2.5th and 97.5th
  percentiles). It is centred on the bootstrap mean, not on the real score.
* AR confidence intervals come from a bootstrap whose indices are drawn from the same
  generator right after the AR mask (sacrebleu's ``n_ar_confidence``).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from mtbench.metrics.sacrebleu_metrics import chrf_f_scores

DEFAULT_SEED = 12345
DEFAULT_BOOTSTRAP_RESAMPLES = 1000
DEFAULT_AR_TRIALS = 10000

#: Given summed statistics of shape (..., k), return the corpus scores of shape (...).
Aggregator = Callable[[np.ndarray], np.ndarray]

_LOG_ZERO = -9999999999.0  # sacrebleu's my_log(0): drives exp() to exactly 0
_SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1.0, "exp": None}
_FLOAT32_EXACT = 2**24  # every integer of magnitude below this is a float32
_TIE_TOL = 1e-12  # relative: differences this close to the observed one count as ties
_CHUNK_ELEMENTS = 1 << 23  # rows of the (R, L) weight matrix converted at a time (~32 MB float32)


# --------------------------------------------------------------------------------------
# Corpus aggregators: summed statistics (..., k) -> scores (...)
# --------------------------------------------------------------------------------------


def bleu_from_stats(stats: np.ndarray, smooth_method: str = "exp", smooth_value: float | None = None) -> np.ndarray:
    """Corpus BLEU for every row of summed (..., 2 + 2 * order) statistics
    [hyp_len, ref_len, correct_1..order, total_1..order].

    Mirrors ``sacrebleu.metrics.BLEU.compute_bleu`` (brevity penalty, smoothing,
    the early 0 when nothing matches, the log floor for zero precisions) with the same
    float operations, so it agrees with ``BLEU()._compute_score_from_stats`` to
    rounding; vectorized because it is called for 1000s of resamples at once."""
    if smooth_method not in _SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}: choose one of {sorted(_SMOOTH_DEFAULTS)}")
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth_method]
    stats = np.asarray(stats, dtype=np.float64)
    k = stats.shape[-1]
    if k < 4 or k % 2:
        raise ValueError(f"BLEU statistics need 2 + 2 * order columns, got {k}")
    order = (k - 2) // 2
    sys_len, ref_len = stats[..., 0], stats[..., 1]
    correct, total = stats[..., 2 : 2 + order], stats[..., 2 + order :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
        any_match = np.any(correct != 0, axis=-1)
        log_sum = np.zeros(sys_len.shape)
        stopped = np.zeros(sys_len.shape, dtype=bool)  # an order with no n-grams: sacrebleu breaks
        smooth = np.ones(sys_len.shape)
        for n in range(order):
            c, t = correct[..., n], total[..., n]
            if smooth_method == "add-k" and n > 0:
                c, t = c + smooth_value, t + smooth_value
            stopped |= t == 0
            zero = c == 0
            if smooth_method == "exp":
                smooth = np.where(zero & ~stopped, smooth * 2, smooth)
                p_zero = 100.0 / (smooth * t)
            elif smooth_method == "floor":
                p_zero = 100.0 * smooth_value / t
            else:
                p_zero = np.zeros_like(t)
            p = np.where(stopped, 0.0, np.where(zero, p_zero, 100.0 * c / t))
            log_sum = log_sum + np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), _LOG_ZERO)
        score = bp * np.exp(log_sum / order)
    return np.where(any_match, score, 0.0)


def chrf_from_stats(stats: np.ndarray, beta: int = 2, eps_smoothing: bool = False) -> np.ndarray:
    """Corpus chrF / chrF++ for summed (..., 3 * orders) statistics (sacrebleu's
    ``CHRF._compute_f_score``, bit-identical, via ``chrf_f_scores``)."""
    return chrf_f_scores(np.asarray(stats, dtype=np.float64), beta, eps_smoothing)


def ter_from_stats(stats: np.ndarray) -> np.ndarray:
    """Corpus TER (0-100, lower is better) for summed (..., 2) [num_edits, ref_length]
    statistics, with sacrebleu's conventions for empty references."""
    stats = np.asarray(stats, dtype=np.float64)
    edits, ref_len = stats[..., 0], stats[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref_len > 0, edits / np.where(ref_len > 0, ref_len, 1.0), np.where(edits > 0, 1.0, 0.0))
    return 100 * ratio


def mean_from_stats(stats: np.ndarray) -> np.ndarray:
    """Mean segment score for summed (..., 2) [score_sum, segment_count] statistics.

    Segment-level metrics (COMET, BLEURT, off-target ratio) are resampled through the
    same machinery by giving every segment the statistics [score, 1]."""
    stats = np.asarray(stats, dtype=np.float64)
    return stats[..., 0] / stats[..., 1]


def segment_score_stats(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """(L,) segment scores -> (L, 2) [score, 1] statistics for ``mean_from_stats``."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(f"segment scores must be one number per segment, got shape {s.shape}")
    return np.stack([s, np.ones_like(s)], axis=-1)


#: Metric name -> aggregator over summed sufficient statistics. Any other metric is
#: aggregated by the mean of its segment scores (``mean_from_stats``).
AGGREGATORS: dict[str, Aggregator] = {
    "bleu": bleu_from_stats,
    "chrf": chrf_from_stats,
    "chrf++": chrf_from_stats,
    "ter": ter_from_stats,
}

#: Metrics where a lower score is better, when the caller does not say.
LOWER_IS_BETTER: frozenset[str] = frozenset({"ter", "off_target", "off-target", "off_target_ratio", "off-target-ratio"})


def get_aggregator(metric: str) -> Aggregator:
    """The corpus aggregator for a metric name; the mean of segment scores for any
    metric without corpus sufficient statistics."""
    if metric in AGGREGATORS:
        return AGGREGATORS[metric]
    if metric.startswith("chrf"):  # chrf-w1 and friends: same statistics layout
        return chrf_from_stats
    return mean_from_stats


def uses_corpus_stats(metric: str, aggregator: Aggregator | None = None) -> bool:
    """True when the metric resamples corpus sufficient statistics rather than
    segment scores."""
    return (aggregator or get_aggregator(metric)) is not mean_from_stats


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedTestResult:
    """One system compared with the baseline on one metric.

    ``score`` and ``baseline_score`` are the real corpus scores; ``delta`` is
    ``score - baseline_score``. ``p_value`` is None for the baseline's own row.
    ``mean``/``std``/``ci_low``/``ci_high`` describe the system's resampled scores
    (bootstrap; for AR the confidence bootstrap, None when it was disabled); the CI is
    sacrebleu's: ``mean +- half width of the [R//40, R-R//40-1] sorted interval``.
    ``n_resamples`` counts bootstrap resamples (``bs``) or AR trials (``ar``)."""

    system: str
    baseline: str
    metric: str
    test: str  # "bs" (paired bootstrap) or "ar" (approximate randomization)
    score: float
    baseline_score: float
    delta: float
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    mean: float | None
    std: float | None
    n_resamples: int
    n_confidence: int
    seed: int
    signature: str
    higher_is_better: bool = True

    @property
    def is_baseline(self) -> bool:
        return self.system == self.baseline

    def significant(self, alpha: float = 0.05) -> bool:
        """Null hypothesis (same underlying system) rejected: p < alpha, as sacrebleu."""
        return self.p_value is not None and self.p_value < alpha

    def verdict(self, alpha: float = 0.05) -> str:
        """"better", "worse" (significantly, in the metric's direction), "same" (not
        significant) or "baseline"."""
        if self.is_baseline:
            return "baseline"
        if not self.significant(alpha):
            return "same"
        return "better" if (self.delta > 0) == self.higher_is_better else "worse"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def paired_bootstrap(
    systems: Mapping[str, Any],
    metric: str = "mean",
    *,
    baseline: str | None = None,
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int | None = DEFAULT_SEED,
    aggregator: Aggregator | None = None,
    higher_is_better: bool | None = None,
) -> dict[str, PairedTestResult]:
    """Paired bootstrap resampling (Koehn 2004; sacrebleu's ``--paired-bs``) of every
    system against the baseline.

    ``systems`` maps system name -> per-segment statistics (L, k) for corpus metrics
    (see ``AGGREGATORS``) or per-segment scores (L,) for any other metric. The
    baseline is ``baseline`` or the first system. One (R, L) index matrix is drawn
    from ``default_rng(seed)`` and used for every system. ``seed=None`` draws a fresh
    seed, which is recorded. Returns name -> result, the baseline first."""
    names, stats, agg, hib = _prepare(systems, metric, baseline, aggregator, higher_is_better)
    _check_n(n_resamples, "n_resamples")
    seed = _resolve_seed(seed)
    rng = np.random.default_rng(seed)
    idx = rng.choice(stats.shape[1], size=(n_resamples, stats.shape[1]), replace=True)
    real = agg(stats.sum(axis=1))  # (S,)
    boot = _bootstrap_scores(stats, idx, agg)  # (R, S)

    p_values: list[float | None] = [None]
    for s in range(1, len(names)):
        sample_diffs = np.abs(boot[:, s] - boot[:, 0])
        p_values.append(_p_value(sample_diffs - sample_diffs.mean(), abs(real[s] - real[0]),
                                 degenerate=not np.any(sample_diffs)))
    signature = f"bs:{n_resamples}|seed:{seed}"
    return _results(names, metric, "bs", real, p_values, boot, n_resamples, n_resamples, seed, signature, hib)


def paired_approximate_randomization(
    systems: Mapping[str, Any],
    metric: str = "mean",
    *,
    baseline: str | None = None,
    n_trials: int = DEFAULT_AR_TRIALS,
    n_confidence: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int | None = DEFAULT_SEED,
    aggregator: Aggregator | None = None,
    higher_is_better: bool | None = None,
) -> dict[str, PairedTestResult]:
    """Paired approximate randomization (Riezler & Maxwell 2005; sacrebleu's
    ``--paired-ar``) of every system against the baseline.

    Each trial swaps the baseline's and the system's statistics on a random half of
    the segments; the p-value counts trials whose pseudo-systems differ by more than
    the real systems. One (R, L) swap mask is drawn from ``default_rng(seed)`` and
    shared by all systems; ``n_confidence`` > 0 adds a bootstrap CI whose indices are
    drawn from the same generator afterwards (0 disables it). Inputs and output as
    ``paired_bootstrap``."""
    names, stats, agg, hib = _prepare(systems, metric, baseline, aggregator, higher_is_better)
    _check_n(n_trials, "n_trials")
    if n_confidence < 0:
        raise ValueError(f"n_confidence must be >= 0, got {n_confidence}")
    seed = _resolve_seed(seed)
    rng = np.random.default_rng(seed)
    n_seg = stats.shape[1]
    swap = rng.integers(2, size=(n_trials, n_seg), dtype=bool)  # True: pseudo-system A takes the baseline's
    idx = rng.choice(n_seg, size=(n_confidence, n_seg), replace=True) if n_confidence > 0 else None

    totals = stats.sum(axis=1)  # (S, k)
    real = agg(totals)
    p_values: list[float | None] = [None]
    if len(names) > 1:
        k = stats.shape[2]
        diff = stats[:1] - stats[1:]  # (S-1, L, k): baseline minus system
        flat = diff.transpose(1, 0, 2).reshape(n_seg, -1)  # (L, (S-1) * k)
        a = _weighted_sums(swap, flat, bound=np.abs(flat).sum(axis=0)).reshape(n_trials, len(names) - 1, k)
        a += totals[1:]  # A = swap @ baseline + ~swap @ system
        b = totals[0] + totals[1:] - a  # B = the other half of each swap
        trial_diffs = np.abs(agg(a) - agg(b))  # (R, S-1)
        for s in range(1, len(names)):
            t = trial_diffs[:, s - 1]
            p_values.append(_p_value(t, abs(real[s] - real[0]), degenerate=not np.any(t)))
    boot = _bootstrap_scores(stats, idx, agg) if idx is not None else None
    signature = f"ar:{n_trials}" + (f"|bs:{n_confidence}" if n_confidence > 0 else "") + f"|seed:{seed}"
    return _results(names, metric, "ar", real, p_values, boot, n_trials, n_confidence, seed, signature, hib)


def paired_test(
    results: Mapping[str, Any],
    test: str = "bs",
    *,
    baseline: str | None = None,
    n_samples: int | None = None,
    seed: int | None = DEFAULT_SEED,
    aggregator: Aggregator | None = None,
    n_confidence: int = DEFAULT_BOOTSTRAP_RESAMPLES,
) -> dict[str, PairedTestResult]:
    """Run a paired test on what a metric's ``score_systems`` returned (system name ->
    ``MetricResult``): corpus statistics when the metric has an aggregator, segment
    scores otherwise; ``higher_is_better`` from the results. ``test`` is "bs" or "ar";
    ``n_samples`` defaults to 1000 / 10000 like sacrebleu.

    Raises ValueError when the aggregator does not reproduce a system's reported
    score (e.g. BLEU with non-default smoothing: pass a matching ``aggregator``)."""
    if not results:
        raise ValueError("no systems to compare")
    first = next(iter(results.values()))
    metric = first.metric
    agg = aggregator or get_aggregator(metric)
    corpus = uses_corpus_stats(metric, agg)
    inputs: dict[str, np.ndarray] = {}
    for name, res in results.items():
        if corpus:
            if res.segment_stats is None:
                raise ValueError(f"{metric}: system {name!r} has no segment statistics to resample")
            inputs[name] = np.asarray(res.segment_stats, dtype=np.float64)
        else:
            inputs[name] = np.asarray(res.segment_scores, dtype=np.float64)
    if corpus:
        for name, res in results.items():
            own = float(agg(inputs[name].sum(axis=0)))
            if not math.isclose(own, res.score, rel_tol=1e-9, abs_tol=1e-9):
                raise ValueError(f"{metric}: the aggregator gives {own} for {name!r} but the metric reported "
                                 f"{res.score}; pass the aggregator that matches the metric's settings")
    hib = bool(first.higher_is_better)
    if test == "bs":
        return paired_bootstrap(inputs, metric, baseline=baseline, seed=seed, aggregator=agg, higher_is_better=hib,
                                n_resamples=n_samples or DEFAULT_BOOTSTRAP_RESAMPLES)
    if test == "ar":
        return paired_approximate_randomization(inputs, metric, baseline=baseline, seed=seed, aggregator=agg,
                                                higher_is_better=hib, n_trials=n_samples or DEFAULT_AR_TRIALS,
                                                n_confidence=n_confidence)
    raise ValueError(f"unknown test {test!r}: choose 'bs' (paired bootstrap) or 'ar' (approximate randomization)")


def estimate_ci(scores: np.ndarray) -> tuple[float, float, float]:
    """sacrebleu's 95% interval: (bootstrap mean, low, high) with low/high = mean -+
    half the width between the sorted scores at R // 40 and R - R // 40 - 1."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    lo = len(s) // 40
    half = 0.5 * (s[len(s) - lo - 1] - s[lo])
    mean = float(s.mean())
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------


def _prepare(
    systems: Mapping[str, Any], metric: str, baseline: str | None, aggregator: Aggregator | None,
    higher_is_better: bool | None,
) -> tuple[list[str], np.ndarray, Aggregator, bool]:
    """Names (baseline first), stats (S, L, k) float64, aggregator, direction."""
    if not systems:
        raise ValueError("no systems to compare")
    names = list(systems)
    if baseline is None:
        baseline = names[0]
    if baseline not in systems:
        raise ValueError(f"baseline {baseline!r} is not one of the systems: {names}")
    names.remove(baseline)
    names.insert(0, baseline)
    agg = aggregator or get_aggregator(metric)
    corpus = uses_corpus_stats(metric, agg)
    arrays = []
    for name in names:
        a = np.asarray(systems[name], dtype=np.float64)
        if not corpus:
            a = segment_score_stats(a)
        elif a.ndim != 2:
            raise ValueError(f"{metric}: system {name!r} needs (segments, stats) statistics, got shape {a.shape}")
        arrays.append(a)
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        detail = ", ".join(f"{n}: {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"{metric}: systems differ in number of segments or statistics ({detail})")
    stats = np.stack(arrays)
    if stats.shape[1] == 0:
        raise ValueError(f"{metric}: no segments to resample")
    if not np.all(np.isfinite(stats)):
        raise ValueError(f"{metric}: statistics or segment scores contain NaN or infinity")
    hib = (metric not in LOWER_IS_BETTER) if higher_is_better is None else bool(higher_is_better)
    return names, stats, agg, hib


def _check_n(n: int, what: str) -> None:
    if n < 1:
        raise ValueError(f"{what} must be >= 1, got {n}")


def _resolve_seed(seed: int | None) -> int:
    """A fixed seed as given; None draws one from the OS and records it, so even an
    unseeded run can be repeated from its signature."""
    return secrets.randbits(63) if seed is None else int(seed)


def _weighted_sums(weights: np.ndarray, stats: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """``weights @ stats`` for (R, L) non-negative integer weights and (L, m) stats.

    BLAS in float32 when every partial sum is an integer below 2**24 (``bound`` is an
    upper bound per column), which makes the float32 product exact and about twice as
    fast; float64 otherwise. Rows are converted in chunks to bound memory."""
    integral = bool(np.all(stats == np.round(stats)))
    dtype = np.float32 if integral and float(np.max(bound, initial=0.0)) < _FLOAT32_EXACT else np.float64
    rhs = stats.astype(dtype)
    n_rows, n_seg = weights.shape
    out = np.empty((n_rows, stats.shape[1]), dtype=np.float64)
    step = max(1, _CHUNK_ELEMENTS // max(n_seg, 1))
    for start in range(0, n_rows, step):
        stop = min(n_rows, start + step)
        out[start:stop] = weights[start:stop].astype(dtype) @ rhs
    return out


def _bootstrap_scores(stats: np.ndarray, idx: np.ndarray, agg: Aggregator) -> np.ndarray:
    """Scores (R, S) of every system on every resample ``idx`` (R, L)."""
    n_sys, n_seg, k = stats.shape
    n_res = idx.shape[0]
    offsets = (np.arange(n_res, dtype=np.int64) * n_seg)[:, None]
    counts = np.bincount((idx + offsets).ravel(), minlength=n_res * n_seg).reshape(n_res, n_seg)
    flat = stats.transpose(1, 0, 2).reshape(n_seg, n_sys * k)  # (L, S * k)
    sums = _weighted_sums(counts, flat, bound=n_seg * np.abs(flat).max(axis=0))
    return agg(sums.reshape(n_res, n_sys, k))


def _p_value(sample_stats: np.ndarray, observed: float, degenerate: bool) -> float:
    """sacrebleu's (after multeval) p-value: (#{sample > observed} + 1) / (R + 1).

    ``degenerate`` (no difference in any resample) with a zero observed difference
    gives 1: the system cannot be told apart from the baseline, while the strict
    count alone would call it significant."""
    if degenerate and observed == 0:
        return 1.0
    # "greater" beyond float rounding: a pseudo-system that is the real one again (e.g.
    # only identical segments swapped) must tie, whatever order numpy summed in.
    count = int(np.count_nonzero(sample_stats > observed + _TIE_TOL * max(1.0, abs(observed))))
    return (count + 1) / (len(sample_stats) + 1)


def _results(
    names: list[str], metric: str, test: str, real: np.ndarray, p_values: list[float | None],
    boot: np.ndarray | None, n_resamples: int, n_confidence: int, seed: int, signature: str, hib: bool,
) -> dict[str, PairedTestResult]:
    out: dict[str, PairedTestResult] = {}
    for s, name in enumerate(names):
        mean = std = lo = hi = None
        if boot is not None:
            mean, lo, hi = estimate_ci(boot[:, s])
            std = float(boot[:, s].std())
        out[name] = PairedTestResult(
            system=name, baseline=names[0], metric=metric, test=test, score=float(real[s]),
            baseline_score=float(real[0]), delta=float(real[s] - real[0]), p_value=p_values[s],
            ci_low=lo, ci_high=hi, mean=mean, std=std, n_resamples=n_resamples,
            n_confidence=n_confidence if boot is not None else 0, seed=seed, signature=signature,
            higher_is_better=hib,
        )
    return out


def iter_significant(results: Mapping[str, PairedTestResult], alpha: float = 0.05) -> Iterator[PairedTestResult]:
    """The non-baseline results whose difference from the baseline is significant."""
    return (r for r in results.values() if not r.is_baseline and r.significant(alpha))
