"""Experiment trackers (``--log-to mlflow,wandb``): what a run, a scoring or a training
produced, recorded in MLflow or Weights & Biases.

Neither tracker is a dependency: its package is imported only when named, and a
missing one is a one-line error before any work starts. Logging reads the run
directory (results.json, report/) after the scoring stage wrote it, so `mtbench run`
and `mtbench score --run` log the same things; it never writes there, so a tracker
that fails leaves a complete run directory (``log_run`` says so and returns False).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.trackers.base import Tracker

__all__ = ["TRACKERS", "Tracker", "check_names", "check_available", "make_tracker", "log_run", "StepLogger",
           "split_names", "TRACKER_FAILED_EXIT"]

#: Exit status of a command whose work is complete but whose tracker logging failed.
TRACKER_FAILED_EXIT = 3


@dataclass(frozen=True)
class TrackerSpec:
    """How to build a tracker and what to install when its package is missing."""

    factory: str  # "module:Class"
    module: str  # the package it imports
    pip: str  # what `pip install` needs


TRACKERS: dict[str, TrackerSpec] = {
    "mlflow": TrackerSpec("mtbench.trackers.mlflow_tracker:MlflowTracker", "mlflow", "mlflow"),
    "wandb": TrackerSpec("mtbench.trackers.wandb_tracker:WandbTracker", "wandb", "wandb"),
}


def split_names(values: Iterable[str] | str | None) -> list[str]:
    """``["mlflow,wandb", "mlflow"]`` -> ``["mlflow", "wandb"]`` (repeatable and comma-separated)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    names = [n.strip().lower() for v in values for n in str(v).split(",") if n.strip()]
    return list(dict.fromkeys(names))


def check_names(names: Sequence[str], where: str = "--log-to") -> None:
    for name in names:
        if name not in TRACKERS:
            raise MtbenchError(f"{where}: unknown tracker {name!r}: {did_you_mean(name, list(TRACKERS))}")


def check_available(names: Sequence[str]) -> None:
    """Each named tracker's package can be imported: checked before any work, so a
    long run never ends in a missing package."""
    check_names(names)
    for name in names:
        spec = TRACKERS[name]
        if importlib.util.find_spec(spec.module) is None:
            raise MtbenchError(f"--log-to {name} needs the {spec.module} package: pip install {spec.pip}")


def make_tracker(name: str) -> Tracker:
    """A new tracker (this imports its package and may open its store)."""
    check_available([name])
    module, _, cls = TRACKERS[name].factory.partition(":")
    return getattr(importlib.import_module(module), cls)()


Warn = Callable[[str], None]


def _failed(tracker: str, what: str, exc: BaseException, warn: Warn, again: str) -> None:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    warn(f"mtbench: warning: --log-to {tracker} failed while {what} ({type(exc).__name__}: {first}); {again}")


def log_run(names: Sequence[str], run_dir: str | Path, command: str, warn: Warn) -> bool:
    """Log a scored run directory to each tracker: its run.yaml as params, every corpus
    score, signatures and verdicts, the report's tables and figures. True when every
    tracker took all of it; a failure is one warning line and the next tracker goes on."""
    from mtbench.results import Results
    from mtbench.store import RunDir

    if not names:
        return True
    run = RunDir(run_dir)
    results = Results.load(run.path)
    config = dict(run.read_config())
    again = f"the run directory is complete; log it again with `mtbench score --run {run.path} --log-to NAME`"
    ok = True
    for name in names:
        stage, tracker = "opening its store", None
        try:
            tracker = make_tracker(name)
            stage = "starting"
            tracker.start(run.path.name, config, {"mtbench.command": command, "mtbench.run_dir": str(run.path.resolve())})
            stage = "logging scores"
            tracker.log_scores(results)
            stage = "logging the report"
            tracker.log_artifacts(run.path / "report")
            stage = "finishing"
            tracker.finish()
        except Exception as exc:  # a tracker's server, disk or bug: the run itself is done
            _failed(name, stage, exc, warn, again)
            ok = False
            try:
                if tracker is not None:
                    tracker.finish(failed=True)
            except Exception:
                pass
    return ok


class StepLogger:
    """The trackers of one `mtbench train`: started before the first step, given each
    logged row, finished with the checkpoint. A tracker that fails is dropped after one
    warning and training goes on (the loss is in train_log.jsonl anyway)."""

    def __init__(self, names: Sequence[str], warn: Warn) -> None:
        self.warn = warn
        self.ok = True
        self.trackers: list[Tracker] = []
        for name in names:
            try:
                self.trackers.append(make_tracker(name))
            except Exception as exc:
                _failed(name, "opening its store", exc, warn, "training goes on; the losses are in train_log.jsonl")
                self.ok = False

    def _each(self, what: str, call: Callable[[Tracker], Any]) -> None:
        for tracker in list(self.trackers):
            try:
                call(tracker)
            except Exception as exc:
                _failed(tracker.name, what, exc, self.warn, "training goes on; the losses are in train_log.jsonl")
                self.ok = False
                self.trackers.remove(tracker)
                try:
                    tracker.finish(failed=True)
                except Exception:
                    pass

    def start(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> None:
        self._each("starting", lambda t: t.start(run_name, params, tags))

    def step(self, row: Mapping[str, Any]) -> None:
        step = int(row["step"])
        values = {k: float(v) for k, v in row.items() if k != "step" and isinstance(v, (int, float))}
        self._each("logging a step", lambda t: t.log_step(step, values))

    def finish(self, out: Path | None, failed: bool = False) -> None:
        if out is not None and not failed:
            files = [out / n for n in ("train_log.jsonl", "mtbench_train.json") if (out / n).is_file()]
            self._each("logging the training log", lambda t: t.log_artifacts(out, files))
        self._each("finishing", lambda t: t.finish(failed=failed))
