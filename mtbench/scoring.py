"""The scoring stage: generations in the run directory -> scores -> results -> report.

It reads nothing but the run directory (run.yaml, testdata/, generations/), so it runs
in a fresh process after generation has released the accelerator (`mtbench run`
starts it that way when it loaded a model or a metric loads one; else it scores in
its own process) and on its own (`mtbench score --run RUN_DIR`). A score whose
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
from mtbench.executors import Executor, make_executor
from mtbench.metrics import check_metric_names, expand_metric_names, make_metric
from mtbench.metrics.base import GenerationRecord, Metric, MetricResult, ScoringContext
from mtbench.plugins import load_include_python
from mtbench.proc import close_pool, pool_worker
from mtbench.results import ModelInfo, Results, Score, TaskResult
from mtbench.runlock import RunLock
from mtbench.stop import checkpoint, hurried
from mtbench import threads
from mtbench.store import RunDir
from mtbench.threads import decide as decide_threads
from mtbench.threads import restore as restore_threads
from mtbench.textio import read_json, sha256_lines

Log = Callable[[str], None]


def input_key(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class TaskInputs:
    """One task as the scoring stage sees it: test data and every model's outputs."""

    name: str
    info: dict[str, Any]  # testset, pair, src, tgt, zero_shot, segments_in_test_set
    source: list[str]
    refs: dict[str, list[str]]
    outputs: dict[str, list[str]]
    models: dict[str, dict[str, Any]]  # model -> kind and under_test, from its generation's meta
    records: dict[str, GenerationRecord]  # model -> how its outputs were made (prompts, token counts)

    def context(self, preset: str, metric: Metric | None = None) -> ScoringContext:
        """The direction as ``metric`` sees it: with the generation records only for a
        metric that reads them (they are large and travel to every worker)."""
        records = self.records if metric is not None and metric.reads_generation else {}
        return ScoringContext(self.info["src"], self.info["tgt"], self.source, self.refs, preset, records)


@dataclass
class ScoreJob:
    """One metric over the systems of one task that still need scores."""

    task: str
    metric: str
    ctx: ScoringContext
    hypotheses: dict[str, list[str]]
    keys: dict[str, str]  # model -> input checksum recorded with its score
    refs: list[str]
    weight: int = 0  # the whole task's size: jobs run in the same order whatever part of them is done

    @property
    def size(self) -> int:
        return self.weight or sum(len(x) for lines in self.hypotheses.values() for x in lines)


JobResult = dict[str, MetricResult] | MtbenchError


