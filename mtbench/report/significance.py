"""Paired significance of every model against a baseline, for every task and metric,
added to a results dict (the content of results.json).

Per-segment data come through a loader, so the same code serves one run directory
(``mtbench run``/``report``) and several (``mtbench compare``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mtbench.errors import MtbenchError
from mtbench.stats import (DEFAULT_AR_TRIALS, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_SEED, paired_approximate_randomization,
                           paired_bootstrap)

#: (task, model, metric) -> per-segment statistics (L, k) or per-segment scores (L,)
SegmentLoader = Callable[[str, str, str], np.ndarray]

TESTS = ("bs", "ar", "none")


def resolve_baseline(models: dict[str, Any], metric: str, baseline: str) -> str | None:
    """The baseline model of one task and metric: a named model, or the best one."""
    scored = {m: v[metric] for m, v in models.items() if metric in v}
    if not scored:
        return None
    if baseline != "best":
        return baseline if baseline in scored else None
    higher = next(iter(scored.values()))["higher_is_better"]
    return (max if higher else min)(scored, key=lambda m: scored[m]["score"])


def add_significance(results: dict[str, Any], load: SegmentLoader, test: str = "bs", baseline: str = "best",
                     n: int | None = None, seed: int = DEFAULT_SEED, alpha: float = 0.05) -> None:
    if test not in TESTS:
        raise MtbenchError(f"unknown significance test {test!r}: use bs (paired bootstrap), ar (approximate randomization) or none")
    if test == "none":
        results["significance"] = {"test": "none"}
        return
    n = n or (DEFAULT_BOOTSTRAP_RESAMPLES if test == "bs" else DEFAULT_AR_TRIALS)
    signature = None
    for task_name, task in results["tasks"].items():
        for metric in results["metrics"]:
            base = resolve_baseline(task["models"], metric, baseline)
            models = [m for m, v in task["models"].items() if metric in v]
            if base is None or len(models) < 2:
                continue
            order = [base] + [m for m in models if m != base]
            data = {m: load(task_name, m, metric) for m in order}
            if test == "bs":
                res = paired_bootstrap(data, metric, baseline=base, n_resamples=n, seed=seed)
            else:
                res = paired_approximate_randomization(data, metric, baseline=base, n_trials=n, seed=seed)
            for m, r in res.items():
                entry = task["models"][m][metric]
                entry.update(baseline=base, p_value=r.p_value, ci_low=r.ci_low, ci_high=r.ci_high,
                             verdict=r.verdict(alpha))
                signature = r.signature
    results["significance"] = {"test": test, "n": n, "seed": seed, "alpha": alpha, "baseline": baseline,
                               "signature": signature}
