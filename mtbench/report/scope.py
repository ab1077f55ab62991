"""What a number covers, said in words: segments scored out of the test set's,
references, preset and significance test. Every table, figure and page of a report
takes its title and scope line from here, so they cannot say different things."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from mtbench.results import Results, Significance, TaskResult

TEST_NAMES = {"bs": "paired bootstrap", "ar": "approximate randomization"}


def _short(task: str) -> str:
    return task.split(":", 1)[-1]


def direction_labels(columns: Sequence[str]) -> list[str]:
    """wmt22:de-en -> de-en, unless two columns share the pair (wmt21:de-en beside
    wmt22:de-en): then every column keeps its test set."""
    short = [c.split(":", 1)[-1] for c in columns]
    return short if len(set(short)) == len(short) else list(columns)


def _range(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def segments_phrase(tasks: Sequence[TaskResult]) -> str:
    """``1984 segments``, ``first 20 of 1984 segments``, ``first 20 of 1984–2037
    segments per direction``, ``all segments (1000–2037 per direction)``, or one
    phrase per direction when they differ in kind."""
    if not tasks:
        return "no segments"
    per = " per direction" if len(tasks) > 1 else ""
    limited = [t for t in tasks if t.limited]
    scored = [t.segments for t in tasks]
    total = [t.segments_in_test_set for t in tasks]
    if not limited:
        if len(set(scored)) == 1:
            return f"{scored[0]} segments{per}"
        return f"all segments ({_range(scored)}{per})"
    if len(limited) == len(tasks) and len(set(scored)) == 1:
        return f"first {scored[0]} of {_range(total)} segments{per}"
    return "segments: " + "; ".join(
        f"{_short(t.name)} first {t.segments} of {t.segments_in_test_set}" if t.limited
        else f"{_short(t.name)} all {t.segments}" for t in tasks)


def refs_phrase(tasks: Sequence[TaskResult]) -> str:
    """``ref A``, ``refs A+B``, ``ref A (B for wmt22:cs-en, wmt22:en-cs)``."""
    if not tasks:
        return "no references"
    groups = Counter("+".join(t.refs) or "none" for t in tasks)
    common, _ = groups.most_common(1)[0]

    def label(refs: str) -> str:
        return ("refs " if "+" in refs else "ref ") + refs

    others = [(refs, [t.name for t in tasks if ("+".join(t.refs) or "none") == refs]) for refs in groups if refs != common]
    if not others:
        return label(common)
    return label(common) + " (" + "; ".join(f"{refs} for {', '.join(names)}" for refs, names in others) + ")"


def test_phrase(sig: Significance) -> str:
    """``paired bootstrap, 1000 resamples, seed 12345``."""
    if sig.test == "none" or not sig.signature:
        return "no significance test"
    unit = "resamples" if sig.test == "bs" else "trials"
    return f"{TEST_NAMES[sig.test]}, {sig.n_resamples} {unit}, seed {sig.seed}"


def significance_phrase(sig: Significance) -> str:
    if sig.test == "none" or not sig.signature:
        return "no significance test"
    base = "the best system of each column" if sig.baseline == "best" else sig.baseline
    return f"{test_phrase(sig)}, p < {sig.alpha:g} against {base}"


def scope_line(results: Results, tasks: Sequence[TaskResult], with_test: bool = True) -> str:
    """References, preset and (optionally) the test: the line under every title."""
    parts = [refs_phrase(tasks), f"preset {results.preset}"]
    if with_test:
        parts.append(significance_phrase(results.significance))
    return " · ".join(parts)


def limit_note(results: Results) -> str:
    """For a --limit run: the flag, so the reader knows the run was cut on purpose."""
    return f" (--limit {results.limit})" if results.limit is not None else ""
