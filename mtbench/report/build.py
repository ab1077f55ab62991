"""Reports from one or more run directories: merged results, significance against a
baseline, leaderboards (md, csv, json, tex), summary.md (every metric's averages side by side),
figures (png, pdf) and index.html.

Reads only run directories (results.json, per-segment scores, generations, the test
data copy), never a model or the data folder, so old runs can be re-reported anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mtbench.errors import MtbenchError
from mtbench.report import plots
from mtbench.report.html import render_html
from mtbench.report.leaderboard import build_tables, write_leaderboards
from mtbench.report.significance import add_significance, segment_array
from mtbench.stats import paired_bootstrap
from mtbench.store import RunDir
from mtbench.textio import atomic_write_json, atomic_write_text

MAX_PLOTTED_SYSTEMS = 12
WORST_SEGMENTS = 5


@dataclass(frozen=True)
class ModelRef:
    run: RunDir
    name: str  # the model's name inside that run


@dataclass(frozen=True)
class ReportOptions:
    baseline: str = "best"
    test: str = "bs"
    n: int | None = None
    seed: int = 12345
    alpha: float = 0.05
    title: str = "mtbench report"
    train_logs: tuple[str, ...] = ()  # trainer checkpoints / train_log.jsonl files to plot


def merge_runs(runs: Sequence[RunDir]) -> tuple[dict[str, Any], dict[tuple[str, str], ModelRef]]:
    """One results dict over several runs; a model name found in two runs for the same
    task is shown as "<run>/<model>"."""
    merged: dict[str, Any] = {"metrics": [], "tasks": {}, "unavailable": {}}
    refs: dict[tuple[str, str], ModelRef] = {}
    for run in runs:
        res = run.read_results()
        for m in res["metrics"]:
            if m not in merged["metrics"]:
                merged["metrics"].append(m)
        for m, by_task in res.get("unavailable", {}).items():
            merged["unavailable"].setdefault(m, {}).update(by_task)
        for task_name, task in res["tasks"].items():
            target = merged["tasks"].setdefault(task_name, {**{k: v for k, v in task.items() if k != "models"}, "models": {}})
            if target["segments"] != task["segments"] or target["refs"] != task["refs"]:
                raise MtbenchError(
                    f"{run.path}: {task_name} was scored on {task['segments']} segments with refs {task['refs']}, "
                    f"other runs on {target['segments']} with {target['refs']}; compare runs with the same --limit and --refs")
            for model, scores in task["models"].items():
                name = model if model not in target["models"] else f"{run.path.name}/{model}"
                target["models"][name] = {m: {k: v for k, v in s.items() if k in ("score", "signature", "higher_is_better", "display_scale", "extra")}
                                          for m, s in scores.items()}
                refs[(task_name, name)] = ModelRef(run, model)
    return merged, refs


def loader_for(refs: dict[tuple[str, str], ModelRef]):
    cache: dict[tuple[str, str, str], np.ndarray] = {}

    def load(task: str, model: str, metric: str) -> np.ndarray:
        if (task, model, metric) not in cache:
            ref = refs[(task, model)]
            cache[(task, model, metric)] = segment_array(ref.run.read_segment_scores(task, ref.name, metric))
        return cache[(task, model, metric)]

    return load


def run_refs(run: RunDir, results: dict[str, Any]) -> dict[tuple[str, str], ModelRef]:
    return {(t, m): ModelRef(run, m) for t, info in results["tasks"].items() for m in info["models"]}


def report_runs(runs: Sequence[RunDir], out_dir: Path, options: ReportOptions = ReportOptions()) -> dict[str, Any]:
    """Merge runs, test significance, write every report file into ``out_dir``."""
    results, refs = merge_runs(runs)
    add_significance(results, loader_for(refs), options.test, options.baseline, options.n, options.seed, options.alpha)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "results.json", results)
    render_report(results, refs, out_dir, options.title, options.train_logs)
    return results


def render_report(results: dict[str, Any], refs: dict[tuple[str, str], ModelRef], out_dir: Path, title: str,
                  train_logs: Sequence[str] = ()) -> None:
    """Leaderboards, figures and index.html for results that already carry significance."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = write_leaderboards(out_dir, results)
    figures = _figures(results, tables, out_dir, refs)
    if train_logs:
        from mtbench.report.training import training_curves

        figures += training_curves(train_logs, out_dir)
    links = {key: os.path.relpath(ref.run.generation_path(key[0], ref.name), out_dir) for key, ref in refs.items()}
    runs = sorted({str(ref.run.path) for ref in refs.values()})
    provenance = [f"runs: {', '.join(runs)}",
                  f"tasks: {len(results['tasks'])}, systems: {len({m for t in results['tasks'].values() for m in t['models']})}"]
    atomic_write_text(out_dir / "index.html", render_html(title, tables, [f for f in figures if f.suffix == ".png"],
                                                          _worst(results, refs), links, provenance))


def _plotted_systems(table: dict[str, Any]) -> list[str]:
    """Systems with a score in every direction (so averages exist), best first."""
    full = [r["model"] for r in table["rows"] if r["averages"].get("avg") is not None]
    return full[:MAX_PLOTTED_SYSTEMS]


