"""The n-grams one system gets right more often than the other (compare-mt's n-gram
analysis): where a corpus score says "A is better", these say at what.

For every segment and every n-gram of the reference (n = 1..4, target-side BLEU
tokens), a system's matches are ``min(count in its output, count in the reference)``,
summed over the segments. N-grams are ranked by the smoothed ratio
``(matches_A + alpha) / (matches_B + alpha)`` (alpha = 1, so an n-gram A matches 5
times and B never ranks above one A matches 101 times and B 100); ties by more matches
in all, then alphabetically, so the list is deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

MAX_N = 4
ALPHA = 1.0
TOP_NGRAMS = 15


def _ngrams(tokens: Sequence[str], max_n: int) -> Counter[tuple[str, ...]]:
    out: Counter[tuple[str, ...]] = Counter()
    for n in range(1, max_n + 1):
        for i in range(len(tokens) - n + 1):
            out[tuple(tokens[i:i + n])] += 1
    return out


def ngram_matches(references: Sequence[Sequence[str]], hyp_a: Sequence[Sequence[str]], hyp_b: Sequence[Sequence[str]],
                  max_n: int = MAX_N) -> dict[tuple[str, ...], tuple[int, int]]:
    """Every reference n-gram -> (matches of A, matches of B) over the corpus."""
    a_total: Counter[tuple[str, ...]] = Counter()
    b_total: Counter[tuple[str, ...]] = Counter()
    seen: set[tuple[str, ...]] = set()
    for ref, a, b in zip(references, hyp_a, hyp_b):
        ref_counts = _ngrams(ref, max_n)
        seen.update(ref_counts)
        a_counts, b_counts = _ngrams(a, max_n), _ngrams(b, max_n)
        for g, c in ref_counts.items():
            if g in a_counts:
                a_total[g] += min(c, a_counts[g])
            if g in b_counts:
                b_total[g] += min(c, b_counts[g])
    return {g: (a_total[g], b_total[g]) for g in seen}


@dataclass(frozen=True)
class NgramRow:
    ngram: str  # tokens joined by spaces
    n: int
    matches_a: int
    matches_b: int
    ratio: float  # (matches of the system it favours + alpha) / (matches of the other + alpha)


def top_ngrams(matches: dict[tuple[str, ...], tuple[int, int]], k: int = TOP_NGRAMS,
               alpha: float = ALPHA) -> tuple[list[NgramRow], list[NgramRow]]:
    """(n-grams A matches more often than B, n-grams B matches more often than A), the
    top ``k`` of each by smoothed ratio; only n-grams with a strict difference."""
    def ranked(favoured: int) -> list[NgramRow]:
        rows = []
        for g, counts in matches.items():
            mine, other = counts[favoured], counts[1 - favoured]
            if mine > other:
                rows.append(((mine + alpha) / (other + alpha), mine + other, " ".join(g), len(g), counts))
        rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
        return [NgramRow(text, n, c[0], c[1], ratio) for ratio, _, text, n, c in rows[:k]]

    return ranked(0), ranked(1)
