"""The results model: what a run's scores mean, typed and versioned.

``results.json`` in a run directory is written by one stage only, the scoring stage
(``mtbench run`` / ``mtbench score --run``); ``mtbench report`` and ``compare`` write
the same model into their own output folder and never rewrite a run's files. Every
reader goes through ``Results.load``, which refuses a file of another schema version
with the command that rebuilds it.

Each number carries its scope: the task says how many segments were scored out of
how many the test set has, which references and preset were used; the metric's
declaration (direction, display scale, unit, aggregation) is recorded beside it; the
significance settings (test, resamples, seed, baseline) and every comparison made
under them are part of the same object, so tables and figures cannot disagree.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from mtbench.errors import MtbenchError
from mtbench.metrics.base import MetricInfo
from mtbench.textio import atomic_write_json

SCHEMA_VERSION = 2
FILE_NAME = "results.json"


@dataclass
class Comparison:
    """One score against the baseline of its task and metric."""

    baseline: str
    verdict: str  # "baseline", "better", "worse" (significantly) or "same"
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    # Segments at which this difference would be significant with 80% power (paired
    # bootstrap spread; mtbench.stats.segments_for_power); None: baseline, no difference.
    segments_for_power: int | None = None

    @property
    def significant(self) -> bool:
        return self.verdict in ("better", "worse")


@dataclass
class Score:
    """One (task, model, metric) corpus score with what the metric said about it."""

    score: float
    signature: str
    details: dict[str, Any] = field(default_factory=dict)  # corpus-level details, as the metric reported them
    detail_columns: dict[str, str] = field(default_factory=dict)  # the metric's rendering of them
    verbose: str | None = None  # sacrebleu's verbose_score line, where the metric has one
    comparison: Comparison | None = None


@dataclass
class ModelInfo:
    """A column of the leaderboard. ``under_test``: the user's own model (generated,
    files:DIR or a Python-API translator), always shown and marked in figures;
    otherwise a reference system of the data layout (WMT submissions, released
    LLM outputs)."""

    name: str  # the label in these results ("<run>/<model>" when names collide in a comparison)
    kind: str  # "files" (the data layout's systems), "files:DIR", "generated" or "python"
    under_test: bool
    run: str  # the run directory it was scored in
    name_in_run: str


@dataclass
class TaskResult:
    name: str
    testset: str
    pair: str
    src: str
    tgt: str
    zero_shot: bool
    segments: int  # segments scored
    segments_in_test_set: int
    refs: list[str]
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # model -> metric -> score
    reference_floor: dict[str, float] = field(default_factory=dict)  # metric -> the reference's own score
    caveats: dict[str, str] = field(default_factory=dict)  # metric -> what a reader must know
    not_scored: dict[str, dict[str, str]] = field(default_factory=dict)  # metric -> model -> why it cannot judge it

    @property
    def limited(self) -> bool:
        return self.segments < self.segments_in_test_set

    def score(self, model: str, metric: str) -> Score | None:
        return self.scores.get(model, {}).get(metric)

    def models_with(self, metric: str) -> list[str]:
        return [m for m, per in self.scores.items() if metric in per]


@dataclass
class Pairwise:
    """Every shown system against every other on one task and metric, from the same
    resamples as the table: ``p_values[i][j]`` is systems[i] against systems[j],
    ``deltas[i][j]`` = score[i] - score[j] (raw scale); None on the diagonal."""

    systems: list[str]
    p_values: list[list[float | None]]
    deltas: list[list[float | None]]


@dataclass
class Significance:
    test: str = "none"  # "bs", "ar" or "none"
    n_resamples: int | None = None  # bootstrap resamples or AR trials
    seed: int | None = None
    alpha: float = 0.05
    baseline: str = "best"  # a model name, or "best" (per task and metric)
    signature: str | None = None
    pairwise: dict[str, dict[str, Pairwise]] = field(default_factory=dict)  # task -> metric -> matrix
    notes: list[str] = field(default_factory=list)  # e.g. directions the named baseline has no output for

    def settings(self) -> tuple[Any, ...]:
        return (self.test, self.n_resamples, self.seed, self.alpha, self.baseline)


@dataclass
class Results:
    preset: str
    metrics: dict[str, MetricInfo]
    models: dict[str, ModelInfo]
    tasks: dict[str, TaskResult]
    significance: Significance = field(default_factory=Significance)
    limit: int | None = None
    unavailable: dict[str, dict[str, str]] = field(default_factory=dict)  # metric -> task -> reason
    warnings: list[str] = field(default_factory=list)  # said once on the console and in every report
    runs: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    # --- views ----------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path | None:
        """The run directory these results were scored in (None for a comparison)."""
        return Path(self.runs[0]) if len(self.runs) == 1 else None

    @property
    def empty_tasks(self) -> list[str]:
        """Directions without any system output: left out of tables and averages."""
        return [t for t, info in self.tasks.items() if not info.scores]

    @property
    def scored_tasks(self) -> list[str]:
        return [t for t, info in self.tasks.items() if info.scores]

    @property
    def under_test(self) -> list[str]:
        return [m for m, info in self.models.items() if info.under_test]

    def iter_scores(self) -> Iterator[tuple[str, str, str, Score]]:
        for task, info in self.tasks.items():
            for model, per in info.scores.items():
                for metric, score in per.items():
                    yield task, model, metric, score

    # --- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data = {"schema_version": data.pop("schema_version"), **data}
        return _finite(data)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / FILE_NAME
        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = FILE_NAME) -> "Results":
        version = data.get("schema_version") if isinstance(data, Mapping) else None
        if version != SCHEMA_VERSION:
            raise MtbenchError(f"{where} has results schema version {version!r}, this mtbench reads {SCHEMA_VERSION}; "
                               f"rebuild it with `mtbench score --run RUN_DIR` on its run directory")
        try:
            sig = dict(data["significance"])
            sig["pairwise"] = {t: {m: Pairwise(**p) for m, p in per.items()} for t, per in sig.get("pairwise", {}).items()}
            tasks = {}
            for name, t in data["tasks"].items():
                t = dict(t)
                t["scores"] = {model: {metric: _score(s) for metric, s in per.items()}
                               for model, per in t.get("scores", {}).items()}
                tasks[name] = TaskResult(**t)
            return cls(preset=data["preset"], limit=data.get("limit"),
                       metrics={k: MetricInfo(**v) for k, v in data["metrics"].items()},
                       models={k: ModelInfo(**v) for k, v in data["models"].items()}, tasks=tasks,
                       significance=Significance(**sig), unavailable=dict(data.get("unavailable", {})),
                       warnings=list(data.get("warnings", [])), runs=list(data.get("runs", [])))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MtbenchError(f"{where} is not a valid mtbench results file ({type(exc).__name__}: {exc}); "
                               f"rebuild it with `mtbench score --run RUN_DIR`") from None

    @classmethod
    def load(cls, folder: str | Path) -> "Results":
        path = Path(folder) / FILE_NAME
        if not path.is_file():
            raise MtbenchError(f"{Path(folder)} has no {FILE_NAME}; is it a finished mtbench run directory? "
                               f"(score it with `mtbench score --run {folder}`)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MtbenchError(f"{path} cannot be read ({type(exc).__name__}); rebuild it with "
                               f"`mtbench score --run {folder}`") from None
        return cls.from_dict(data, str(path))


def _score(data: Mapping[str, Any]) -> Score:
    data = dict(data)
    if data.get("comparison") is not None:
        data["comparison"] = Comparison(**data["comparison"])
    return Score(**data)


def _finite(obj: Any) -> Any:
    """JSON has no NaN: missing values are None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
