"""Leaderboards from results.json: one table per metric, directions as columns, with
xx->en / en->xx / overall averages and the metric signatures under each table."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

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
    averages = [("avg", task_names)]
    if to_en and from_en:
        averages = [("xx->en", to_en), ("en->xx", from_en), ("avg", task_names)]
    tables = []
    for metric in results["metrics"]:
        higher = True
        signatures: dict[str, list[str]] = {}
        rows = []
        for model in models:
            cells: dict[str, float | None] = {}
            for t in task_names:
                entry = tasks[t]["models"].get(model, {}).get(metric)
                cells[t] = entry["score"] if entry else None
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
            rows.append({"model": model, "cells": cells, "averages": avgs})
        sort_key = averages[-1][0]
        rows.sort(key=lambda r: (r["averages"][sort_key] is None,
                                 -(r["averages"][sort_key] or 0) if higher else (r["averages"][sort_key] or 0)))
        tables.append({"metric": metric, "higher_is_better": higher, "columns": task_names,
                       "average_columns": [a for a, _ in averages], "rows": rows, "signatures": signatures})
    return tables


def render_markdown(tables: list[dict[str, Any]]) -> str:
    parts = []
    for tab in tables:
        arrow = "higher is better" if tab["higher_is_better"] else "lower is better"
        header = ["model"] + tab["columns"] + tab["average_columns"]
        parts.append(f"## {tab['metric']} ({arrow})\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in tab["rows"]:
            vals = [_fmt(r["cells"][c]) for c in tab["columns"]] + [_fmt(r["averages"][a]) for a in tab["average_columns"]]
            parts.append("| " + " | ".join([r["model"]] + vals) + " |")
        parts.append("")
        for sig, tasks in tab["signatures"].items():
            scope = "all directions" if len(tasks) == len(tab["columns"]) else ", ".join(tasks)
            parts.append(f"Signature ({scope}): `{sig}`  ")
        parts.append("")
    return "\n".join(parts)


def render_csv(tables: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "model", "task", "score"])
    for tab in tables:
        for r in tab["rows"]:
            for c in tab["columns"]:
                if r["cells"][c] is not None:
                    w.writerow([tab["metric"], r["model"], c, f"{r['cells'][c]:.4f}"])
            for a in tab["average_columns"]:
                if r["averages"][a] is not None:
                    w.writerow([tab["metric"], r["model"], a, f"{r['averages'][a]:.4f}"])
    return buf.getvalue()


def write_leaderboards(out_dir: Path, results: dict[str, Any]) -> None:
    tables = build_tables(results)
    atomic_write_text(out_dir / "leaderboard.md", "# Leaderboard\n\n" + render_markdown(tables))
    atomic_write_text(out_dir / "leaderboard.csv", render_csv(tables))
    atomic_write_text(out_dir / "leaderboard.json", json.dumps(tables, ensure_ascii=False, indent=2) + "\n")
