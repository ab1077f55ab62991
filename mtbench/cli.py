"""Command line: one small function per subcommand over the library's functions.

Every user-facing failure is an ``MtbenchError``: printed as one line, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from mtbench import __version__, threads
from mtbench.config import LEGACY_MODEL_ARGS, RunConfig, help_text, is_int_key, load_config, read_model_args
from mtbench.config import default_note as config_default_note
from mtbench.errors import MtbenchError


def _add_common(p: argparse.ArgumentParser) -> None:
    _flag(p, "data_dir")
    _flag(p, "include_path", action="append", default=None, metavar="DIR")
    _flag(p, "preset")
    _flag(p, "refs")
    _flag(p, "metrics")


def _flag(group: Any, name: str, *flags: str, default_note: str | None = None, **kwargs: Any) -> None:
    """A flag for the RunConfig key ``name`` (``--name-with-dashes`` unless ``flags``
    say otherwise): its help is the key's own documentation (``config.help_text``), its
    type the key's (int keys parse as int). The flag's value lands in ``args.<flag>``."""
    kwargs.setdefault("help", help_text(name, default_note))
    if "action" not in kwargs and is_int_key(name):
        kwargs.setdefault("type", int)
    group.add_argument(*(flags or ("--" + name.replace("_", "-"),)), **kwargs)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _config_from_args(args: argparse.Namespace, check_metrics: bool = True) -> RunConfig:
    config_file = getattr(args, "config", None)
    cfg = load_config(config_file, validate=False) if config_file else RunConfig()
    if getattr(args, "tasks", None) is not None:
        cfg.tasks = args.tasks
    if args.metrics is not None:
        cfg.metrics = _split(args.metrics)
    if getattr(args, "show", None) is not None:
        cfg.show = _split(args.show)
    if getattr(args, "model", None):
        cfg.models = list(args.model)
    if getattr(args, "adapter", None):
        cfg.adapters = [a.strip() for a in args.adapter.split(",") if a.strip()]
    for name in ("refs", "preset", "data_dir", "systems", "limit", "out", "workers", "baseline", "seed",
                 "significance", "n_resamples", "shots", "num_beams", "max_new_tokens", "no_repeat_ngram_size",
                 "device", "dtype", "batch_tokens", "cache", "systems_shown", "figure_tasks", "executor", "ray_address", "ray_replicas", "threads"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(cfg, name, value)
    for text in getattr(args, "model_args", None) or []:
        cfg.model_args.update(read_model_args(text, f"--model-args {text}"))
    for key, option in LEGACY_MODEL_ARGS.items():  # --vllm-python X is --model-args python=X
        if getattr(args, key, None) is not None:
            cfg.model_args[option] = getattr(args, key)
    if args.include_path:
        cfg.include_path = list(cfg.include_path) + args.include_path
    if getattr(args, "log_to", None):
        cfg.log_to = _log_to_flags(args)
    cfg.load_plugins()
    cfg.validate(f"{config_file} with the command line's flags" if config_file else "command line", check_metrics)
    return cfg


def _log_to_flags(args: argparse.Namespace) -> list[str]:
    """``--log-to`` (repeatable, comma-separated), its names checked with did-you-mean."""
    from mtbench.trackers import check_names, split_names

    names = split_names(getattr(args, "log_to", None))
    check_names(names, "--log-to")
    return names


def cmd_run(args: argparse.Namespace) -> int:
    from mtbench.report.build import console_report
    from mtbench.runner import default_run_dir, run
    from mtbench.stop import handling
    from mtbench.trackers import TRACKER_FAILED_EXIT, check_available

    cfg = _config_from_args(args)
    check_available(cfg.log_to)  # before any work; the scoring stage logs (it reads run.yaml's log_to)
    try:
        with handling():  # SIGTERM / Ctrl-C: finish the chunk in flight, exit 143 / 130
            out = run(cfg, log=lambda msg: print(msg, file=sys.stderr), wait=args.wait, force=args.force)
    except MtbenchError as exc:
        if exc.exit_code != TRACKER_FAILED_EXIT:
            raise
        # The run directory is complete; only a tracker failed (the scoring stage said which).
        print(console_report(Path(cfg.out) if cfg.out else default_run_dir(cfg)))
        raise
    print(console_report(out.path))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from mtbench.data.loaders import data_dir_from_env
    from mtbench.metrics import make_metric, split_metric_name
    from mtbench.models.precomputed import loose_files
    from mtbench.runner import score_files
    from mtbench.tasks import resolve_tasks

    if args.run:
        return _score_run_dir(args)
    if args.log_to:
        raise MtbenchError("--log-to logs a run directory: use it with `mtbench run` or `mtbench score --run RUN_DIR`")
    if not args.task or not args.hyp:
        raise MtbenchError("`mtbench score` needs --run RUN_DIR, or --task TASK with --hyp FILE")
    cfg = _config_from_args(args, check_metrics=False)  # a model that is not there fails alone, below
    tasks = resolve_tasks(args.task, [Path(p) for p in cfg.include_path])
    if len(tasks) != 1:
        raise MtbenchError(f"--task {args.task!r} names {len(tasks)} tasks; `mtbench score` scores files for one task, like wmt22:de-en")
    files = loose_files(args.hyp)
    metrics, missing = [], {}
    for name in cfg.metrics:
        try:
            metrics.append(make_metric(name))
        except MtbenchError as exc:
            if split_metric_name(name)[1] is None:
                raise  # an unknown name is a typo, not a model that cannot load
            missing[name] = str(exc)
    plan, results, errors = score_files(tasks[0], [f.path for f in files], [f.name for f in files], metrics,
                                        data_dir_from_env(cfg.data_dir), cfg.refs, cfg.preset)
    errors = {**missing, **errors}
    for name, reason in errors.items():
        print(f"mtbench: warning: {name} unavailable for {tasks[0].name}: {reason}", file=sys.stderr)
    if not results:
        raise MtbenchError(f"no metric could be computed for {tasks[0].name} ({', '.join(errors)}); see the warnings above")
    if args.format in ("json", "jsonl"):
        from mtbench.score_json import file_document

        docs = [file_document(str(f.path), f.name, plan, cfg.preset, [m for m in metrics if m.name in results], results,
                              errors) for f in files]
        if args.format == "json":
            print(json.dumps(docs, ensure_ascii=False, indent=1))
        else:
            for doc in docs:
                print(json.dumps(doc, ensure_ascii=False))
        return 0
    scope = f"{len(plan.source)} segments, refs {'+'.join(plan.refs)}, preset {cfg.preset}"
    for f in files:
        cells = "  ".join(f"{m.name}={m.info().display(results[m.name][f.name].score):.2f}"
                          for m in metrics if m.name in results)
        print(f"{f.path}\t{cells}")
    for m in metrics:
        if m.name in results:
            print(f"# {m.info().heading()}: {results[m.name][files[0].name].signature} ({scope})")
        else:
            print(f"# {m.name}: unavailable ({errors[m.name]})")
    return 0


def _score_run_dir(args: argparse.Namespace) -> int:
    """The scoring stage of a run directory (what `mtbench run` starts in a fresh process
    when it loaded a model or a metric loads one)."""
    from mtbench.scoring import score_run

    if args.task or args.hyp:
        raise MtbenchError("--run scores a run directory; leave out --task/--hyp (they score loose files)")
    from mtbench.proc import PARENT_ENV
    from mtbench.stop import handling

    from mtbench.store import RunDir
    from mtbench.trackers import TRACKER_FAILED_EXIT, check_available, log_run, split_names

    metrics = _split(args.metrics) if args.metrics else None
    # --log-to for this time only, else the run's own log_to (what `mtbench run` recorded)
    trackers = _log_to_flags(args) if args.log_to else split_names(RunDir(args.run).read_config().get("log_to") or [])
    check_available(trackers)  # before any work
    with handling(escalate=PARENT_ENV not in os.environ):  # started by `mtbench run`: it decides
        out = score_run(args.run, log=lambda msg: print(msg, file=sys.stderr), metrics=metrics, wait=args.wait)
    if not log_run(trackers, out.path, "run" if PARENT_ENV in os.environ else "score", lambda m: print(m, file=sys.stderr)):
        return TRACKER_FAILED_EXIT
    return 0


def _report_options(args: argparse.Namespace, runs: list, title: str):
    """Flags over the first run's own settings: `mtbench report RUN` without flags
    shows the run's statistics as the run computed them."""
    from mtbench.report.build import ReportOptions

    config = dict(runs[0].read_config())
    for key in ("significance", "n_resamples", "seed", "baseline", "systems_shown", "figure_tasks"):
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    if args.show is not None:
        config["show"] = _split(args.show)
    from mtbench.report.claims import Expectation

    expectations = [Expectation.parse(text) for text in args.expect or []]
    if args.claim and not expectations:
        raise MtbenchError("--claim needs at least one --expect 'A > B[: metric,...]' to test it against")
    options = ReportOptions.from_config(config, args.title or title, args.train_log or (), args.claim or "", expectations)
    labelled = [x for x in args.x or () if "=" in x]
    keys = tuple(x for x in args.x or () if "=" not in x)  # training settings read from each model's checkpoint
    if len(labelled) > 1 or (labelled and keys):
        raise MtbenchError(f"--x {labelled[-1]}: one LABEL=V1,V2,... per report (it gives each run directory its x), "
                           f"without training settings (those are read from one run's models); repeat --x only "
                           f"with training settings such as lr or steps")
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise MtbenchError(f"--x {twice[0]} is given twice; name each training setting once")
    return replace(options, settings=keys, series=labelled[0] if labelled else "")


