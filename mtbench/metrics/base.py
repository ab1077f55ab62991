"""The metric contract: a metric owns its meaning.

Shaped after sacrebleu's ``sacrebleu/metrics/base.py``, where statistics, aggregation
and signature live in the metric. Every built-in and plugin metric subclasses
``Metric`` and declares, in one place:

* ``score_systems``: every system of one direction scored in one call (shared work,
  such as reference n-grams, is done once). Each ``MetricResult`` carries the corpus
  score, the signature, segment scores and per-segment sufficient statistics;
* ``aggregate``: the corpus score from *summed* segment statistics, for any leading
  shape. This is what the paired tests call on every resample, so a metric with
  corpus statistics (BLEU's n-gram counts, an error rate's errors / words) is
  resampled as itself, never as a mean of segment scores. The default is the mean of
  segment scores, with statistics ``[score, 1]`` per segment;
* ``higher_is_better``: the direction, which significance verdicts, "best" marks and
  sorting follow;
* ``display_scale`` and ``unit``: how tables and figures print the score (COMET is
  stored raw and shown x100; off-target is a percentage);
* ``reference_floor``: optionally, the score of the reference itself (off-target);
* ``verbose`` and ``detail_columns``: how the corpus details print (sacrebleu's
  ``verbose_score`` line; columns of a per-direction details table);
* ``caveat``: optionally, a sentence a reader must see for a direction;
* ``failure_profile``: the metric flags one failure mode per segment (score 100 when
  the segment shows it, 0 when not), so its corpus score is the rate in % of lines and
  the report's failures table, examples and output viewer pick it up.

Significance, leaderboards, figures and the CLI ask the metric object (or the
``MetricInfo`` it recorded in results.json); nobody keeps a table keyed by metric name.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from mtbench.errors import MtbenchError


@dataclass(frozen=True)
class GenerationRecord:
    """What the run directory knows about how one system's outputs were made. A
    precomputed system (``kind`` "files") has none of it: no prompt, no token counts."""

    kind: str  # "files", "files:DIR", "generated" or "python"
    adapter: str | None = None  # the prompt adapter's registry name
    prompts: Sequence[str] | None = None  # the exact prompt of every segment
    new_tokens: Sequence[int] | None = None  # tokens generated per segment
    max_new_tokens: int | None = None  # the decoding limit those counts ran against

    def fingerprint(self, fields: Sequence[str]) -> dict[str, Any]:
        """The named fields as a stable digest (part of a score's cache key)."""
        import hashlib
        import json

        blob = json.dumps({f: getattr(self, f) for f in fields}, ensure_ascii=False, sort_keys=True, default=list)
        return {"generation": hashlib.sha256(blob.encode()).hexdigest()}


@dataclass(frozen=True)
class ScoringContext:
    """What a metric may need to know about the direction it scores."""

    src_lang: str
    tgt_lang: str
    sources: Sequence[str]
    references: Mapping[str, Sequence[str]]  # ref id -> lines (already the selected refs)
    preset: str = "default"
    generations: Mapping[str, GenerationRecord] = field(default_factory=dict)  # system -> how it was made

    def generation(self, system: str) -> GenerationRecord:
        return self.generations.get(system) or GenerationRecord("files")

    @property
    def primary_reference(self) -> Sequence[str]:
        return next(iter(self.references.values()), [""] * len(self.sources))


def segment_score_stats(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """(L,) segment scores -> (L, 2) statistics [score, 1], which ``mean_from_stats``
    turns back into the mean: how segment-level metrics (COMET, BLEURT, off-target
    ratio) are resampled by the same machinery as corpus metrics."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(f"segment scores must be one number per segment, got shape {s.shape}")
    return np.stack([s, np.ones_like(s)], axis=-1)


def mean_from_stats(stats: np.ndarray) -> np.ndarray:
    """Mean segment score for summed (..., 2) [score_sum, segment_count] statistics."""
    stats = np.asarray(stats, dtype=np.float64)
    return stats[..., 0] / stats[..., 1]


@dataclass
class MetricResult:
    """One system's score on one direction.

    ``segment_stats`` are the per-segment sufficient statistics that ``aggregate``
    sums over; left out, they are ``[score, 1]`` per segment (a mean metric).
    ``details`` are corpus-level details (BLEU's precisions, off-target's wrong
    languages); ``segment_details`` are per-segment fields stored beside each
    segment's score (off-target's language and confidence)."""

    metric: str  # registry name, e.g. "bleu"
    score: float  # corpus score, as the metric reports it (BLEU 0-100, COMET raw)
    signature: str
    segment_scores: list[float]
    segment_stats: np.ndarray | list[list[float]] | None = None  # (L, k); arrays travel between processes fastest
    details: dict[str, Any] = field(default_factory=dict)
    segment_details: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.segment_stats is None:
            self.segment_stats = segment_score_stats(self.segment_scores)

    def statistics(self) -> np.ndarray:
        """(L, k) float64 statistics, as the paired tests resample them."""
        stats = np.asarray(self.segment_stats, dtype=np.float64)
        if stats.size == 0:
            return np.zeros((len(self.segment_scores), 2))
        return stats.reshape(len(self.segment_scores), -1)


@dataclass(frozen=True)
class MetricInfo:
    """What a metric declared about its numbers, recorded in results.json so that
    reports over old runs (and pandas users) read the meaning with the number."""

    name: str
    higher_is_better: bool
    display_scale: float = 1.0
    unit: str = ""
    aggregation: str = "mean of segment scores"
    failure_profile: bool = False  # a per-segment failure flag (100 = shows the failure)

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    def display(self, value: float | None) -> float | None:
        return None if value is None else value * self.display_scale

    def means_the_same(self, other: "MetricInfo") -> bool:
        """Both declarations read the numbers the same way (a run scored before a
        presentation-only field existed still compares)."""
        keys = ("name", "higher_is_better", "display_scale", "unit", "aggregation")
        return all(getattr(self, k) == getattr(other, k) for k in keys)

    def heading(self) -> str:
        """``bleu (higher is better)``, ``comet (higher is better, x100)``."""
        parts = [self.direction]
        if self.display_scale != 1.0:
            parts.append(f"x{self.display_scale:g}")
        if self.unit:
            parts.append(self.unit)
        return f"{self.name} ({', '.join(parts)})"

    def axis_label(self) -> str:
        scale = f" x{self.display_scale:g}" if self.display_scale != 1.0 else ""
        unit = f" ({self.unit})" if self.unit else ""
        arrow = "↑" if self.higher_is_better else "↓"
        return f"{self.name}{scale}{unit} {arrow}"

    def better(self, a: float, b: float) -> bool:
        """a is strictly better than b in this metric's direction."""
        return a > b if self.higher_is_better else a < b

    def best(self, values: Sequence[float]) -> float:
        return max(values) if self.higher_is_better else min(values)


class Metric(ABC):
    """Base class of every metric (see the module docstring for the contract).

    Subclasses set ``name`` and ``higher_is_better`` and implement ``config`` and
    ``score_systems``; the rest has defaults for a metric whose corpus score is the
    mean of its segment scores."""

    name: str
    higher_is_better: ClassVar[bool]
    display_scale: ClassVar[float] = 1.0
    unit: ClassVar[str] = ""
    heavy: ClassVar[bool] = False  # loads a model: loaded once per run, and `mtbench run` scores in a fresh process
    failure_profile: ClassVar[bool] = False  # flags a failure mode per segment (100 = failed): the failures table
    #: GenerationRecord fields the metric reads (they join its scores' cache key).
    reads_generation: ClassVar[tuple[str, ...]] = ()

    def gpus_wanted(self) -> int:
        """GPUs this metric uses when it has them: what a scheduler (``--executor ray``)
        requests for it, clamped to what the cluster has. Only heavy metrics use any."""
        return 0

    @abstractmethod
    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        """Every setting that changes the numbers (part of the score cache key)."""

    @abstractmethod
    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        """Score every system (name -> hypothesis lines) of one direction."""

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        """Corpus scores for summed statistics of shape (..., k) -> (...)."""
        return mean_from_stats(stats)

    def reference_floor(self, ctx: ScoringContext) -> float | None:
        """The score of the reference itself, where that is meaningful (None: not)."""
        return None

    def verbose(self, details: Mapping[str, Any]) -> str | None:
        """One line of corpus details, as sacrebleu prints ``verbose_score``."""
        return None

    def detail_columns(self, details: Mapping[str, Any]) -> dict[str, str]:
        """Columns of the report's per-direction details table (none: no table)."""
        return {}

    def not_applicable(self, record: GenerationRecord) -> str | None:
        """Why this metric cannot judge a system made this way (None: it can). The
        scoring stage leaves such systems out and the report says why, once."""
        return None

    def caveat(self, ctx: ScoringContext) -> str | None:
        """A sentence a reader of this direction's scores must see (None: none)."""
        return None

    def info(self) -> MetricInfo:
        corpus = type(self).aggregate is not Metric.aggregate
        return MetricInfo(self.name, bool(self.higher_is_better), float(self.display_scale), self.unit,
                          "corpus statistics" if corpus else "mean of segment scores", bool(self.failure_profile))

    def check_result(self, system: str, result: MetricResult) -> None:
        """The contract a paired test relies on: ``aggregate`` of the summed segment
        statistics is the reported corpus score. A plugin that breaks it would get
        resampled as something other than what it reports."""
        stats = result.statistics()
        if len(result.segment_scores) == 0:
            return
        own = float(self.aggregate(stats.sum(axis=0)))
        if not math.isclose(own, result.score, rel_tol=1e-9, abs_tol=1e-9):
            raise MtbenchError(
                f"metric {self.name!r}: aggregate() of its segment statistics gives {own!r} for {system!r} but "
                f"score_systems() reported {result.score!r}; make the metric's aggregate() match its corpus score")


def check_is_metric(name: str, obj: Any) -> Metric:
    """A registered factory must produce a ``Metric``: one line that says how, if not."""
    if isinstance(obj, Metric):
        return obj
    raise MtbenchError(
        f"metric {name!r} ({type(obj).__module__}.{type(obj).__name__}) does not implement the metric contract: "
        f"subclass mtbench.metrics.base.Metric (name, higher_is_better, config, score_systems; aggregate for corpus "
        f"statistics)")
