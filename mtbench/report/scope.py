"""What a number covers, said in words: segments scored out of the test set's, the
test set, references, preset and significance test. Every table, figure and page of a report
takes its title and scope line from here, so they cannot say different things."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from mtbench.results import Results, Significance, TaskResult

TEST_NAMES = {"bs": "paired bootstrap", "ar": "approximate randomization"}


def _short(task: str) -> str:
    return task.split(":", 1)[-1]


def direction_labels(columns: Sequence[str]) -> list[str]:
    """wmt22:de-en -> de-en when every column is a direction of one test set (the scope
    line names it); else every column keeps its test set, so that wmt21:en-is beside
    wmt22 columns does not read as a WMT22 direction."""
    short = [_short(c) for c in columns]
    testsets = {c.split(":", 1)[0] if ":" in c else None for c in columns}
    one_test_set = len(testsets) == 1 and None not in testsets
    return short if one_test_set and len(set(short)) == len(short) else list(columns)


def testsets_phrase(tasks: Sequence[TaskResult]) -> str:
    """``test set wmt22``, ``test sets wmt22, wmt21`` (in column order)."""
    names = list(dict.fromkeys(t.testset for t in tasks))
    return ("test set " if len(names) == 1 else "test sets ") + ", ".join(names) if names else ""


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
    names = direction_labels([t.name for t in tasks])
    return "segments: " + "; ".join(
        f"{name} first {t.segments} of {t.segments_in_test_set}" if t.limited else f"{name} all {t.segments}"
        for name, t in zip(names, tasks))


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
    """Test set, references, preset and (optionally) the significance test: the line
    under every title."""
    parts = [p for p in (testsets_phrase(tasks), refs_phrase(tasks)) if p] + [f"preset {results.preset}"]
    if with_test:
        parts.append(significance_phrase(results.significance))
    return " · ".join(parts)


def limit_note(results: Results) -> str:
    """For a --limit run: the flag, so the reader knows the run was cut on purpose."""
    return f" (--limit {results.limit})" if results.limit is not None else ""
