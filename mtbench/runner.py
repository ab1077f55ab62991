"""`mtbench run`: task -> outputs -> (scoring stage) -> results -> report.

Everything is loaded and checked before the first write, so bad input stops the run
with one line and leaves an existing run directory as it was. Each stage skips work
whose output in the run directory is valid for the same inputs; scoring reads only
the run directory (mtbench.scoring), in a fresh process when this one loaded a model
or a metric loads one.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtbench.config import RunConfig
from mtbench.data.loaders import TestData, data_dir_from_env, load_testdata
from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
from mtbench.metrics import make_metric
from mtbench.metrics.base import Metric, MetricResult, ScoringContext
from mtbench.models.precomputed import SystemFile
from mtbench.executors import Executor, make_executor
from mtbench.generate import GenerationCache, GenerationJob, default_cache_path, plan_generation, translate_rows
from mtbench.models.base import Backend, DecodingParams, OutputSource, Request, TranslatorModel
from mtbench.models.spec import ModelSpec, build_model, model_options, parse_model_spec
from mtbench.registry import accepted_keywords
from mtbench.prompts import ADAPTERS, make_adapter
from mtbench.proc import child_env
from mtbench.runlock import RunLock
from mtbench.stop import checkpoint, forwarding_to
from mtbench.scoring import input_key, score_alone, score_run
from mtbench.threads import child_env as threads_child_env
from mtbench.threads import decide as decide_threads
from mtbench.threads import restore as restore_threads
from mtbench.store import RunDir, environment_versions, git_revision
from mtbench.tasks import Task, resolve_tasks, single_suite, suite_limit
from mtbench.textio import read_lines, sha256_file, sha256_lines


@dataclass
class TaskPlan:
    task: Task
    data: TestData
    refs: dict[str, list[str]]
    source: list[str]
    outputs: dict[str, list[str]] = field(default_factory=dict)  # model -> lines
    files: dict[str, SystemFile] = field(default_factory=dict)
    files_under_test: set[str] = field(default_factory=set)  # systems from files:DIR (the user's own outputs)


def read_hypothesis(path: Path, n_source: int, task: Task) -> list[str]:
    lines = read_lines(path, "hypothesis file")
    if len(lines) != n_source:
        raise MtbenchError(
            f"{path}: {len(lines)} lines but {task.name} has {n_source} source segments; "
            f"give one output line per source line (empty lines for missing outputs)"
        )
    return lines


def task_info(task: Task, segments_in_test_set: int) -> dict[str, Any]:
    return {"testset": task.testset, "pair": task.pair, "src": task.src, "tgt": task.tgt,
            "zero_shot": task.zero_shot, "segments_in_test_set": segments_in_test_set}


def plan_task(task: Task, data_dir: Path | None, refs: str, limit: int | None) -> TaskPlan:
    data = load_testdata(get_testset(task.testset), task.pair, data_dir)
    chosen = data.refs(refs)
    n = len(data.source) if limit is None else min(limit, len(data.source))
    return TaskPlan(task, data, {k: v[:n] for k, v in chosen.items()}, data.source[:n])


def score_outputs(plan: TaskPlan, metrics: Sequence[Metric], preset: str
                  ) -> tuple[dict[str, dict[str, MetricResult]], dict[str, str]]:
    """(metric -> model -> result, metric -> why it could not run) for one task's
    outputs: a metric that cannot run (a model missing) fails alone."""
    ctx = ScoringContext(plan.task.src, plan.task.tgt, plan.source, plan.refs, preset)
    results: dict[str, dict[str, MetricResult]] = {}
    errors: dict[str, str] = {}
    for metric in metrics:
        outcome = score_alone(metric, ctx, plan.outputs)
        if isinstance(outcome, MtbenchError):
            errors[metric.name] = str(outcome)
        else:
            results[metric.name] = outcome
    return results, errors


#: Where a run computes and where it is logged do not change what it computes: the
#: same command on another executor or tracker reuses the same run directory.
NOT_IDENTITY = ("executor", "ray_address", "ray_replicas", "log_to", "threads")


def default_run_dir(cfg: RunConfig) -> Path:
    """runs/<tasks>-<hash>: the same command reuses the same directory (and resumes)."""
    where = {k: getattr(cfg, k) for k in NOT_IDENTITY}
    if cfg.tasks == "default" and cfg == RunConfig(data_dir=cfg.data_dir, systems=cfg.systems, **where):
        return Path("runs") / "default"
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in cfg.tasks)[:40]
    key = {k: v for k, v in cfg.to_dict().items() if k not in ("out", "data_dir", "systems", *NOT_IDENTITY)}
    return Path("runs") / f"{label}-{input_key(key)[:8]}"


@dataclass
class Generator:
    """One generating model with one adapter: a column of the leaderboard."""

    name: str
    spec: str
    backend: Backend | TranslatorModel  # a model's backend, or a user's Python translator (the API)
    adapter: Any
    adapter_name: str
    decoding: DecodingParams
    options: dict[str, Any] = field(default_factory=dict)  # the backend's typed options, as built

    def requests(self, plan: TaskPlan) -> list[Request]:
        t = plan.task
        return [Request(source=s, src_lang=t.src, tgt_lang=t.tgt, prompt=self.adapter.prompt(s, t.src, t.tgt), id=i,
                        task=t.name) for i, s in enumerate(plan.source)]


def shared_options(cfg: RunConfig, data_dir: Path | None) -> dict[str, Any]:
    """The run's settings that any model kind may declare as an option (the others
    ignore them), and mtbench's own keywords."""
    # progress: the run shows one bar per (task, model) job (GenerationJob), not one per backend call
    return {"device": cfg.device, "dtype": cfg.dtype, "batch_tokens": cfg.batch_tokens, "systems": cfg.systems,
            "data_dir": str(data_dir) if data_dir else None, "progress": False}


