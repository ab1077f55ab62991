"""The off-target breakdown: per direction, the reference floor and, per system, the
off-target ratio, the share of segments too short to judge and the languages lid.176
saw instead of the target (what an OTR number alone hides: English copies of the
source read very differently from a neighbouring language)."""

from __future__ import annotations

from typing import Any

from mtbench.langs import get_language

METRIC = "off-target"


def render_offtarget_languages(results: dict[str, Any]) -> str | None:
    if METRIC not in results.get("metrics", []):
        return None
    parts = ["# Off-target ratio and identified languages", "",
             "OTR = 100 - % of lines whose lid.176 top-1 label is the target language (LAT's definition). "
             "`short` = % of lines with fewer than 10 letters (counted in the OTR, hard to judge). "
             "`instead` = the most frequent wrong labels, % of all lines. "
             "The reference row is the OTR of the reference translation itself: the floor.", ""]
    for task, info in results["tasks"].items():
        rows = [(m, e[METRIC]) for m, e in info["models"].items() if METRIC in e]
        if not rows:
            continue
        parts += [f"## {task}", ""]
        caveat = get_language(info["tgt"]).lid_caveat
        if caveat:
            parts += [f"Caveat: {caveat}.", ""]
        parts += ["| system | OTR | short | instead |", "|---|---:|---:|---|"]
        floor = info.get("reference", {}).get(METRIC)
        if floor is not None:
            parts.append(f"| *reference* | {floor:.2f} | | |")
        for model, entry in sorted(rows, key=lambda r: (r[1]["score"], r[0].lower())):
            extra = entry.get("extra", {})
            instead = ", ".join(f"{lang} {pct:.1f}" for lang, pct in extra.get("wrong_languages", {}).items())
            short = extra.get("short_share")
            parts.append(f"| {model} | {entry['score']:.2f} | {'' if short is None else f'{short:.1f}'} | {instead} |")
        parts.append("")
    return "\n".join(parts)
