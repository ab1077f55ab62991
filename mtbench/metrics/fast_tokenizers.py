"""Exact, faster equivalents of sacrebleu 2.6.0's BLEU tokenizers ``13a`` and ``zh``.

On Python 3.11 ``re.sub`` expands a group template such as ``r' \\1 '`` in Python for
every match, so sacrebleu's ``TokenizerRegexp`` (four such subs, then whitespace
normalization) is the main cost of BLEU. Its result only depends on which characters
end up with a space on either side, so it can be computed with C-level splits:

* pattern 1 (one ASCII punctuation character, no context) separates that character;
* patterns 2+3 (``([^0-9])([\\.,])`` then ``([\\.,])([^0-9])``) separate a '.' or ','
  that has a non-digit on at least one side -- as long as no two of '.' and ',' are
  adjacent, since only then can one match consume a character another match needs;
* pattern 4 (``([0-9])(-)``) separates a '-' that follows a digit.

None of these insertions (spaces only) changes a condition another rule tests, so the
rules are applied independently, each as ``' '.join(pattern.split(line))``. Lines with
adjacent '.'/',' (about 1% of WMT system outputs) take an exact path that rebuilds
sacrebleu's ``sub`` output step by step from ``split`` parts (same matches as ``sub``).

For ``zh`` the per-character Chinese test is sacrebleu's own predicate (its range
bounds are quirky, so they are not re-derived), evaluated once per distinct character
and cached in a ``str.translate`` table. The unit tests compare every line of the
shared WMT system outputs with sacrebleu.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

__all__ = ["tokenize_13a", "tokenize_zh", "FAST_TOKENIZERS"]

# sacrebleu's TokenizerRegexp patterns (exact path).
_PUNCT = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_NONDIGIT_BEFORE = re.compile(r"([^0-9])([\.,])")
_NONDIGIT_AFTER = re.compile(r"([\.,])([^0-9])")
# Fast path. Each pattern starts with a literal set so that sre can skip ahead to it.
_PUNCT_NO_SPACE = re.compile(r"([\{-\~\[-\`!-\&\(-\+\:-\@\/])")  # space: no-op
_DOT_COMMA = re.compile(r"([.,])(?:(?<=[^0-9].)|(?=[^0-9]))")
# r'([0-9])(-)' -> r'\1 \2 ': a match starts at a digit and ends at '-', so matches
# never compete for a character and a look-behind with a literal template is equal.
_DIGIT_DASH = re.compile(r"-(?<=[0-9]-)")
_SPACED = {".": " . ", ",": " , "}


def _exact_dots(line: str) -> str:
    """sacrebleu's patterns 1-3 verbatim, for lines with adjacent '.'/','."""
    line = " ".join(_PUNCT.split(line))  # == sub(' \1 '): one group, no context
    parts = _NONDIGIT_BEFORE.split(line)  # [text, \1, \2, text, \1, \2, ..., text]
    parts[2::3] = map(_SPACED.__getitem__, parts[2::3])  # \1 + ' \2 '
    parts = _NONDIGIT_AFTER.split("".join(parts))
    parts[1::3] = map(_SPACED.__getitem__, parts[1::3])  # ' \1 ' + \2
    return "".join(parts)


def _post_tokenize(line: str) -> str:
    """Same output as sacrebleu's ``TokenizerRegexp()(line)``."""
    if "." in line or "," in line:
        parts = _DOT_COMMA.split(" ".join(_PUNCT_NO_SPACE.split(line)))
        # An empty text between two separated characters means adjacent '.'/','.
        line = _exact_dots(line) if "" in parts[2:-1:2] else " ".join(parts)
    else:
        line = " ".join(_PUNCT_NO_SPACE.split(line))
    if "-" in line:
        line = _DIGIT_DASH.sub(" - ", line)
    return " ".join(line.split())


class _ChineseTable(dict):
    """``str.translate`` table: Chinese character -> ' c ', anything else -> itself.

    Filled lazily (one predicate call per distinct character ever seen) and always
    filled, so translate never pays for a KeyError on a non-Chinese character.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = self[code] = f" {char} " if TokenizerZh._is_chinese_char(char) else char
        return value


_ZH_TABLE = _ChineseTable()


@lru_cache(maxsize=2**16)
def tokenize_13a(line: str) -> str:
    """sacrebleu's ``13a`` tokenizer (mteval-v13a): same output, several times faster."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&")
        line = line.replace("&lt;", "<").replace("&gt;", ">")
    return _post_tokenize(f" {line} ")


@lru_cache(maxsize=2**16)
def tokenize_zh(line: str) -> str:
    """sacrebleu's ``zh`` tokenizer: same output, without its per-character loop."""
    return _post_tokenize(line.strip().translate(_ZH_TABLE))


FAST_TOKENIZERS: dict[str, Callable[[str], str]] = {"13a": tokenize_13a, "zh": tokenize_zh}
