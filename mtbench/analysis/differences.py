"""The segments where the two systems differ most in sentence chrF: the examples a
reader looks at before believing any average."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

TOP_SEGMENTS = 10


@dataclass(frozen=True)
class Difference:
    segment: int  # 0-based, as the ``id`` of generations/<task>/<model>.jsonl
    source: str
    reference: str
    output_a: str
    output_b: str
    chrf_a: float
    chrf_b: float

    @property
    def delta(self) -> float:
        return self.chrf_a - self.chrf_b


def largest_differences(source: Sequence[str], reference: Sequence[str], out_a: Sequence[str], out_b: Sequence[str],
                        chrf_a: Sequence[float], chrf_b: Sequence[float], k: int = TOP_SEGMENTS) -> list[Difference]:
    """Top ``k`` by |chrF A - chrF B| (segments with equal scores are not differences);
    ties in segment order."""
    order = sorted((i for i in range(len(source)) if chrf_a[i] != chrf_b[i]),
                   key=lambda i: (-abs(chrf_a[i] - chrf_b[i]), i))
    return [Difference(i, source[i], reference[i], out_a[i], out_b[i], chrf_a[i], chrf_b[i]) for i in order[:k]]
