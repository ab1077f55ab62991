"""The output viewer of index.html: per direction the source, the primary reference and
every system's outputs with their segment scores and failure flags, embedded as one
JSON document that ``viewer.js`` renders in the browser (no network, no libraries).

The payload is column-oriented (one array per system and metric, not one object per
segment) so that a full test set of 2,000 segments x 10 systems stays a few MB and the
browser sorts and filters arrays. Which metrics are failure flags comes from
``MetricInfo.failure_profile``, never from metric names: a failure metric's segment
score is 100 when the segment shows the failure, so the viewer shows a badge instead of
a number and keeps only the flagged segment ids.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
from importlib import resources
from typing import TYPE_CHECKING, Any

from mtbench.metrics.base import MetricInfo
from mtbench.report.selection import ViewOptions, shown_in_task
from mtbench.results import Results

if TYPE_CHECKING:  # build.py imports this module; the type is only needed for hints
    from mtbench.report.build import SegmentSource

PAYLOAD_VERSION = 1
DATA_ID = "mtbench-viewer-data"
SIGNIFICANT = 4  # digits kept of each display-scaled segment score: enough to sort and read, short in JSON
_SKIP_DETAILS = ("id", "score", "stats")  # per-segment fields that are not a failure's explanation


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{SIGNIFICANT}g}")


_SIGNIFICANT_FORMAT = f"{{:.{SIGNIFICANT}g}}"


def _round_all(values: list[float | None]) -> list[float | None]:
    """``_round`` of every value; a column of finite floats (the usual case) in one
    C-level pass (350k segment scores for the WMT22/21 files: 0.1 s, not 0.7)."""
    if all(type(v) is float for v in values) and all(map(math.isfinite, values)):
        return list(map(float, map(_SIGNIFICANT_FORMAT.format, values)))
    return [_round(v) for v in values]


def _metric_entry(info: MetricInfo) -> dict[str, Any]:
    return {"name": info.name, "label": info.axis_label(), "heading": info.heading(),
            "higher": info.higher_is_better, "failure": info.failure_profile}


def _flag_note(row: dict[str, Any]) -> str:
    """What the metric recorded beside a flagged segment (off-target: the language
    lid.176 saw and its confidence), for the badge's tooltip."""
    parts = []
    for key, value in row.items():
        if key in _SKIP_DETAILS or value is None:
            continue
        parts.append(f"{key} {_round(value) if isinstance(value, float) else value}")
    return ", ".join(parts)


def _system(results: Results, source: "SegmentSource", task: str, model: str, n: int) -> dict[str, Any]:
    per = results.tasks[task].scores[model]
    entry: dict[str, Any] = {"name": model, "under_test": results.models[model].under_test,
                             "outputs": source.outputs(task, model)[:n], "corpus": {}, "scores": {}, "flags": {},
                             "notes": {}}
    for metric, score in per.items():
        info = results.metrics[metric]
        entry["corpus"][metric] = _round(info.display(score.score))
        if info.failure_profile:  # the rows: a flag's note is in their details
            flagged = [r for r in source.rows(task, model, metric)[:n] if (r.get("score") or 0) > 0]
            entry["flags"][metric] = [int(r["id"]) for r in flagged]
            entry["notes"][metric] = [_flag_note(r) for r in flagged]
        else:
            entry["scores"][metric] = _round_all(list(map(info.display, source.scores(task, model, metric)[:n])))
    return entry


