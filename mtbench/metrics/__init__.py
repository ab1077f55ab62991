"""Metric registry. Entries are lazy "module:attr" factories so that neural metrics
import their heavy dependencies only when a run asks for them."""

from __future__ import annotations

from typing import Any, Callable

from mtbench.registry import Registry

MetricFactory = Callable[[], Any]

METRICS: Registry[MetricFactory] = Registry("metric", entry_point_group="mtbench.metrics")
METRICS.register("bleu", "mtbench.metrics.sacrebleu_metrics:Bleu")
METRICS.register("chrf", "mtbench.metrics.sacrebleu_metrics:Chrf")
METRICS.register("chrf++", "mtbench.metrics.sacrebleu_metrics:chrf_plus_plus")
METRICS.register("ter", "mtbench.metrics.sacrebleu_metrics:Ter")
METRICS.register("off-target", "mtbench.metrics.offtarget:OffTarget")


def make_metric(name: str) -> Any:
    return METRICS.get(name)()


def check_metric_names(names: list[str]) -> None:
    """Fail before any work starts if a metric name is unknown (did-you-mean error)."""
    for name in names:
        if name not in METRICS:
            METRICS.get(name)
