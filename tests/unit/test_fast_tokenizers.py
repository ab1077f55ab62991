"""mtbench.metrics.fast_tokenizers must give exactly sacrebleu's 13a / zh output, and
a whole document through ``tokenize_13a_joined`` exactly the tokens of each line.

Three layers: hand-picked corner cases, a hypothesis property test over text that is
dense in the characters the regexps react to, and every line of the shared WMT data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

from mtbench.metrics.fast_tokenizers import FAST_TOKENIZERS, SEPARATOR, tokenize_13a, tokenize_13a_joined, tokenize_zh

SACREBLEU = {"13a": Tokenizer13a(), "zh": TokenizerZh()}

TRICKY = [
    "", " ", "   ", "\t\n ", "a.,5", ".,5", "a,.b", "1.000,5", "1,000.5", "x..y", "x...y", "...", ".,.,",
    "5..5", "5...", "..5", "a.", ".a", "5.", ".5", "5,a", "a,5", "3-4", "-5", "5-", "a-b", "3--4", "3-.4",
    "1.-2", "&amp;", "&quot;x&quot;", "&lt;b&gt;", "&amp;amp;", "a & b", "<skipped>", "x<skipped>y",
    "break-\nline", "two\nlines", "e.g., U.S.A. (1990-91)", "«Hallo», sagte er — „ja“.", "“curly” ‘quotes’",
    "em—dash – en", "ＡＢＣ１２３，。！", "他说：“你好，世界！”2020年5月1日。", "中文ABC中文, 3.5%",
    "emoji 😀👍🏽 ok.", "\u2000", "a\u2000b", "\u2a6d", "\u2a6e", "x\u2a6dy\u2a6e0", "\u20000", "\u3000中\u3000",
    "日本語のテキスト。", "한국어 텍스트.", "$5.00, €3,50 & 10% (approx.)", "C++/C# {x} [y] ^_` ~|",
    "ends with comma,", ",starts", "  padded .  ", "\ufeffbom", "a\u00a0.\u00a0b", "٣.٤", "5\u2028.6",
]


@pytest.mark.parametrize("name", ["13a", "zh"])
@pytest.mark.parametrize("line", TRICKY)
def test_tricky_strings(name: str, line: str) -> None:
    assert FAST_TOKENIZERS[name](line) == SACREBLEU[name](line)


def test_api() -> None:
    assert FAST_TOKENIZERS == {"13a": tokenize_13a, "zh": tokenize_zh}
    assert tokenize_13a.cache_info().maxsize == tokenize_zh.cache_info().maxsize == 2**16


_CHARS = list("0123456789" "...,,,---" "     \t\n" "()[]{}<>" "abcxyzABC" "&;\"'/%$@!?:")
_CHARS += list("中文字。，！（）：“”") + ["\u2000", "\u2a6d", "\u2a6e", "\u3000", "\uff0c", "\uff10", "😀", "—", "’"]
_PIECES = ["&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "-\n", "...", "1.000,5", "a.,5", "3-4", "U.S."]
dense_text = st.lists(st.sampled_from(_CHARS) | st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=3000, deadline=None)
@given(dense_text)
@example("a.,5 1.000,5 x..y 3-4")
def test_property_dense_alphabet(line: str) -> None:
    assert tokenize_13a(line) == SACREBLEU["13a"](line)
    assert tokenize_zh(line) == SACREBLEU["zh"](line)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_property_any_unicode(line: str) -> None:
    assert tokenize_13a(line) == SACREBLEU["13a"](line)
    assert tokenize_zh(line) == SACREBLEU["zh"](line)


def _line_tokens(lines: list[str], lowercase: bool = False) -> list[list[str]]:
    """sacrebleu's BLEU preprocessing of each line (lowercasing, rstrip, 13a), split."""
    return [SACREBLEU["13a"]((x.lower() if lowercase else x).rstrip()).split() for x in lines]


