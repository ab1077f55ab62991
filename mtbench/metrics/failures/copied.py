"""``copy``: the output is (nearly) the source, left untranslated.

Flagged when the output, normalised (NFKC, case-folded, whitespace collapsed), equals
the normalised source, or when sentence chrF of the output against the source is at
least ``COPY_CHRF`` *and* higher than its chrF against the reference -- an output
closer to the source than to the translation. Either counts only on a line whose
reference has sentence chrF below ``REFERENCE_NEAR_SOURCE`` against the source: where
the reference is itself close to the source -- names, numbers, URLs, "Vojtěch versus
Hamáček." (reference "Vojtěch vs. Hamáček.", chrF 61) -- copying is the right
translation, not a failure. chrF is mtbench's own (sacrebleu's chrF2,
bit-identical). There is no reference floor: the reference is what decides which lines
can be judged.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from mtbench.metrics.base import ScoringContext
from mtbench.metrics.failures.flag import FlagMetric, direction_key, normalise
from mtbench.metrics.sacrebleu_metrics import Chrf, chrf_f_scores

COPY_CHRF = 70.0
REFERENCE_NEAR_SOURCE = 50.0


def sentence_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Sentence chrF2 of each hypothesis against the reference of the same line."""
    if not hypotheses:
        return np.zeros(0)
    ctx = ScoringContext("", "", list(references), {"r": list(references)})
    return chrf_f_scores(Chrf().segment_statistics(ctx, {"h": list(hypotheses)})[0])


class Copy(FlagMetric):
    name = "copy"
    what = "copying the source"

    def __init__(self, min_chrf: float = COPY_CHRF, reference_near: float = REFERENCE_NEAR_SOURCE) -> None:
        self.min_chrf = float(min_chrf)
        self.reference_near = float(reference_near)

    def settings(self) -> dict[str, Any]:
        return {"chrf_vs_source_min": self.min_chrf, "rule": "exact-normalised|chrf_vs_source>chrf_vs_ref",
                "judged_if_chrf_ref_vs_source_below": self.reference_near}

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        ref = ctx.primary_reference
        to_src = sentence_chrf(lines, ctx.sources)
        to_ref = sentence_chrf(lines, ref)
        ref_to_src = self._reference_to_source(ctx)
        flagged, notes = [], []
        for line, src, cs, cr, rs in zip(lines, ctx.sources, to_src, to_ref, ref_to_src):
            if not line.strip() or rs >= self.reference_near:
                flagged.append(False)
                notes.append("")
                continue
            exact = normalise(line) == normalise(src)
            near = cs >= self.min_chrf and cs > cr
            flagged.append(bool(exact or near))
            notes.append("exact copy" if exact else f"chrF vs source {cs:.0f} > vs reference {cr:.0f}" if near else "")
        return flagged, notes

    def _reference_to_source(self, ctx: ScoringContext) -> np.ndarray:
        """chrF of the reference against the source, once per direction."""
        key = direction_key(ctx)
        if getattr(self, "_key", None) != key:
            self._ref_to_src = sentence_chrf(ctx.primary_reference, ctx.sources)
            self._key = key
        return self._ref_to_src