def score_alone(metric: Metric, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> JobResult:
    """A metric that cannot run (model missing, language it cannot judge, a plugin that
    breaks the contract or raises) fails alone: the error comes back as a one-line
    value and the other metrics go on."""
    try:
        results = metric.score_systems(ctx, hypotheses)
        for system, res in results.items():
            metric.check_result(system, res)
        return results
    except MtbenchError as exc:
        return exc
    except Exception as exc:  # a plugin's bug: that metric fails, in one line
        return MtbenchError(f"{metric.name} raised {type(exc).__name__}: {exc} (in {type(metric).__module__})")


def score_job(job: ScoreJob, metric: Metric | None = None) -> JobResult:
    try:
        metric = metric or make_metric(job.metric)
    except MtbenchError as exc:
        return exc
    return score_alone(metric, job.ctx, job.hypotheses)


#: The jobs of the pool being started: a forked worker reads its job from its own copy
#: of this list, so a task's outputs and references are not pickled to it (they were a
#: third of the parent's work while the pool scored the WMT22/21 files).
_INHERITED_JOBS: Sequence[ScoreJob] = ()


def _score_inherited(index: int) -> JobResult:
    return score_job(_INHERITED_JOBS[index])


def run_score_jobs(jobs: Sequence[ScoreJob], workers: int, log: Log = print,
                   instances: Mapping[str, Metric] | None = None,
                   executor: Executor | None = None) -> Iterator[tuple[ScoreJob, JobResult]]:
    """Score jobs; light metrics in parallel processes, heavy ones where the executor
    runs them (this process, or a Ray actor per metric).

    Largest light jobs first so the pool stays balanced; results come back as they
    finish and the caller writes them, so an interrupted run keeps every finished job.
    A heavy metric keeps one instance (one loaded model) for all of its tasks."""
    instances = dict(instances or {})
    for job in jobs:
        instances.setdefault(job.metric, make_metric(job.metric))
    light = sorted((j for j in jobs if not instances[j.metric].heavy), key=lambda j: -j.size)
    heavy = [j for j in jobs if instances[j.metric].heavy]
    n = min(workers or threads.current(), len(light))
    if n > 1:
        # What forked workers can share (a loaded model, imported libraries), loaded once here.
        for metric in {id(instances[j.metric]): instances[j.metric] for j in light}.values():
            getattr(metric, "warm_up", lambda: None)()
    if n <= 1:
        for job in light:
            log(f"scoring {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
            yield job, score_job(job, instances[job.metric])
    else:
        global _INHERITED_JOBS
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context(method), initializer=pool_worker,
                                   initargs=(os.getpid(),))
        try:
            if method == "fork":  # every worker is forked at or after the first submit, so it has them
                _INHERITED_JOBS = light
                futures = {pool.submit(_score_inherited, i): job for i, job in enumerate(light)}
            else:
                futures = {pool.submit(score_job, job): job for job in light}
            for fut in as_completed(futures):
                job = futures[fut]
                log(f"scored {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
                yield job, fut.result()
        finally:  # also when the caller stops early (SIGTERM): jobs not started are dropped
            close_pool(pool, now=hurried())  # a second Ctrl-C: the jobs in flight too
            _INHERITED_JOBS = ()
    yield from (executor or make_executor("local", log=log)).run_heavy(heavy, instances)


def segment_columns(res: MetricResult) -> dict[str, list[Any]]:
    """The per-segment file's columns: id, the segment's score and the metric's
    per-segment details (off-target's language). The statistics (what the paired tests
    resample) go to their own array file."""
    return {"id": list(range(len(res.segment_scores))), "score": [float(s) for s in res.segment_scores],
            **{key: list(values) for key, values in res.segment_details.items()}}


def load_task_inputs(out: RunDir, config: Mapping[str, Any]) -> list[TaskInputs]:
    """Every task and model the run's configuration names, from the run directory."""
    tasks: list[TaskInputs] = []
    models = config.get("models_resolved") or {}
    manifest = out.path / "manifest.json"
    recorded = (read_json(manifest).get("data") or {}) if manifest.exists() else {}  # runs from before testdata said it
    for name in config.get("tasks_resolved") or []:
        if not out.testdata_path(name).exists():
            raise MtbenchError(f"{out.testdata_path(name)} is missing; run `mtbench run` for {out.path} again to rebuild it")
        td = out.read_testdata(name)
        outputs, kinds, records = {}, {}, {}
        for model in models.get(name, []):
            if not out.has_finished_generation(name, model):
                raise MtbenchError(
                    f"{out.generation_path(name, model)}: no finished generation of {model} for {name}; "
                    f"finish it with `mtbench run` before scoring")
            rows = out.read_generation_rows(name, model)
            outputs[model] = [r["output"] for r in rows]
            kinds[model] = out.generation_kind(name, model)
            records[model] = generation_record(rows, out.read_generation_meta(name, model))
        info = {k: td[k] for k in ("testset", "pair", "src", "tgt", "zero_shot")}
        info["segments_in_test_set"] = td.get("segments_in_test_set",
                                              recorded.get(name, {}).get("segments_in_test_set", len(td["source"])))
        tasks.append(TaskInputs(name, info, td["source"], td["references"], outputs, kinds, records))
    return tasks


def generation_record(rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> GenerationRecord:
    """What a generation's rows and meta say about how its outputs were made. Only a
    generated system counted its tokens against a known limit; a Python translator's
    rows carry 0 tokens, which is no count."""
    kind = str(meta.get("kind") or ("files" if meta.get("backend") == "files" else "generated"))
    if kind.startswith("files"):
        return GenerationRecord(kind)
    prompts = [str(r.get("prompt", "")) for r in rows] if all("prompt" in r for r in rows) else None
    limit = (meta.get("decoding") or {}).get("max_new_tokens")
    counted = kind == "generated" and isinstance(limit, int) and all(isinstance(r.get("tokens"), int) for r in rows)
    return GenerationRecord(kind, meta.get("adapter"), prompts,
                            [int(r["tokens"]) for r in rows] if counted else None, limit if counted else None)


def score_run(path: str | Path, log: Log = print, metrics: Sequence[str] | None = None, wait: bool = False,
              executor: Executor | None = None) -> RunDir:
    """Score every (task, model, metric) of a run directory that has no valid score yet,
    then write results.json (with its statistics) and the run's report. ``metrics``
    replaces the run's metric list (recorded in run.yaml). Holds the run directory's
    lock (or works under the lock of the `mtbench run` that started it)."""
    out = RunDir(path)
    config = out.read_config()  # one line for a folder that is not a run, before a lock file is made there
    choice = decide_threads(int(config.get("threads") or 0))  # or the decision of the `mtbench run` that started this
    try:
        with RunLock(out.path, wait=wait, log=log):
            return _score_run(out, log, metrics, executor)
    finally:
        restore_threads(choice)


def _score_run(out: RunDir, log: Log, metrics: Sequence[str] | None, executor: Executor | None) -> RunDir:
    from mtbench.report.build import ReportOptions, analyse, write_report
    from mtbench.report.leaderboard import run_notes

    t_start = time.time()
    config = out.read_config()
    load_include_python([Path(p) for p in config.get("include_path") or []])  # plugin metrics
    if metrics:
        metrics = expand_metric_names(list(metrics))
        check_metric_names(list(metrics))
        config["metrics"] = list(metrics)
        out.write_config(config)
    metric_names: list[str] = list(config.get("metrics") or [])
    check_metric_names(metric_names)
    preset = config.get("preset", "default")
    tasks = load_task_inputs(out, config)
    options = ReportOptions.from_config(config, f"mtbench run {out.path.name}")

    instances = {name: make_metric(name) for name in metric_names}
    jobs: list[ScoreJob] = []
    expected: dict[tuple[str, str, str], str] = {}  # (task, model, metric) -> the input key a valid score has
    not_scored: dict[str, dict[str, dict[str, str]]] = {}  # task -> metric -> model -> why the metric cannot judge it
    reused = 0
    for task in tasks:
        ref_sha = sha256_lines([f"{k}\t{x}" for k, v in task.refs.items() for x in v])
        hyp_sha = {m: sha256_lines(lines) for m, lines in task.outputs.items()}
        for name in metric_names:
            metric = instances[name]
            ctx = task.context(preset, metric)
            try:
                metric_config = metric.config(ctx)
            except MtbenchError as exc:  # e.g. a model path that does not exist
                metric_config = {"unavailable": str(exc)}
            judged = {}
            for m, lines in task.outputs.items():
                reason = metric.not_applicable(task.records[m])
                if reason:
                    not_scored.setdefault(task.name, {}).setdefault(name, {})[m] = reason
                else:
                    judged[m] = lines
            keys = {m: input_key({"hyp": hyp_sha[m], "refs": ref_sha, "metric": name,
                                  "config": metric_config, "preset": preset, "format": SCORE_FORMAT,
                                  **(task.records[m].fingerprint(metric.reads_generation) if metric.reads_generation else {})})
                    for m, lines in judged.items()}
            expected.update({(task.name, m, name): k for m, k in keys.items()})
            todo = [m for m in judged if not out.has_score(task.name, m, name, keys[m])]
            reused += len(judged) - len(todo)
            if todo:
                jobs.append(ScoreJob(task.name, name, ctx, {m: task.outputs[m] for m in todo},
                                     {m: keys[m] for m in todo}, list(task.refs),
                                     sum(len(x) for lines in task.outputs.values() for x in lines)))
    computed = 0
    unavailable: dict[str, dict[str, str]] = {}
    own_executor = executor is None and any(instances[j.metric].heavy for j in jobs)
    if own_executor:  # the run's executor (run.yaml), joining its cluster through $RAY_ADDRESS
        executor = make_executor(config.get("executor") or "local", config.get("ray_address"),
                                 include_path=config.get("include_path") or [], log=log)
    try:
        for job, results in run_score_jobs(jobs, int(config.get("workers") or 0), log, instances, executor):
            if isinstance(results, MtbenchError):
                log(f"mtbench: warning: {job.metric} unavailable for {job.task}: {results}")
                unavailable.setdefault(job.metric, {})[job.task] = str(results)
                continue
            metric = instances[job.metric]
            for model, res in results.items():
                out.write_score(job.task, model, job.metric, segment_columns(res), {
                    "task": job.task, "model": model, "metric": job.metric, "score": res.score,
                    "signature": res.signature, "segments": len(res.segment_scores), "refs": job.refs,
                    "details": res.details, "detail_columns": metric.detail_columns(res.details),
                    "verbose": metric.verbose(res.details), "input_sha256": job.keys[model]}, res.statistics())
                computed += 1
                checkpoint("score", f"{job.task}:{model}:{job.metric}")
    finally:
        if own_executor:
            executor.close()
    t_scored = time.time()

    results = collect_results(out, config, tasks, instances, unavailable, expected, not_scored)
    analyse(results, instances, options)
    for note in run_notes(results):
        log(f"mtbench: warning: {note}")
    results.save(out.path)
    checkpoint("score", "results.json")
    write_report(results, out.path / "report", options)
    out.update_manifest({
        "work": {"scores_computed": computed, "scores_reused": reused},
        "timings_s": {"score": round(t_scored - t_start, 3), "report": round(time.time() - t_scored, 3)},
        "scoring_pid": os.getpid(),
    })
    log(f"{computed} score file(s) computed, {reused} reused; results in {out.path}, report in {out.path / 'report'}")
    return out


#: Changes when what a score file holds changes, so older files are recomputed.
SCORE_FORMAT = 5  # 3: statistics in <metric>.stats.npy, not in the rows; 4: the corpus file records file sizes;
#                   5: the score column also in <metric>.scores.npy


def collect_results(out: RunDir, config: Mapping[str, Any], tasks: Sequence[TaskInputs],
                    instances: Mapping[str, Metric], unavailable: dict[str, dict[str, str]],
                    expected: Mapping[tuple[str, str, str], str],
                    not_scored: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None) -> Results:
    """The results model of a run, from its score files: only scores computed from the
    current inputs and settings (``expected`` input keys), never an older file that a
    metric failing now left behind."""
    models: dict[str, ModelInfo] = {}
    by_task: dict[str, TaskResult] = {}
    for task in tasks:
        scores: dict[str, dict[str, Score]] = {}
        for model in task.outputs:
            kind = task.models[model]
            models.setdefault(model, ModelInfo(model, kind["kind"], kind["under_test"], str(out.path), model))
            per: dict[str, Score] = {}
            for metric in instances:
                key = expected.get((task.name, model, metric))
                if key is None or not out.has_score(task.name, model, metric, key):
                    continue  # the metric failed for this task (see unavailable)
                s = out.read_score(task.name, model, metric)
                per[metric] = Score(s["score"], s["signature"], s.get("details") or {}, s.get("detail_columns") or {},
                                    s.get("verbose"))
            scores[model] = per
        floors, caveats = {}, {}
        ctx = task.context(config.get("preset", "default"))
        for name, metric in instances.items():  # the reference floor, for metrics that define one (off-target)
            if not task.outputs or name in unavailable and task.name in unavailable[name]:
                continue
            try:
                floor = metric.reference_floor(ctx)
            except MtbenchError:
                floor = None  # the same failure is reported once, as the metric's
            if floor is not None:
                floors[name] = floor
            caveat = metric.caveat(ctx)
            if caveat:
                caveats[name] = caveat
        by_task[task.name] = TaskResult(task.name, task.info["testset"], task.info["pair"], task.info["src"],
                                        task.info["tgt"], bool(task.info["zero_shot"]), len(task.source),
                                        int(task.info["segments_in_test_set"]), list(task.refs), scores, floors, caveats,
                                        {m: dict(per) for m, per in (not_scored or {}).get(task.name, {}).items()})
    return Results(preset=config.get("preset", "default"), metrics={n: m.info() for n, m in instances.items()},
                   models=models, tasks=by_task, limit=config.get("limit"), unavailable=unavailable,
                   runs=[str(out.path)])
