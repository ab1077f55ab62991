"""The run directory: the single source of truth every stage reads and writes.

    run.yaml                                   resolved configuration
    manifest.json                              versions, git revision, checksums, timings
    generations/<task>/<model>.jsonl           one line per segment (generated and Python-API outputs)
    generations/<task>/<model>.txt             a system file's outputs, copied byte for byte
    generations/<task>/<model>.meta.json       how they were made (a system file's path and sha256)
    scores/<task>/<model>/<metric>.jsonl       per-segment scores (and the metric's per-segment details)
    scores/<task>/<model>/<metric>.stats.npy   per-segment sufficient statistics, (segments, k) (numpy.load)
    scores/<task>/<model>/<metric>.json        corpus score, signature, input checksum
    results.json                               the results model (mtbench.results), written by the scoring stage
    report/                                    leaderboards, figures, index.html (the report stage)

Every file is written atomically; a file whose recorded input checksum matches is
finished work and is never recomputed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import yaml

from mtbench import __version__
from mtbench.checkout import checkout_root
from mtbench.errors import MtbenchError
from mtbench.textio import (atomic_write_bytes, atomic_write_json, atomic_write_jsonl, atomic_write_text, jsonl_from_columns,
                            read_json, read_jsonl, read_lines)


def _safe(name: str) -> str:
    """Model and task names as file names (system names may contain '/' or spaces)."""
    return "".join(c if c.isalnum() or c in "-_.+@" else "_" for c in name)


class RunDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def check_is_run_or_empty(self, force: bool = False) -> None:
        """A run directory is recognised by its run.yaml or manifest.json; a folder with
        other files (a user's own) is not written into unless ``force``."""
        if force or not self.path.exists():
            return
        if not self.path.is_dir():
            raise MtbenchError(f"--out {self.path} is a file, not a folder; choose a new folder for the run")
        if (self.path / "run.yaml").exists() or (self.path / "manifest.json").exists():
            return
        others = sorted(p.name for p in self.path.iterdir() if not p.name.startswith(".mtbench"))
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise MtbenchError(f"--out {self.path} is not an mtbench run directory and not empty ({shown}); "
                               f"choose a new or empty folder, or add --force to write into it anyway")

    def ensure_writable(self) -> None:
        """Fail early, before any work, if the run directory cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise MtbenchError(f"cannot write to output directory {self.path} ({reason}); choose another with --out") from None

    # --- paths ---------------------------------------------------------------------------
    def generation_path(self, task: str, model: str) -> Path:
        return self.path / "generations" / _safe(task) / f"{_safe(model)}.jsonl"

    def score_paths(self, task: str, model: str, metric: str) -> tuple[Path, Path]:
        base = self.path / "scores" / _safe(task) / _safe(model)
        return base / f"{_safe(metric)}.jsonl", base / f"{_safe(metric)}.json"

    # --- generations ---------------------------------------------------------------------
    def generation_meta_path(self, task: str, model: str) -> Path:
        return self.generation_path(task, model).with_suffix(".meta.json")

    def copy_path(self, task: str, model: str) -> Path:
        """A system file's outputs, copied byte for byte (not as JSON rows)."""
        return self.generation_path(task, model).with_suffix(".txt")

    def has_finished_generation(self, task: str, model: str) -> bool:
        return self.generation_meta_path(task, model).exists() and (
            self.generation_path(task, model).exists() or self.copy_path(task, model).exists())

    def has_generation(self, task: str, model: str, input_sha: str) -> bool:
        if not self.has_finished_generation(task, model):
            return False
        try:
            return read_json(self.generation_meta_path(task, model)).get("input_sha256") == input_sha
        except (OSError, json.JSONDecodeError):
            return False

    def write_generation_file(self, task: str, model: str, path: Path, meta: dict[str, Any]) -> str:
        """Outputs that already are a file (a system of the data layout, files:DIR):
        a byte copy beside the meta, whose ``segments`` first lines are the outputs.
        A copy, not a reference: an older run must still report and compare after the
        user replaces the file (it is also ~20x faster to write and read than rows).
        The meta records the copy's sha256 (``file_sha256``), which this returns."""
        copy, rows = self.copy_path(task, model), self.generation_path(task, model)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise MtbenchError(f"cannot read {path} ({os.strerror(exc.errno) if exc.errno else exc}); check the file") from None
        atomic_write_bytes(copy, data)
        if rows.exists():  # rows written by an older mtbench: the copy replaces them
            rows.unlink()
        digest = hashlib.sha256(data).hexdigest()
        atomic_write_json(self.generation_meta_path(task, model), {**meta, "file_sha256": digest})  # last: marks it finished
        return digest

    def write_generation_rows(self, task: str, model: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        """Generated segments: id, prompt, raw completion, output, tokens, time."""
        copy = self.copy_path(task, model)
        atomic_write_jsonl(self.generation_path(task, model), rows)
        if copy.exists():
            copy.unlink()
        atomic_write_json(self.generation_meta_path(task, model), meta)  # last: marks the generation finished

    def outputs_file(self, task: str, model: str) -> Path:
        """The file that holds a generation's outputs in this run directory."""
        copy = self.copy_path(task, model)
        return copy if copy.exists() else self.generation_path(task, model)

    def read_generation(self, task: str, model: str) -> list[str]:
        lines = self._copied_lines(task, model)
        return lines if lines is not None else [r["output"] for r in read_jsonl(self.generation_path(task, model))]

    def read_generation_rows(self, task: str, model: str) -> list[dict[str, Any]]:
        lines = self._copied_lines(task, model)
        if lines is None:
            return read_jsonl(self.generation_path(task, model))
        return [{"id": i, "output": line} for i, line in enumerate(lines)]

    def _copied_lines(self, task: str, model: str) -> list[str] | None:
        """A system file's copy: its lines are the outputs (None: generated rows)."""
        copy = self.copy_path(task, model)
        if not copy.exists():
            return None
        return read_lines(copy, "copied system file")[: int(self.read_generation_meta(task, model)["segments"])]

    def read_generation_meta(self, task: str, model: str) -> dict[str, Any]:
        return read_json(self.generation_meta_path(task, model))

    def generation_kind(self, task: str, model: str) -> dict[str, Any]:
        """``{"kind": ..., "under_test": ...}`` of a finished generation: the data
        layout's systems ("files") are reference systems; files:DIR, generated and
        Python-API outputs are the user's own, under test."""
        meta = read_json(self.generation_meta_path(task, model))
        kind = meta.get("kind") or ("files" if meta.get("backend") == "files" else "generated")
        return {"kind": kind, "under_test": bool(meta.get("under_test", kind != "files"))}

    # --- test data (so reports need neither the data folder nor a model) ---------------
    def testdata_path(self, task: str) -> Path:
        return self.path / "testdata" / f"{_safe(task)}.json"

    def write_testdata(self, task: str, info: dict[str, Any], source: list[str], references: dict[str, list[str]]) -> None:
        """``info``: testset, pair, src, tgt, zero_shot, segments_in_test_set -- what
        scoring and reports need to know about the task without the registry that
        defined it."""
        atomic_write_json(self.testdata_path(task), {"task": task, **info, "source": source, "references": references})

    def read_testdata(self, task: str) -> dict[str, Any]:
        return read_json(self.testdata_path(task))

    # --- scores --------------------------------------------------------------------------
    def has_score(self, task: str, model: str, metric: str, input_sha: str) -> bool:
        """A finished score of these inputs: its corpus file names ``input_sha`` and the
        sizes its per-segment files have (they are written without fsync; what a crash
        leaves is shorter)."""
        seg, corpus = self.score_paths(task, model, metric)
        try:
            summary = read_json(corpus)
            sizes = summary.get("file_sizes") or {}
            return summary.get("input_sha256") == input_sha and all(
                sizes.get(f.name) == f.stat().st_size
                for f in (seg, self.stats_path(task, model, metric), self.score_column_path(task, model, metric)))
        except (OSError, ValueError, AttributeError):
            return False

    def stats_path(self, task: str, model: str, metric: str) -> Path:
        return self.score_paths(task, model, metric)[0].with_suffix(".stats.npy")

    def score_column_path(self, task: str, model: str, metric: str) -> Path:
        return self.score_paths(task, model, metric)[0].with_suffix(".scores.npy")

    def write_score(self, task: str, model: str, metric: str, segments: Mapping[str, Sequence[Any]],
                    corpus: dict[str, Any], stats: np.ndarray) -> None:
        """``segments``: columns of the per-segment file (id, score, details), one row per
        segment; its score column is also stored alone, as float64 (what tables, figures
        and the viewer read: ~15x faster than parsing the rows); ``stats``: their
        (segments, k) statistics, stored in the smallest integer type that holds them
        when they are counts. The corpus file comes last: it marks the score finished
        and records the other files' sizes.

        No fsync (three per score were a third of the scoring stage's writing time):
        a score is cheap to recompute, and ``has_score`` trusts only files of the
        recorded sizes."""
        seg, summary = self.score_paths(task, model, metric)
        files = {self.stats_path(task, model, metric): _npy_bytes(compact_counts(np.ascontiguousarray(stats))),
                 self.score_column_path(task, model, metric): _npy_bytes(np.asarray(segments["score"], dtype=np.float64)),
                 seg: jsonl_from_columns(segments).encode("utf-8")}
        for path, data in files.items():
            atomic_write_bytes(path, data, durable=False)
        atomic_write_json(summary, {**corpus, "file_sizes": {p.name: len(data) for p, data in files.items()}},
                          durable=False)

    def read_score(self, task: str, model: str, metric: str) -> dict[str, Any]:
        return read_json(self.score_paths(task, model, metric)[1])

    def read_segment_scores(self, task: str, model: str, metric: str) -> list[dict[str, Any]]:
        return read_jsonl(self.score_paths(task, model, metric)[0])

    def read_score_column(self, task: str, model: str, metric: str) -> list[float]:
        """Every segment's score, in segment order (the rows' ``score``); from the rows
        in runs scored before the column had a file of its own."""
        path = self.score_column_path(task, model, metric)
        if path.exists():
            return np.load(path, allow_pickle=False).tolist()
        return [r["score"] for r in self.read_segment_scores(task, model, metric)]

    def read_segment_stats(self, task: str, model: str, metric: str) -> np.ndarray:
        """(segments, k) float64 statistics; from the rows' ``stats`` in runs scored
        before they had a file of their own."""
        path = self.stats_path(task, model, metric)
        if path.exists():
            return np.load(path, allow_pickle=False).astype(np.float64, copy=False)
        rows = self.read_segment_scores(task, model, metric)
        if rows and "stats" not in rows[0]:
            raise MtbenchError(f"{path} is missing; rebuild the scores with `mtbench score --run {self.path}`")
        return np.asarray([r["stats"] for r in rows], dtype=np.float64).reshape(len(rows), -1)

    # --- run-level files -----------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_text(self.path / "run.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))

    def read_config(self) -> dict[str, Any]:
        p = self.path / "run.yaml"
        if not p.exists():
            raise MtbenchError(f"{self.path} has no run.yaml; is it an mtbench run directory? (create one with `mtbench run --out {self.path}`)")
        config = yaml.safe_load(p.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise MtbenchError(f"{p}: not a mapping; rebuild the run directory with `mtbench run --out {self.path}`")
        return config

    def update_manifest(self, updates: dict[str, Any]) -> None:
        """Merge one stage's entries into manifest.json (dicts merge one level deep), so
        each stage records its own work and timings."""
        p = self.path / "manifest.json"
        manifest = read_json(p) if p.exists() else {}
        for key, value in updates.items():
            if isinstance(value, dict) and isinstance(manifest.get(key), dict):
                manifest[key] = {**manifest[key], **value}
            else:
                manifest[key] = value
        atomic_write_json(p, manifest)

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def compact_counts(stats: np.ndarray) -> np.ndarray:
    """Statistics that are counts (BLEU's and chrF's n-grams: non-negative whole
    numbers, whatever their dtype) in the smallest unsigned type that holds them
    (uint16 for almost every WMT segment: 4x smaller than float64; read back as the
    same float64 values); anything else as it is."""
    if stats.size == 0 or stats.dtype.kind not in "iuf":
        return stats
    low, high = stats.min(), stats.max()
    if not (low >= 0 and high < 2**32) or (stats.dtype.kind == "f" and not np.array_equal(stats, np.trunc(stats))):
        return stats
    return stats.astype(np.min_scalar_type(int(high)), copy=False)


def git_revision() -> str | None:
    """The mtbench checkout's revision; None when installed from a wheel, even from a
    venv inside some other git repository (whose revision says nothing about mtbench)."""
    root = checkout_root()
    if root is None:
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def environment_versions() -> dict[str, str]:
    import numpy
    import sacrebleu

    return {"mtbench": __version__, "sacrebleu": sacrebleu.__version__, "numpy": numpy.__version__,
            "python": sys.version.split()[0], "platform": platform.platform()}
