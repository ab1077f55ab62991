"""One self-contained index.html: leaderboards (sortable), embedded figures,
signatures, and per system the worst segments with links to the full outputs."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Sequence

from mtbench.report.leaderboard import MARK_BASELINE, MARK_SIGNIFICANT, MARK_UNDER_TEST, Table

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{white-space:nowrap;cursor:pointer;background:#f6f6f6;position:sticky;top:0}
th.sorted-asc::after{content:' \\25B2'}th.sorted-desc::after{content:' \\25BC'}
td.best{font-weight:bold}.sig{color:#b35806}.note,.sig-line{font-size:12px;color:#555}
code{font-size:12px;background:#f3f3f3;padding:1px 4px}img{max-width:100%;border:1px solid #eee;margin:6px 0}
details{margin:4px 0}summary{cursor:pointer}.seg td{text-align:left;vertical-align:top;max-width:420px}
.scope{font-size:12px;color:#333;margin:2px 0 4px}tr.segments td{font-size:11px;color:#666;background:#fafafa}
tr.under-test td{background:#fff7e0}.mine{font-weight:bold}tr.floor td{color:#555;font-style:italic}
"""

_SCRIPT = """
function sortTable(th){const table=th.closest('table');const idx=[...th.parentNode.children].indexOf(th);
const body=table.tBodies[0];const rows=[...body.rows];const asc=!th.classList.contains('sorted-asc');
table.querySelectorAll('th').forEach(h=>h.classList.remove('sorted-asc','sorted-desc'));
th.classList.add(asc?'sorted-asc':'sorted-desc');
const key=r=>{const t=r.cells[idx].dataset.v;return t===undefined?r.cells[idx].textContent:(t===''?NaN:parseFloat(t));};
rows.sort((a,b)=>{const x=key(a),y=key(b);if(typeof x==='string')return asc?x.localeCompare(y):y.localeCompare(x);
if(isNaN(x))return 1;if(isNaN(y))return -1;return asc?x-y:y-x;});rows.forEach(r=>body.appendChild(r));}
document.querySelectorAll('table.board th').forEach(th=>th.addEventListener('click',()=>sortTable(th)));
function openTarget(){const t=location.hash&&document.getElementById(decodeURIComponent(location.hash.slice(1)));
for(let e=t;e;e=e.parentElement){if(e.tagName==='DETAILS')e.open=true;}}
window.addEventListener('hashchange',openTarget);window.addEventListener('load',openTarget);
window.addEventListener('load',()=>{const imgs=[...document.images];
document.body.dataset.imagesOk=String(imgs.length>0&&imgs.every(i=>i.complete&&i.naturalWidth>0));
document.body.dataset.tables=String(document.querySelectorAll('table.board tbody tr').length);
document.body.dataset.underTest=String(document.querySelectorAll('table.board tbody tr.under-test').length);});
"""


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def system_cell(name: str, under_test: bool) -> str:
    """A table's first cell: the system's name, marked when it is the one under test."""
    text = html.escape(name)
    if under_test:
        text = f'<span class="mine" title="system under test">{MARK_UNDER_TEST} {text}</span>'
    return f"<td>{text}</td>"


