"""``repetition``: the output loops (a decoding loop: the same phrase again and again).

Tokens are the direction's BLEU tokens (sacrebleu's tokenizer for the target language,
so Chinese and Japanese count characters). Flagged when at least ``REPEAT_SHARE`` of
the output's ``REPEAT_N``-grams repeat an earlier one: a phrase said twice is not a
loop (4 tokens twice: 1 of 5 4-grams repeats), three times is (5 of 9). The reference
floor is the same rule on the primary reference.
"""

from __future__ import annotations

from typing import Any, Sequence

from mtbench.langs import bleu_tokenizer
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.failures.flag import FlagMetric

REPEAT_N = 4
REPEAT_SHARE = 0.4


def repeated_share(tokens: Sequence[str], n: int = REPEAT_N) -> float:
    """Share of the n-grams that already occurred earlier in the same line."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return (len(grams) - len(set(grams))) / len(grams)


class Repetition(FlagMetric):
    name = "repetition"
    what = "looping (repeated n-grams)"

    def __init__(self, n: int = REPEAT_N, share: float = REPEAT_SHARE) -> None:
        self.n = int(n)
        self.share = float(share)

    def settings(self) -> dict[str, Any]:
        return {"ngram": self.n, "repeated_share_min": self.share, "tokens": "bleu-tokenizer"}

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        return {**super().config(ctx), **({"tokenize": bleu_tokenizer(ctx.tgt_lang, ctx.preset)} if ctx else {})}

    def _tokenize(self, ctx: ScoringContext):  # type: ignore[no-untyped-def]
        from sacrebleu.metrics.bleu import BLEU

        return BLEU(tokenize=bleu_tokenizer(ctx.tgt_lang, ctx.preset)).tokenizer

    def _rule(self, ctx: ScoringContext, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        tokenize = self._tokenize(ctx)
        flagged, notes = [], []
        for line in lines:
            share = repeated_share(tokenize(line.strip()).split(), self.n)
            hit = share >= self.share
            flagged.append(hit)
            notes.append(f"{100 * share:.0f}% of {self.n}-grams repeated" if hit else "")
        return flagged, notes

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        return self._rule(ctx, lines)

    def reference_flags(self, ctx: ScoringContext) -> list[bool] | None:
        return self._rule(ctx, ctx.primary_reference)[0]
