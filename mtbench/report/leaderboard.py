"""Leaderboards from results.json: one table per metric, directions as columns, with
xx->en / en->xx / overall averages and the metric signatures under each table.

Best value per column in bold; a dagger where the paired test found the difference to
that column's baseline significant (when results.json carries significance)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from mtbench.report.lid_table import render_offtarget_languages
from mtbench.textio import atomic_write_text


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def build_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per metric: columns, rows (model, cells, averages) sorted best first, signatures."""
    tasks = results["tasks"]
    task_names = list(tasks)
    models: list[str] = []
    for t in tasks.values():
        for m in t["models"]:
            if m not in models:
                models.append(m)
    to_en = [t for t in task_names if tasks[t]["tgt"] == "en"]
    from_en = [t for t in task_names if tasks[t]["src"] == "en"]
    zero_shot = [t for t in task_names if tasks[t].get("zero_shot")]
    supervised = [t for t in task_names if t not in zero_shot]
    averages = []
    if to_en and from_en:
        averages += [("xx->en", to_en), ("en->xx", from_en)]
    if zero_shot and supervised:  # LAT's and the XGLM study's question: seen vs unseen directions
        averages += [("supervised", supervised), ("zero-shot", zero_shot)]
    averages.append(("avg", task_names))  # last: rows sort by it
    tables = []
    for metric in results["metrics"]:
        higher = True
        scale = 1.0  # COMET/BLEURT are stored raw (0-1) and shown x100, as papers print them
        signatures: dict[str, list[str]] = {}
        rows = []
        for model in models:
            cells: dict[str, float | None] = {}
            marks: dict[str, str] = {}
            for t in task_names:
                entry = tasks[t]["models"].get(model, {}).get(metric)
                if entry:
                    scale = entry.get("display_scale", 1.0)
                cells[t] = entry["score"] * entry.get("display_scale", 1.0) if entry else None
                if entry and entry.get("verdict"):
                    marks[t] = entry["verdict"]
                if entry:
                    higher = entry["higher_is_better"]
                    signatures.setdefault(entry["signature"], [])
                    if t not in signatures[entry["signature"]]:
                        signatures[entry["signature"]].append(t)
            avgs = {}
            for label, cols in averages:
                vals = [cells[c] for c in cols]
                # an average over a partial set of directions would mislead: only full rows
                avgs[label] = _mean([v for v in vals if v is not None]) if all(v is not None for v in vals) else None
            rows.append({"model": model, "cells": cells, "averages": avgs, "marks": marks})
        sort_key = averages[-1][0]
        rows.sort(key=lambda r: (r["averages"][sort_key] is None,
                                 -(r["averages"][sort_key] or 0) if higher else (r["averages"][sort_key] or 0)))
        best = {}
        for c in task_names + [a for a, _ in averages]:
            vals = [r["cells"].get(c, r["averages"].get(c)) for r in rows]
            vals = [v for v in vals if v is not None]
            if vals:
                best[c] = max(vals) if higher else min(vals)
        tables.append({"metric": metric, "higher_is_better": higher, "display_scale": scale, "columns": task_names,
                       "average_columns": [a for a, _ in averages], "rows": rows, "signatures": signatures,
                       "best": best, "zero_shot": zero_shot,
                       "significance": results.get("significance", {"test": "none"}),
                       "unavailable": results.get("unavailable", {}).get(metric, {})})
    return tables


