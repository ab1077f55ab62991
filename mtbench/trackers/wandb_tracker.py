"""Weights & Biases: config, corpus scores in the run summary, a score table, report
figures as images and the report's files as an artifact.

Where: wandb's own environment (``WANDB_MODE``, ``WANDB_PROJECT``, ``WANDB_ENTITY``,
``WANDB_DIR``, ``WANDB_API_KEY``). Without ``WANDB_MODE=offline`` wandb is online and
needs a login; offline runs land in ``$WANDB_DIR/wandb/offline-run-*`` for
``wandb sync``. Project: ``WANDB_PROJECT`` or ``mtbench``. mtbench's own stdout (the
leaderboard) is left alone: console capture is off.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtbench.results import Results
from mtbench.trackers.base import report_files, score_rows, signatures

_COLUMNS = ("key", "task", "model", "metric", "score", "signature", "baseline", "verdict", "p_value", "ci_low", "ci_high")


class WandbTracker:
    name = "wandb"

    def __init__(self) -> None:
        import wandb

        self.wandb = wandb
        self.run: Any = None
        self.run_name = "mtbench"

    def start(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> None:
        wandb = self.wandb
        self.run_name = run_name
        settings = wandb.Settings(console="off", silent=True, x_disable_stats=True)
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT") or "mtbench", name=run_name,
                              config={**dict(params), **{k.replace(".", "_"): v for k, v in (tags or {}).items()}},
                              tags=[v for k, v in (tags or {}).items() if k == "mtbench.command"],
                              settings=settings, reinit="create_new")

    def log_scores(self, results: Results) -> None:
        rows = score_rows(results)
        summary: dict[str, Any] = {r["key"]: r["score"] for r in rows if r["score"] is not None}
        summary.update(signatures(results))
        if results.significance.signature:
            summary["significance"] = results.significance.signature
        self.run.summary.update(summary)
        table = self.wandb.Table(columns=list(_COLUMNS), data=[[r[c] for c in _COLUMNS] for r in rows])
        self.run.log({"mtbench/scores": table}, commit=True)

    def log_artifacts(self, folder: Path, files: Sequence[Path] | None = None) -> None:
        files = report_files(folder) if files is None else list(files)
        if not files:
            return
        images = {f"figures/{p.stem}": self.wandb.Image(str(p)) for p in files if p.suffix == ".png"}
        if images:
            self.run.log(images)
        kind = "mtbench-report" if folder.name == "report" else "mtbench-train"
        artifact = self.wandb.Artifact(re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.run_name}-{kind}"), type=kind)
        for path in files:
            artifact.add_file(str(path), name=path.name)
        self.run.log_artifact(artifact)

    def log_step(self, step: int, values: Mapping[str, float]) -> None:
        self.run.log(dict(values), step=step)

    def finish(self, failed: bool = False) -> None:
        if self.run is not None:
            self.run.finish(exit_code=1 if failed else 0)
            self.run = None