def _board(tab: Table, legend: str) -> str:
    cols = tab.columns + tab.average_columns
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["system"] + cols)
    seg_row = "".join(f"<td>{tab.segments[c]['scored']}/{tab.segments[c]['in_test_set']}</td>" if c in tab.segments
                      else "<td></td>" for c in cols)
    body = []
    for r in tab.rows:
        cells = [system_cell(r.model, r.under_test)]
        for c in cols:
            v = r.value(c)
            mark = r.marks.get(c)
            text = "-" if v is None else f"{v:.2f}"
            if mark in ("better", "worse"):
                text += f'<span class="sig" title="significantly {mark} than the baseline">{MARK_SIGNIFICANT}</span>'
            elif mark == "baseline":
                text += f'<span title="baseline">{MARK_BASELINE}</span>'
            best = ' class="best"' if tab.is_best(r, c) else ""
            cells.append(f'<td{best} data-v="{"" if v is None else v}">{text}</td>')
        row_class = ' class="under-test"' if r.under_test else ""
        body.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    sigs = "".join(f'<div class="sig-line">Signature ({html.escape(", ".join(t))}): <code>{html.escape(s)}</code></div>'
                   for s, t in tab.signatures.items())
    notes = [legend.replace("`", "")] + [f"Unavailable for {t}: {r}" for t, r in tab.unavailable.items()]
    notes += [f"Note: {n}" for n in tab.notes]
    return (f'<h2>{html.escape(tab.title)}</h2><div class="scope">Scope: {html.escape(tab.scope)}</div>'
            f'<table class="board"><thead><tr>{head}</tr><tr class="segments"><td>segments scored / in test set</td>'
            f'{seg_row}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            + "".join(f'<div class="note">{html.escape(n)}</div>' for n in notes) + sigs)


def _worst_segments(worst: dict[str, dict[str, list[dict[str, Any]]]], links: dict[tuple[str, str], str],
                    metric: str) -> str:
    parts = [f"<h2>Worst segments per system ({html.escape(metric)})</h2>"]
    for task, by_model in worst.items():
        parts.append(f"<details><summary>{html.escape(task)}</summary>")
        for model, segs in by_model.items():
            link = links.get((task, model))
            title = html.escape(model) + (f' &middot; <a href="{html.escape(link)}">all outputs</a>' if link else "")
            rows = "".join(
                f"<tr><td>{s['id']}</td><td>{s['score']:.1f}</td><td>{html.escape(s['source'])}</td>"
                f"<td>{html.escape(s['reference'])}</td><td>{html.escape(s['output'])}</td></tr>" for s in segs)
            parts.append(f"<details><summary>{title}</summary><table class='seg'><thead><tr><th>#</th><th>score</th>"
                         f"<th>source</th><th>reference</th><th>output</th></tr></thead><tbody>{rows}</tbody></table></details>")
        parts.append("</details>")
    return "".join(parts)


def _failure_boards(tables: Sequence[Table], legend: str) -> str:
    """Each failure rate's own leaderboard (per direction, with significance), folded
    under the profile that sums them up."""
    if not tables:
        return ""
    return ("<details class='failure-boards'><summary>Leaderboard of each failure metric (per direction, with "
            f"significance)</summary>{''.join(_board(t, legend) for t in tables)}</details>")


def render_html(title: str, tables: Sequence[Table], figures: Sequence[Path],
                worst: dict[str, dict[str, list[dict[str, Any]]]], links: dict[tuple[str, str], str],
                provenance: Sequence[str], detail_files: Sequence[str] = (), legend: str = "",
                viewer: str = "", failures: str = "") -> str:
    """``viewer``: the output viewer's section (``mtbench.report.viewer.render_section``); "": none."""
    figs = "".join(f"<figure>{_img(p)}</figure>" for p in figures)
    prov = "".join(f"<li>{html.escape(line.replace('`', ''))}</li>" for line in provenance)
    details = "".join(f'<li><a href="{html.escape(f)}">{html.escape(f)}</a></li>' for f in detail_files)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1><ul class='note'>{prov}</ul>"
            + "".join(_board(t, legend) for t in tables if not t.metric.failure_profile)
            + failures  # the failure profile section (mtbench.report.failures.failures_html)
            + _failure_boards([t for t in tables if t.metric.failure_profile], legend)
            + (f"<h2>Details</h2><ul class='note'>{details}</ul>" if details else "")
            + (f"<h2>Figures</h2>{figs}" if figs else "")
            + viewer
            + (_worst_segments(worst, links, tables[0].metric.name) if tables else "")
            + f"<script>{_SCRIPT}</script></body></html>\n")