def cmd_report(args: argparse.Namespace) -> int:
    from mtbench.report.build import report_runs
    from mtbench.store import RunDir

    _renamed_flags(args)
    runs = [RunDir(d) for d in args.run_dirs]
    if args.command == "compare" and len(runs) < 2:
        raise MtbenchError("`mtbench compare` needs at least two run directories; use `mtbench report` for one")
    if len(runs) == 1 and not args.out:
        out = runs[0].path / "report"
    elif args.out:
        out = Path(args.out)
    else:
        raise MtbenchError("several run directories: say where the report goes with --out DIR")
    for run in runs:
        run.read_config()  # one line for a folder that is not a run, before anything is written
    if args.train_log:  # checked before anything is written
        from mtbench.report.training import read_train_log

        for path in args.train_log:
            read_train_log(path)
    options = _report_options(args, runs, f"mtbench report: {', '.join(r.path.name for r in runs)}")
    analyze = _compare_analyze_pair(args, runs)  # checked before anything is written
    report_runs(runs, out, options, [Path(p) for p in args.include_path or []])
    print((out / "leaderboard.md").read_text(encoding="utf-8"))
    if options.expectations:
        print((out / "claims.md").read_text(encoding="utf-8"))
    print(f"report: {out / 'index.html'}", file=sys.stderr)
    if analyze:
        from mtbench.analysis import analyze_pair, folder_name
        from mtbench.report.build import merge_runs

        a, b = analyze
        analysis = analyze_pair(merge_runs(runs), runs, a, b, out / folder_name(a, b))
        print(f"analysis: {analysis.files[0]}", file=sys.stderr)
    return 0


