"""Per-direction details tables, for every metric that renders details of its corpus
score (``Metric.detail_columns``): off-target's short-line share and the languages
lid.176 saw instead, which an OTR number alone hides. The reference's own score (the
floor) and the metric's caveat for the target language come first."""

from __future__ import annotations

from pathlib import Path

from mtbench.report.leaderboard import MARK_UNDER_TEST, Table
from mtbench.report.scope import segments_phrase
from mtbench.results import Results
from mtbench.textio import atomic_write_text


def file_slug(name: str) -> str:
    """A metric, task or setting name as part of a report's file names (chrF++ -> chrFpp)."""
    return "".join(c if c.isalnum() else "_" for c in name.replace("++", "pp"))


def render_details(results: Results, table: Table) -> str | None:
    metric = table.metric
    columns: list[str] = []
    for task in table.columns:
        for per in results.tasks[task].scores.values():
            for col in (per[metric.name].detail_columns if metric.name in per else {}):
                if col not in columns:
                    columns.append(col)
    if not columns:
        return None
    parts = [f"# {metric.name}: details per direction", "", f"Scope: {table.scope}.", ""]
    for task_name in table.columns:
        task = results.tasks[task_name]
        rows = [(m, per[metric.name]) for m, per in task.scores.items() if metric.name in per]
        if not rows:
            continue
        parts += [f"## {task_name} ({segments_phrase([task])})", ""]
        if metric.name in task.caveats:
            parts += [f"Caveat: {task.caveats[metric.name]}.", ""]
        parts += ["| system | " + " | ".join([metric.name] + columns) + " |",
                  "|---|" + "|".join(["---:"] + ["---"] * len(columns)) + "|"]
        floor = task.reference_floor.get(metric.name)
        if floor is not None:
            parts.append(f"| *reference* | {metric.display(floor):.2f} |" + " |" * len(columns))
        order = sorted(rows, key=lambda r: ((-r[1].score if metric.higher_is_better else r[1].score), r[0].lower()))
        for model, score in order:
            label = f"{MARK_UNDER_TEST} {model}" if results.models[model].under_test else model
            cells = [score.detail_columns.get(c, "") for c in columns]
            parts.append(f"| {label} | {metric.display(score.score):.2f} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def write_details(out_dir: Path, results: Results, tables: list[Table]) -> list[Path]:
    written = []
    for table in tables:
        text = render_details(results, table)
        if text is not None:
            path = out_dir / f"details-{file_slug(table.metric.name)}.md"
            atomic_write_text(path, text)
            written.append(path)
    return written