def render_markdown(tables: list[dict[str, Any]]) -> str:
    parts = []
    for tab in tables:
        arrow = "higher is better" if tab["higher_is_better"] else "lower is better"
        header = ["model"] + tab["columns"] + tab["average_columns"]
        scaled = f", x{tab['display_scale']:g}" if tab.get("display_scale", 1.0) != 1.0 else ""
        parts.append(f"## {tab['metric']} ({arrow}{scaled})\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in tab["rows"]:
            vals = [_cell_md(tab, r, c) for c in tab["columns"]] + [_cell_md(tab, r, a) for a in tab["average_columns"]]
            parts.append("| " + " | ".join([r["model"]] + vals) + " |")
        parts.append("")
        if tab.get("zero_shot"):
            parts.append(f"Zero-shot (unseen in training): {', '.join(tab['zero_shot'])}  ")
        note = _significance_note(tab)
        if note:
            parts.append(note + "  ")
        for task, reason in tab.get("unavailable", {}).items():
            parts.append(f"Unavailable for {task}: {reason}  ")
        for sig, tasks in tab["signatures"].items():
            scope = "all directions" if len(tasks) == len(tab["columns"]) else ", ".join(tasks)
            parts.append(f"Signature ({scope}): `{sig}`  ")
        parts.append("")
    return "\n".join(parts)


def render_summary(tables: list[dict[str, Any]]) -> str:
    """Every metric's averages side by side, one row per model (in the first metric's
    order): the compact view of a comparison such as base vs MLE vs LAT."""
    if not tables:
        return "# Summary\n\nNo metric was computed.\n"
    header, align = ["model"], ["---"]
    for tab in tables:
        arrow = "↑" if tab["higher_is_better"] else "↓"
        header += [f"{tab['metric']} {a} {arrow}" for a in tab["average_columns"]]
        align += ["---:"] * len(tab["average_columns"])
    by_model = [{tab["metric"]: row for tab in tables for row in tab["rows"] if row["model"] == r["model"]}
                for r in tables[0]["rows"]]
    lines = ["# Summary", "", "Averages over directions (per-direction values: leaderboard.md).", "",
             "| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for rows in by_model:
        cells = [next(iter(rows.values()))["model"]]
        for tab in tables:
            row = rows.get(tab["metric"])
            cells += [_cell_md(tab, row, a) if row else "-" for a in tab["average_columns"]]
        lines.append("| " + " | ".join(cells) + " |")
    zero_shot = tables[0].get("zero_shot")
    if zero_shot:
        lines += ["", f"Zero-shot (unseen in training): {', '.join(zero_shot)}."]
    return "\n".join(lines) + "\n"


def _value(row: dict[str, Any], col: str) -> float | None:
    return row["cells"][col] if col in row["cells"] else row["averages"].get(col)


def _is_best(tab: dict[str, Any], row: dict[str, Any], col: str) -> bool:
    v = _value(row, col)
    return v is not None and col in tab["best"] and round(v, 2) == round(tab["best"][col], 2)


MARK_SIGNIFICANT = "†"


def _cell_md(tab: dict[str, Any], row: dict[str, Any], col: str) -> str:
    text = _fmt(_value(row, col))
    if row["marks"].get(col) in ("better", "worse"):
        text += MARK_SIGNIFICANT
    elif row["marks"].get(col) == "baseline":
        text += "°"
    return f"**{text}**" if _is_best(tab, row, col) else text


def _significance_note(tab: dict[str, Any]) -> str:
    sig = tab["significance"]
    if sig.get("test", "none") == "none" or not sig.get("signature"):
        return ""
    test = "paired bootstrap resampling" if sig["test"] == "bs" else "approximate randomization"
    base = "the best system of each column" if sig["baseline"] == "best" else f"`{sig['baseline']}`"
    return (f"Bold: best per column. ° baseline; {MARK_SIGNIFICANT} significantly different from the baseline "
            f"({base}) at p < {sig['alpha']}, {test} `{sig['signature']}`.")


def render_latex(tables: list[dict[str, Any]]) -> str:
    """booktabs tables, one per metric; best bold, dagger for significant differences."""
    def esc(text: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"),
                     ("$", r"\$"), ("->", r"$\rightarrow$")):
            text = text.replace(a, b)
        return text

    out = ["% Generated by mtbench; needs \\usepackage{booktabs}"]
    for tab in tables:
        cols = tab["columns"] + tab["average_columns"]
        out.append("\\begin{table}[t]\n\\centering\n\\small")
        out.append("\\begin{tabular}{l" + "r" * len(cols) + "}\n\\toprule")
        out.append(" & ".join(["System"] + [esc(c.split(":", 1)[-1]) for c in cols]) + " \\\\\n\\midrule")
        for r in tab["rows"]:
            cells = []
            for c in cols:
                v = _value(r, c)
                text = "--" if v is None else f"{v:.2f}"
                if r["marks"].get(c) in ("better", "worse"):
                    text += "$^{\\dagger}$"
                cells.append(f"\\textbf{{{text}}}" if _is_best(tab, r, c) else text)
            out.append(" & ".join([esc(r["model"])] + cells) + " \\\\")
        out.append("\\bottomrule\n\\end{tabular}")
        sigs = "; ".join(f"\\texttt{{{esc(s)}}}" for s in tab["signatures"])
        note = esc(_significance_note(tab).replace("`", "")).replace(MARK_SIGNIFICANT, "$^{\\dagger}$").replace("°", "$^{\\circ}$")
        out.append(f"\\caption{{{esc(tab['metric'])}. {note} Signature: {sigs}}}")
        out.append("\\end{table}\n")
    return "\n".join(out)


def render_csv(tables: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "model", "task", "score", "significance"])
    for tab in tables:
        for r in tab["rows"]:
            for c in tab["columns"] + tab["average_columns"]:
                v = _value(r, c)
                if v is not None:
                    w.writerow([tab["metric"], r["model"], c, f"{v:.4f}", r["marks"].get(c, "")])
    return buf.getvalue()


def write_leaderboards(out_dir: Path, results: dict[str, Any]) -> list[dict[str, Any]]:
    tables = build_tables(results)
    atomic_write_text(out_dir / "leaderboard.md", "# Leaderboard\n\n" + render_markdown(tables))
    atomic_write_text(out_dir / "summary.md", render_summary(tables))
    atomic_write_text(out_dir / "leaderboard.csv", render_csv(tables))
    atomic_write_text(out_dir / "leaderboard.json", json.dumps(tables, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out_dir / "leaderboard.tex", render_latex(tables))
    lid = render_offtarget_languages(results)
    if lid is not None:
        atomic_write_text(out_dir / "offtarget-languages.md", lid)
    return tables