def _compare_analyze_pair(args: argparse.Namespace, runs: list) -> tuple[str, str] | None:
    """``compare --analyze A,B``: the two merged system names, checked."""
    if not getattr(args, "analyze", None):
        return None
    from mtbench.analysis import check_pair, parse_pair
    from mtbench.report.build import merge_runs

    merged = merge_runs(runs)
    a, b = parse_pair(args.analyze, list(merged.models))
    check_pair(merged, a, b)
    return a, b


def cmd_analyze(args: argparse.Namespace) -> int:
    from mtbench.analysis import analyze_run
    from mtbench.analysis.render import overview_markdown

    tasks = _split(args.tasks) if args.tasks is not None else None
    analysis = analyze_run(args.run_dir, args.a, args.b, args.out, freq_corpus=args.freq_corpus, tasks=tasks,
                           top_ngrams_k=args.top_ngrams, top_segments_k=args.top_segments)
    print(overview_markdown(analysis))
    print(f"analysis: {analysis.files[0]}", file=sys.stderr)
    return 0


def _renamed_flags(args: argparse.Namespace) -> None:
    """Old spellings keep working, with a note: the same name for the same thing in
    run, report and compare."""
    for old, new, dest in (("--test", "--significance", "significance"), ("--n", "--n-resamples", "n_resamples")):
        value = getattr(args, f"old_{dest}", None)
        if value is not None:
            print(f"mtbench: note: {old} is now {new} (as in `mtbench run`); {old} still works", file=sys.stderr)
            if getattr(args, dest) is None:
                setattr(args, dest, value)


