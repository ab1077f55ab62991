"""Training curves from the trainers' logs: ``<checkpoint>/train_log.jsonl`` (one row
per optimiser step: step, loss, lr and the method's loss parts) read as written, so a
report can show how each compared model was trained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from mtbench.errors import MtbenchError
from mtbench.report import plots

LOG_NAME = "train_log.jsonl"
PARTS = ("nll", "ul", "pref")  # loss components the trainers log besides the total


def read_train_log(path: str | Path) -> tuple[str, list[dict[str, Any]]]:
    """(series name, rows) for a checkpoint folder or a train_log.jsonl file."""
    p = Path(path)
    log = p / LOG_NAME if p.is_dir() else p
    if not log.is_file():
        raise MtbenchError(f"--train-log {path}: no {LOG_NAME} there; give a folder written by `mtbench train` or the log file")
    rows = []
    for n, line in enumerate(log.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append({"step": float(row["step"]), "loss": float(row["loss"]), **row})
        except (ValueError, KeyError, TypeError):
            raise MtbenchError(f"{log}:{n}: not a training log row with step and loss; is it a `mtbench train` log?") from None
    if not rows:
        raise MtbenchError(f"{log} is empty; the training run wrote no step")
    return (p.name if p.is_dir() else p.parent.name), rows


def training_curves(paths: Sequence[str | Path], out_dir: Path) -> list[Path]:
    """training-loss (every log's total loss by step) and, per log with loss parts,
    training-parts-<name> (nll, ul, pref)."""
    logs = dict(read_train_log(p) for p in paths)
    colours = plots.system_colours(list(logs))
    source = f"per optimiser step, from the {LOG_NAME} of {', '.join(logs)}"
    figures = plots.curves({name: [(r["step"], r["loss"]) for r in rows] for name, rows in logs.items()}, colours,
                           out_dir / "training-loss", "step", "training loss", "Training loss", source)
    for name, rows in logs.items():
        parts = {k: [(r["step"], float(r[k])) for r in rows if k in r] for k in PARTS}
        parts = {k: v for k, v in parts.items() if v}
        if len(parts) > 1 or (parts and "nll" not in parts):
            figures += plots.curves(parts, {}, out_dir / f"training-parts-{name}", "step", "loss part",
                                    f"{name}: loss parts", f"per optimiser step ({', '.join(parts)}), from its {LOG_NAME}")
    return figures
