"""mtbench.metrics.fast_tokenizers must give exactly sacrebleu's 13a / zh output.

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

from mtbench.metrics.fast_tokenizers import FAST_TOKENIZERS, tokenize_13a, tokenize_zh

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
