"""The metric interface: per-segment statistics kept apart from aggregation.

A metric scores every system of one direction in one call (so shared work, such as
reference n-grams, is done once) and returns, per system, the corpus score, a
signature string that makes the number reproducible, per-segment scores and the
per-segment sufficient statistics that paired significance tests resample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence


@dataclass(frozen=True)
class ScoringContext:
    """What a metric may need to know about the direction it scores."""

    src_lang: str
    tgt_lang: str
    sources: Sequence[str]
    references: Mapping[str, Sequence[str]]  # ref id -> lines (already the selected refs)
    preset: str = "default"


@dataclass
class MetricResult:
    metric: str  # registry name, e.g. "bleu"
    score: float  # corpus score, as the metric reports it (BLEU 0-100, COMET raw)
    signature: str
    segment_scores: list[float]
    segment_stats: list[list[float]] | None = None  # sufficient statistics per segment
    higher_is_better: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class Metric(Protocol):
    name: str
    higher_is_better: bool

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        """Score every system (name -> hypothesis lines) of one direction."""
        ...

    def config(self) -> dict[str, Any]:
        """Every setting that changes the numbers (part of the cache key)."""
        ...
