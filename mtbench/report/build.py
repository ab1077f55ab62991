"""Reports from one or more run directories: the results model (merged for a
comparison), significance against a baseline, leaderboards (md, csv, json, tex),
summary.md, details tables, figures (png, pdf) and index.html, all written into the
report's own folder.

Reads only run directories (results.json, per-segment scores, generations, the test
data copy), never a model or the data folder, so old runs can be re-reported anywhere.
A report never rewrites a run's files.
"""

from __future__ import annotations

import heapq
import os
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mtbench import folders
from mtbench.errors import MtbenchError
from mtbench.metrics.base import Metric
from mtbench.report import plots
from mtbench.report.details import file_slug, write_details
from mtbench.report.drawing import Drawing, FigureJob
from mtbench.report.failures import ANY, FailureTable, failures_html, write_failures
from mtbench.report.html import render_html
from mtbench.report.leaderboard import Table, build_tables, marks_legend, run_notes, write_leaderboards
from mtbench.report.scope import limit_note, scope_line, segments_phrase, significance_phrase, test_phrase
from mtbench.report.selection import (DEFAULT_SYSTEMS_SHOWN, ViewOptions, check_names, figure_tasks, pairwise_plan,
                                     shown_in_task, shown_systems)
from mtbench.report.viewer import build_payload, render_section
from mtbench.results import Results
from mtbench.significance import SignificanceOptions, add_significance
from mtbench.stop import checkpoint
from mtbench.store import RunDir
from mtbench.textio import atomic_write_text

WORST_SEGMENTS = 5


@dataclass(frozen=True)
class ReportOptions:
    significance: SignificanceOptions = field(default_factory=SignificanceOptions)
    view: ViewOptions = field(default_factory=ViewOptions)
    title: str = "mtbench report"
    train_logs: tuple[str, ...] = ()  # trainer checkpoints / train_log.jsonl files to plot
    claim: str = ""  # the sentence the expectations test (a paper's finding)
    expectations: tuple[Any, ...] = ()  # mtbench.report.claims.Expectation
    settings: tuple[str, ...] = ()  # training settings (e.g. lat.alpha): metric-vs-setting curves (mtbench.report.setting_curves)
    series: str = ""  # LABEL=V1,V2,...: metric against one x value per run directory (series_curves)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], title: str, train_logs: Sequence[str] = (), claim: str = "",
                    expectations: Sequence[Any] = ()) -> "ReportOptions":
        """The statistics and figure settings of a run configuration (run.yaml's keys)."""
        sig = SignificanceOptions(config.get("significance", "bs"), config.get("n_resamples"),
                                  config.get("seed", 12345), baseline=config.get("baseline", "best"))
        view = ViewOptions(config.get("systems_shown", DEFAULT_SYSTEMS_SHOWN), tuple(config.get("show") or ()),
                           config.get("figure_tasks", "first"))
        return cls(sig, view, title, tuple(train_logs), claim, tuple(expectations))


class SegmentSource:
    """Per-segment score rows of every (task, model, metric) of a results object, read
    from the run directory each model was scored in."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self._rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._scores: dict[tuple[str, str, str], list[float]] = {}  # read by the worst segments, figures and viewer
        self._outputs: dict[tuple[str, str], list[str]] = {}  # read by the worst-segments table and the viewer
        self._testdata: dict[tuple[str, str], dict[str, Any]] = {}  # (run directory, task): its test data copy

    def _model(self, model: str) -> tuple[RunDir, str]:
        info = self.results.models[model]
        return RunDir(info.run), info.name_in_run

    def rows(self, task: str, model: str, metric: str) -> list[dict[str, Any]]:
        key = (task, model, metric)
        if key not in self._rows:
            run, name = self._model(model)
            self._rows[key] = run.read_segment_scores(task, name, metric)
        return self._rows[key]

    def statistics(self, task: str, model: str, metric: str) -> np.ndarray:
        run, name = self._model(model)
        return run.read_segment_stats(task, name, metric)

    def scores(self, task: str, model: str, metric: str) -> list[float]:
        """The metric's own segment-level scores (sentence BLEU with effective order, ...)."""
        key = (task, model, metric)
        if key not in self._scores:
            run, name = self._model(model)
            self._scores[key] = run.read_score_column(task, name, metric)
        return self._scores[key]

    def outputs(self, task: str, model: str) -> list[str]:
        if (task, model) not in self._outputs:
            run, name = self._model(model)
            self._outputs[task, model] = run.read_generation(task, name)
        return self._outputs[task, model]

    def outputs_file(self, task: str, model: str) -> Path:
        run, name = self._model(model)
        return run.outputs_file(task, name)

    def testdata(self, task: str, model: str) -> dict[str, Any]:
        run = self._model(model)[0]
        key = (str(run.path), task)
        if key not in self._testdata:
            self._testdata[key] = run.read_testdata(task)
        return self._testdata[key]


