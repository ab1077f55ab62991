"""Leaderboards from the results model: one table per metric, directions as columns,
with xx->en / en->xx / supervised / zero-shot / overall averages, the scope of the
numbers in the title line and the signatures under each table.

Bold: the best value per column in the metric's own direction. A dagger where the
paired test found the difference to that column's baseline significant; a degree
sign on the baseline. Directions without any system output are left out (and named
once). ``▸`` marks the systems under test (the user's own models)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mtbench.metrics.base import MetricInfo
from mtbench.report.scope import direction_labels, limit_note, scope_line, segments_phrase
from mtbench.results import Results
from mtbench.stats import POWER
from mtbench.textio import atomic_write_text

MARK_SIGNIFICANT = "†"
MARK_BASELINE = "°"
MARK_UNDER_TEST = "▸"


@dataclass
class Row:
    model: str
    under_test: bool
    cells: dict[str, float | None]  # direction -> displayed value (display scale applied)
    averages: dict[str, float | None]
    marks: dict[str, str] = field(default_factory=dict)  # direction -> verdict

    def value(self, col: str) -> float | None:
        return self.cells[col] if col in self.cells else self.averages.get(col)

    @property
    def label(self) -> str:
        return f"{MARK_UNDER_TEST} {self.model}" if self.under_test else self.model


@dataclass
class Table:
    metric: MetricInfo
    columns: list[str]  # directions with outputs
    average_columns: list[str]
    rows: list[Row]  # best first (by the last average)
    best: dict[str, float]
    signatures: dict[str, list[str]]  # signature -> directions
    zero_shot: list[str]
    unavailable: dict[str, str]  # direction -> reason
    title: str  # "bleu (higher is better) — first 20 of 1984 segments"
    scope: str  # "ref A · preset default · paired bootstrap, 1000 resamples, seed 12345, ..."
    segments: dict[str, dict[str, int]]  # direction -> {"scored", "in_test_set"}
    notes: list[str]

    def row(self, model: str) -> Row | None:
        return next((r for r in self.rows if r.model == model), None)

    def is_best(self, row: Row, col: str) -> bool:
        v = row.value(col)
        return v is not None and col in self.best and round(v, 2) == round(self.best[col], 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def average_groups(results: Results, columns: list[str]) -> list[tuple[str, list[str]]]:
    tasks = results.tasks
    to_en = [t for t in columns if tasks[t].tgt == "en"]
    from_en = [t for t in columns if tasks[t].src == "en"]
    zero_shot = [t for t in columns if tasks[t].zero_shot]
    supervised = [t for t in columns if t not in zero_shot]
    groups: list[tuple[str, list[str]]] = []
    if to_en and from_en:
        groups += [("xx->en", to_en), ("en->xx", from_en)]
    if zero_shot and supervised:  # LAT's and the XGLM study's question: seen vs unseen directions
        groups += [("supervised", supervised), ("zero-shot", zero_shot)]
    groups.append(("avg", columns))  # last: rows sort by it
    return groups


def run_notes(results: Results) -> list[str]:
    """What every table of a report must say besides its numbers."""
    notes = list(results.warnings) + list(results.significance.notes)
    empty = results.empty_tasks
    if empty:
        notes.append(f"{len(empty)} direction(s) have no outputs and are left out of tables and averages: "
                     f"{', '.join(empty)}")
    return notes


def not_scored_notes(results: Results, metric: str) -> list[str]:
    """Systems a metric cannot judge (``truncated`` on precomputed outputs), one line per reason."""
    by_reason: dict[str, list[str]] = {}
    for task in results.tasks.values():
        for model, reason in task.not_scored.get(metric, {}).items():
            if model in results.models and model not in by_reason.setdefault(reason, []):
                by_reason[reason].append(model)
    notes = []
    for reason, models in by_reason.items():
        shown = ", ".join(models[:4]) + (f" and {len(models) - 4} more" if len(models) > 4 else "")
        notes.append(f"{metric}: not scored for {len(models)} system(s) ({shown}): {reason}")
    return notes


def power_notes(results: Results, metric: str, shown: int = 6) -> list[str]:
    """For each system under test whose difference with the baseline is not significant:
    the segments per direction at which a difference of that size would be, with 80%
    power (``Comparison.segments_for_power``), so a reader sees whether "same" means
    "no difference" or "too few segments"."""
    sig = results.significance
    found = []
    for name, task in results.tasks.items():
        for model in results.under_test:
            s = task.score(model, metric)
            c = s.comparison if s else None
            if c is not None and c.verdict == "same" and c.segments_for_power is not None:
                found.append((c.segments_for_power, f"{name} {model} vs {c.baseline} ≈{c.segments_for_power:,} "
                                                    f"(has {task.segments:,})"))
    if not found:
        return []
    listed = "; ".join(text for _, text in found[:shown]) + (f"; and {len(found) - shown} more" if len(found) > shown else "")
    return [f"{metric}: not significant at p < {sig.alpha:g}, the segments per direction that would make a difference "
            f"of the same size significant with {POWER:.0%} power (estimated from the paired-bootstrap spread): {listed}"]


def build_tables(results: Results) -> list[Table]:
    columns = results.scored_tasks
    groups = average_groups(results, columns)
    tasks = [results.tasks[t] for t in columns]
    title_scope = segments_phrase(tasks) + limit_note(results)
    notes = run_notes(results)
    tables = []
    for metric, info in results.metrics.items():
        signatures: dict[str, list[str]] = {}
        rows = []
        for model, minfo in results.models.items():
            cells: dict[str, float | None] = {}
            marks: dict[str, str] = {}
            for t in columns:
                s = results.tasks[t].score(model, metric)
                cells[t] = info.display(s.score) if s else None
                if s and s.comparison:
                    marks[t] = s.comparison.verdict
                if s:
                    signatures.setdefault(s.signature, [])
                    if t not in signatures[s.signature]:
                        signatures[s.signature].append(t)
            if all(v is None for v in cells.values()):
                continue  # the model has no score for this metric anywhere
            avgs = {}
            for label, cols in groups:
                vals = [cells[c] for c in cols]
                # an average over a partial set of directions would mislead: only full rows
                avgs[label] = _mean([v for v in vals if v is not None]) if all(v is not None for v in vals) else None
            rows.append(Row(model, minfo.under_test, cells, avgs, marks))
        key = groups[-1][0]
        rows.sort(key=lambda r: (r.averages[key] is None,
                                 -(r.averages[key] or 0) if info.higher_is_better else (r.averages[key] or 0)))
        best = {}
        for c in columns + [a for a, _ in groups]:
            vals = [v for v in (r.value(c) for r in rows) if v is not None]
            if vals:
                best[c] = info.best(vals)
        tables.append(Table(
            metric=info, columns=columns, average_columns=[a for a, _ in groups], rows=rows, best=best,
            signatures=signatures, zero_shot=[t for t in columns if results.tasks[t].zero_shot],
            unavailable=dict(results.unavailable.get(metric, {})), title=f"{info.heading()} — {title_scope}",
            scope=scope_line(results, tasks),
            segments={t: {"scored": results.tasks[t].segments, "in_test_set": results.tasks[t].segments_in_test_set}
                      for t in columns},
            notes=notes + not_scored_notes(results, metric) + power_notes(results, metric)))
    return tables


def marks_legend(results: Results) -> str:
    sig = results.significance
    parts = ["Bold: best per column."]
    if results.under_test:
        parts.append(f"{MARK_UNDER_TEST} system under test.")
    if sig.test != "none" and sig.signature:
        parts.append(f"{MARK_BASELINE} baseline; {MARK_SIGNIFICANT} significantly different from the baseline at "
                     f"p < {sig.alpha:g} (`{sig.signature}`).")
    return " ".join(parts)


def _cell_md(tab: Table, row: Row, col: str) -> str:
    text = _fmt(row.value(col))
    mark = row.marks.get(col)
    if mark in ("better", "worse"):
        text += MARK_SIGNIFICANT
    elif mark == "baseline":
        text += MARK_BASELINE
    return f"**{text}**" if tab.is_best(row, col) else text


def render_markdown(tables: list[Table], results: Results) -> str:
    parts = []
    for tab in tables:
        header = ["model"] + tab.columns + tab.average_columns
        parts.append(f"## {tab.title}\n")
        parts.append(f"Scope: {tab.scope}\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in tab.rows:
            vals = [_cell_md(tab, r, c) for c in tab.columns + tab.average_columns]
            parts.append("| " + " | ".join([r.label] + vals) + " |")
        parts.append("")
        if tab.zero_shot:
            parts.append(f"Zero-shot (unseen in training): {', '.join(tab.zero_shot)}  ")
        parts.append(marks_legend(results) + "  ")
        for task, reason in tab.unavailable.items():
            parts.append(f"Unavailable for {task}: {reason}  ")
        for note in tab.notes:
            parts.append(f"Note: {note}  ")
        for sig, tasks in tab.signatures.items():
            scope = "all directions" if len(tasks) == len(tab.columns) else ", ".join(tasks)
            parts.append(f"Signature ({scope}): `{sig}`  ")
        parts.append("")
    if not tables:
        parts.append("No metric was computed.\n")
    return "\n".join(parts)


def render_summary(tables: list[Table], results: Results) -> str:
    """Every metric's averages side by side, one row per model (in the first metric's
    order): the compact view of a comparison such as base vs MLE vs LAT (whose point is
    the off-target rate on zero-shot directions, so failure rates keep their groups)."""
    if not tables:
        return "# Summary\n\nNo metric was computed.\n"
    profile = any(t.metric.failure_profile for t in tables)
    header, align = ["model"], ["---"]
    for tab in tables:
        arrow = "↑" if tab.metric.higher_is_better else "↓"
        scale = f" x{tab.metric.display_scale:g}" if tab.metric.display_scale != 1.0 else ""
        header += [f"{tab.metric.name}{scale} {a} {arrow}" for a in tab.average_columns]
        align += ["---:"] * len(tab.average_columns)
    models = [r.model for r in tables[0].rows]
    for tab in tables[1:]:
        models += [r.model for r in tab.rows if r.model not in models]
    first = tables[0]
    lines = [f"# Summary — {first.title.split(' — ', 1)[1]}", "",
             f"Averages over directions (per-direction values and significance: leaderboard.md). "
             f"Scope: {scope_line(results, [results.tasks[t] for t in first.columns], with_test=False)}.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for model in models:
        label = next(r.label for tab in tables for r in tab.rows if r.model == model)
        cells = [label]
        for tab in tables:
            row = tab.row(model)
            cells += [_cell_md(tab, row, a) if row else "-" for a in tab.average_columns]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if first.zero_shot:
        lines.append(f"Zero-shot (unseen in training): {', '.join(first.zero_shot)}.  ")
    lines.append(marks_legend(results).split(f" {MARK_BASELINE} baseline")[0] + "  ")
    if profile:
        lines.append("Failure rates (% of lines) per direction, with the reference's own rate and examples: "
                     "failures.md.  ")
    for note in first.notes:
        lines.append(f"Note: {note}  ")
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$", "{": r"\{",
        "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "->": r"$\rightarrow$", "—": "---",
        "–": "--", "·": "$\\cdot$", MARK_UNDER_TEST: r"$\triangleright$", "<": r"$<$", ">": r"$>$", "`": ""}
# One pass, so a replacement's own braces and backslashes are never escaped again.
_TEX_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_TEX, key=len, reverse=True)))


def _esc_tex(text: str) -> str:
    return _TEX_PATTERN.sub(lambda m: _TEX[m.group(0)], text)


def render_latex(tables: list[Table], results: Results) -> str:
    """booktabs tables, one per metric; best bold, dagger for significant differences."""
    out = ["% Generated by mtbench; needs \\usepackage{booktabs}"]
    for tab in tables:
        cols = tab.columns + tab.average_columns
        out.append("\\begin{table}[t]\n\\centering\n\\small")
        out.append("\\begin{tabular}{l" + "r" * len(cols) + "}\n\\toprule")
        out.append(" & ".join(["System"] + [_esc_tex(c) for c in direction_labels(tab.columns)]
                              + [_esc_tex(c) for c in tab.average_columns]) + " \\\\\n\\midrule")
        for r in tab.rows:
            cells = []
            for c in cols:
                v = r.value(c)
                text = "--" if v is None else f"{v:.2f}"
                if r.marks.get(c) in ("better", "worse"):
                    text += "$^{\\dagger}$"
                elif r.marks.get(c) == "baseline":
                    text += "$^{\\circ}$"
                cells.append(f"\\textbf{{{text}}}" if tab.is_best(r, c) else text)
            out.append(" & ".join([_esc_tex(r.label)] + cells) + " \\\\")
        out.append("\\bottomrule\n\\end{tabular}")
        sigs = "; ".join(f"\\texttt{{{_esc_tex(s)}}}" for s in tab.signatures)
        legend = _esc_tex(marks_legend(results)).replace(MARK_SIGNIFICANT, "$^{\\dagger}$").replace(
            MARK_BASELINE, "$^{\\circ}$")
        out.append(f"\\caption{{{_esc_tex(tab.title)}. {_esc_tex(tab.scope)}. {legend} Signature: {sigs}}}")
        out.append("\\end{table}\n")
    return "\n".join(out)


def render_csv(tables: list[Table], results: Results) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "model", "under_test", "task", "score", "significance", "segments", "segments_in_test_set",
                "refs", "preset"])
    for tab in tables:
        for r in tab.rows:
            for c in tab.columns + tab.average_columns:
                v = r.value(c)
                if v is None:
                    continue
                task = results.tasks.get(c)
                w.writerow([tab.metric.name, r.model, int(r.under_test), c, f"{v:.4f}", r.marks.get(c, ""),
                            task.segments if task else "", task.segments_in_test_set if task else "",
                            "+".join(task.refs) if task else "", results.preset])
    return buf.getvalue()


def write_leaderboards(out_dir: Path, results: Results, opening: str = "") -> list[Table]:
    """``opening``: Markdown that summary.md starts with under its title (a claim's verdict)."""
    tables = build_tables(results)
    atomic_write_text(out_dir / "leaderboard.md", "# Leaderboard\n\n" + render_markdown(tables, results))
    summary = render_summary(tables, results)
    if opening:
        title, rest = summary.split("\n", 1)
        summary = f"{title}\n\n{opening}{rest.lstrip()}"
    atomic_write_text(out_dir / "summary.md", summary)
    atomic_write_text(out_dir / "leaderboard.csv", render_csv(tables, results))
    atomic_write_text(out_dir / "leaderboard.json",
                      json.dumps([t.to_dict() for t in tables], ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out_dir / "leaderboard.tex", render_latex(tables, results))
    return tables
