"""The scoring stage: generations in the run directory -> scores -> results -> report.

It reads nothing but the run directory (run.yaml, testdata/, generations/), so it runs
in a fresh process after generation has released the accelerator (`mtbench run`
starts it that way) and on its own (`mtbench score --run RUN_DIR`). A score whose
recorded input checksum matches is never recomputed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.metrics import check_metric_names, make_metric
from mtbench.metrics.base import MetricResult, ScoringContext
from mtbench.plugins import load_include_python
from mtbench.report.build import loader_for, render_report, run_refs
from mtbench.report.leaderboard import write_leaderboards
from mtbench.report.significance import add_significance
from mtbench.store import RunDir
from mtbench.textio import sha256_lines

Log = Callable[[str], None]
PER_SEGMENT_EXTRA = ("languages", "confidence")  # per-segment details some metrics report


def input_key(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class TaskInputs:
    """One task as the scoring stage sees it: test data and every model's outputs."""

    name: str
    info: dict[str, Any]  # testset, pair, src, tgt, zero_shot
    source: list[str]
    refs: dict[str, list[str]]
    outputs: dict[str, list[str]]

    def context(self, preset: str) -> ScoringContext:
        return ScoringContext(self.info["src"], self.info["tgt"], self.source, self.refs, preset)


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


JobResult = dict[str, MetricResult] | MtbenchError


def _score_job(job: ScoreJob, metric: Any = None) -> JobResult:
    """A metric that cannot run (model missing, language it cannot judge) fails alone:
    the error comes back as a value and the run's other metrics go on."""
    try:
        return (metric or make_metric(job.metric)).score_systems(job.ctx, job.hypotheses)
    except MtbenchError as exc:
        return exc


def is_heavy(metric: Any) -> bool:
    """Neural metrics use every core (or the GPU) themselves and load a model once:
    they run one at a time in this process, not in the pool."""
    return bool(getattr(metric, "heavy", False))


