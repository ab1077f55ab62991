"""``empty``: the output is empty or whitespace only (a model that stopped at once, a
clean-up that found no answer line)."""

from __future__ import annotations

from typing import Sequence

from mtbench.metrics.base import ScoringContext
from mtbench.metrics.failures.flag import FlagMetric


class Empty(FlagMetric):
    name = "empty"
    what = "empty or whitespace only"

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        return [not line.strip() for line in lines], [""] * len(lines)

    def reference_flags(self, ctx: ScoringContext) -> list[bool] | None:
        return [not line.strip() for line in ctx.primary_reference]