# --- metrics for recomputed statistics ---------------------------------------------------

@dataclass(frozen=True)
class RecordedMean:
    """A metric that is not loadable here (a plugin of the run's) but recorded that its
    corpus score is the mean of its segment scores: that is all a paired test needs."""

    name: str
    higher_is_better: bool

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        from mtbench.metrics.base import mean_from_stats

        return mean_from_stats(stats)


def load_plugins(runs: Sequence[RunDir], include: Sequence[Path] = ()) -> None:
    """The Python plugins of ``--include-path`` and of each run's include paths (metrics,
    plots), each file once."""
    from mtbench.plugins import load_include_python

    load_include_python(list(include))
    for run in runs:
        load_include_python([Path(p) for p in run.read_config().get("include_path") or [] if Path(p).is_dir()])


def metric_objects(results: Results, runs: Sequence[RunDir], include: Sequence[Path] = ()) -> dict[str, Any]:
    """What the paired tests need of each metric: the metric object (its plugin loaded
    from --include-path or each run's include paths), checked against what it declared
    when the run was scored, or, for a mean-of-segments metric that cannot be loaded
    here, its recorded declaration."""
    from mtbench.metrics import make_metric

    load_plugins(runs, include)
    out: dict[str, Any] = {}
    for name, info in results.metrics.items():
        try:
            metric = make_metric(name)
        except MtbenchError as exc:
            if info.aggregation == "mean of segment scores":
                out[name] = RecordedMean(name, info.higher_is_better)
                continue
            raise MtbenchError(f"metric {name!r} of {', '.join(results.runs)} cannot be loaded here ({exc}) and has "
                               f"its own corpus statistics; give its plugin's folder with --include-path") from None
        if not metric.info().means_the_same(info):
            raise MtbenchError(f"metric {name!r} now declares {metric.info()} but the run recorded {info}; re-score the run "
                               f"with `mtbench score --run RUN_DIR`")
        out[name] = metric
    return out


def analyse(results: Results, metrics: dict[str, Metric], options: ReportOptions, curves: Sequence[str] = ()) -> None:
    """Significance (with the pairwise matrices the figures will show, and those that
    mark the points of ``--x`` curves over the models ``curves``) into ``results``."""
    check_names(options.view, list(results.models), list(results.tasks))
    source = SegmentSource(results)
    add_significance(results, source.statistics, metrics, options.significance,
                     _pairwise_plan(results, options, curves))


