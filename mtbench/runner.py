"""`mtbench run` for precomputed outputs: task -> outputs -> scores -> results -> report.

Everything is loaded and checked before the first write, so bad input stops the run
with one line and leaves an existing run directory as it was. Each stage skips work
whose output in the run directory is valid for the same inputs.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from mtbench.config import RunConfig
from mtbench.data.loaders import TestData, data_dir_from_env, load_testdata
from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
from mtbench.metrics import make_metric
from mtbench.metrics.base import MetricResult, ScoringContext
from mtbench.models.precomputed import SystemFile, discover_systems
from mtbench.report.build import loader_for, render_report, run_refs
from mtbench.report.leaderboard import write_leaderboards
from mtbench.report.significance import add_significance
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


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_hypothesis(path: Path, n_source: int, task: Task) -> list[str]:
    lines = read_lines(path, "hypothesis file")
    if len(lines) != n_source:
        raise MtbenchError(
            f"{path}: {len(lines)} lines but {task.name} has {n_source} source segments; "
            f"give one output line per source line (empty lines for missing outputs)"
        )
    return lines


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


@dataclass
class ScoreJob:
    """One metric over the systems of one task that still need scores."""

    task: str
    metric: str
    ctx: ScoringContext
    hypotheses: dict[str, list[str]]
    keys: dict[str, str]  # model -> input checksum recorded with its score
    refs: list[str]

    @property
    def size(self) -> int:
        return sum(len(x) for lines in self.hypotheses.values() for x in lines)


def _score_job(job: ScoreJob) -> dict[str, MetricResult] | MtbenchError:
    """A metric that cannot run (model missing, language it cannot judge) fails alone:
    the error comes back as a value and the run's other metrics go on."""
    try:
        return make_metric(job.metric).score_systems(job.ctx, job.hypotheses)
    except MtbenchError as exc:
        return exc


def run_score_jobs(jobs: Sequence[ScoreJob], workers: int,
                   log=print) -> Iterator[tuple[ScoreJob, dict[str, MetricResult] | MtbenchError]]:
    """Score jobs, in parallel processes when there are several jobs and cores.

    Largest jobs first so the pool stays balanced; results come back as they finish
    and the caller writes them, so an interrupted run keeps every finished job."""
    jobs = sorted(jobs, key=lambda j: -j.size)
    n = min(workers or os.cpu_count() or 1, len(jobs))
    if n <= 1:
        for job in jobs:
            log(f"scoring {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
            yield job, _score_job(job)
        return
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context(method)) as pool:
        futures = {pool.submit(_score_job, job): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            log(f"scored {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
            yield job, fut.result()


PER_SEGMENT_EXTRA = ("languages", "confidence")  # per-segment details some metrics report


def segment_rows(res: MetricResult) -> list[dict[str, Any]]:
    stats = res.segment_stats if res.segment_stats is not None else [None] * len(res.segment_scores)
    rows = [{"id": i, "score": s, **({"stats": st} if st is not None else {})}
            for i, (s, st) in enumerate(zip(res.segment_scores, stats))]
    for key in PER_SEGMENT_EXTRA:
        for row, value in zip(rows, res.extra.get(key, [])):
            row[key[:-1] if key.endswith("s") else key] = value
    return rows


def default_run_dir(cfg: RunConfig) -> Path:
    """runs/<tasks>-<hash>: the same command reuses the same directory (and resumes)."""
    if cfg.tasks == "default" and cfg == RunConfig(data_dir=cfg.data_dir, systems=cfg.systems):
        return Path("runs") / "default"
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in cfg.tasks)[:40]
    key = {k: v for k, v in cfg.to_dict().items() if k not in ("out", "data_dir", "systems")}
    return Path("runs") / f"{label}-{_sha(key)[:8]}"


def run(cfg: RunConfig, log=print) -> RunDir:
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
                    systems=str(systems_root), tasks_resolved=[t.name for t in tasks])
    out.write_config(resolved)

    # 2. Generations: precomputed outputs are imported into the run directory.
    imported = 0
    for plan in plans:
        out.write_testdata(plan.task.name, plan.source, plan.refs)
        for model, lines in plan.outputs.items():
            sha = sha256_lines(lines)
            if out.has_generation(plan.task.name, model, sha):
                continue
            out.write_generation(plan.task.name, model, lines, {
                "model": model, "backend": "files", "path": str(plan.files[model].path),
                "file_sha256": sha256_file(plan.files[model].path), "input_sha256": sha, "segments": len(lines)})
            imported += 1
    t_generated = time.time()

    # 3. Scores: only (task, model, metric) whose inputs changed or are new.
    jobs: list[ScoreJob] = []
    skipped = 0
    for plan in plans:
        ref_sha = sha256_lines([f"{k}\t{x}" for k, v in plan.refs.items() for x in v])
        ctx = ScoringContext(plan.task.src, plan.task.tgt, plan.source, plan.refs, cfg.preset)
        for metric_name in cfg.metrics:
            metric = make_metric(metric_name)
            keys = {m: _sha({"hyp": sha256_lines(lines), "refs": ref_sha, "metric": metric_name,
                             "config": metric.config(ctx), "preset": cfg.preset})
                    for m, lines in plan.outputs.items()}
            todo = [m for m in plan.outputs if not out.has_score(plan.task.name, m, metric_name, keys[m])]
            skipped += len(plan.outputs) - len(todo)
            if todo:
                jobs.append(ScoreJob(plan.task.name, metric_name, ctx, {m: plan.outputs[m] for m in todo},
                                     {m: keys[m] for m in todo}, list(plan.refs)))
    computed = 0
    unavailable: dict[str, dict[str, str]] = {}
    for job, results in run_score_jobs(jobs, cfg.workers, log):
        if isinstance(results, MtbenchError):
            log(f"mtbench: warning: {job.metric} unavailable for {job.task}: {results}")
            unavailable.setdefault(job.metric, {})[job.task] = str(results)
            continue
        for model, res in results.items():
            out.write_score(job.task, model, job.metric, segment_rows(res), {
                "task": job.task, "model": model, "metric": job.metric, "score": res.score,
                "signature": res.signature, "higher_is_better": res.higher_is_better,
                "segments": len(res.segment_scores), "refs": job.refs,
                "extra": {k: v for k, v in res.extra.items() if k not in PER_SEGMENT_EXTRA},
                "input_sha256": job.keys[model]})
            computed += 1
    t_scored = time.time()

    # 4. Results, leaderboards, manifest.
    results = collect_results(out, plans, cfg.metrics)
    results["unavailable"] = unavailable
    refs = run_refs(out, results)
    add_significance(results, loader_for(refs), cfg.significance, cfg.baseline, cfg.n_resamples, cfg.seed)
    previous = out.read_results() if (out.path / "results.json").exists() else None
    out.write_json("results.json", results)
    write_leaderboards(out.path, results)
    if previous != results or not (out.path / "report" / "index.html").exists():  # figures take seconds
        render_report(results, refs, out.path / "report", f"mtbench run {out.path.name}")
    manifest = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": environment_versions(),
        "git_revision": git_revision(),
        "data": {p.task.name: {"origin": p.data.origin, "checksum": p.data.checksum(), "segments": len(p.source),
                               "segments_in_test_set": len(p.data.source), "refs": list(p.refs)} for p in plans},
        "systems": {p.task.name: {m: {"path": str(f.path), "sha256": sha256_file(f.path)} for m, f in p.files.items()}
                    for p in plans},
        "work": {"generations_imported": imported, "scores_computed": computed, "scores_reused": skipped},
        "timings_s": {"load": round(t_loaded - t_start, 3), "generate": round(t_generated - t_loaded, 3),
                      "score": round(t_scored - t_generated, 3), "report": round(time.time() - t_scored, 3)},
    }
    out.write_json("manifest.json", manifest)
    log(f"{computed} score file(s) computed, {skipped} reused; results in {out.path}")
    return out