def _order(results: Results, task: str, systems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Under-test systems first, then the others best first on the first scored
    (non-failure) metric: the viewer's default selection takes the head of this list."""
    ranked = [m for m, info in results.metrics.items() if not info.failure_profile]
    key_metric = next((m for m in ranked if any(m in s["corpus"] for s in systems)), None)

    def key(s: dict[str, Any]) -> tuple[int, float, str]:
        value = s["corpus"].get(key_metric) if key_metric else None
        if value is None:
            return (0 if s["under_test"] else 1, math.inf, s["name"])
        signed = -value if results.metrics[key_metric].higher_is_better else value
        return (0 if s["under_test"] else 1, signed, s["name"])

    return sorted(systems, key=key)


def _selection(results: Results, task: str, view: ViewOptions, baseline: str) -> tuple[list[str], str]:
    """The systems of one direction the viewer carries: those the report's per-direction
    figures show (under test, --show, a named baseline, the best ``systems_shown`` by the
    first metric that is not a failure rate), so that a full test set with many
    systems stays a page a browser opens at once; and how they were chosen."""
    present = list(results.tasks[task].scores)
    ranked = [m for m, i in results.metrics.items() if not i.failure_profile] or list(results.metrics)
    metric = next((m for m in ranked if any(m in per for per in results.tasks[task].scores.values())), None)
    if metric is None:
        return present, ""
    chosen = shown_in_task(results, task, metric, view, baseline)
    chosen += [m for m in present if m not in chosen and results.models[m].under_test]
    if len(chosen) == len(present):
        return present, f"all {len(present)} systems"
    return chosen, (f"{len(chosen)} of {len(present)} systems: under test, --show and the best {view.systems_shown} "
                    f"by {metric} (--systems-shown N for more)")


def build_payload(results: Results, source: "SegmentSource", view: ViewOptions = ViewOptions(),
                  baseline: str = "best") -> dict[str, Any]:
    """Everything the viewer shows, read from the run directories through ``source``."""
    directions = []
    for task, info in results.tasks.items():
        models, chosen_by = _selection(results, task, view, baseline) if info.scores else ([], "")
        entry: dict[str, Any] = {"task": task, "src": info.src, "tgt": info.tgt, "segments": info.segments,
                                 "in_test_set": info.segments_in_test_set, "ref_id": None, "source": [],
                                 "reference": [], "systems": [], "systems_note": chosen_by}
        if models:
            data = source.testdata(task, models[0])
            n = info.segments
            entry["source"] = list(data["source"][:n])
            refs = data.get("references") or {}
            if refs:
                ref_id = next(iter(refs))
                entry["ref_id"] = ref_id
                entry["reference"] = list(refs[ref_id][:n])
            entry["systems"] = _order(results, task, [_system(results, source, task, m, n) for m in models])
        directions.append(entry)
    return {"version": PAYLOAD_VERSION, "metrics": [_metric_entry(i) for i in results.metrics.values()],
            "directions": directions}


def embed_payload(payload: dict[str, Any]) -> str:
    """The payload as the text of its ``<script>`` element: JSON, gzip-compressed and
    base64-encoded (viewer.js inflates it with the browser's DecompressionStream).
    Under half the JSON's size, which matters on a full test set (level 1: 0.5 s for
    the 28 MB of the WMT22/21 files, 16% larger than level 5's 1.4 s); and base64 has no
    ``<``, so no output (``</script>``, ``<!--``) can end or change the element."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)).decode("ascii")


def decode_payload(text: str) -> dict[str, Any]:
    """What viewer.js reads back (for tests and scripts)."""
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def _asset(name: str) -> str:
    return resources.files("mtbench.report").joinpath(name).read_text(encoding="utf-8")


def render_section(payload: dict[str, Any] | None) -> str:
    """The "Outputs" section of index.html with its data, style and script inlined."""
    if not payload or not payload.get("directions"):
        return ""
    return (f"<h2 id='outputs'>Outputs</h2><style>{_asset('viewer.css')}</style>"
            f"<div id='mtbench-viewer' class='mtv' data-ready='false'>"
            f"<noscript>{html.escape('The output viewer needs JavaScript.')}</noscript></div>"
            f"<script type='application/octet-stream' id='{DATA_ID}' data-encoding='gzip+base64'>"
            f"{embed_payload(payload)}</script>"
            f"<script>{_asset('viewer.js')}</script>")
