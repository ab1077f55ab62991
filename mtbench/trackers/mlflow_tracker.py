"""MLflow: params, one metric per corpus score, the score table and report as artifacts.

Where: ``MLFLOW_TRACKING_URI`` when set (a server, ``sqlite:///...``, ``file:...``);
otherwise ``./mlruns`` in the working directory, a local file store, so that a
``--log-to mlflow`` run never reaches the network unless asked to. MLflow 3 keeps its
file store behind ``MLFLOW_ALLOW_FILE_STORE``; mtbench sets it (unless the user did)
for ``file:`` stores only, because that is what the user chose or was given by
default. Telemetry is off unless ``MLFLOW_DISABLE_TELEMETRY`` says otherwise.
Experiment: ``MLFLOW_EXPERIMENT_NAME`` or ``mtbench``.

It talks through ``MlflowClient(tracking_uri=...)`` rather than mlflow's global
"active run", so nothing leaks into a caller's own MLflow session.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtbench.results import Results
from mtbench.trackers.base import flat_params, report_files, score_rows, signatures

DEFAULT_URI_FOLDER = "mlruns"


def tracking_uri() -> str:
    """The store mtbench logs to: ``$MLFLOW_TRACKING_URI`` or ``file:<cwd>/mlruns``."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    return uri or Path(DEFAULT_URI_FOLDER).resolve().as_uri()


class MlflowTracker:
    name = "mlflow"

    def __init__(self) -> None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports to the network
        self.uri = tracking_uri()
        if self.uri.startswith("file:") or "://" not in self.uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=self.uri)
        self.run_id: str | None = None

    def start(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> None:
        from mlflow.entities import Param

        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "mtbench"
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(name)
        run = self.client.create_run(experiment_id, run_name=run_name, tags=dict(tags or {}))
        self.run_id = run.info.run_id
        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in flat_params(params).items()])

    def log_scores(self, results: Results) -> None:
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        rows = score_rows(results)
        metrics = [Metric(r["key"], float(r["score"]), now, 0) for r in rows if r["score"] is not None]
        tags = [RunTag(k, v) for k, v in signatures(results).items()]
        if results.significance.signature:
            tags.append(RunTag("significance", results.significance.signature))
        self.client.log_batch(self.run_id, metrics=metrics, tags=tags)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scores.json"
            path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
            self.client.log_artifact(self.run_id, str(path), "mtbench")

    def log_artifacts(self, folder: Path, files: Sequence[Path] | None = None) -> None:
        for path in report_files(folder) if files is None else files:
            self.client.log_artifact(self.run_id, str(path), "report" if files is None else folder.name)

    def log_step(self, step: int, values: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, step) for k, v in values.items()])

    def finish(self, failed: bool = False) -> None:
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")
            self.run_id = None
