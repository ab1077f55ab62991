"""``ngram_stats.match_counts`` against a plain Counter implementation of clipped n-gram
matches (what sacrebleu computes) on small random corpora, through every code path:
sorted and counted keys, uint32 and int64 keys, several chunks, and the dense-rank
fallback for key spaces that would overflow int64."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtbench.metrics import ngram_stats
from mtbench.metrics.ngram_stats import encode, match_counts


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


# Module knobs that switch code paths: chunking, int64 sort keys, dense fallback.
CONFIGS = {
    "default": {},
    "tiny-chunks": {"_CHUNK_UNITS": 5},
    "int64-keys": {"_UINT32_LIMIT": 0},
    "dense-fallback": {"_INT64_MAX": 50},
    "dense-int64-chunks": {"_INT64_MAX": 50, "_UINT32_LIMIT": 0, "_CHUNK_UNITS": 7},
    "late-fallback": {"_INT64_MAX": 2000},
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


def test_fallback_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lowered bound really reaches the dense path (np.unique on keys)."""
    calls = []
    real_unique = np.unique

    def spy(*args, **kwargs):
        calls.append(1)
        return real_unique(*args, **kwargs)

    monkeypatch.setattr(ngram_stats, "_INT64_MAX", 50)
    monkeypatch.setattr(ngram_stats.np, "unique", spy)
    docs = [["abcabcab", "xyzzy"], ["abcab", "zzyx"], ["cabca", ""]]
    got = match_counts(encode(docs, as_chars=True), 1, 6, "each")
    monkeypatch.undo()
    assert calls
    np.testing.assert_array_equal(got, reference_counts(docs, 1, 6, "each"))


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


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 6), max_size=10), min_size=1, max_size=5))
def test_segment_alphabet_table_and_sort_paths(rows: list[list[int]]) -> None:
    """Per-segment ranks and alphabet sizes, via the presence table (small id space)
    and via np.unique (large id space)."""
    units = np.array([u for r in rows for u in r], dtype=np.int64)
    seg_pos = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    expected_local = [sorted(set(r)).index(u) for r in rows for u in r]
    expected_V = [max(len(set(r)), 1) for r in rows]
    for n_ids in (7, 10**6):
        local, V = ngram_stats._segment_alphabet(units, n_ids, seg_pos, len(rows))
        assert local.tolist() == expected_local
        assert V.tolist() == expected_V