def _joined_tokens(lines: list[str], lowercase: bool = False) -> list[list[str]]:
    text = tokenize_13a_joined(lines, lowercase)
    assert text is not None
    return [part.split() for part in text.split(SEPARATOR)] if lines else []


def test_joined_document_tricky_lines() -> None:
    lines = [x for x in TRICKY if "\n" not in x]
    for lowercase in (False, True):
        assert _joined_tokens(lines, lowercase) == _line_tokens(lines, lowercase)
        # each line also next to every other: a rule must not see across the separator
        pairs = [a + b for a in ("5", ".", ",", "-", "a", "") for b in (".5", ",", "-5", "5", "")]
        assert _joined_tokens(pairs + lines, lowercase) == _line_tokens(pairs + lines, lowercase)


def test_joined_document_needs_lines_without_separator_or_newline() -> None:
    assert tokenize_13a_joined([]) == ""
    assert tokenize_13a_joined(["a", "b\nc"]) is None
    assert tokenize_13a_joined(["a", f"b{SEPARATOR}c"]) is None
    assert _joined_tokens(["", "", "x ."]) == [[], [], ["x", "."]]


_CASED = ["ΣΑΣ", "σ", "Σ", "İ", "ß", "ǅ", "ΑΣ."]


@settings(max_examples=800, deadline=None)
@given(st.lists(dense_text | st.sampled_from(_CASED), max_size=8), st.booleans())
@example(["a.", ",b", "5", "-5", "ΑΣ", "Σ."], True)
def test_property_joined_document(lines: list[str], lowercase: bool) -> None:
    lines = [x.replace("\n", " ") for x in lines]  # lines of a file hold no newline
    assert _joined_tokens(lines, lowercase) == _line_tokens(lines, lowercase)


# ---- every line of the shared data --------------------------------------------------

DATA_DIR = Path(os.environ.get("MTBENCH_DATA") or Path(__file__).resolve().parents[3] / "shared" / "mtdata")
_GLOBS = ["wmt2*/*/systems/*.txt", "wmt2*/*/llm_outputs/*.txt", "wmt2*/*/ref.txt"]
DATA_FILES = sorted({p for g in _GLOBS for p in DATA_DIR.glob(g)}) if DATA_DIR.is_dir() else []
ZH_SAMPLE_EVERY = 10  # zh on every line of *-zh pairs, on every 10th line elsewhere


def _read_segments(path: Path) -> list[str]:
    """UTF-8, BOM stripped, '\\n' only separates segments (as sacrebleu reads files)."""
    return path.read_text(encoding="utf-8-sig").split("\n")


def _data_params() -> list:
    if not DATA_FILES:
        reason = f"shared test data not found at {DATA_DIR}: set MTBENCH_DATA to the mtdata folder"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-data")]
    return [pytest.param(p, id=str(p.relative_to(DATA_DIR))) for p in DATA_FILES]


def _first_mismatch(name: str, lines: list[str]) -> str | None:
    for i, line in enumerate(lines):
        ours, theirs = FAST_TOKENIZERS[name](line), SACREBLEU[name](line)
        if ours != theirs:
            return f"{name} line {i}: {line!r}\n  fast:      {ours!r}\n  sacrebleu: {theirs!r}"
    return None


@pytest.mark.data
@pytest.mark.parametrize("path", _data_params())
def test_shared_data_file(path: Path) -> None:
    lines = _read_segments(path)
    zh_target = path.relative_to(DATA_DIR).parts[1].endswith("-zh")
    for name, checked in (("13a", lines), ("zh", lines if zh_target else lines[::ZH_SAMPLE_EVERY])):
        mismatch = _first_mismatch(name, checked)
        assert mismatch is None, f"{path}: {mismatch}"
    joined, expected = _joined_tokens(lines), _line_tokens(lines)
    first = next((i for i, (a, b) in enumerate(zip(joined, expected)) if a != b), None)
    assert len(joined) == len(expected) and first is None, f"{path}: joined 13a differs at line {first}"
