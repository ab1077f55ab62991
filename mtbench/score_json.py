"""`mtbench score --format json|jsonl`: one object per hypothesis file, with
sacrebleu's field names where they exist.

sacrebleu's JSON for one metric is ``{"name", "score", "signature", "verbose_score",
<each signature key: value>}`` (``sacrebleu/metrics/base.py`` ``Score.format``); each
entry of ``scores`` here has the same fields (the name is mtbench's metric name, the
score unrounded) plus ``higher_is_better``, ``display_scale`` and the metric's corpus
``details``. A metric that could not run appears in ``errors`` instead, so the other
metrics' scores are still there.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from mtbench.metrics.base import Metric, MetricResult


def _signature_fields(signature: str) -> dict[str, str]:
    """``nrefs:1|case:mixed|...`` -> {"nrefs": "1", "case": "mixed", ...}; parts
    without a colon (a metric's own name at the front) are left out."""
    out = {}
    for part in signature.split("|"):
        key, sep, value = part.partition(":")
        if sep:
            out[key] = value
    return out


def metric_entry(metric: Metric, result: MetricResult) -> dict[str, Any]:
    info = metric.info()
    entry: dict[str, Any] = {"name": metric.name, "score": result.score, "signature": result.signature}
    verbose = metric.verbose(result.details)
    if verbose:
        entry["verbose_score"] = verbose
    for key, value in _signature_fields(result.signature).items():
        entry.setdefault(key, value)
    entry.update(higher_is_better=info.higher_is_better, display_scale=info.display_scale, details=result.details)
    return entry


def file_document(path: str, name: str, plan: Any, preset: str, metrics: Sequence[Metric],
                  results: Mapping[str, Mapping[str, MetricResult]], errors: Mapping[str, str]) -> dict[str, Any]:
    """Everything scored for one file, with what the scores cover."""
    return {
        "file": path, "task": plan.task.name, "segments": len(plan.source),
        "segments_in_test_set": len(plan.data.source), "refs": list(plan.refs), "preset": preset,
        "scores": [metric_entry(m, results[m.name][name]) for m in metrics if m.name in results],
        "errors": [{"name": m, "error": e} for m, e in errors.items()],
    }