def make_generators(cfg: RunConfig, specs: Sequence[ModelSpec], shared: Mapping[str, Any],
                    translators: dict[str, Any], executor: Executor) -> list[Generator]:
    """Backends (loaded now, where the executor runs them: a missing model fails before
    anything is written) times adapters."""
    generators = []
    backends: list[tuple[str, str, Backend | TranslatorModel, dict[str, Any]]] = [
        (spec.label, spec.text, executor.build_backend(spec, shared, cfg.model_args),
         model_options(spec, shared, cfg.model_args)) for spec in specs]
    backends += [(name, f"python:{type(obj).__name__}", TranslatorModel(name, obj), {}) for name, obj in translators.items()]
    for label, spec, backend, built_with in backends:
        for adapter_name in cfg.adapters:
            factory = ADAPTERS.get(adapter_name)
            options = accepted_keywords(factory, {"shots": cfg.shots or None, "tokenizer": backend.tokenizer})
            adapter = make_adapter(adapter_name, **options)
            decoding = adapter.decoding.replace(num_beams=cfg.num_beams, max_new_tokens=cfg.max_new_tokens,
                                                no_repeat_ngram_size=cfg.no_repeat_ngram_size)
            suffix = adapter_name + (f"-{cfg.shots}shot" if cfg.shots else "")
            generators.append(Generator(f"{label}+{suffix}", spec, backend, adapter, adapter_name, decoding, built_with))
    names = [g.name for g in generators]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MtbenchError(f"two models would both be called {dupes[0]!r}; name them apart with SPEC?name=NAME "
                           f"(e.g. hf:/ckpt/a?name=a-bf16)")
    return generators


def apply_suite_settings(cfg: RunConfig, include: list[Path]) -> RunConfig:
    """A suite's `run:` settings fill in whatever the user left at its default."""
    suite = single_suite(cfg.tasks, include)
    if suite is None or not suite.run:
        return cfg
    defaults = RunConfig()
    changes = {k: v for k, v in suite.run if getattr(cfg, k) == getattr(defaults, k)}
    if not changes:
        return cfg
    merged = dataclasses.replace(cfg, **changes)
    merged.validate(str(suite.path))
    return merged


