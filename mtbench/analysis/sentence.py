"""Sentence-level chrF and BLEU, computed by sacrebleu itself.

chrF is ``sacrebleu.sentence_chrf`` with its defaults (one ``CHRF()`` reused: the
same object ``sentence_chrf`` builds on every call); BLEU is ``BLEU(effective_order=
True, tokenize=<the direction's BLEU tokenizer>).sentence_score``, so short segments
are not zeroed by a missing 4-gram. Both against one reference per segment: these are
the segment scores the length buckets average and the differences rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

CHRF_NAME = "sentence chrF (sacrebleu defaults: chrF2, char order 6)"
BLEU_NAME = "sentence BLEU (sacrebleu, effective order)"


@dataclass(frozen=True)
class SentenceScores:
    chrf: tuple[float, ...]
    bleu: tuple[float, ...]


def sentence_scores(hypotheses: Sequence[str], references: Sequence[str], bleu_tokenize: str) -> SentenceScores:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    chrf, bleu = CHRF(), BLEU(effective_order=True, tokenize=bleu_tokenize)
    return SentenceScores(tuple(chrf.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)),
                          tuple(bleu.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)))
