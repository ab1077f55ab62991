"""Word precision, recall and F-measure by how frequent the word is (compare-mt's
word-frequency analysis).

Fine-tuned LLM translators are often said to handle common words well and rare ones
(names, terms) badly; this splits word matches by frequency to show it. Definitions:

* frequency of a word: its count over the direction's references (or over a
  ``--freq-corpus`` file), tokenized with the target side's BLEU tokenizer;
* matches of a word in one segment: ``min(count in hypothesis, count in reference)``;
* recall of a bucket: matches / reference tokens, bucketed by the reference word's
  frequency; precision: matches / hypothesis tokens, bucketed by the hypothesis word's
  frequency (a matched word is the same word on both sides, so the same bucket);
* F = 2PR / (P + R). A ratio with an empty denominator is undefined (None); F is
  undefined without reference words in the bucket and 0 when the system wrote none of
  its words. With frequencies from the references no reference word has frequency 0,
  so bucket 0 has a precision (hypothesis words never seen in the references) and no
  recall or F.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from mtbench.analysis.buckets import FREQUENCY_BUCKETS, Bucket, bucket_index


def word_frequencies(tokenized_lines: Iterable[Sequence[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for tokens in tokenized_lines:
        counts.update(tokens)
    return counts


@dataclass(frozen=True)
class FrequencyRow:
    """One frequency bucket for one system: the counts behind P, R and F."""

    bucket: str
    reference_words: int  # reference tokens whose word falls in the bucket (recall's denominator)
    hypothesis_words: int  # hypothesis tokens whose word falls in the bucket (precision's denominator)
    matches: int

    @property
    def precision(self) -> float | None:
        return self.matches / self.hypothesis_words if self.hypothesis_words else None

    @property
    def recall(self) -> float | None:
        return self.matches / self.reference_words if self.reference_words else None

    @property
    def f_measure(self) -> float | None:
        """None without reference words (nothing to find); 0 when the system wrote no
        word of a bucket that has reference words (it found none of them)."""
        p, r = self.precision, self.recall
        if r is None:
            return None
        if p is None or p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)


def word_fmeasure(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]], frequencies: Counter[str],
                  buckets: Sequence[Bucket] = FREQUENCY_BUCKETS) -> list[FrequencyRow]:
    """Per-bucket counts for one system; ``references`` and ``hypotheses`` are the
    segments' token lists."""
    ref_words = [0] * len(buckets)
    hyp_words = [0] * len(buckets)
    matches = [0] * len(buckets)
    index: dict[str, int] = {}

    def bucket_of(word: str) -> int:
        if word not in index:
            index[word] = bucket_index(buckets, frequencies.get(word, 0))
        return index[word]

    for ref, hyp in zip(references, hypotheses):
        ref_counts, hyp_counts = Counter(ref), Counter(hyp)
        for word, c in ref_counts.items():
            ref_words[bucket_of(word)] += c
            if word in hyp_counts:
                matches[bucket_of(word)] += min(c, hyp_counts[word])
        for word, c in hyp_counts.items():
            hyp_words[bucket_of(word)] += c
    return [FrequencyRow(b.label, r, h, m) for b, r, h, m in zip(buckets, ref_words, hyp_words, matches)]