def run(cfg: RunConfig, log=print, isolate_scoring: bool = True, translators: dict[str, Any] | None = None,
        wait: bool = False, force: bool = False) -> RunDir:
    """``translators``: name -> a Python object with ``translate(list[Request])`` (the API).
    ``wait``: wait for another writer of the run directory instead of failing;
    ``force``: write into a non-empty folder that is not a run directory."""
    t_start = time.time()
    if not cfg.is_checked():  # the CLI's configuration is checked already: a run validates once
        cfg.load_plugins()
        cfg.validate()
    include = [Path(p) for p in cfg.include_path]
    out = RunDir(cfg.out or default_run_dir(cfg))
    cfg = apply_suite_settings(cfg, include)
    tasks = resolve_tasks(cfg.tasks, include)
    limit = cfg.limit if cfg.limit is not None else suite_limit(cfg.tasks, include)
    data_dir = data_dir_from_env(cfg.data_dir)
    specs = [parse_model_spec(m) for m in cfg.models]
    shared = shared_options(cfg, data_dir)
    # Output sources (files, files:DIR, a plugin's): their outputs exist already.
    sources: list[OutputSource] = [build_model(spec, shared, {}) for spec in specs if spec.is_source]

    # 1. Load and check every input before writing anything.
    plans: list[TaskPlan] = []
    for task in tasks:
        plan = plan_task(task, data_dir, cfg.refs, limit)
        n_full = len(plan.data.source)
        for source in sources:
            for sysfile in source.systems(task):
                if sysfile.name in plan.outputs:
                    raise MtbenchError(
                        f"{sysfile.path}: system {sysfile.name!r} of {task.name} is also in {plan.files[sysfile.name].path}; "
                        f"two systems cannot share a name: rename one of the files")
                plan.outputs[sysfile.name] = read_hypothesis(sysfile.path, n_full, task)[: len(plan.source)]
                plan.files[sysfile.name] = sysfile
                if source.under_test:
                    plan.files_under_test.add(sysfile.name)
                else:
                    plan.files_under_test.discard(sysfile.name)
        plans.append(plan)
    from mtbench.trackers import check_available

    check_available(cfg.log_to)  # a tracker package that is missing: said before any work
    threads = decide_threads(cfg.threads)  # before any model loads: torch's pool is sized once
    executor = make_executor(cfg.executor, cfg.ray_address, cfg.ray_replicas, cfg.include_path, log)
    try:
        generators = make_generators(cfg, [s for s in specs if not s.is_source], shared, dict(translators or {}), executor)
        prompts = {(g.name, p.task.name): g.requests(p) for g in generators for p in plans}  # names every language now
        if not generators and not any(p.outputs for p in plans):
            raise MtbenchError(
                f"no system outputs (systems/*.txt, llm_outputs/*.txt) for {cfg.tasks} under "
                f"{', '.join(s.describe() for s in sources) or 'no output source'}; point --systems at a folder in mtbench's data layout or give --model")
        check_model_names(plans, generators)
        check_report_names(cfg, plans, generators)
        t_loaded = time.time()
        out.check_is_run_or_empty(force)
        out.ensure_writable()
        with RunLock(out.path, wait=wait, log=log) as lock:  # one writer per run directory, from here on
            cache = GenerationCache(cfg.cache or default_cache_path()) if generators else None
            resolved = cfg.to_dict()
            resolved.update(out=str(out.path), limit=limit, data_dir=str(data_dir) if data_dir else None,
                            systems=[s.describe() for s in sources], tasks_resolved=[t.name for t in tasks],
                            models_resolved={p.task.name: list(p.outputs) + [g.name for g in generators] for p in plans})
            out.write_config(resolved)
            checkpoint("generate", "config")
            if threads.busy:  # said once every input is checked: a bad input stays a one-line error
                log(f"mtbench: other processes keep {threads.busy} of {threads.usable} usable core(s) busy: "
                    f"using {threads.threads} CPU thread(s) (--threads N to choose)")

            # 2. Generations: precomputed outputs are imported; models generate (cached, resumable).
            imported = 0
            file_sha: dict[tuple[str, str], str] = {}  # (task, model) -> sha256 of a system file imported now
            for plan in plans:
                out.write_testdata(plan.task.name, task_info(plan.task, len(plan.data.source)), plan.source, plan.refs)
                for model, lines in plan.outputs.items():
                    mine = model in plan.files_under_test
                    sha = input_key({"outputs": sha256_lines(lines), "under_test": mine})
                    if out.has_generation(plan.task.name, model, sha):
                        continue
                    path = plan.files[model].path
                    file_sha[plan.task.name, model] = out.write_generation_file(plan.task.name, model, path, {
                        "model": model, "backend": "files", "kind": "files:DIR" if mine else "files", "under_test": mine,
                        "path": str(path), "input_sha256": sha, "segments": len(lines)})
                    imported += 1
                    checkpoint("generate", f"import:{plan.task.name}:{model}")
            generation_log: dict[str, Any] = {}
            jobs: dict[int, tuple[Generator, TaskPlan, str, GenerationJob]] = {}  # id(job) -> where its rows go
            for g in generators:
                fingerprint = g.backend.fingerprint()
                generation_log[g.name] = {"spec": g.spec, "options": g.options, "adapter": g.adapter.describe(),
                                          "decoding": g.decoding.to_dict(), "fingerprint": fingerprint, "tasks": {}}
                for plan in plans:
                    requests = prompts[(g.name, plan.task.name)]
                    key = input_key({"fingerprint": fingerprint, "adapter": g.adapter.describe(), "decoding": g.decoding.to_dict(),
                                     "prompts": sha256_lines([r.prompt for r in requests])})
                    if out.has_generation(plan.task.name, g.name, key):
                        generation_log[g.name]["tasks"][plan.task.name] = {"generated": 0, "from_run_dir": len(requests)}
                        continue
                    if not isinstance(g.backend, TranslatorModel):
                        job = plan_generation(g.backend, g.adapter, requests, g.decoding, cache, g.adapter.describe(),
                                              label=f"{plan.task.name}:{g.name}")
                        n, todo = len(requests), len(job.todo)
                        log(f"{plan.task.name} with {g.name}: all {n} segment(s) from the generation cache" if not todo
                            else f"generating {plan.task.name} with {g.name}: {todo} of {n} segment(s)"
                            + (f", {n - todo} from the generation cache" if todo < n else ""))
                        jobs[id(job)] = (g, plan, key, job)
                        continue
                    log(f"translating {plan.task.name} with {g.name}: {len(requests)} segment(s)")
                    rows = translate_rows(g.backend.obj, requests)
                    write_generated(out, g, plan, key, fingerprint, rows, "python", {"generated": len(rows)}, generation_log)
            for job in executor.run_generation([j for *_, j in jobs.values()]):
                g, plan, key, _ = jobs[id(job)]
                stats = job.stats
                info = {"generated": stats.generated, "from_cache": stats.segments - stats.generated,
                        "new_tokens": stats.new_tokens, "seconds": round(stats.seconds, 3)}
                write_generated(out, g, plan, key, generation_log[g.name]["fingerprint"], job.rows(), "generated", info,
                                generation_log)
            loaded_a_model = bool(generators)
            release(generators)
            t_generated = time.time()
            out.write_json("manifest.json", {
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": environment_versions(),
                "git_revision": git_revision(),
                "data": {p.task.name: {"origin": p.data.origin, "checksum": p.data.checksum(), "segments": len(p.source),
                                       "segments_in_test_set": len(p.data.source), "refs": list(p.refs)} for p in plans},
                "systems": {p.task.name: {m: {"path": str(f.path), "sha256": file_sha.get((p.task.name, m)) or sha256_file(f.path)}
                                         for m, f in p.files.items()}
                            for p in plans},
                "models": generation_log,
                "work": {"generations_imported": imported},
                "threads": threads.to_dict(),
                "timings_s": {"load": round(t_loaded - t_start, 3), "generate": round(t_generated - t_loaded, 3)},
            })
            checkpoint("generate", "manifest")

            # 3. Scores, results, report, in a fresh process when this one loaded a model
            #    (ending is what hands the accelerator back), a metric loads one (a crash
            #    in it then cannot take `mtbench run` with it) or a Ray driver runs here
            #    (its threads do not survive the scoring pool's fork); else here, without a
            #    second interpreter. The Python API always scores here.
            if isolate_scoring and (loaded_a_model or cfg.executor != "local" or any(map(loads_a_model, cfg.metrics))):
                score_in_subprocess(out, {**lock.child_env(), **executor.child_env(), **threads_child_env()})
            else:
                score_run(out.path, log, executor=executor)
                log_to_trackers(cfg, out, log, command="run" if isolate_scoring else "evaluate")
            return out
    finally:  # actors, and a Ray instance started for this run, end with it
        executor.close()
        restore_threads(threads)


