"""``ngram_stats.match_counts`` against a plain Counter implementation of clipped n-gram
matches (what sacrebleu computes) on small random corpora, in one chunk and in many
(chunks of whole segments, empty segments between them), with huge, negative and
non-BMP unit values."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mtbench.metrics import ngram_stats
from mtbench.metrics.ngram_stats import encode, encode_words, match_counts


def reference_counts(docs: list, n_refs: int, max_order: int, ref_mode: str) -> np.ndarray:
    """Clipped matches with Counters, segment by segment (sacrebleu's definition)."""
    n_sys, n_segs = len(docs) - n_refs, len(docs[0])
    n_out = n_refs if ref_mode == "each" else 1
    out = np.zeros((n_out, n_sys, n_segs, max_order), dtype=np.int64)
    for j in range(n_segs):
        for n in range(1, max_order + 1):
            grams = [Counter(tuple(d[j][i:i + n]) for i in range(len(d[j]) - n + 1)) for d in docs]
            refs = grams[:n_refs]
            if ref_mode == "max":
                merged: Counter = Counter()
                for r in refs:
                    merged |= r  # per-n-gram maximum over references
                refs = [merged]
            for s in range(n_sys):
                for r, ref in enumerate(refs):
                    out[r, s, j, n - 1] = sum((grams[n_refs + s] & ref).values())
    return out


# Small alphabets so that n-grams repeat inside and across segments; huge, negative and
# non-BMP unit values take the np.unique / UTF-32 paths.
CHAR_ALPHABETS = ["ab", "abc ", "aé字😀"]
ID_POOLS = [[0, 1], [0, 1, 2, 3, 4, 5], [-5, 7, 10**12, 2**40 + 3]]


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list, bool, int, int, str]:
    n_refs = draw(st.integers(1, 3))
    n_sys = draw(st.integers(1, 4))
    n_segs = draw(st.integers(1, 6))
    as_chars = draw(st.booleans())
    if as_chars:
        segment = st.text(alphabet=draw(st.sampled_from(CHAR_ALPHABETS)), max_size=12)
    else:
        segment = st.lists(st.sampled_from(draw(st.sampled_from(ID_POOLS))), max_size=12)
    docs = [[draw(segment) for _ in range(n_segs)] for _ in range(n_refs + n_sys)]
    return docs, as_chars, n_refs, draw(st.integers(1, 6)), draw(st.sampled_from(["each", "max"]))


# Module knobs that switch code paths: one chunk, or a chunk per segment or two.
CONFIGS = {
    "default": {},
    "tiny-chunks": {"_CHUNK_UNITS": 5},
    "one-unit-chunks": {"_CHUNK_UNITS": 1},
}


@pytest.mark.parametrize("config", list(CONFIGS))
@settings(max_examples=150, deadline=None)
@given(case=corpora())
def test_match_counts_equal_counter_reference(config: str, case: tuple) -> None:
    docs, as_chars, n_refs, max_order, ref_mode = case
    expected = reference_counts(docs, n_refs, max_order, ref_mode)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in CONFIGS[config].items():
            mp.setattr(ngram_stats, name, value)
        got = match_counts(encode(docs, as_chars=as_chars), n_refs, max_order, ref_mode)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_empty_inputs() -> None:
    assert match_counts(encode([[""], [""]], as_chars=True), 1, 4, "each").tolist() == [[[[0, 0, 0, 0]]]]
    out = match_counts(encode([["", "ab"], ["", "ab"], ["", "b"]], as_chars=True), 2, 3, "max")
    np.testing.assert_array_equal(out, [[[[0, 0, 0], [1, 0, 0]]]])
    assert match_counts(encode([["ab"]], as_chars=True), 1, 2, "each").shape == (1, 0, 1, 2)


def test_encoded_docs_per_unit_views() -> None:
    enc = encode([[[5, 6], [], [7]], [[8], [9, 9, 9], []]], as_chars=False)
    assert enc.units.tolist() == [5, 6, 7, 8, 9, 9, 9]
    assert enc.lengths.tolist() == [[2, 0, 1], [1, 3, 0]]
    assert enc.doc.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert enc.seg.tolist() == [0, 0, 2, 0, 1, 1, 1]
    assert enc.end.tolist() == [2, 2, 3, 4, 7, 7, 7]


# Lines of tokens as tokenizers leave them, and as they may come otherwise: runs of
# spaces, tabs, empty lines, and now and then the separator itself (the slow path).
# ("x" and "x\x00": pandas' hashing stops at a NUL, so they must not share an id)
token_line = st.lists(st.sampled_from(["a", "b", "ab", ".", "x", "\x00", "x\x00", "\x00x"]), max_size=5).map(
    " ".join) | st.sampled_from(["", " ", "a  b", "\ta\tb ", " a", "a \x00 b", "x x\x00"])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.lists(st.lists(token_line, min_size=n, max_size=n), min_size=1, max_size=4)))
@example([["x x\x00"]])
def test_encode_words_equals_splitting_each_line(docs: list[list[str]]) -> None:
    enc = encode_words(docs)
    tokens = [tok for doc in docs for line in doc for tok in line.split()]
    ids: dict[str, int] = {}
    expected = [ids.setdefault(tok, len(ids)) for tok in tokens]  # ids by first appearance
    assert enc.lengths.tolist() == [[len(line.split()) for line in doc] for doc in docs]
    assert enc.units.dtype == np.int64
    # the same tokens, up to the numbering (renumbered by first appearance)
    renumber: dict[int, int] = {}
    assert [renumber.setdefault(u, len(renumber)) for u in enc.units.tolist()] == expected