def cmd_ls(args: argparse.Namespace) -> int:
    from mtbench.data.testsets import TESTSETS
    from mtbench.metrics import GROUPS, METRICS
    from mtbench.models import MODELS
    from mtbench.tasks import load_suites

    from mtbench.plugins import load_include_python

    what = args.what
    include = [Path(p) for p in (args.include_path or [])]
    load_include_python(include)
    if what in ("all", "tasks", "testsets"):
        print("Test sets (task = testset:src-tgt; * marks zero-shot directions):")
        for name in TESTSETS.names():
            ts = TESTSETS.get(name)
            pairs = " ".join(p + ("*" if s.zero_shot else "") + (f"[ref {s.ref}]" if s.ref != "A" else "")
                             for p, s in ts.pairs.items())
            print(f"  {name:24s} {ts.description}\n  {'':24s} {pairs}")
    if what in ("all", "suites", "tasks"):
        print("Suites:")
        for name, suite in sorted(load_suites(include).items()):
            print(f"  {name:24s} {len(suite.tasks):3d} entries  {suite.description}")
    if what in ("all", "metrics"):
        print("Metrics:")
        for name in METRICS.names():
            print(f"  {name}")
        for name, members in GROUPS.items():
            print(f"  {name:24s} group: {','.join(members)}")
    if what in ("all", "models"):
        from mtbench.models.options import describe_options

        print("Models (KIND:ARG or a named model; options: SPEC?K=V,... or --model-args K=V,...; every kind also "
              "takes ?name=NAME, its column's name):")
        for name in MODELS.names():
            try:
                options = describe_options(MODELS.get(name))
            except MtbenchError as exc:  # a kind whose package is missing still shows, with why
                options = f"(cannot load: {exc})"
            print(f"  {name}" + (f"\n      options: {options}" if options else ""))
    if what in ("all", "adapters"):
        from mtbench.prompts import ADAPTERS

        print("Adapters:")
        for name in ADAPTERS.names():
            print(f"  {name}")
    if what in ("all", "plots"):
        from mtbench.report.extra_plots import PLOTS

        names = PLOTS.names()
        print("Plots from plugins (drawn in every report):" + ("" if names else " none"))
        for name in names:
            print(f"  {name}")
    if what in ("all", "trainers"):
        from mtbench.train.recipes import method_lines

        print("Training methods (mtbench train METHOD CONFIG):")
        for line in method_lines():
            print(f"  {line}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from mtbench.data.loaders import data_dir_from_env, load_testdata
    from mtbench.data.testsets import get_testset
    from mtbench.tasks import resolve_tasks

    cfg = load_config(args.config)
    if args.data_dir:
        cfg.data_dir = args.data_dir
    tasks = resolve_tasks(cfg.tasks, [Path(p) for p in cfg.include_path])
    data_dir = data_dir_from_env(cfg.data_dir)
    for task in tasks:
        data = load_testdata(get_testset(task.testset), task.pair, data_dir)
        data.refs(cfg.refs)
        print(f"{task.name:24s} {len(data.source):5d} segments  refs={','.join(data.refs(cfg.refs))}  {data.origin}")
    print(f"{args.config}: valid ({len(tasks)} tasks, metrics {', '.join(cfg.metrics)}, preset {cfg.preset})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from mtbench.plugins import load_include_python
    from mtbench.train import main_train

    load_include_python([Path(p) for p in args.include_path or []])
    return main_train(args.method, args.config, _log_to_flags(args), retrain=args.retrain)


def _load_train_plugins_early(argv: Sequence[str]) -> None:
    """`mtbench train --include-path DIR`: DIR's methods are registered before the parser
    is built, so that `--help` lists them too (loading is done once per file)."""
    if not argv or argv[0] != "train":
        return
    folders = [v for flag, v in zip(argv, argv[1:]) if flag == "--include-path"]
    folders += [a.split("=", 1)[1] for a in argv if a.startswith("--include-path=")]
    if folders:
        from mtbench.plugins import load_include_python

        load_include_python([Path(f) for f in folders])


def _train_methods_epilog() -> str:
    """`mtbench train --help`'s list of methods, from the registry (no torch import)."""
    from mtbench.train.recipes import method_lines

    return "training methods:\n" + "\n".join("  " + line for line in method_lines())


def _add_statistics_flags(p: argparse.ArgumentParser, default: str = "") -> None:
    """Significance and figure flags: the same names in run, report and compare."""
    g = p.add_argument_group("significance and figures")
    note = default or None
    _flag(g, "significance", choices=["bs", "ar", "none"], default_note=note)
    _flag(g, "n_resamples", default_note=note)
    _flag(g, "seed", default_note=note)
    _flag(g, "baseline", default_note=note)
    _flag(g, "systems_shown", metavar="N", default_note=note)
    _flag(g, "show", metavar="NAME,...")
    _flag(g, "figure_tasks", metavar="TASKS", default_note=note)


def _add_log_to(p: argparse.ArgumentParser, what: str = "") -> None:
    _flag(p, "log_to", action="append", metavar="TRACKER",
          help=f"{help_text('log_to', '')}{what} {config_default_note('log_to')}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtbench", description="Evaluate and benchmark LLM translators.")
    parser.add_argument("--version", action="version", version=f"mtbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="evaluate models/system outputs on tasks and write a run directory")
    p.add_argument("--config", help="run configuration YAML")
    _flag(p, "tasks")
    _flag(p, "systems")
    _flag(p, "limit")
    _flag(p, "out")
    p.add_argument("--wait", action="store_true", help="wait while another process writes the run directory (default: fail)")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out folder that is not an mtbench run")
    _flag(p, "workers")
    _add_statistics_flags(p)
    g = p.add_argument_group("models and generation")
    _flag(g, "models", "--model", action="append", metavar="SPEC")
    _flag(g, "adapters", "--adapter")
    for name in ("shots", "num_beams", "max_new_tokens", "no_repeat_ngram_size", "device", "dtype", "batch_tokens",
                 "cache"):
        _flag(g, name)
    _flag(g, "model_args", action="append", metavar="K=V,...")
    g.add_argument("--vllm-python", help="the vLLM environment's interpreter (= --model-args python=PATH; default "
                                         ".venv-vllm/bin/python)")
    for name in ("tensor_parallel_size", "data_parallel_size"):
        g.add_argument("--" + name.replace("_", "-"), type=int, help=f"vLLM {name.split('_')[0]} parallel size "
                                                                      f"(= --model-args {name}=N; default 1)")
    g = p.add_argument_group("where it runs")
    for name in ("threads", "executor", "ray_address", "ray_replicas"):
        _flag(g, name)
    _add_log_to(p)
    _add_common(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", help="score a run directory (--run) or loose hypothesis files for one task")
    p.add_argument("--run", metavar="RUN_DIR", help="score this run directory's generations (resumes; --metrics replaces its metrics)")
    p.add_argument("--wait", action="store_true", help="wait while another process writes the run directory (default: fail)")
    p.add_argument("--task", help="one task, e.g. wmt22:de-en")
    p.add_argument("--hyp", action="append", help="hypothesis file (repeatable)")
    p.add_argument("--format", choices=["text", "json", "jsonl"], default="text",
                   help="json: one JSON document (a list, one object per file); jsonl: one line per file")
    _add_log_to(p, " (with --run; default: the run's own log_to)")
    _add_common(p)
    p.set_defaults(func=cmd_score)

    for name, help_text in (("report", "leaderboards, figures and index.html for one or more run directories"),
                            ("compare", "compare several run directories (same as report, with --out)")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("run_dirs", nargs="+")
        p.add_argument("--out", help="report folder (default for one run: RUN_DIR/report)")
        _add_statistics_flags(p, "(default: the first run's own)")
        p.add_argument("--include-path", action="append", default=None, metavar="DIR",
                       help="folder of plugin metrics the runs were scored with (default: the runs' own)")
        p.add_argument("--test", dest="old_significance", choices=["bs", "ar", "none"], help=argparse.SUPPRESS)
        p.add_argument("--n", dest="old_n_resamples", type=int, help=argparse.SUPPRESS)
        p.add_argument("--title")
        p.add_argument("--claim", metavar="TEXT", help="the finding the --expect lines test, in one sentence (opens "
                                                      "summary.md and index.html; the table is claims.md)")
        p.add_argument("--expect", action="append", metavar="'A > B[: METRIC,...][ on zero-shot|supervised|TASK,...]'",
                       help="system A is better than B (in each metric's own direction) on these metrics (default: all) "
                            "and directions (default: all); tested per direction with the report's paired test; "
                            "repeatable (the claim is reproduced only when every one is)")
        p.add_argument("--train-log", action="append", metavar="DIR",
                       help="a `mtbench train` output folder (or its train_log.jsonl): plot its training curves; repeatable")
        p.add_argument("--x", metavar="SETTING | LABEL=V1,V2,...", action="append",
                       help="draw metric-vs-x curves (curve-METRIC.png): a training setting read from each model's "
                            "`mtbench train` checkpoint (e.g. lat.alpha, steps, lr; a curve links models trained alike "
                            "in every other setting; repeatable, then curve-METRIC-SETTING.png), or one x value per "
                            "run directory (e.g. step=100,200,400)")
        if name == "compare":
            p.add_argument("--analyze", metavar="A,B",
                           help="also write the two-system analysis of A and B into OUT/analysis-A-vs-B/")
        p.set_defaults(func=cmd_report)

    p = sub.add_parser("analyze", help="compare-mt-style analysis of two systems of a run: by source length, "
                                       "word frequency, n-grams, most different segments")
    p.add_argument("run_dir")
    p.add_argument("a", metavar="A", help="system A (quote names with spaces)")
    p.add_argument("b", metavar="B", help="system B")
    p.add_argument("--out", help="output folder (default: RUN_DIR/report/analysis-A-vs-B)")
    p.add_argument("--freq-corpus", metavar="FILE",
                   help="count word frequencies over this UTF-8 text file (default: the direction's references)")
    p.add_argument("--tasks", help="only these directions, comma-separated (default: every one both systems have)")
    p.add_argument("--top-ngrams", type=int, default=15, metavar="K", help="n-grams listed per system (default 15)")
    p.add_argument("--top-segments", type=int, default=10, metavar="K",
                   help="most different segments listed (default 10)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("ls", help="list test sets, suites, metrics, models, adapters, plots and training methods")
    p.add_argument("what", nargs="?", default="all", choices=["all", "tasks", "testsets", "suites", "metrics", "models", "adapters", "plots",
                                                                "trainers"])
    p.add_argument("--include-path", action="append", default=None, metavar="DIR")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("train", help="train a variant: mle (ALMA stage 2, instruction tuning), lat, tim, alma-stage1, "
                                     "mfti, or a plugin's method", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_train_methods_epilog())
    p.add_argument("method", help="a training method (listed below)")
    p.add_argument("config", help="training YAML (see trainers/configs/)")
    p.add_argument("--include-path", action="append", default=None, metavar="DIR",
                   help="folder of Python files that register training methods (RECIPES.register); repeatable")
    p.add_argument("--retrain", action="store_true",
                   help="train even when out already holds this training (same method, settings, data and base model)")
    _add_log_to(p, ": the configuration and every step's loss")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("validate", help="check a run configuration and that its data loads")
    p.add_argument("config")
    p.add_argument("--data-dir")
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from mtbench.proc import die_with_parent_from_env

    die_with_parent_from_env()  # a scoring stage started by `mtbench run` dies with it
    threads.start_sampling()  # busy cores are sampled while the command imports and loads
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _load_train_plugins_early(argv)
        args = build_parser().parse_args(argv)
        return args.func(args)
    except MtbenchError as exc:
        if not exc.quiet:
            print(f"mtbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mtbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `mtbench ls | head`: the reader left; nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