def loads_a_model(metric: str) -> bool:
    """Whether a metric loads a model (COMET, BLEURT). One whose model cannot be made
    counts as one: the scoring stage says why it is unavailable."""
    try:
        return make_metric(metric).heavy
    except MtbenchError:
        return True


def log_to_trackers(cfg: RunConfig, out: RunDir, log: Any, command: str) -> None:
    """Scoring in this process logs where `mtbench score --run` would have: a tracker
    that fails is an error, with the exit code the CLI gives it (the run directory is
    complete either way). The CLI's log already said why; the API's may be silent, so
    its error says it again."""
    from mtbench.trackers import TRACKER_FAILED_EXIT, log_run

    said: list[str] = []
    if not log_run(cfg.log_to, out.path, command, lambda m: (said.append(m), log(m))):
        if command == "run":
            raise MtbenchError("", exit_code=TRACKER_FAILED_EXIT, quiet=True)
        raise MtbenchError(said[0].removeprefix("mtbench: warning: ") if said else "tracker logging failed",
                           exit_code=TRACKER_FAILED_EXIT)


def write_generated(out: RunDir, g: Generator, plan: TaskPlan, key: str, fingerprint: Mapping[str, Any],
                    rows: list[dict[str, Any]], kind: str, info: dict[str, Any], generation_log: dict[str, Any]) -> None:
    out.write_generation_rows(plan.task.name, g.name, rows, {
        "model": g.name, "backend": g.spec, "kind": kind, "under_test": True, "adapter": g.adapter_name,
        "fingerprint": dict(fingerprint), "decoding": g.decoding.to_dict(), "input_sha256": key, "segments": len(rows),
        **info})
    generation_log[g.name]["tasks"][plan.task.name] = info
    checkpoint("generate", f"generation:{plan.task.name}:{g.name}")


