"""`mtbench run`: task -> outputs -> (scoring stage) -> results -> report.

Everything is loaded and checked before the first write, so bad input stops the run
with one line and leaves an existing run directory as it was. Each stage skips work
whose output in the run directory is valid for the same inputs; scoring runs in a
fresh process that reads only the run directory (mtbench.scoring).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from mtbench.config import RunConfig
from mtbench.data.loaders import TestData, data_dir_from_env, load_testdata
from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
from mtbench.metrics import make_metric
from mtbench.metrics.base import MetricResult, ScoringContext
from mtbench.models.precomputed import SystemFile, discover_systems
from mtbench.scoring import input_key, score_run
from mtbench.store import RunDir, environment_versions, git_revision
from mtbench.tasks import Task, resolve_tasks, suite_limit
from mtbench.textio import read_lines, sha256_file, sha256_lines


@dataclass
class TaskPlan:
    task: Task
    data: TestData
    refs: dict[str, list[str]]
    source: list[str]
    outputs: dict[str, list[str]] = field(default_factory=dict)  # model -> lines
    files: dict[str, SystemFile] = field(default_factory=dict)


def read_hypothesis(path: Path, n_source: int, task: Task) -> list[str]:
    lines = read_lines(path, "hypothesis file")
    if len(lines) != n_source:
        raise MtbenchError(
            f"{path}: {len(lines)} lines but {task.name} has {n_source} source segments; "
            f"give one output line per source line (empty lines for missing outputs)"
        )
    return lines


def task_info(task: Task) -> dict[str, Any]:
    return {"testset": task.testset, "pair": task.pair, "src": task.src, "tgt": task.tgt,
            "zero_shot": task.spec.zero_shot}


def plan_task(task: Task, data_dir: Path | None, refs: str, limit: int | None) -> TaskPlan:
    data = load_testdata(get_testset(task.testset), task.pair, data_dir)
    chosen = data.refs(refs)
    n = len(data.source) if limit is None else min(limit, len(data.source))
    return TaskPlan(task, data, {k: v[:n] for k, v in chosen.items()}, data.source[:n])


def score_outputs(plan: TaskPlan, metric_names: Sequence[str], preset: str,
                  models: Sequence[str] | None = None) -> dict[str, dict[str, MetricResult]]:
    """metric -> model -> result for the given models (default: all) of one task."""
    ctx = ScoringContext(plan.task.src, plan.task.tgt, plan.source, plan.refs, preset)
    chosen = {m: plan.outputs[m] for m in (models if models is not None else plan.outputs)}
    results: dict[str, dict[str, MetricResult]] = {}
    for name in metric_names:
        results[name] = make_metric(name).score_systems(ctx, chosen) if chosen else {}
    return results


def default_run_dir(cfg: RunConfig) -> Path:
    """runs/<tasks>-<hash>: the same command reuses the same directory (and resumes)."""
    if cfg.tasks == "default" and cfg == RunConfig(data_dir=cfg.data_dir, systems=cfg.systems):
        return Path("runs") / "default"
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in cfg.tasks)[:40]
    key = {k: v for k, v in cfg.to_dict().items() if k not in ("out", "data_dir", "systems")}
    return Path("runs") / f"{label}-{input_key(key)[:8]}"


def run(cfg: RunConfig, log=print, isolate_scoring: bool = True) -> RunDir:
    t_start = time.time()
    cfg.validate()
    include = [Path(p) for p in cfg.include_path]
    tasks = resolve_tasks(cfg.tasks, include)
    limit = cfg.limit if cfg.limit is not None else suite_limit(cfg.tasks, include)
    data_dir = data_dir_from_env(cfg.data_dir)
    systems_root = Path(cfg.systems) if cfg.systems else data_dir
    if systems_root is None or not systems_root.is_dir():
        raise MtbenchError(
            f"no folder of system outputs ({'--systems ' + str(systems_root) if systems_root else 'set $MTBENCH_DATA, --data-dir or --systems'}); "
            f"point --systems at a folder in mtbench's data layout"
        )
    out = RunDir(cfg.out or default_run_dir(cfg))

    # 1. Load and check every input before writing anything.
    plans: list[TaskPlan] = []
    for task in tasks:
        plan = plan_task(task, data_dir, cfg.refs, limit)
        n_full = len(plan.data.source)
        for sysfile in discover_systems(task, systems_root):
            plan.outputs[sysfile.name] = read_hypothesis(sysfile.path, n_full, task)[: len(plan.source)]
            plan.files[sysfile.name] = sysfile
        plans.append(plan)
    if not any(p.outputs for p in plans):
        raise MtbenchError(
            f"no system outputs (systems/*.txt, llm_outputs/*.txt) for {cfg.tasks} under {systems_root}; "
            f"point --systems at a folder in mtbench's data layout"
        )
    t_loaded = time.time()
    out.ensure_writable()
    resolved = cfg.to_dict()
    resolved.update(out=str(out.path), limit=limit, data_dir=str(data_dir) if data_dir else None,
                    systems=str(systems_root), tasks_resolved=[t.name for t in tasks],
                    models={p.task.name: list(p.outputs) for p in plans})
    out.write_config(resolved)

    # 2. Generations: precomputed outputs are imported into the run directory.
    imported = 0
    for plan in plans:
        out.write_testdata(plan.task.name, task_info(plan.task), plan.source, plan.refs)
        for model, lines in plan.outputs.items():
            sha = sha256_lines(lines)
            if out.has_generation(plan.task.name, model, sha):
                continue
            out.write_generation(plan.task.name, model, lines, {
                "model": model, "backend": "files", "path": str(plan.files[model].path),
                "file_sha256": sha256_file(plan.files[model].path), "input_sha256": sha, "segments": len(lines)})
            imported += 1
    t_generated = time.time()
    out.write_json("manifest.json", {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": environment_versions(),
        "git_revision": git_revision(),
        "data": {p.task.name: {"origin": p.data.origin, "checksum": p.data.checksum(), "segments": len(p.source),
                               "segments_in_test_set": len(p.data.source), "refs": list(p.refs)} for p in plans},
        "systems": {p.task.name: {m: {"path": str(f.path), "sha256": sha256_file(f.path)} for m, f in p.files.items()}
                    for p in plans},
        "work": {"generations_imported": imported},
        "timings_s": {"load": round(t_loaded - t_start, 3), "generate": round(t_generated - t_loaded, 3)},
    })

    # 3. Scores, results, report: in a fresh process, after generation let go of the
    #    accelerator (and so that a crash in a metric cannot take generations with it).
    if isolate_scoring:
        score_in_subprocess(out)
    else:
        score_run(out.path, log)
    return out


def score_in_subprocess(out: RunDir) -> None:
    """`mtbench score --run OUT` in a new interpreter; its messages go straight to stderr."""
    cmd = [sys.executable, "-m", "mtbench", "score", "--run", str(out.path)]
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        # The scoring process already printed its one-line reason.
        raise MtbenchError("", exit_code=rc, quiet=True)


def score_files(task: Task, hyp_paths: Sequence[Path], names: Sequence[str], metrics: Sequence[str], data_dir: Path | None,
                refs: str, preset: str) -> dict[str, dict[str, MetricResult]]:
    """model -> metric -> result for loose hypothesis files (``mtbench score``)."""
    plan = plan_task(task, data_dir, refs, None)
    for name, path in zip(names, hyp_paths):
        plan.outputs[name] = read_hypothesis(path, len(plan.source), task)
    by_metric = score_outputs(plan, metrics, preset)
    return {m: {metric: by_metric[metric][m] for metric in metrics} for m in plan.outputs}