def _figures(results: dict[str, Any], tables: list[dict[str, Any]], out_dir: Path,
             refs: dict[tuple[str, str], ModelRef]) -> list[Path]:
    load = loader_for(refs)
    figs: list[Path] = []
    all_systems: list[str] = []
    for tab in tables:
        for s in _plotted_systems(tab):
            if s not in all_systems:
                all_systems.append(s)
    colours = plots.system_colours(all_systems)
    for tab in tables:
        systems = _plotted_systems(tab)
        if not systems:
            continue
        figs += plots.grouped_bars(tab, systems, colours, out_dir / f"bars-{_slug(tab['metric'])}")
        floor = {t: info["reference"][tab["metric"]] for t, info in results["tasks"].items()
                 if tab["metric"] in info.get("reference", {})}
        figs += plots.heatmap(tab, systems, out_dir / f"heatmap-{_slug(tab['metric'])}",
                              extra_rows={"reference": floor} if floor else None)
    # Pairwise significance and segment-level distributions on the first task and metric.
    if tables and results["tasks"]:
        tab = tables[0]
        task = next(iter(results["tasks"]))
        systems = [s for s in _plotted_systems(tab) if s in results["tasks"][task]["models"]][:8]
        if len(systems) >= 2:
            data = {s: load(task, s, tab["metric"]) for s in systems}
            n = len(systems)
            p = np.full((n, n), np.nan)
            d = np.full((n, n), np.nan)
            for j, base in enumerate(systems):
                res = paired_bootstrap({base: data[base], **{s: data[s] for s in systems if s != base}}, tab["metric"],
                                       baseline=base, n_resamples=1000, seed=12345)
                for i, s in enumerate(systems):
                    if s != base:
                        p[i, j] = res[s].p_value
                        d[i, j] = res[s].delta
            figs += plots.significance_matrix(systems, p, d, out_dir / f"significance-{_slug(tab['metric'])}",
                                              f"{tab['metric']} {task}")
            a, b = systems[0], systems[1]
            figs += plots.score_distributions(a, _segment_scores(refs, task, a, tab["metric"]),
                                              b, _segment_scores(refs, task, b, tab["metric"]),
                                              colours, out_dir / f"segments-{_slug(tab['metric'])}", f"{tab['metric']} ({task})")
    return figs


def _segment_scores(refs: dict[tuple[str, str], ModelRef], task: str, model: str, metric: str) -> list[float]:
    """The metric's own segment-level scores (sentence BLEU with effective order, ...)."""
    ref = refs[(task, model)]
    return [r["score"] for r in ref.run.read_segment_scores(task, ref.name, metric)]


def _worst(results: dict[str, Any], refs: dict[tuple[str, str], ModelRef]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The lowest-scoring segments of each system on the first metric."""
    if not results["metrics"]:
        return {}
    metric = results["metrics"][0]
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for task, info in results["tasks"].items():
        by_model = {}
        data = None
        for model in info["models"]:
            ref = refs[(task, model)]
            rows = ref.run.read_segment_scores(task, ref.name, metric)
            higher = info["models"][model][metric]["higher_is_better"]
            order = sorted(range(len(rows)), key=lambda i: rows[i]["score"] if higher else -rows[i]["score"])[:WORST_SEGMENTS]
            outputs = ref.run.read_generation(task, ref.name)
            data = data or ref.run.read_testdata(task)
            primary = next(iter(data["references"].values()))
            by_model[model] = [{"id": i, "score": rows[i]["score"], "source": data["source"][i], "reference": primary[i],
                                "output": outputs[i]} for i in order]
        out[task] = by_model
    return out


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.replace("++", "pp"))


def series_curves(runs: Sequence[RunDir], spec: str, out_dir: Path) -> list[Path]:
    """Metric (average over directions) against one x value per run, one line per model
    found in several runs: training steps, the unlikelihood weight alpha, data size."""
    label, _, values = spec.partition("=")
    try:
        xs = [float(v) for v in values.split(",")]
    except ValueError:
        raise MtbenchError(f"--x {spec!r}: give LABEL=V1,V2,... with one number per run directory") from None
    if not label or len(xs) != len(runs):
        raise MtbenchError(f"--x {spec!r}: needs a label and {len(runs)} values, one per run directory")
    figs: list[Path] = []
    per_run = [build_tables(r.read_results()) for r in runs]
    for m, tab in enumerate(per_run[0]):
        series: dict[str, list[tuple[float, float]]] = {}
        for x, tables in zip(xs, per_run):
            for row in tables[m]["rows"]:
                if row["averages"].get("avg") is not None:
                    series.setdefault(row["model"], []).append((x, row["averages"]["avg"]))
        series = {k: v for k, v in series.items() if len(v) > 1}
        if series:
            figs += plots.curves(series, plots.system_colours(list(series)), out_dir / f"curve-{_slug(tab['metric'])}",
                                 label, f"{tab['metric']} (average over directions)",
                                 logx=label.lower() in ("data", "size", "examples") and min(xs) > 0)
    return figs
