"""What each analysis table and figure covers, said in words: segments, the one
reference used, the tokenizers. Tables, figures and the JSON take their wording from
here, so they cannot say different things."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from mtbench.analysis.inputs import Direction


def short(task: str) -> str:
    return task.split(":", 1)[-1]


def short_names(tasks: Sequence[str]) -> dict[str, str]:
    """``wmt22:de-en`` -> ``de-en`` unless two tasks share the pair."""
    names = [short(t) for t in tasks]
    return {t: (n if names.count(n) == 1 else t) for t, n in zip(tasks, names)}


def segments_phrase(d: Direction) -> str:
    if d.limited:
        return f"first {d.segments} of {d.segments_in_test_set} segments (--limit {d.segments})"
    return f"{d.segments} segments"


def ref_phrase(d: Direction, refs_setting: str) -> str:
    if refs_setting == "primary":
        return f"primary reference only (ref {d.ref_id})"
    if len(d.refs_scored) > 1:
        return f"ref {d.ref_id} only (the run scored with refs {'+'.join(d.refs_scored)})"
    return f"one reference (ref {d.ref_id})"


def direction_scope(d: Direction, refs_setting: str) -> str:
    return f"{d.task}, {segments_phrase(d)}, {ref_phrase(d, refs_setting)}"


def _grouped(values: dict[str, str]) -> str:
    """``A (B for cs-en, en-cs)``: the common value, then the exceptions."""
    common, _ = Counter(values.values()).most_common(1)[0]
    names = short_names(list(values))
    others: dict[str, list[str]] = {}
    for task, v in values.items():
        if v != common:
            others.setdefault(v, []).append(names[task])
    if not others:
        return common
    return common + " (" + "; ".join(f"{v} for {', '.join(ts)}" for v, ts in others.items()) + ")"


def segments_summary(directions: Sequence[Direction]) -> str:
    """``1984 segments``, ``1000–2037 segments per direction (all)``, ``first 20 ... (--limit)``."""
    scored = [d.segments for d in directions]
    lo, hi = min(scored), max(scored)
    count = f"{lo}" if lo == hi else f"{lo}–{hi}"
    per = " per direction" if len(directions) > 1 else ""
    if any(d.limited for d in directions):
        return f"first {count} segments{per} (--limit)"
    return f"{count} segments{per}" + (" (all)" if len(directions) > 1 else "")


def refs_summary(directions: Sequence[Direction], refs_setting: str) -> str:
    ids = _grouped({d.task: d.ref_id for d in directions})
    if refs_setting == "primary":
        return f"primary reference only: ref {ids}"
    return f"one reference per direction: ref {ids}"


def tokenizer_summary(tokenizers: dict[str, str], side: str) -> str:
    """``source tokens: 13a (zh for zh-en)``."""
    return f"{side} tokens: sacrebleu {_grouped(tokenizers)}"
