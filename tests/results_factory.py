"""Results objects built by hand for report tests: every number is the test's own."""

from __future__ import annotations

from typing import Mapping

from mtbench.metrics.base import MetricInfo
from mtbench.results import ModelInfo, Results, Score, TaskResult


def make_results(scores: Mapping[str, Mapping[str, Mapping[str, float]]], higher: Mapping[str, bool],
                 zero_shot: tuple[str, ...] = (), segments: int = 100, in_test_set: int = 100,
                 under_test: tuple[str, ...] = ()) -> Results:
    """scores: task -> model -> metric -> score; higher: metric -> higher is better."""
    tasks = {}
    models: dict[str, ModelInfo] = {}
    for name, per_model in scores.items():
        testset, pair = name.split(":")
        src, tgt = pair.split("-")
        for m in per_model:
            models.setdefault(m, ModelInfo(m, "files", m in under_test, "run", m))
        tasks[name] = TaskResult(name, testset, pair, src, tgt, name in zero_shot, segments, in_test_set, ["A"],
                                 {m: {k: Score(v, f"sig-{k}") for k, v in per.items()} for m, per in per_model.items()})
    return Results(preset="default", metrics={k: MetricInfo(k, h) for k, h in higher.items()}, models=models,
                   tasks=tasks, runs=["run"])