def check_model_names(plans: Sequence[TaskPlan], generators: Sequence[Generator]) -> None:
    """A column is one system in every direction: the user's own (files:DIR, a model) and
    a reference system of the data layout may not share a name."""
    mine = {m for p in plans for m in p.files_under_test} | {g.name for g in generators}
    theirs = {m: p.files[m].path for p in plans for m in p.outputs if m not in p.files_under_test}
    clash = sorted(mine & set(theirs))
    if clash:
        raise MtbenchError(f"system {clash[0]!r} is one of yours (files:DIR or a model) and a reference system of the "
                           f"data layout ({theirs[clash[0]]}); rename your file so that the two stay apart")


def check_report_names(cfg: RunConfig, plans: Sequence[TaskPlan], generators: Sequence[Generator]) -> None:
    """--baseline, --show and --figure-tasks must name systems and directions of this
    run: said before anything is written, with did-you-mean."""
    from mtbench.registry import did_you_mean
    from mtbench.report.selection import ViewOptions, check_names

    models = list(dict.fromkeys([m for p in plans for m in p.outputs] + [g.name for g in generators]))
    if cfg.baseline != "best" and cfg.baseline not in models:
        raise MtbenchError(f"--baseline {cfg.baseline!r} is not a system of this run: {did_you_mean(cfg.baseline, models)} "
                           f"(or use best)")
    check_names(ViewOptions(cfg.systems_shown, tuple(cfg.show), cfg.figure_tasks), models, [p.task.name for p in plans])


def release(generators: list[Generator]) -> None:
    """Drop the models and hand accelerator memory back before scoring starts."""
    for g in generators:
        g.backend.close()
    generators.clear()
    import gc

    gc.collect()
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def score_in_subprocess(out: RunDir, env: dict[str, str]) -> None:
    """`mtbench score --run OUT` in a new interpreter, under this process's lock of the
    run directory and dying with it; its messages go straight to stderr."""
    cmd = [sys.executable, "-m", "mtbench", "score", "--run", str(out.path)]
    proc = subprocess.Popen(cmd, env=child_env(env))
    with forwarding_to(proc.pid):  # SIGTERM to `mtbench run` stops the scoring stage after its job in flight
        rc = proc.wait()
    if rc < 0:
        raise MtbenchError(f"the scoring stage was killed by {signal.Signals(-rc).name}; run the same command again "
                           f"to finish it (finished scores are kept)", exit_code=128 - rc)
    if rc != 0:
        # The scoring process already printed its one-line reason.
        raise MtbenchError("", exit_code=rc, quiet=True)


def score_files(task: Task, hyp_paths: Sequence[Path], names: Sequence[str], metrics: Sequence[Metric],
                data_dir: Path | None, refs: str, preset: str
                ) -> tuple[TaskPlan, dict[str, dict[str, MetricResult]], dict[str, str]]:
    """Loose hypothesis files (``mtbench score``): the task's plan, metric -> model ->
    result, and metric -> why it could not run."""
    plan = plan_task(task, data_dir, refs, None)
    for name, path in zip(names, hyp_paths):
        plan.outputs[name] = read_hypothesis(path, len(plan.source), task)
    results, errors = score_outputs(plan, metrics, preset)
    return plan, results, errors
