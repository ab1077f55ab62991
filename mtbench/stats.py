"""Paired significance tests (bootstrap resampling, approximate randomization).

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
* the corpus metric is then computed for all (R, systems) rows by the metric's own
  vectorized ``aggregate`` (BLEU, chrF, TER, a plugin's corpus statistics, or the
  mean of segment scores): the test asks the metric, it keeps no table of metrics.

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
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from mtbench.metrics.base import MetricResult, mean_from_stats, segment_score_stats

DEFAULT_SEED = 12345
DEFAULT_BOOTSTRAP_RESAMPLES = 1000
DEFAULT_AR_TRIALS = 10000
TESTS = {"bs": "paired bootstrap resampling", "ar": "approximate randomization"}


class Aggregating(Protocol):
    """What a paired test needs from a metric: its corpus aggregation of summed segment
    statistics (..., k) -> (...), its direction and its name. Every ``Metric`` is one."""

    name: str
    higher_is_better: bool

    def aggregate(self, stats: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class SegmentMean:
    """A metric whose corpus score is the mean of its segment scores, for testing
    plain per-segment numbers (the contract's default aggregation)."""

    name: str = "mean"
    higher_is_better: bool = True

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        return mean_from_stats(stats)


_FLOAT32_EXACT = 2**24  # every integer of magnitude below this is a float32
_TIE_TOL = 1e-12  # relative: differences this close to the observed one count as ties
_CHUNK_ELEMENTS = 1 << 23  # rows of the (R, L) weight matrix converted at a time (~32 MB float32)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


POWER = 0.8  # the usual target: a real difference of this size is found 4 times in 5


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
    delta_sd: float | None = None  # SD of the resampled deltas (system - baseline); None for the baseline's row
    segments: int = 0  # segments the test saw

    def segments_for_power(self, alpha: float = 0.05, power: float = POWER) -> int | None:
        """Segments at which this difference would be significant with ``power``
        (``segments_for_power``); None for the baseline, a zero difference or no resamples."""
        if self.is_baseline or self.delta_sd is None:
            return None
        return segments_for_power(self.delta, self.delta_sd, self.segments, alpha, power)

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


class PairedTest:
    """One paired test over a fixed set of systems: the resamples (bootstrap indices or
    AR swap masks) are drawn once from ``default_rng(seed)`` and shared by every
    comparison, so the table's "system vs baseline" results and a pairwise matrix over
    any subset of the systems are the same numbers.

    ``systems`` maps name -> per-segment statistics (L, k) as the metric defines them
    (a 1-D array is taken as segment scores: statistics [score, 1]). ``test`` is "bs"
    or "ar"; ``n`` defaults to 1000 resamples / 10000 trials as in sacrebleu; AR draws
    a confidence bootstrap of ``n_confidence`` resamples after its mask (0: none).
    ``seed=None`` draws a seed from the OS, which is recorded in the signature."""

    def __init__(self, systems: Mapping[str, Any], metric: Aggregating, test: str = "bs", *, n: int | None = None,
                 seed: int | None = DEFAULT_SEED, n_confidence: int = DEFAULT_BOOTSTRAP_RESAMPLES) -> None:
        if test not in TESTS:
            raise ValueError(f"unknown test {test!r}: choose 'bs' (paired bootstrap) or 'ar' (approximate randomization)")
        self.names, self.stats = _prepare(systems, metric)
        self.metric = metric
        self.test = test
        self.n = int(n) if n is not None else (DEFAULT_BOOTSTRAP_RESAMPLES if test == "bs" else DEFAULT_AR_TRIALS)
        _check_n(self.n, "n_resamples" if test == "bs" else "n_trials")
        if n_confidence < 0:
            raise ValueError(f"n_confidence must be >= 0, got {n_confidence}")
        self.seed = _resolve_seed(seed)
        rng = np.random.default_rng(self.seed)
        n_seg = self.stats.shape[1]
        self._swap: np.ndarray | None = None
        if test == "bs":
            idx = rng.choice(n_seg, size=(self.n, n_seg), replace=True)
            self.n_confidence = self.n
        else:
            self._swap = rng.integers(2, size=(self.n, n_seg), dtype=bool)  # True: pseudo-system A takes the first's
            idx = rng.choice(n_seg, size=(n_confidence, n_seg), replace=True) if n_confidence > 0 else None
            self.n_confidence = n_confidence
        self.totals = self.stats.sum(axis=1)  # (S, k)
        self.real = np.asarray(metric.aggregate(self.totals), dtype=np.float64)  # (S,)
        self.boot = _bootstrap_scores(self.stats, idx, metric.aggregate) if idx is not None else None  # (R, S)
        self.signature = (f"bs:{self.n}" if test == "bs" else f"ar:{self.n}" + (
            f"|bs:{self.n_confidence}" if self.n_confidence > 0 else "")) + f"|seed:{self.seed}"

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"{name!r} is not one of the systems: {self.names}")
        return self.names.index(name)

    def p_values(self, baseline: str, others: Sequence[str]) -> list[float]:
        """p-value of each of ``others`` against ``baseline``."""
        b = self._index(baseline)
        idx = [self._index(o) for o in others]
        if not idx:
            return []
        if self.test == "bs":
            out = []
            for s in idx:
                sample_diffs = np.abs(self.boot[:, s] - self.boot[:, b])
                out.append(_p_value(sample_diffs - sample_diffs.mean(), abs(self.real[s] - self.real[b]),
                                    degenerate=not np.any(sample_diffs)))
            return out
        k = self.stats.shape[2]
        n_seg = self.stats.shape[1]
        diff = self.stats[b][None] - self.stats[idx]  # (S', L, k): baseline minus system
        flat = diff.transpose(1, 0, 2).reshape(n_seg, -1)  # (L, S' * k)
        a = _weighted_sums(self._swap, flat, bound=np.abs(flat).sum(axis=0)).reshape(self.n, len(idx), k)
        a += self.totals[idx]  # A = swap @ baseline + ~swap @ system
        other = self.totals[b] + self.totals[idx] - a  # B = the other half of each swap
        trial_diffs = np.abs(self.metric.aggregate(a) - self.metric.aggregate(other))  # (R, S')
        return [_p_value(trial_diffs[:, j], abs(self.real[s] - self.real[b]), degenerate=not np.any(trial_diffs[:, j]))
                for j, s in enumerate(idx)]

    def against(self, baseline: str | None = None) -> dict[str, PairedTestResult]:
        """Every system against the baseline (default: the first), baseline first."""
        baseline = self.names[0] if baseline is None else baseline
        b = self._index(baseline)
        others = [n for n in self.names if n != baseline]
        p = dict(zip(others, self.p_values(baseline, others)))
        out: dict[str, PairedTestResult] = {}
        for name in [baseline] + others:
            s = self._index(name)
            mean = std = lo = hi = delta_sd = None
            if self.boot is not None:
                mean, lo, hi = estimate_ci(self.boot[:, s])
                std = float(self.boot[:, s].std())
                if s != b:
                    delta_sd = float((self.boot[:, s] - self.boot[:, b]).std())
            out[name] = PairedTestResult(
                system=name, baseline=baseline, metric=getattr(self.metric, "name", "mean"), test=self.test,
                score=float(self.real[s]), baseline_score=float(self.real[b]), delta=float(self.real[s] - self.real[b]),
                p_value=p.get(name), ci_low=lo, ci_high=hi, mean=mean, std=std, n_resamples=self.n,
                n_confidence=self.n_confidence if self.boot is not None else 0, seed=self.seed,
                signature=self.signature, higher_is_better=bool(self.metric.higher_is_better), delta_sd=delta_sd,
                segments=int(self.stats.shape[1]))
        return out

    def pairwise(self, names: Sequence[str] | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(names, p, delta) with p[i, j] the p-value of names[i] against names[j] and
        delta[i, j] = score[i] - score[j]; NaN on the diagonal."""
        names = list(self.names if names is None else names)
        n = len(names)
        p = np.full((n, n), np.nan)
        delta = np.full((n, n), np.nan)
        for j, col in enumerate(names):
            others = [r for r in names if r != col]
            for row, value in zip(others, self.p_values(col, others)):
                i = names.index(row)
                p[i, j] = value
                delta[i, j] = self.real[self._index(row)] - self.real[self._index(col)]
        return names, p, delta


def paired_bootstrap(systems: Mapping[str, Any], metric: Aggregating, *, baseline: str | None = None,
                     n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES, seed: int | None = DEFAULT_SEED,
                     ) -> dict[str, PairedTestResult]:
    """Paired bootstrap resampling (Koehn 2004; sacrebleu's ``--paired-bs``) of every
    system against the baseline (default: the first system); see ``PairedTest``."""
    return PairedTest(systems, metric, "bs", n=n_resamples, seed=seed).against(baseline)


def paired_approximate_randomization(systems: Mapping[str, Any], metric: Aggregating, *, baseline: str | None = None,
                                     n_trials: int = DEFAULT_AR_TRIALS, n_confidence: int = DEFAULT_BOOTSTRAP_RESAMPLES,
                                     seed: int | None = DEFAULT_SEED) -> dict[str, PairedTestResult]:
    """Paired approximate randomization (Riezler & Maxwell 2005; sacrebleu's
    ``--paired-ar``): each trial swaps the baseline's and the system's statistics on a
    random half of the segments; the p-value counts trials whose pseudo-systems differ
    by more than the real systems. See ``PairedTest``."""
    return PairedTest(systems, metric, "ar", n=n_trials, seed=seed, n_confidence=n_confidence).against(baseline)


def paired_test(results: Mapping[str, MetricResult], metric: Aggregating, test: str = "bs", *,
                baseline: str | None = None, n_samples: int | None = None, seed: int | None = DEFAULT_SEED,
                n_confidence: int = DEFAULT_BOOTSTRAP_RESAMPLES) -> dict[str, PairedTestResult]:
    """A paired test on what ``metric.score_systems`` returned (system name ->
    ``MetricResult``): its segment statistics, aggregated by the metric itself.

    Raises ValueError when the metric's aggregation does not reproduce a system's
    reported score (the statistics would be resampled as something else)."""
    if not results:
        raise ValueError("no systems to compare")
    inputs = {name: res.statistics() for name, res in results.items()}
    for name, res in results.items():
        own = float(metric.aggregate(inputs[name].sum(axis=0)))
        if not math.isclose(own, res.score, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"{getattr(metric, 'name', metric)}: aggregate() gives {own} for {name!r} but the metric "
                             f"reported {res.score}")
    return PairedTest(inputs, metric, test, n=n_samples, seed=seed, n_confidence=n_confidence).against(baseline)


def segments_for_power(delta: float, delta_sd: float, segments: int, alpha: float = 0.05,
                       power: float = POWER) -> int | None:
    """How many segments a paired test needs to call a difference of ``delta``
    significant at ``alpha`` (two-sided) with probability ``power``, from a pilot of
    ``segments`` segments whose resampled deltas have SD ``delta_sd``.

    The normal approximation of a pilot study: the delta's standard error shrinks as
    1/sqrt(n), so n = segments * ((z[1 - alpha/2] + z[power]) * delta_sd / |delta|)^2.
    An estimate for planning (the pilot's own delta is taken as the true one), not a
    test; None for a zero difference or a degenerate spread."""
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha}, {power}")
    if segments < 1 or delta == 0 or not math.isfinite(delta) or not math.isfinite(delta_sd) or delta_sd <= 0:
        return None
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return max(1, math.ceil(segments * (z * delta_sd / abs(delta)) ** 2))


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


def _prepare(systems: Mapping[str, Any], metric: Aggregating) -> tuple[list[str], np.ndarray]:
    """Names and statistics (S, L, k) float64, checked."""
    if not systems:
        raise ValueError("no systems to compare")
    label = getattr(metric, "name", "metric")
    names = list(systems)
    arrays = []
    for name in names:
        a = np.asarray(systems[name], dtype=np.float64)
        if a.ndim == 1:
            a = segment_score_stats(a)
        elif a.ndim != 2:
            raise ValueError(f"{label}: system {name!r} needs (segments, stats) statistics, got shape {a.shape}")
        arrays.append(a)
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        detail = ", ".join(f"{n}: {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"{label}: systems differ in number of segments or statistics ({detail})")
    stats = np.stack(arrays)
    if stats.shape[1] == 0:
        raise ValueError(f"{label}: no segments to resample")
    if not np.all(np.isfinite(stats)):
        raise ValueError(f"{label}: statistics or segment scores contain NaN or infinity")
    return names, stats


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


def _bootstrap_scores(stats: np.ndarray, idx: np.ndarray, agg: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
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


def iter_significant(results: Mapping[str, PairedTestResult], alpha: float = 0.05) -> Iterator[PairedTestResult]:
    """The non-baseline results whose difference from the baseline is significant."""
    return (r for r in results.values() if not r.is_baseline and r.significant(alpha))
