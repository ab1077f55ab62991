"""The failure profile of a report: how often each system fails in each way, per
direction and over all of them, with the reference's own rate as the floor, and
examples of every failure per system.

Which metrics form the profile is what they declared (``MetricInfo.failure_profile``),
never a list of names here. A rate is the metric's corpus score (% of lines flagged);
"any" is the share of lines with at least one flag among the metrics that judged the
system. Over directions, rates are the mean of the per-direction rates, like the
leaderboards' averages.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

from mtbench.report.html import system_cell
from mtbench.report.leaderboard import MARK_UNDER_TEST
from mtbench.report.scope import scope_line, segments_phrase
from mtbench.results import Results
from mtbench.textio import atomic_write_text

EXAMPLES = 3  # examples of each failure per system and direction
ANY = "any"


class Segments(Protocol):
    """What the profile reads per segment (build.SegmentSource)."""

    def rows(self, task: str, model: str, metric: str) -> list[dict[str, Any]]: ...

    def outputs(self, task: str, model: str) -> list[str]: ...

    def testdata(self, task: str, model: str) -> dict[str, Any]: ...


@dataclass
class FailureRow:
    system: str
    under_test: bool
    rates: dict[str, float | None]  # metric (and "any") -> % of lines; None: not judged
    examples: dict[str, int] = field(default_factory=dict)  # metric -> flagged lines (per direction)


@dataclass
class FailureTable:
    title: str  # what the rates cover
    scope: str
    metrics: list[str]
    rows: list[FailureRow]
    floor: dict[str, float]  # metric -> the reference's own rate
    task: str | None = None  # None: the mean over directions


def failure_metrics(results: Results) -> list[str]:
    return [name for name, info in results.metrics.items() if info.failure_profile]


def _flags(source: Segments, task: str, model: str, metric: str) -> list[bool]:
    return [float(r["score"]) > 0 for r in source.rows(task, model, metric)]


def _any_rate(source: Segments, task: str, model: str, metrics: Sequence[str]) -> float | None:
    columns = [_flags(source, task, model, m) for m in metrics]
    if not columns or not columns[0]:
        return None
    return 100.0 * sum(any(col[i] for col in columns) for i in range(len(columns[0]))) / len(columns[0])


def build_failure_tables(results: Results, source: Segments) -> list[FailureTable]:
    """The mean over directions first, then one table per direction; [] without a
    failure-profile metric."""
    metrics = failure_metrics(results)
    if not metrics:
        return []
    per_task: list[FailureTable] = []
    for name in results.scored_tasks:
        task = results.tasks[name]
        rows = []
        for model in task.scores:
            judged = [m for m in metrics if task.score(model, m) is not None]
            rates: dict[str, float | None] = {m: task.score(model, m).score if m in judged else None for m in metrics}
            rates[ANY] = _any_rate(source, name, model, judged)
            counts = {m: int(round(task.score(model, m).score * task.segments / 100.0)) for m in judged}
            rows.append(FailureRow(model, results.models[model].under_test, rates, counts))
        rows.sort(key=lambda r: (not r.under_test, r.rates[ANY] if r.rates[ANY] is not None else 101.0))
        per_task.append(FailureTable(f"Failure profile on {name} — {segments_phrase([task])}, % of lines",
                                     scope_line(results, [task], with_test=False), metrics, rows,
                                     {m: v for m, v in task.reference_floor.items() if m in metrics}, name))
    if not per_task:
        return []
    # A mean over some directions only would not compare (as in the leaderboards): the
    # mean table has the systems with outputs in every direction.
    systems = [s for s in dict.fromkeys(r.system for t in per_task for r in t.rows)
               if all(any(r.system == s for r in t.rows) for t in per_task)]
    overall = []
    for system in systems:
        rates: dict[str, float | None] = {}
        for m in metrics + [ANY]:
            vals = [r.rates[m] for t in per_task for r in t.rows if r.system == system]
            rates[m] = sum(vals) / len(vals) if all(v is not None for v in vals) else None  # type: ignore[arg-type]
        overall.append(FailureRow(system, results.models[system].under_test, rates))
    overall.sort(key=lambda r: (not r.under_test, r.rates[ANY] if r.rates[ANY] is not None else 101.0))
    floors = {}
    for m in metrics:
        vals = [t.floor[m] for t in per_task if m in t.floor]
        if len(vals) == len(per_task):
            floors[m] = sum(vals) / len(vals)
    tasks = [results.tasks[t.task] for t in per_task if t.task]
    if len(per_task) == 1:
        return per_task
    partial = len({r.system for t in per_task for r in t.rows}) - len(systems)
    title = f"Failure profile, mean over {len(per_task)} directions — {segments_phrase(tasks)}, % of lines"
    note = (f"{len(systems)} systems with outputs in all {len(per_task)} directions"
            + (f" ({partial} others: per-direction tables)" if partial else ""))
    return [FailureTable(title, f"{scope_line(results, tasks, with_test=False)} · {note}", metrics, overall,
                         floors)] + per_task


def anchor(task: str, system: str, metric: str) -> str:
    return "ex-" + "-".join("".join(c if c.isalnum() else "_" for c in x) for x in (task, system, metric))


def _cell(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.2f}"  # as the leaderboards: 1 line in 2,000 is 0.05


def _legend(results: Results, metrics: Sequence[str]) -> list[str]:
    lines = ["Rates are % of lines flagged; lower is better. "
             f"{ANY}: lines with at least one flag. n/a: the metric cannot judge that system (see notes). "
             f"reference: the same rule applied to the primary reference (the floor, where it applies)."]
    notes: dict[tuple[str, str], list[str]] = {}
    for task in results.tasks.values():
        for metric, per in task.not_scored.items():
            for model, reason in per.items():
                models = notes.setdefault((metric, reason), [])
                if model not in models:
                    models.append(model)
    for (metric, reason), models in notes.items():
        lines.append(f"{metric} n/a for {len(models)} system(s): {reason}.")
    return lines


def failures_markdown(results: Results, tables: Sequence[FailureTable], examples_file: str) -> str:
    metrics = tables[0].metrics
    out = ["# Failure profile", ""]
    out += [f"- {line}" for line in _legend(results, metrics)]
    out += [f"- Examples of each failure per system: [{examples_file}]({examples_file}).", ""]
    for tab in tables:
        out += [f"## {tab.title}", "", f"Scope: {tab.scope}", ""]
        out.append("| system | " + " | ".join(metrics + [ANY]) + " |")
        out.append("|---|" + "---:|" * (len(metrics) + 1))
        for r in tab.rows:
            name = f"{MARK_UNDER_TEST} {r.system}" if r.under_test else r.system
            cells = []
            for m in metrics:
                text = _cell(r.rates[m])
                if tab.task and r.examples.get(m):
                    text = f"[{text}]({examples_file}#{anchor(tab.task, r.system, m)})"
                cells.append(text)
            out.append(f"| {name} | " + " | ".join(cells + [_cell(r.rates[ANY])]) + " |")
        if tab.floor:
            out.append("| reference | " + " | ".join(_cell(tab.floor.get(m)) if m in tab.floor else "" for m in metrics)
                       + " | |")
        out.append("")
    return "\n".join(out)


def collect_examples(results: Results, source: Segments, tables: Sequence[FailureTable]) -> list[dict[str, Any]]:
    """Up to ``EXAMPLES`` flagged segments per direction, system and failure."""
    out = []
    for tab in tables:
        if tab.task is None and len(tables) > 1:
            continue
        task = tab.task or results.scored_tasks[0]
        data = None
        for r in tab.rows:
            for m in tab.metrics:
                if not r.examples.get(m):
                    continue
                rows = [row for row in source.rows(task, r.system, m) if float(row["score"]) > 0][:EXAMPLES]
                outputs = source.outputs(task, r.system)
                data = data or source.testdata(task, r.system)
                reference = next(iter(data["references"].values()), [""] * len(outputs))
                for row in rows:
                    i = int(row["id"])
                    found = {k: f"{v:.3g}" if isinstance(v, float) else v for k, v in row.items()
                             if k not in ("id", "score", "stats") and v not in ("", None)}
                    out.append({"task": task, "system": r.system, "metric": m, "id": i, "flagged": r.examples[m],
                                "source": data["source"][i], "reference": reference[i], "output": outputs[i],
                                "found": found})
    return out


def examples_markdown(examples: Sequence[dict[str, Any]]) -> str:
    out = ["# Failure examples", "",
           f"Up to {EXAMPLES} flagged segments per direction, system and failure. Lines count from 1 in the "
           f"test set's src.txt (the output viewer's numbering); segment ids, as in the run's files, from 0.", ""]
    seen = set()
    for ex in examples:
        key = (ex["task"], ex["system"], ex["metric"])
        if key not in seen:
            seen.add(key)
            out += [f'<a id="{anchor(*key)}"></a>', "",
                    f"## {ex['metric']}: {ex['system']} on {ex['task']} ({ex['flagged']} line(s) flagged)", ""]
        found = "; ".join(f"{k}: {v}" for k, v in ex["found"].items())
        out += [f"- line {ex['id'] + 1} (segment id {ex['id']})" + (f": {found}" if found else ""),
                f"  - source: {_md(ex['source'])}", f"  - reference: {_md(ex['reference'])}",
                f"  - output: {_md(ex['output'])}", ""]
    return "\n".join(out)


def _md(text: str) -> str:
    return "`(empty)`" if not text.strip() else text.replace("\n", " ⏎ ").replace("|", "\\|")


def failures_html(results: Results, tables: Sequence[FailureTable], examples: Sequence[dict[str, Any]]) -> str:
    """The profile section of index.html: tables whose cells link to the examples below."""
    metrics = tables[0].metrics
    parts = ["<h2 id='failures'>Failure profile</h2>"]
    parts += [f"<div class='note'>{html.escape(line)}</div>" for line in _legend(results, metrics)]
    for k, tab in enumerate(tables):
        head = "".join(f"<th>{html.escape(m)}</th>" for m in ["system"] + metrics + [ANY])
        body = []
        for r in tab.rows:
            cells = [system_cell(r.system, r.under_test)]
            for m in metrics + [ANY]:
                v = r.rates[m]
                text = _cell(v)
                if tab.task and m != ANY and r.examples.get(m):
                    text = f'<a href="#{anchor(tab.task, r.system, m)}">{text}</a>'
                cells.append(f'<td data-v="{"" if v is None else v}">{text}</td>')
            row_class = ' class="under-test"' if r.under_test else ""
            body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
        if tab.floor:
            body.append("<tr class='floor'><td>reference</td>" + "".join(
                f"<td>{_cell(tab.floor[m])}</td>" if m in tab.floor else "<td></td>" for m in metrics) + "<td></td></tr>")
        table = (f"<div class='scope'>Scope: {html.escape(tab.scope)}</div><table class='board failures'>"
                 f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        title = html.escape(tab.title)
        parts.append(f"<h3>{title}</h3>{table}" if k == 0 else f"<details><summary>{title}</summary>{table}</details>")
    if examples:
        parts.append("<h3>Failure examples</h3>")
        by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for ex in examples:
            by_key.setdefault((ex["task"], ex["system"], ex["metric"]), []).append(ex)
        for key, items in by_key.items():
            rows = "".join(
                f"<tr><td>{ex['id'] + 1}</td><td>{html.escape('; '.join(f'{a}: {b}' for a, b in ex['found'].items()))}</td>"
                f"<td>{html.escape(ex['source'])}</td><td>{html.escape(ex['reference'])}</td>"
                f"<td>{html.escape(ex['output']) or '<i>(empty)</i>'}</td></tr>" for ex in items)
            parts.append(f"<details id='{anchor(*key)}'><summary>{html.escape(key[0])}: {html.escape(key[1])} — "
                         f"{html.escape(key[2])} ({items[0]['flagged']} line(s) flagged)</summary><table class='seg'>"
                         f"<thead><tr><th>line</th><th>found</th><th>source</th><th>reference</th><th>output</th></tr></thead>"
                         f"<tbody>{rows}</tbody></table></details>")
    return "".join(parts)


def write_failures(out_dir: Path, results: Results, source: Segments) -> tuple[list[FailureTable], list[dict[str, Any]]]:
    """failures.md and failures-examples.md; the tables and examples for index.html."""
    tables = build_failure_tables(results, source)
    if not tables:
        return [], []
    examples = collect_examples(results, source, tables)
    atomic_write_text(out_dir / "failures.md", failures_markdown(results, tables, "failures-examples.md") + "\n")
    atomic_write_text(out_dir / "failures-examples.md", examples_markdown(examples) + "\n")
    return tables, examples