def _pairwise_plan(results: Results, options: ReportOptions, curves: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """The figures' matrices, each direction's widened by the curves' models scored there
    (a direction without a figure gets a matrix of those alone: nothing draws it)."""
    plan = pairwise_plan(results, options.view, options.significance.baseline)
    for task_name in results.scored_tasks if curves else ():
        for metric in results.metrics:
            on_curve = [m for m in curves if results.tasks[task_name].score(m, metric) is not None]
            shown = plan.get(task_name, {}).get(metric, [])
            widened = shown + [m for m in on_curve if m not in shown]
            if len(widened) >= 2:
                plan.setdefault(task_name, {})[metric] = widened
    return plan


def _analysis_is_current(results: Results, options: ReportOptions, curves: Sequence[str] = ()) -> bool:
    if results.significance.settings() != options.significance.settings():
        return False
    wanted = (_pairwise_plan(results, options, curves) if options.significance.test != "none" else {})
    have = {t: {m: p.systems for m, p in per.items()} for t, per in results.significance.pairwise.items()}
    return wanted == have


# --- several runs --------------------------------------------------------------------------

def run_labels(runs: Sequence[RunDir]) -> list[str]:
    """The shortest path suffix that tells the runs apart (``a``, ``b``; ``x/run``, ``y/run``)."""
    parts = [Path(os.path.abspath(r.path)).parts for r in runs]
    for depth in range(1, max(len(p) for p in parts) + 1):
        labels = ["/".join(p[-depth:]) for p in parts]
        if len(set(labels)) == len(labels):
            return labels
    raise MtbenchError(f"the same run directory is given twice: {', '.join(str(r.path) for r in runs)}")


def _same_reference_system(name: str, loaded: Sequence[Results]) -> bool:
    """A reference system (the data layout's) with the very same scores in every run
    that has it: one system, shown once."""
    copies = [res for res in loaded if name in res.models]
    if any(res.models[name].under_test for res in copies):
        return False
    for task in {t for res in copies for t in res.tasks}:
        seen = [{m: (s.score, s.signature) for m, s in res.tasks[task].scores.get(name, {}).items()}
                for res in copies if task in res.tasks and name in res.tasks[task].scores]
        if any(x != seen[0] for x in seen):
            return False
    return True


def merge_runs(runs: Sequence[RunDir]) -> Results:
    """One results object over several runs. A model name found in more than one run
    is labelled ``<run>/<model>`` in every run it appears in, for every direction --
    except a reference system whose scores are the same in every run, shown once."""
    loaded = [Results.load(run.path) for run in runs]
    labels = run_labels(runs)
    counts = Counter(m for res in loaded for m in res.models)
    shared = {m for m, c in counts.items() if c > 1 and _same_reference_system(m, loaded)}
    first = loaded[0]
    merged = Results(preset=first.preset, metrics={}, models={}, tasks={}, limit=first.limit,
                     runs=[str(r.path) for r in runs])
    for run, label, res in zip(runs, labels, loaded):
        if res.preset != merged.preset:
            raise MtbenchError(f"{run.path} was scored with preset {res.preset!r}, {runs[0].path} with "
                               f"{merged.preset!r}; compare runs scored with the same --preset")
        for name, info in res.metrics.items():
            if not merged.metrics.setdefault(name, info).means_the_same(info):
                raise MtbenchError(f"metric {name!r} means different things in {run.path} and another run "
                                   f"({info} vs {merged.metrics[name]}); re-score both with the same mtbench")
        rename = {m: f"{label}/{m}" if counts[m] > 1 and m not in shared else m for m in res.models}
        for m, info in res.models.items():
            merged.models.setdefault(rename[m], replace(info, name=rename[m]))
        for t, task in res.tasks.items():
            target = merged.tasks.setdefault(t, replace(task, scores={}, reference_floor=dict(task.reference_floor),
                                                        caveats=dict(task.caveats)))
            if (target.segments, target.refs) != (task.segments, task.refs):
                raise MtbenchError(
                    f"{run.path}: {t} was scored on {task.segments} segments with refs {task.refs}, other runs on "
                    f"{target.segments} with {target.refs}; compare runs with the same --limit and --refs")
            for m, per in task.scores.items():
                if rename[m] not in target.scores:  # a shared reference system: its first run's copy
                    target.scores[rename[m]] = {k: replace(s, comparison=None) for k, s in per.items()}
        for metric, per in res.unavailable.items():
            merged.unavailable.setdefault(metric, {}).update(per)
        merged.warnings += [f"{label}: {w}" for w in res.warnings if f"{label}: {w}" not in merged.warnings]
    return merged


def report_runs(runs: Sequence[RunDir], out_dir: Path, options: ReportOptions = ReportOptions(),
                include: Sequence[Path] = ()) -> Results:
    """The results of one run (its own statistics when the settings are the run's) or
    of several merged, with significance under ``options``; every report file in ``out_dir``."""
    if (out_dir / "run.yaml").exists() or (out_dir / "manifest.json").exists():
        raise MtbenchError(f"--out {out_dir} is a run directory: a report never writes into one; give a folder of "
                           f"its own (default for one run: RUN_DIR/report)")
    load_plugins(runs, include)
    if options.settings and len(runs) != 1:
        raise MtbenchError(f"--x {options.settings[0]}: a training setting is read from one run's models; for "
                           f"several run directories give --x LABEL=V1,V2,... with one value per run")
    settings = []
    if len(runs) == 1:
        results = Results.load(runs[0].path)
        if options.settings:  # before the statistics: the curves' points get a pairwise test of their own
            from mtbench.report.setting_curves import setting_values

            settings = [setting_values(runs[0].path, results, key, options.train_logs) for key in options.settings]
        curves = list(dict.fromkeys(m for s in settings for m in s.values))
        if not _analysis_is_current(results, options, curves):
            analyse(results, metric_objects(results, runs, include), options, curves)
    else:
        results = merge_runs(runs)
        analyse(results, metric_objects(results, runs, include), options)
    if options.series:
        series_xs(options.series, len(runs))  # before anything is written: a bad spec is one line
    claims = evaluate_claims(results, runs, include, options)  # before anything is written: a bad name is one line
    write_report(results, out_dir, options, claims, settings, runs)
    return results


def evaluate_claims(results: Results, runs: Sequence[RunDir], include: Sequence[Path], options: ReportOptions) -> list[Any]:
    """Each ``--expect`` of ``options`` tested on ``results`` (mtbench.report.claims)."""
    if not options.expectations:
        return []
    from mtbench.report.claims import evaluate

    for exp in options.expectations:
        exp.check(results)
    metrics = metric_objects(results, runs, include)
    source = SegmentSource(results)
    return [evaluate(options.claim or exp.text, exp, results, source.statistics, metrics, options.significance)
            for exp in options.expectations]


# --- writing -------------------------------------------------------------------------------

def write_report(results: Results, out_dir: Path, options: ReportOptions, claims: Sequence[Any] = (),
                 settings: Sequence[Any] = (), runs: Sequence[RunDir] = ()) -> list[Table]:
    """Leaderboards, details, figures, index.html and the results they show; ``claims``
    (tested expectations) open summary.md and index.html and fill claims.md; ``runs``:
    the run directories ``options.series`` gives one x value each. Written
    beside ``out_dir`` and swapped in once complete (``mtbench.folders``): a report that
    fails midway (a plugin's plot, a full disk, a stop) leaves the previous one whole,
    and files of an older report that no longer apply do not stay."""
    check_names(options.view, list(results.models), list(results.tasks))
    out_dir = folders.replaceable(out_dir, "--out")
    folders.restore_interrupted(out_dir)
    present = list(out_dir.iterdir()) if out_dir.is_dir() else []
    if any(p.is_file() for p in present) and not (out_dir / "index.html").exists() \
            and not (out_dir / "results.json").exists():
        raise MtbenchError(f"--out {out_dir} holds files but no report (index.html, results.json), and a report replaces "
                           f"the files of its folder; give an empty or new folder")
    work = folders.start(out_dir)
    try:
        tables = _write_report(results, work, out_dir, options, claims, settings, runs)
        # A report writes no subfolders: one is another command's (`mtbench analyze --out
        # REPORT/NAME`) and stays; the older report's own files do not.
        for sub in (p for p in present if p.is_dir() and not (work / p.name).exists()):
            sub.rename(work / sub.name)
    except BaseException:
        folders.discard(work)
        raise
    folders.publish(work, out_dir)
    return tables


def _write_report(results: Results, out_dir: Path, final_dir: Path, options: ReportOptions, claims: Sequence[Any],
                  settings: Sequence[Any], runs: Sequence[RunDir]) -> list[Table]:
    """The report's files in ``out_dir``; links to the runs' files are relative to
    ``final_dir``, where the folder will be."""
    results.save(out_dir)
    scored_tasks = [results.tasks[t] for t in results.scored_tasks]
    opening = ""
    if claims:
        from mtbench.report.claims import render_markdown as render_claims, render_opening

        claims_scope = f"{segments_phrase(scored_tasks)}{limit_note(results)}, {scope_line(results, scored_tasks, with_test=False)}"
        atomic_write_text(out_dir / "claims.md", render_claims(claims, claims_scope))
        opening = render_opening(claims)
    tables = write_leaderboards(out_dir, results, opening)
    details = write_details(out_dir, results, tables)
    checkpoint("report", "leaderboards")
    source = SegmentSource(results)
    failure_tables, failure_examples = write_failures(out_dir, results, source)
    with _start_figures(results, tables, source, out_dir, options.view) as drawing:
        # While the workers draw: the figures drawn here, and every part of index.html
        # that does not show a figure.
        figures = _failure_figure(results, failure_tables, out_dir)
        figures += _plugin_figures(results, tables, out_dir, options.view)
        if options.train_logs:
            from mtbench.report.training import training_curves

            figures += training_curves(options.train_logs, out_dir)
        setting_notes: list[str] = []
        for setting in settings:
            from mtbench.report.setting_curves import setting_curves

            curves, notes = setting_curves(results, setting, out_dir, named_by_key=len(settings) > 1)
            figures += curves
            if setting.missing:
                notes.insert(0, f"--x {setting.key}: not on the curve: {', '.join(setting.missing)}")
            for note in notes:
                print(f"mtbench: {note}", file=sys.stderr)
            setting_notes += notes
        if options.series:
            curves, notes = series_curves(runs, options.series, out_dir)
            figures += curves
            for note in notes:
                print(f"mtbench: warning: {note}", file=sys.stderr)
            setting_notes += notes
        links = {(t, m): os.path.relpath(source.outputs_file(t, m), final_dir)
                 for t, info in results.tasks.items() for m in info.scores}
        provenance = _provenance(results, claims, setting_notes)
        worst = _worst(results, source, tables)
        viewer = render_section(build_payload(results, source, options.view, options.significance.baseline))
        failures = failures_html(results, failure_tables, failure_examples) if failure_tables else ""
        figures = drawing.paths() + figures
    atomic_write_text(out_dir / "index.html", render_html(
        options.title, tables, [f for f in figures if f.suffix == ".png"], worst, links, provenance,
        (["claims.md"] if claims else []) + [p.name for p in details]
        + (["failures.md", "failures-examples.md"] if failure_tables else []),
        marks_legend(results), viewer, failures))
    return tables


def _provenance(results: Results, claims: Sequence[Any], notes: Sequence[str]) -> list[str]:
    """index.html's opening lines: what the report covers and how it was computed."""
    scored = [results.tasks[t] for t in results.scored_tasks]
    lines = [f"runs: {', '.join(results.runs)}",
             f"directions: {len(scored)}, systems: {len(results.models)}"
             + (f" ({len(results.under_test)} under test: {', '.join(results.under_test)})" if results.under_test else ""),
             f"segments: {segments_phrase(scored)}{limit_note(results)}",
             f"scope: {scope_line(results, scored, with_test=False)}",
             f"significance: {significance_phrase(results.significance)}"
             + (f" (`{results.significance.signature}`)" if results.significance.signature else "")]
    lines += [f"note: {n}" for n in [*run_notes(results), *notes]]
    if claims:
        from mtbench.report.claims import provenance_lines

        lines = provenance_lines(claims) + lines
    return lines


def console_report(run_dir: Path) -> str:
    """What `mtbench run` prints: the leaderboard of every metric that is not a failure
    rate, then the failure profile's first table (all of it is in RUN/report)."""
    from mtbench.report.failures import build_failure_tables, failures_markdown
    from mtbench.report.leaderboard import render_markdown

    results = Results.load(run_dir)
    tables = [t for t in build_tables(results) if not t.metric.failure_profile]
    text = render_markdown(tables, results) if tables else ""
    profile = build_failure_tables(results, SegmentSource(results))
    if profile:
        report = run_dir / "report"
        text += failures_markdown(results, profile[:1], str(report / "failures-examples.md")).split("\n", 1)[1]
        text += (f"\nPer direction, with examples: {report / 'failures.md'}; every failure metric's own "
                 f"leaderboard and significance: {report / 'leaderboard.md'}\n")
    return text


def system_colours(results: Results, tables: list[Table], view: ViewOptions) -> dict[str, str]:
    """One colour per system across every figure of a report (plugins' too): the systems
    shown first, in the order the figures show them, then every other."""
    order: list[str] = []
    for tab in tables:
        order += [s for s in shown_systems(tab, view) if s not in order]
    for task_name in figure_tasks(results, view):
        for tab in tables:
            order += [s for s in shown_in_task(results, task_name, tab.metric.name, view, results.significance.baseline)
                      if s not in order]
    order += [m for m in results.models if m not in order]
    return plots.system_colours(order)


def _start_figures(results: Results, tables: list[Table], source: SegmentSource, out_dir: Path,
                   view: ViewOptions) -> Drawing:
    """The leaderboards' figures and the per-direction ones, started (``Drawing``)."""
    jobs: list[FigureJob] = []
    colours = system_colours(results, tables, view)
    under_test = set(results.under_test)
    scored = [results.tasks[t] for t in results.scored_tasks]
    segments = segments_phrase(scored) + limit_note(results)
    subtitle = scope_line(results, scored, with_test=False)
    for tab in tables:
        systems = shown_systems(tab, view)
        if not systems:
            continue
        info = tab.metric
        slug = file_slug(info.name)
        cols = tab.columns + [a for a in tab.average_columns if a != "avg"]
        values = {s: [tab.row(s).value(c) for c in cols] for s in systems}
        shown = f"{subtitle} · {_shown_phrase(len(systems), len(tab.rows), view, len(under_test & set(systems)))}"
        if not info.failure_profile:  # a failure rate's bars are in the failure-profile figure
            jobs.append((plots.grouped_bars, (cols, len(tab.columns), systems, values, under_test, colours,
                                       out_dir / f"bars-{slug}", f"{info.name} per direction — {segments}", shown,
                                       info.axis_label())))
        floors = {t: results.tasks[t].reference_floor.get(info.name) for t in tab.columns}
        rows = list(systems) + (["reference"] if any(v is not None for v in floors.values()) else [])
        data = [[tab.row(s).cells.get(c) for c in tab.columns] for s in systems]
        if len(rows) > len(systems):
            data.append([info.display(floors[c]) for c in tab.columns])
        jobs.append((plots.heatmap, (tab.columns, rows, data, len(systems), under_test, out_dir / f"heatmap-{slug}",
                              f"{info.name} per direction and system — {segments}", shown, info.axis_label(),
                              info.higher_is_better)))
    sig = results.significance
    for task_name in figure_tasks(results, view):
        task = results.tasks[task_name]
        task_segments = segments_phrase([task]) + limit_note(results)
        for tab in tables:
            info = tab.metric
            slug = f"{file_slug(info.name)}-{file_slug(task_name)}"
            n_task = len(task.models_with(info.name))
            pw = sig.pairwise.get(task_name, {}).get(info.name)
            if pw is not None:
                p = np.array([[np.nan if v is None else v for v in row] for row in pw.p_values], dtype=float)
                d = np.array([[np.nan if v is None else v * info.display_scale for v in row] for row in pw.deltas],
                             dtype=float)
                jobs.append((plots.significance_matrix, (pw.systems, p, d, under_test, out_dir / f"significance-{slug}",
                                                  f"{info.name} on {task_name}: row − column — {task_segments}",
                                                  f"* p < {sig.alpha:g}, {test_phrase(sig)} · "
                                                  f"{scope_line(results, [task], with_test=False)} · "
                                                  f"{_shown_phrase(len(pw.systems), n_task, view, len(under_test & set(pw.systems)))}",
                                                  sig.alpha,
                                                  info.higher_is_better)))
            systems = shown_in_task(results, task_name, info.name, view, sig.baseline)
            if not systems or info.failure_profile:  # 0/100 flags have no distribution to draw
                continue
            scores = {s: [v * info.display_scale for v in source.scores(task_name, s, info.name)] for s in systems}
            mine = [s for s in systems if s in under_test]
            first = mine[0] if mine else systems[0]
            others = [s for s in systems if s != first]
            pair = (first, others[0]) if others else None
            jobs.append((plots.segment_scores, (systems, scores, under_test, colours, pair, info.higher_is_better,
                                         out_dir / f"segments-{slug}",
                                         f"segment-level {info.name} on {task_name} — {task_segments}",
                                         f"{scope_line(results, [task], with_test=False)} · "
                                         f"{_shown_phrase(len(systems), n_task, view, len(under_test & set(systems)))}",
                                         f"segment {info.axis_label()}")))
    return Drawing(jobs)


def _plugin_figures(results: Results, tables: list[Table], out_dir: Path, view: ViewOptions) -> list[Path]:
    from mtbench.report.extra_plots import PLOTS, PlotContext, draw_plugin_plots

    if not PLOTS.names():
        return []
    scored = [results.tasks[t] for t in results.scored_tasks]
    ctx = PlotContext(results, tables, out_dir, system_colours(results, tables, view), frozenset(results.under_test),
                      segments_phrase(scored) + limit_note(results), scope_line(results, scored, with_test=False))
    return draw_plugin_plots(ctx)


def _failure_figure(results: Results, tables: Sequence[FailureTable], out_dir: Path) -> list[Path]:
    """Systems x failure modes, the rates of the profile's first table (the mean over
    directions), the reference floor as the last row. Every system of that table is
    drawn: a rate table is small, and the failures of the systems a leaderboard hides
    matter too. A failure no system of the table could be judged on is left out, and
    the subtitle says so."""
    if not tables:
        return []
    tab = tables[0]
    judged = [m for m in tab.metrics + [ANY] if any(r.rates[m] is not None for r in tab.rows)]
    dropped = [m for m in tab.metrics if m not in judged]
    rows = [r.system for r in tab.rows]
    data: list[list[float | None]] = [[r.rates[m] for m in judged] for r in tab.rows]
    if tab.floor:
        rows.append("reference")
        data.append([tab.floor.get(m) for m in judged])
    subtitle = " · ".join([tab.scope, f"{ANY}: at least one flag"]
                          + ([f"not judged for these systems: {', '.join(dropped)}"] if dropped else []))
    return plots.heatmap(judged, rows, data, len(tab.rows), set(results.under_test), out_dir / "failures",
                         tab.title, subtitle, "% of lines flagged ↓", higher_is_better=False, fmt="{:.2f}")


def _shown_phrase(shown: int, total: int, view: ViewOptions, under_test: int = 0) -> str:
    if shown == total:
        return f"all {total} systems"
    parts = ([f"{under_test} under test"] if under_test else []) + (["--show"] if view.show else [])
    return f"{shown} of {total} systems ({', '.join(parts + [f'best {view.systems_shown} others'])})"


def _worst(results: Results, source: SegmentSource, tables: list[Table]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The lowest-scoring segments of each system on the first metric."""
    if not tables:
        return {}
    metric = tables[0].metric
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for task in tables[0].columns:
        by_model = {}
        data = None
        for model in results.tasks[task].models_with(metric.name):
            scores = source.scores(task, model, metric.name)
            # nsmallest: sorted(...)[:n], ties in segment order, without sorting every segment
            order = heapq.nsmallest(WORST_SEGMENTS, range(len(scores)),
                                    key=lambda i: scores[i] if metric.higher_is_better else -scores[i])
            outputs = source.outputs(task, model)
            data = data or source.testdata(task, model)
            primary = next(iter(data["references"].values()), [""] * len(scores))
            by_model[model] = [{"id": i, "score": metric.display(scores[i]), "source": data["source"][i],
                                "reference": primary[i], "output": outputs[i]} for i in order]
        out[task] = by_model
    return out


# --- metric against one x value per run ------------------------------------------------------

def series_xs(spec: str, n_runs: int) -> tuple[str, list[float]]:
    """The label and the x values of ``--x LABEL=V1,V2,...``, one per run directory."""
    label, _, values = spec.partition("=")
    try:
        xs = [float(v) for v in values.split(",")]
    except ValueError:
        raise MtbenchError(f"--x {spec!r}: give LABEL=V1,V2,... with one number per run directory") from None
    if not label or len(xs) != n_runs:
        raise MtbenchError(f"--x {spec!r}: needs a label and {n_runs} values, one per run directory")
    return label, xs


def series_curves(runs: Sequence[RunDir], spec: str, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Metric (average over directions) against one x value per run, one line per model
    found in several runs: training steps, the unlikelihood weight alpha, data size.
    Returns the figures and what could not be drawn (said by the caller)."""
    label, xs = series_xs(spec, len(runs))
    loaded = [Results.load(r.path) for r in runs]
    names = run_labels(runs)
    in_runs = Counter(m for res in loaded for m in res.models)
    lonely = {n: [m for m in res.models if in_runs[m] == 1] for n, res in zip(names, loaded)}
    notes = [f"--x: {', '.join(ms)} only in run {n}: no curve (curves join models of the same name across runs)"
             for n, ms in lonely.items() if ms]
    under_test = {m for res in loaded for m in res.under_test}
    per_run = [{t.metric.name: t for t in build_tables(res)} for res in loaded]
    figs: list[Path] = []
    for metric in loaded[0].metrics:
        series: dict[str, list[tuple[float, float]]] = {}
        missing: dict[str, list[str]] = {}
        for x, name, tables in zip(xs, names, per_run):
            for row in (tables[metric].rows if metric in tables else []):
                if row.averages.get("avg") is not None:
                    series.setdefault(row.model, []).append((x, row.averages["avg"]))
                elif in_runs[row.model] > 1:
                    missing.setdefault(row.model, []).append(name)
        for model, where in missing.items():
            notes.append(f"--x: {model} has no {metric} average in run {', '.join(where)} (a direction without a score): "
                         f"{'no curve' if len(series.get(model, [])) < 2 else 'those points are left out'}")
        series = {k: v for k, v in series.items() if len(v) > 1}
        if series:
            info = loaded[0].metrics[metric]
            scored = [loaded[0].tasks[t] for t in loaded[0].scored_tasks]
            figs += plots.curves(series, plots.system_colours(list(series)), out_dir / f"curve-{file_slug(metric)}", label,
                                 f"{info.axis_label()}, average over directions",
                                 f"{metric} against {label} — {segments_phrase(scored)}{limit_note(loaded[0])}",
                                 scope_line(loaded[0], scored, with_test=False),
                                 logx=label.lower() in ("data", "size", "examples") and min(xs) > 0, under_test=under_test)
    if not figs:
        raise MtbenchError(f"--x {spec!r}: no model has an average in more than one run, so there is no curve; "
                           f"models per run: " + "; ".join(f"{n}: {', '.join(res.models) or '-'}"
                                                            for n, res in zip(names, loaded)))
    return figs, notes

