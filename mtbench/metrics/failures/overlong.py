"""``overlong``: the output is much longer than the reference -- a hallucinated
continuation, an explanation after the answer, a second translation.

Flagged when the output has more than ``OVERLONG_RATIO`` times the reference's
non-whitespace characters *and* at least ``OVERLONG_MIN_EXTRA`` more of them (so a
two-word reference does not make a five-word answer "overlong"). Characters, not
words: output and reference are in the same language, and characters count the same
way in every script. Against the primary reference; it has no reference floor.
"""

from __future__ import annotations

from typing import Any, Sequence

from mtbench.metrics.base import ScoringContext
from mtbench.metrics.failures.flag import FlagMetric, non_space_length

OVERLONG_RATIO = 2.0
OVERLONG_MIN_EXTRA = 10


class Overlong(FlagMetric):
    name = "overlong"
    what = "over twice the reference's length"

    def __init__(self, ratio: float = OVERLONG_RATIO, min_extra: int = OVERLONG_MIN_EXTRA) -> None:
        self.ratio = float(ratio)
        self.min_extra = int(min_extra)

    def settings(self) -> dict[str, Any]:
        return {"len_ratio_max": self.ratio, "min_extra_chars": self.min_extra, "unit": "non-space-chars"}

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        flagged, notes = [], []
        for line, ref in zip(lines, ctx.primary_reference):
            n, m = non_space_length(line), non_space_length(ref)
            hit = n > self.ratio * m and n - m >= self.min_extra
            flagged.append(hit)
            notes.append(f"{n} chars vs reference {m}" if hit else "")
        return flagged, notes
