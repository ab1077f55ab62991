"""What every failure-profile metric shares: flags -> 0/100 segment scores -> rate."""

from __future__ import annotations

import re
import unicodedata
from abc import abstractmethod
from collections import Counter
from typing import Any, ClassVar, Mapping, Sequence

from mtbench.metrics.base import Metric, MetricResult, ScoringContext

FLAGGED = 100.0
#: Per-segment details a failure metric records are shortened to this many characters.
DETAIL_CHARS = 80


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form in which two strings count as
    "the same text" (full-width letters, case and spacing do not tell a copy apart)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def direction_key(ctx: ScoringContext) -> int:
    """Tells directions apart by content, for work done once per direction and shared
    by all of its systems (an object's id can be reused once it is freed)."""
    return hash((ctx.src_lang, ctx.tgt_lang, tuple(ctx.sources), tuple(ctx.primary_reference)))


def non_space_length(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


class FlagMetric(Metric):
    """A failure mode: ``flags`` says, per segment of one system, whether it shows it.

    Subclasses give ``settings`` (the named thresholds, in signature and cache key) and
    ``flags``; ``reference_flags`` is the same rule applied to the primary reference,
    where that is meaningful, and gives the reference floor."""

    higher_is_better = False
    unit = "% of lines"
    failure_profile = True
    version: ClassVar[int] = 1  # bumped when the rule changes: older score files are recomputed
    what: ClassVar[str]  # the failure in a few words, for tables and examples
    summarise_found: ClassVar[bool] = False  # what was found is a category worth counting (echo: the piece)

    def settings(self) -> dict[str, Any]:
        return {}

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        return {**self.settings(), "version": self.version}

    def signature(self) -> str:
        parts = [f"{k}:{v}" for k, v in self.settings().items()]
        return "|".join([self.name, *parts, f"version:{self.version}"])

    @abstractmethod
    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        """Per segment: flagged, and a short note of what was found ("" where nothing)."""

    def reference_flags(self, ctx: ScoringContext) -> list[bool] | None:
        """The rule applied to the primary reference (None: not meaningful)."""
        return None

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        out = {}
        for system, lines in hypotheses.items():
            flagged, notes = self.flags(ctx, system, lines)
            segs = [FLAGGED if f else 0.0 for f in flagged]
            count = sum(flagged)
            details: dict[str, Any] = {"flagged": count, "lines": len(lines)}
            found = Counter(n for n, f in zip(notes, flagged) if f and n) if self.summarise_found else None
            if found:
                details["most_frequent"] = dict(found.most_common(3))
            out[system] = MetricResult(self.name, FLAGGED * count / len(lines) if lines else 0.0, self.signature(),
                                       segs, details=details,
                                       segment_details={"found": [n[:DETAIL_CHARS] for n in notes]})
        return out

    def reference_floor(self, ctx: ScoringContext) -> float | None:
        flagged = self.reference_flags(ctx)
        if flagged is None or not flagged:
            return None
        return FLAGGED * sum(flagged) / len(flagged)

    def verbose(self, details: Mapping[str, Any]) -> str | None:
        if "flagged" not in details:
            return None
        found = details.get("most_frequent") or {}
        shown = "; ".join(f"{k!r} x{v}" for k, v in found.items())
        return f"({details['flagged']} of {details['lines']} lines {self.what}" + (f"; most frequent: {shown}" if shown else "") + ")"

    def detail_columns(self, details: Mapping[str, Any]) -> dict[str, str]:
        if "flagged" not in details:
            return {}
        return {"flagged lines": f"{details['flagged']} of {details['lines']}"}
