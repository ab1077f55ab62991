"""How a line becomes words for the analysis: sacrebleu's BLEU tokenizer of the
line's language under the run's preset (``mtbench.langs.bleu_tokenizer``).

One tokenizer for everything that counts words (source lengths, word frequencies,
word and n-gram matches), so "a word" means what it means to the run's BLEU scores:
``zh`` splits Chinese into characters, ``ja-mecab`` Japanese into MeCab words, ``13a``
everything else into punctuation-separated, case-sensitive tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from mtbench.langs import bleu_tokenizer


@lru_cache(maxsize=None)
def _sacrebleu_tokenizer(name: str) -> Callable[[str], str]:
    from sacrebleu.metrics.bleu import BLEU

    return BLEU(tokenize=name).tokenizer


@dataclass(frozen=True)
class Tokenizer:
    """sacrebleu's tokenizer ``name``, applied as BLEU applies it (trailing
    whitespace stripped, then split on spaces)."""

    name: str
    _fn: Callable[[str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fn", _sacrebleu_tokenizer(self.name))

    def tokens(self, line: str) -> list[str]:
        return self._fn(line.rstrip()).split()


def tokenizer_for(lang: str, preset: str) -> Tokenizer:
    """The BLEU tokenizer the run's preset uses when ``lang`` is the target language."""
    return Tokenizer(bleu_tokenizer(lang, preset))
