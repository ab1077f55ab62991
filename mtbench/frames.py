"""A run's results as pandas DataFrames, for analysis outside mtbench's own reports.

    frames = mtbench.load_run("runs/default")
    frames.scores        # one row per (task, model, metric): the leaderboards' numbers
    frames.segments      # one row per (task, model, metric, segment): read on first access
    frames.significance  # the pairwise matrices of the report, in long form

Everything comes from the run's own files (``results.json`` and
``scores/<task>/<model>/<metric>.jsonl``) through ``Results.load`` and ``RunDir``, so the
frames hold exactly the numbers the leaderboards show, never a recomputation. pandas is
imported on use (it costs ~0.5 s to import, which a run that never asks for frames
should not pay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from mtbench.errors import MtbenchError
from mtbench.results import Results
from mtbench.store import RunDir

if TYPE_CHECKING:
    import pandas as pd

SCORE_COLUMNS = ["task", "model", "metric", "score", "display_score", "signature", "higher_is_better", "segments",
                 "segments_in_test_set", "refs", "preset", "under_test", "kind", "run",
                 "baseline", "verdict", "p_value", "ci_low", "ci_high", "segments_for_power"]
SEGMENT_COLUMNS = ["task", "model", "metric", "segment", "score", "run"]
SIGNIFICANCE_COLUMNS = ["task", "metric", "system_a", "system_b", "p_value", "delta", "run"]


def _pandas() -> Any:
    import pandas

    return pandas


@dataclass
class RunFrames:
    """The DataFrames of one run or of several (``run`` column: the run's label).

    ``segments`` is read lazily, on first access, and then kept: the per-segment files
    are far bigger than results.json and most questions (a leaderboard cell, a
    verdict) never need them."""

    scores: "pd.DataFrame"
    significance: "pd.DataFrame"
    runs: dict[str, Path]  # label -> run directory
    _segments: "pd.DataFrame | None" = field(default=None, repr=False)
    _results: dict[str, Results] = field(default_factory=dict, repr=False)

    @property
    def segments(self) -> "pd.DataFrame":
        if self._segments is None:
            pd = _pandas()
            rows = [row for label, res in self._results.items() for row in _segment_rows(res, self.runs[label], label)]
            self._segments = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
        return self._segments


def load_run(path: str | Path, label: str | None = None) -> RunFrames:
    """The DataFrames of one finished run directory (its ``results.json``).
    ``run`` is ``label``, else the run directory's name. The comparison columns are the
    run's own significance (its test, baseline and seed: ``results.json``)."""
    path = Path(path)
    return _frames({label or path.resolve().name: path})


def load_runs(paths: Sequence[str | Path]) -> RunFrames:
    """Several runs' DataFrames, concatenated, with a ``run`` column labelling each
    row by the shortest path suffix that tells the runs apart (as ``mtbench compare``).

    Like ``mtbench compare``, runs whose numbers do not mean the same are refused with
    one line, not merged: a different --preset, a metric declared differently, or a task
    scored on other segments (--limit) or references (--refs). Model names are kept as
    each run has them (group by ``run`` and ``model``); the comparison columns and
    ``significance`` rows stay each run's own, against its own baseline."""
    if not paths:
        raise MtbenchError("load_runs() needs at least one run directory")
    from mtbench.report.build import merge_runs, run_labels

    dirs = [RunDir(p) for p in paths]
    labels = run_labels(dirs)
    if len(dirs) > 1:
        merge_runs(dirs)  # compare's own checks: one source of the rules
    return _frames(dict(zip(labels, (Path(p) for p in paths))))


def _frames(runs: dict[str, Path]) -> RunFrames:
    pd = _pandas()
    results = {label: Results.load(path) for label, path in runs.items()}
    scores = [row for label, res in results.items() for row in _score_rows(res, label)]
    pairs = [row for label, res in results.items() for row in _significance_rows(res, label)]
    return RunFrames(scores=pd.DataFrame(scores, columns=SCORE_COLUMNS),
                     significance=pd.DataFrame(pairs, columns=SIGNIFICANCE_COLUMNS), runs=runs, _results=results)


def _score_rows(res: Results, label: str) -> list[dict[str, Any]]:
    rows = []
    for task, model, metric, score in res.iter_scores():
        info, meta, cmp = res.tasks[task], res.metrics.get(metric), score.comparison
        model_info = res.models.get(model)
        rows.append({
            "task": task, "model": model, "metric": metric, "score": score.score,
            "display_score": meta.display(score.score) if meta else score.score,
            "signature": score.signature, "higher_is_better": meta.higher_is_better if meta else None,
            "segments": info.segments, "segments_in_test_set": info.segments_in_test_set,
            "refs": ",".join(info.refs), "preset": res.preset,
            "under_test": model_info.under_test if model_info else None,
            "kind": model_info.kind if model_info else None, "run": label,
            "baseline": cmp.baseline if cmp else None, "verdict": cmp.verdict if cmp else None,
            "p_value": cmp.p_value if cmp else None, "ci_low": cmp.ci_low if cmp else None,
            "ci_high": cmp.ci_high if cmp else None,
            "segments_for_power": cmp.segments_for_power if cmp else None,
        })
    return rows


def _significance_rows(res: Results, label: str) -> list[dict[str, Any]]:
    rows = []
    for task, per in res.significance.pairwise.items():
        for metric, pw in per.items():
            for i, a in enumerate(pw.systems):
                for j, b in enumerate(pw.systems):
                    if i != j:
                        rows.append({"task": task, "metric": metric, "system_a": a, "system_b": b,
                                     "p_value": pw.p_values[i][j], "delta": pw.deltas[i][j], "run": label})
    return rows


def _segment_rows(res: Results, path: Path, label: str) -> list[dict[str, Any]]:
    run = RunDir(path)
    rows = []
    for task, model, metric, _score in res.iter_scores():
        info = res.models.get(model)
        name = info.name_in_run if info else model
        seg_file = run.score_paths(task, name, metric)[0]
        if not seg_file.is_file():
            raise MtbenchError(f"{seg_file} is missing; rebuild the per-segment scores with `mtbench score --run {path}`")
        for segment, score in enumerate(run.read_score_column(task, name, metric)):  # rows' ids are their order
            rows.append({"task": task, "model": model, "metric": metric, "segment": segment, "score": score,
                         "run": label})
    return rows
