"""What every experiment tracker implements, and the tracker-neutral views of a run
(metric keys, flat params, the score table, the report files) they all log.

The views live here, not in each tracker, so MLflow and W&B record the same keys and
the same rows: a number found in one can be looked up in the other and in results.json.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from mtbench.results import Results

#: Characters kept in a key segment. MLflow allows ``[/\w.\- :]`` on POSIX but not ``:``
#: on Windows (mlflow.utils.validation.validate_param_and_metric_name); W&B takes
#: anything but treats ``/`` as a section separator. ASCII letters, digits and ``_.- ``
#: are valid everywhere, so ``wmt22:de-en`` becomes ``wmt22_de-en``.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\- ]")
#: MLflow's limit on metric and param key length (MAX_ENTITY_KEY_LENGTH).
MAX_KEY = 250
#: MLflow's limit on a param value (MAX_PARAM_VAL_LENGTH).
MAX_PARAM_VALUE = 6000
#: Report files a tracker stores: tables, summaries and figures (not index.html, whose
#: inlined viewer holds every segment of every system, nor the per-segment files).
ARTIFACT_SUFFIXES = (".md", ".csv", ".json", ".png")


class Tracker(Protocol):
    """One tracker run: started once, given what a command produced, finished once."""

    name: str

    def start(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> None:
        """Open a tracker run named ``run_name`` and record ``params`` (the configuration)."""

    def log_scores(self, results: Results) -> None:
        """Every corpus score (one metric per key), signatures and significance verdicts."""

    def log_artifacts(self, folder: Path, files: Sequence[Path] | None = None) -> None:
        """``files`` of ``folder`` (default: the report's tables and figures, report_files)."""

    def log_step(self, step: int, values: Mapping[str, float]) -> None:
        """One training step's numbers (loss, lr, ...)."""

    def finish(self, failed: bool = False) -> None:
        """Close the run; ``failed`` marks a command that did not complete."""


def segment(text: str) -> str:
    """One part of a key, valid for every tracker: unsafe characters become ``_`` and
    ``.``/``..`` (which MLflow would resolve as paths) become ``_``."""
    out = _UNSAFE.sub("_", str(text)).strip() or "_"
    return "_" if out in (".", "..") else out


def key(*parts: str) -> str:
    """``metric/task/model`` from its parts; over MLflow's length limit, the tail is a
    short hash of the full key so two long names stay apart."""
    joined = "/".join(segment(p) for p in parts)
    if len(joined) <= MAX_KEY:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:10]
    return f"{joined[:MAX_KEY - 11]}-{digest}"


def score_key(metric: str, task: str, model: str) -> str:
    """The key of one corpus score, e.g. ``bleu/wmt22_de-en/ALMA-13B-LoRA``."""
    return key(metric, task, model)


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested configuration as ``a.b -> text`` (params are flat strings in MLflow):
    lists of plain values joined by commas, ``models_resolved`` and other structures
    as JSON, every value within MLflow's length limit."""
    out: dict[str, str] = {}
    for k, v in config.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping) and k not in _AS_JSON:
            out.update(flat_params(v, f"{name}."))
            continue
        if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
            text = ",".join(str(x) for x in v)
        elif isinstance(v, (Mapping, list)):
            text = json.dumps(v, ensure_ascii=False, sort_keys=True)
        else:
            text = "" if v is None else str(v)
        if len(text) > MAX_PARAM_VALUE:
            text = text[:MAX_PARAM_VALUE - 1] + "…"
        out[key(name)] = text
    return out


_AS_JSON = ("models_resolved",)  # task -> systems: one param, not one per direction


def score_rows(results: Results) -> list[dict[str, Any]]:
    """One row per (task, model, metric): the tracker key, the raw score as results.json
    has it, its signature and its significance verdict against the baseline."""
    rows = []
    for task, model, metric, s in results.iter_scores():
        c = s.comparison
        rows.append({"key": score_key(metric, task, model), "task": task, "model": model, "metric": metric,
                     "score": s.score, "signature": s.signature,
                     "baseline": c.baseline if c else None, "verdict": c.verdict if c else None,
                     "p_value": c.p_value if c else None, "ci_low": c.ci_low if c else None,
                     "ci_high": c.ci_high if c else None})
    return rows


def signatures(results: Results) -> dict[str, str]:
    """``signature/<metric>/<task> -> signature`` (one per metric and direction: every
    system of a direction is scored under the same one)."""
    out: dict[str, str] = {}
    for task, _, metric, s in results.iter_scores():
        out.setdefault(key("signature", metric, task), s.signature)
    return out


def report_files(folder: Path) -> list[Path]:
    """The report's tables, summaries and figures, top level only, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in ARTIFACT_SUFFIXES)