def run_score_jobs(jobs: Sequence[ScoreJob], workers: int, log: Log = print,
                   instances: Mapping[str, Any] | None = None) -> Iterator[tuple[ScoreJob, JobResult]]:
    """Score jobs; light metrics in parallel processes, heavy ones in this process.

    Largest light jobs first so the pool stays balanced; results come back as they
    finish and the caller writes them, so an interrupted run keeps every finished job.
    A heavy metric keeps one instance (one loaded model) for all of its tasks."""
    instances = dict(instances or {})
    for job in jobs:
        instances.setdefault(job.metric, make_metric(job.metric))
    light = sorted((j for j in jobs if not is_heavy(instances[j.metric])), key=lambda j: -j.size)
    heavy = [j for j in jobs if is_heavy(instances[j.metric])]
    n = min(workers or os.cpu_count() or 1, len(light))
    if n > 1:
        # What forked workers can share (a loaded model, imported libraries), loaded once here.
        for metric in {id(instances[j.metric]): instances[j.metric] for j in light}.values():
            getattr(metric, "warm_up", lambda: None)()
    if n <= 1:
        for job in light:
            log(f"scoring {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
            yield job, _score_job(job)
    else:
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context(method)) as pool:
            futures = {pool.submit(_score_job, job): job for job in light}
            for fut in as_completed(futures):
                job = futures[fut]
                log(f"scored {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
                yield job, fut.result()
    for job in heavy:
        log(f"scoring {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
        yield job, _score_job(job, instances[job.metric])


def segment_rows(res: MetricResult) -> list[dict[str, Any]]:
    stats = res.segment_stats if res.segment_stats is not None else [None] * len(res.segment_scores)
    rows = [{"id": i, "score": s, **({"stats": st} if st is not None else {})}
            for i, (s, st) in enumerate(zip(res.segment_scores, stats))]
    for key in PER_SEGMENT_EXTRA:
        for row, value in zip(rows, res.extra.get(key, [])):
            row[key[:-1] if key.endswith("s") else key] = value
    return rows


def load_task_inputs(out: RunDir, config: Mapping[str, Any]) -> list[TaskInputs]:
    """Every task and model the run's configuration names, from the run directory."""
    tasks: list[TaskInputs] = []
    models = config.get("models_resolved") or {}
    for name in config.get("tasks_resolved") or []:
        if not out.testdata_path(name).exists():
            raise MtbenchError(f"{out.testdata_path(name)} is missing; run `mtbench run` for {out.path} again to rebuild it")
        td = out.read_testdata(name)
        outputs = {}
        for model in models.get(name, []):
            if not out.has_finished_generation(name, model):
                raise MtbenchError(
                    f"{out.generation_path(name, model)}: no finished generation of {model} for {name}; "
                    f"finish it with `mtbench run` before scoring")
            outputs[model] = out.read_generation(name, model)
        info = {k: td[k] for k in ("testset", "pair", "src", "tgt", "zero_shot")}
        tasks.append(TaskInputs(name, info, td["source"], td["references"], outputs))
    return tasks


def score_run(path: str | Path, log: Log = print, metrics: Sequence[str] | None = None) -> RunDir:
    """Score every (task, model, metric) of a run directory that has no valid score yet,
    then write results, leaderboards and the report. ``metrics`` replaces the run's
    metric list (recorded in run.yaml)."""
    t_start = time.time()
    out = RunDir(path)
    config = out.read_config()
    load_include_python([Path(p) for p in config.get("include_path") or []])  # plugin metrics
    if metrics:
        check_metric_names(list(metrics))
        config["metrics"] = list(metrics)
        out.write_config(config)
    metric_names: list[str] = list(config.get("metrics") or [])
    check_metric_names(metric_names)
    preset = config.get("preset", "default")
    tasks = load_task_inputs(out, config)

    instances = {name: make_metric(name) for name in metric_names}
    jobs: list[ScoreJob] = []
    reused = 0
    for task in tasks:
        ref_sha = sha256_lines([f"{k}\t{x}" for k, v in task.refs.items() for x in v])
        ctx = task.context(preset)
        for name in metric_names:
            try:
                metric_config = instances[name].config(ctx)
            except MtbenchError as exc:  # e.g. a model path that does not exist
                metric_config = {"unavailable": str(exc)}
            keys = {m: input_key({"hyp": sha256_lines(lines), "refs": ref_sha, "metric": name,
                                  "config": metric_config, "preset": preset})
                    for m, lines in task.outputs.items()}
            todo = [m for m in task.outputs if not out.has_score(task.name, m, name, keys[m])]
            reused += len(task.outputs) - len(todo)
            if todo:
                jobs.append(ScoreJob(task.name, name, ctx, {m: task.outputs[m] for m in todo},
                                     {m: keys[m] for m in todo}, list(task.refs)))
    computed = 0
    unavailable: dict[str, dict[str, str]] = {}
    for job, results in run_score_jobs(jobs, int(config.get("workers") or 0), log, instances):
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

    results = collect_results(out, tasks, metric_names, instances)
    results["unavailable"] = unavailable
    refs = run_refs(out, results)
    add_significance(results, loader_for(refs), config.get("significance", "bs"), config.get("baseline", "best"),
                     config.get("n_resamples"), config.get("seed", 12345))
    previous = out.read_results() if (out.path / "results.json").exists() else None
    out.write_json("results.json", results)
    write_leaderboards(out.path, results)
    if previous != results or not (out.path / "report" / "index.html").exists():  # figures take seconds
        render_report(results, refs, out.path / "report", f"mtbench run {out.path.name}")
    out.update_manifest({
        "work": {"scores_computed": computed, "scores_reused": reused},
        "timings_s": {"score": round(t_scored - t_start, 3), "report": round(time.time() - t_scored, 3)},
        "scoring_pid": os.getpid(),
    })
    log(f"{computed} score file(s) computed, {reused} reused; results in {out.path}")
    return out


def collect_results(out: RunDir, tasks: Sequence[TaskInputs], metrics: Sequence[str],
                    instances: Mapping[str, Any]) -> dict[str, Any]:
    by_task: dict[str, Any] = {}
    for task in tasks:
        models: dict[str, Any] = {}
        for model in task.outputs:
            models[model] = {}
            for metric in metrics:
                if not out.score_paths(task.name, model, metric)[1].exists():
                    continue  # the metric failed for this task (see results["unavailable"])
                s = out.read_score(task.name, model, metric)
                models[model][metric] = {"score": s["score"], "signature": s["signature"],
                                         "higher_is_better": s["higher_is_better"]}
                extra = s.get("extra") or {}
                if "scale" in extra:  # raw in files, x100 in tables (COMET, BLEURT)
                    models[model][metric]["display_scale"] = extra["scale"]
                if extra:  # corpus-level details (BLEU's precisions, off-target's wrong languages)
                    models[model][metric]["extra"] = extra
        reference = {}
        for metric in metrics:  # the reference floor, for metrics that define one (off-target)
            m = instances[metric]
            if hasattr(m, "reference_score"):
                try:
                    reference[metric] = m.reference_score(task.context("default"))
                except MtbenchError:
                    pass  # the same failure is reported once, as the metric's
        by_task[task.name] = {"reference": reference, **task.info, "segments": len(task.source),
                              "refs": list(task.refs), "models": models}
    return {"metrics": list(metrics), "tasks": by_task}
