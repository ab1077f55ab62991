"""``truncated``: the generation stopped at the decoding limit (``max_new_tokens``)
instead of ending by itself -- a model that runs on, whatever the clean-up kept.

Needs the token count of every segment and the limit, which a generated system's rows
and decoding settings record; precomputed outputs and Python translators have neither
and are left out (said once in the report).
"""

from __future__ import annotations

from typing import Sequence

from mtbench.errors import MtbenchError
from mtbench.metrics.base import GenerationRecord, ScoringContext
from mtbench.metrics.failures.flag import FlagMetric


class Truncated(FlagMetric):
    name = "truncated"
    what = "stopped at the token limit"
    reads_generation = ("new_tokens", "max_new_tokens")

    def not_applicable(self, record: GenerationRecord) -> str | None:
        if record.new_tokens is None or record.max_new_tokens is None:
            return "no token counts recorded (precomputed outputs or a Python translator)"
        return None

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        record = ctx.generation(system)
        reason = self.not_applicable(record)
        if reason:
            raise MtbenchError(f"truncated cannot judge {system!r}: {reason}")
        limit = int(record.max_new_tokens or 0)
        counts = list(record.new_tokens or [])
        flagged = [n >= limit for n in counts]
        return flagged, [f"{n} of {limit} new tokens" if f else "" for n, f in zip(counts, flagged)]