def collect_results(out: RunDir, plans: Sequence[TaskPlan], metrics: Sequence[str]) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for plan in plans:
        models: dict[str, Any] = {}
        for model in plan.outputs:
            models[model] = {}
            for metric in metrics:
                if not out.score_paths(plan.task.name, model, metric)[1].exists():
                    continue  # the metric failed for this task (see results["unavailable"])
                s = out.read_score(plan.task.name, model, metric)
                models[model][metric] = {"score": s["score"], "signature": s["signature"],
                                         "higher_is_better": s["higher_is_better"]}
        reference = {}
        for metric in metrics:  # the reference floor, for metrics that define one (off-target)
            m = make_metric(metric)
            if hasattr(m, "reference_score"):
                ctx = ScoringContext(plan.task.src, plan.task.tgt, plan.source, plan.refs)
                try:
                    reference[metric] = m.reference_score(ctx)
                except MtbenchError:
                    pass  # the same failure is reported once, as the metric's
        tasks[plan.task.name] = {"reference": reference, "testset": plan.task.testset, "pair": plan.task.pair, "src": plan.task.src,
                                 "tgt": plan.task.tgt, "segments": len(plan.source), "refs": list(plan.refs),
                                 "zero_shot": plan.task.spec.zero_shot, "models": models}
    return {"metrics": list(metrics), "tasks": tasks}


def score_files(task: Task, hyp_paths: Sequence[Path], names: Sequence[str], metrics: Sequence[str], data_dir: Path | None,
                refs: str, preset: str) -> dict[str, dict[str, MetricResult]]:
    """model -> metric -> result for loose hypothesis files (``mtbench score``)."""
    plan = plan_task(task, data_dir, refs, None)
    for name, path in zip(names, hyp_paths):
        plan.outputs[name] = read_hypothesis(path, len(plan.source), task)
    by_metric = score_outputs(plan, metrics, preset)
    return {m: {metric: by_metric[metric][m] for metric in metrics} for m in plan.outputs}
