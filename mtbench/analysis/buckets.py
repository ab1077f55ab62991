"""Bucket boundaries (compare-mt's) and segment scores averaged per source-length bucket.

A system that is good on average can still break down on long inputs (a truncated
output, a dropped clause) or on one-word lines; the mean per length bucket, with the
number of segments behind each mean, shows where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Bucket:
    """Values ``lo <= v <= hi`` (``hi`` None: no upper bound)."""

    label: str
    lo: int
    hi: int | None

    def holds(self, value: int) -> bool:
        return value >= self.lo and (self.hi is None or value <= self.hi)


LENGTH_BUCKETS: tuple[Bucket, ...] = (
    Bucket("<10", 0, 9), Bucket("10-19", 10, 19), Bucket("20-29", 20, 29), Bucket("30-39", 30, 39),
    Bucket("40-49", 40, 49), Bucket(">=50", 50, None))

FREQUENCY_BUCKETS: tuple[Bucket, ...] = (
    Bucket("0", 0, 0), Bucket("1", 1, 1), Bucket("2", 2, 2), Bucket("3", 3, 3), Bucket("4", 4, 4),
    Bucket("5-9", 5, 9), Bucket("10-99", 10, 99), Bucket("100-999", 100, 999), Bucket("1000+", 1000, None))


def bucket_index(buckets: Sequence[Bucket], value: int) -> int:
    for i, b in enumerate(buckets):
        if b.holds(value):
            return i
    raise ValueError(f"{value} is in no bucket of {[b.label for b in buckets]}")


@dataclass(frozen=True)
class LengthRow:
    """One length bucket: its segments and the mean sentence scores of A and B (None
    when the bucket is empty)."""

    bucket: str
    segments: int
    chrf_a: float | None
    chrf_b: float | None
    bleu_a: float | None
    bleu_b: float | None


def _mean(values: Sequence[float], idx: Sequence[int]) -> float | None:
    return sum(values[i] for i in idx) / len(idx) if idx else None


def by_length(source_lengths: Sequence[int], chrf_a: Sequence[float], chrf_b: Sequence[float],
              bleu_a: Sequence[float], bleu_b: Sequence[float],
              buckets: Sequence[Bucket] = LENGTH_BUCKETS) -> list[LengthRow]:
    members: list[list[int]] = [[] for _ in buckets]
    for i, n in enumerate(source_lengths):
        members[bucket_index(buckets, n)].append(i)
    return [LengthRow(b.label, len(idx), _mean(chrf_a, idx), _mean(chrf_b, idx), _mean(bleu_a, idx), _mean(bleu_b, idx))
            for b, idx in zip(buckets, members)]
