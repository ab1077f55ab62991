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
from typing import Callable, Sequence

from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

from mtbench.metrics.ngram_stats import SEPARATOR  # no 13a rule matches it: lines stay apart

__all__ = ["tokenize_13a", "tokenize_zh", "tokenize_13a_joined", "FAST_TOKENIZERS", "SEPARATOR"]

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
# Where one match of patterns 2-3 can consume a character another needs (~1% of lines)
_ADJACENT_DOTS = re.compile(r"[.,][.,]")


def _exact_dots(line: str) -> str:
    """sacrebleu's patterns 1-3 verbatim, for lines with adjacent '.'/','."""
    line = " ".join(_PUNCT.split(line))  # == sub(' \1 '): one group, no context
    parts = _NONDIGIT_BEFORE.split(line)  # [text, \1, \2, text, \1, \2, ..., text]
    parts[2::3] = map(_SPACED.__getitem__, parts[2::3])  # \1 + ' \2 '
    parts = _NONDIGIT_AFTER.split("".join(parts))
    parts[1::3] = map(_SPACED.__getitem__, parts[1::3])  # ' \1 ' + \2
    return "".join(parts)


def _separate(text: str) -> str:
    """Patterns 1-4 as independent splits: sacrebleu's spacing wherever no two of
    '.' and ',' are adjacent (whitespace not normalized)."""
    text = " ".join(_PUNCT_NO_SPACE.split(text))
    if "." in text or "," in text:
        text = " ".join(_DOT_COMMA.split(text))
    if "-" in text:
        text = _DIGIT_DASH.sub(" - ", text)
    return text


def _post_tokenize(line: str) -> str:
    """Same output as sacrebleu's ``TokenizerRegexp()(line)``."""
    if _ADJACENT_DOTS.search(line):
        line = _exact_dots(line)
        if "-" in line:
            line = _DIGIT_DASH.sub(" - ", line)
    else:
        line = _separate(line)
    return " ".join(line.split())


def _prepare_13a(text: str) -> str:
    """13a's replacements before its rules: <skipped>, line breaks, four entities."""
    text = text.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in text:
        text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return text


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
    return _post_tokenize(f" {_prepare_13a(line)} ")


@lru_cache(maxsize=2**16)
def tokenize_zh(line: str) -> str:
    """sacrebleu's ``zh`` tokenizer: same output, without its per-character loop."""
    return _post_tokenize(line.strip().translate(_ZH_TABLE))


FAST_TOKENIZERS: dict[str, Callable[[str], str]] = {"13a": tokenize_13a, "zh": tokenize_zh}



def tokenize_13a_joined(lines: Sequence[str], lowercase: bool = False) -> str | None:
    """BLEU's preprocessing (optional lowercasing, ``13a``) of a whole document at once:
    the tokens of every line, one ``SEPARATOR`` token between two lines, so that
    ``text.split(SEPARATOR)[i].split()`` are the tokens of
    ``tokenize_13a(lines[i].rstrip())``. None when a line holds a newline or the
    separator (tokenize those documents line by line).

    Why it is exact: each line is wrapped in spaces as 13a wraps it, and every rule
    looks at one character on either side of the one it separates, so no rule sees
    past a line's wrapping spaces; the trailing whitespace ``rstrip`` removes is, like
    those spaces, neither a digit nor punctuation, and ends up in no token. Lines with
    adjacent '.'/',' (the one case where 13a's substitutions interact) are tokenized
    on their own. One regexp pass over the document instead of five per line: BLEU's
    preprocessing of the WMT22/21 system files ~2x faster."""
    if not lines:
        return ""
    text = f" {SEPARATOR} ".join(lines)
    if "\n" in text or text.count(SEPARATOR) != len(lines) - 1:
        return None
    text = _prepare_13a(text.lower() if lowercase else text)  # (no newline: its line breaks rules are no-ops)
    adjacent = sorted(set(_lines_at(text, [m.start() for m in _ADJACENT_DOTS.finditer(text)])))
    text = _separate(f" {text} ")
    if not adjacent:
        return text
    tokenized = text.split(SEPARATOR)
    for i in adjacent:
        tokenized[i] = f" {tokenize_13a((lines[i].lower() if lowercase else lines[i]).rstrip())} "
    return SEPARATOR.join(tokenized)


def _lines_at(text: str, positions: Sequence[int]) -> list[int]:
    """The line (``SEPARATOR``-separated) of each of the ascending ``positions``."""
    out, line, last = [], 0, 0
    for pos in positions:
        line += text.count(SEPARATOR, last, pos)
        out.append(line)
        last = pos
    return out
