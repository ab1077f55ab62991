"""The statistics stage: paired significance of every model against a baseline, for
every task and metric, and pairwise matrices for the systems a figure shows, all from
one ``PairedTest`` per (task, metric), so tables and figures share their resamples.

Statistics come through a loader, so the same code serves one run directory (the
scoring stage, ``mtbench report``) and several (``mtbench compare``). The metric
objects say how statistics aggregate and which direction is better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.results import Comparison, Pairwise, Results, Significance, TaskResult
from mtbench.stop import checkpoint
from mtbench.stats import DEFAULT_AR_TRIALS, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_SEED, TESTS, Aggregating, PairedTest

#: (task, model, metric) -> per-segment statistics (L, k)
SegmentLoader = Callable[[str, str, str], np.ndarray]

TEST_CHOICES = (*TESTS, "none")


@dataclass(frozen=True)
class SignificanceOptions:
    test: str = "bs"  # "bs", "ar" or "none"
    n_resamples: int | None = None  # default 1000 resamples (bs) / 10000 trials (ar)
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    baseline: str = "best"

    def __post_init__(self) -> None:
        if self.test not in TEST_CHOICES:
            raise MtbenchError(f"unknown significance test {self.test!r}: use bs (paired bootstrap), "
                               f"ar (approximate randomization) or none")
        if self.n_resamples is not None and (not isinstance(self.n_resamples, int) or self.n_resamples < 1):
            raise MtbenchError(f"--n-resamples must be a positive integer, got {self.n_resamples!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise MtbenchError(f"--seed must be a non-negative integer (numpy's generators take no negative seed), "
                               f"got {self.seed!r}")
        if not 0 < self.alpha < 1:
            raise MtbenchError(f"alpha must be between 0 and 1, got {self.alpha!r}")

    @property
    def n(self) -> int | None:
        if self.test == "none":
            return None
        return self.n_resamples or (DEFAULT_BOOTSTRAP_RESAMPLES if self.test == "bs" else DEFAULT_AR_TRIALS)

    def settings(self) -> tuple[object, ...]:
        """Comparable with ``Significance.settings()``: same settings, same numbers."""
        if self.test == "none":
            return ("none", None, None, self.alpha, self.baseline)
        return (self.test, self.n, self.seed, self.alpha, self.baseline)


def resolve_baseline(task: TaskResult, higher_is_better: bool, metric: str, baseline: str) -> str | None:
    """The baseline of one task and metric: a named model, or the best one."""
    scored = {m: per[metric].score for m, per in task.scores.items() if metric in per}
    if not scored:
        return None
    if baseline != "best":
        return baseline if baseline in scored else None
    return (max if higher_is_better else min)(scored, key=lambda m: scored[m])


def check_baseline(results: Results, baseline: str) -> list[str]:
    """A named baseline must be a system of these results (did-you-mean otherwise);
    the directions it has no output for carry no marks, which is said once."""
    if baseline == "best":
        return []
    if baseline not in results.models:
        raise MtbenchError(f"--baseline {baseline!r} is not a system of this run: "
                           f"{did_you_mean(baseline, list(results.models))} (or use best)")
    missing = [t for t in results.scored_tasks if baseline not in results.tasks[t].scores]
    if missing:
        return [f"baseline {baseline!r} has no output for {len(missing)} direction(s), which carry no significance "
                f"marks: {', '.join(missing)}"]
    return []


def add_significance(results: Results, load: SegmentLoader, metrics: Mapping[str, Aggregating],
                     options: SignificanceOptions,
                     pairwise_for: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> None:
    """Set every score's comparison with its baseline and ``results.significance``.

    ``pairwise_for``: task -> metric -> systems whose pairwise matrix a figure shows."""
    for _, _, _, score in results.iter_scores():
        score.comparison = None
    if options.test == "none":
        results.significance = Significance(test="none", alpha=options.alpha, baseline=options.baseline)
        return
    notes = check_baseline(results, options.baseline)
    for name, info in results.metrics.items():
        declared = bool(metrics[name].higher_is_better)
        if declared != info.higher_is_better:
            raise MtbenchError(f"metric {name!r} now says {'higher' if declared else 'lower'} is better but was scored "
                               f"as {info.direction}; re-score the run with `mtbench score --run RUN_DIR`")
    signature = None
    pairwise: dict[str, dict[str, Pairwise]] = {}
    for task_name in results.scored_tasks:
        task = results.tasks[task_name]
        for metric, info in results.metrics.items():
            models = task.models_with(metric)
            base = resolve_baseline(task, info.higher_is_better, metric, options.baseline)
            if base is None or len(models) < 2:
                continue
            order = [base] + [m for m in models if m != base]
            test = PairedTest({m: load(task_name, m, metric) for m in order}, metrics[metric], options.test,
                              n=options.n, seed=options.seed)
            for model, r in test.against(base).items():
                task.scores[model][metric].comparison = Comparison(base, r.verdict(options.alpha), r.p_value,
                                                                   r.ci_low, r.ci_high, r.segments_for_power(options.alpha))
            signature = test.signature
            checkpoint("significance", f"{task_name}:{metric}")
            shown = [s for s in (pairwise_for or {}).get(task_name, {}).get(metric, []) if s in models]
            if len(shown) >= 2:
                names, p, d = test.pairwise(shown)
                pairwise.setdefault(task_name, {})[metric] = Pairwise(names, _nullable(p), _nullable(d))
    results.significance = Significance(options.test, options.n, options.seed, options.alpha, options.baseline,
                                        signature, pairwise, notes)


def _nullable(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in matrix]
