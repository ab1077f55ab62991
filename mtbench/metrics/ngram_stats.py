"""Exact n-gram match statistics for many systems at once, vectorized with numpy.

sacrebleu builds a Counter per segment and intersects them in Python; that is the
whole cost of BLEU and chrF. Here every system of one direction (and every
reference) is encoded as one integer array and each n-gram order is counted with one
hash pass (pandas' ``factorize``), so the statistics for 10-15 systems cost about as
much as sacrebleu spends on one. The results are *identical* to sacrebleu's
``_extract_corpus_statistics`` (the data-backed tests compare every shared system
file), so corpus scores are computed by sacrebleu itself from these statistics.

Exactness: an n-gram's identity is a dense code. Order 1 keys a unit by
``segment * n_ids + unit``; order n keys a position by ``code of its (n-1)-gram *
n_ids + its n-th unit``, which names the n-gram and its segment injectively and stays
below ``units**2`` (int64 holds it for anything under 3e9 units), then ``factorize``
turns the keys back into dense codes. No key space grows with the order.

Layout: units are laid out segment-major (segment 0 of every document, references
first, then segment 1, ...) in chunks of about ``_CHUNK_UNITS`` units, so that one
chunk's arrays stay cache-resident. ``factorize`` numbers keys in order of first
appearance, so in this layout the codes of one segment form one contiguous range and
its per-document counts sum with one ``np.add.reduceat``. Counts per (code, document)
are one dense ``bincount``. A position whose n-gram would cross the end of its line
gets a per-segment key outside the valid range, and its code counts nothing.

Why hashing and not sorting: with numpy<2 (unbabel-comet pins it) ``ndarray.sort``
has no AVX2 path and costs ~55 ns per int, pandas' hash table ~12 ns; the whole
chrF of the 156 WMT22/21 system and LLM files counts 1.8x faster.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

# Units per chunk of segments (the (codes, docs) count table of a chunk fits in L2).
_CHUNK_UNITS = 1 << 14


@dataclass
class EncodedDocs:
    """Several documents (references first, then systems) of L segments each, as one
    flat array of unit ids."""

    units: np.ndarray  # int64, all units of all docs, doc-major then segment order
    lengths: np.ndarray  # (n_docs, L) int64 units per segment
    n_docs: int
    n_segs: int

    @property
    def line(self) -> np.ndarray:
        """Line index ``doc * n_segs + seg`` of every unit."""
        return np.repeat(np.arange(self.lengths.size, dtype=np.intp), self.lengths.ravel())

    @property
    def doc(self) -> np.ndarray:
        return self.line // max(self.n_segs, 1)

    @property
    def seg(self) -> np.ndarray:
        return self.line % max(self.n_segs, 1)

    @property
    def end(self) -> np.ndarray:
        """Exclusive end (flat index) of every unit's segment."""
        return np.cumsum(self.lengths.ravel())[self.line]


def encode(docs: Sequence[Sequence[Sequence[int]] | Sequence[str]], as_chars: bool) -> EncodedDocs:
    """Encode docs of equal length. ``as_chars``: segments are strings whose characters
    are the units; otherwise segments are sequences of integer ids."""
    n_docs = len(docs)
    n_segs = len(docs[0]) if n_docs else 0
    lengths = np.zeros((n_docs, n_segs), dtype=np.int64)
    for d, doc in enumerate(docs):
        lengths[d] = np.fromiter(map(len, doc), dtype=np.int64, count=n_segs)
    total = int(lengths.sum())
    if as_chars:
        big = "".join("".join(doc) for doc in docs)  # type: ignore[arg-type]
        # surrogatepass: a lone surrogate (valid in a Python str, as sacrebleu reads it) is one unit
        units = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
    else:
        chain = itertools.chain.from_iterable  # flat iterator over all ids, no per-segment arrays
        units = np.fromiter(chain(chain(docs)), dtype=np.int64, count=total)
    return EncodedDocs(units, lengths, n_docs, n_segs)


#: Between the segments of a joined text (``encode_separated``): not whitespace, and in
#: no token a tokenizer or a file line holds (it is checked).
SEPARATOR = "\x00"


def encode_words(docs: Sequence[Sequence[str]]) -> EncodedDocs:
    """Encode docs of equal length whose segments are whitespace-separated tokens (a
    tokenized line): every distinct token gets one id. The lines are joined with a
    ``SEPARATOR`` token between them (when no line holds one), so one split and one
    hash pass (``factorize``: equal strings, equal ids) give the tokens and where each
    line ends, without a call per line."""
    n_docs = len(docs)
    n_segs = len(docs[0]) if n_docs else 0
    text = f" {SEPARATOR} ".join(line for doc in docs for line in doc)
    if text.count(SEPARATOR) == n_docs * n_segs - 1:
        return encode_separated(text, n_docs, n_segs)
    # A line holds a NUL (or there are none): line by line, and ids by dict, since pandas
    # hashes a string only up to its first NUL ("a\x00b" would be "a").
    lines = [line for doc in docs for line in doc]
    lengths = np.fromiter(map(len, map(str.split, lines)), dtype=np.int64, count=len(lines)).reshape(n_docs, n_segs)
    tokens = " ".join(lines).split()  # the same tokens as the lines' splits, in order
    ids: dict[str, int] = {}
    units = np.fromiter(map(ids.setdefault, tokens, itertools.count()), dtype=np.int64, count=len(tokens))
    return EncodedDocs(units, lengths, n_docs, n_segs)


def encode_separated(text: str, n_docs: int, n_segs: int) -> EncodedDocs:
    """Encode docs of ``n_segs`` segments each, given as one text: the tokens of every
    segment (docs one after the other), one ``SEPARATOR`` token between two segments
    and no NUL anywhere else (pandas' hashing stops at a string's first NUL)."""
    if n_docs * n_segs == 0:
        return EncodedDocs(np.zeros(0, dtype=np.int64), np.zeros((n_docs, n_segs), dtype=np.int64), n_docs, n_segs)
    ids, uniques = pd.factorize(np.array(text.split(), dtype=object), sort=False)
    # (numpy's own == would compare "\x00" as "", its string scalars drop trailing NULs)
    sep_id = [i for i, u in enumerate(uniques) if u == SEPARATOR]
    is_sep = ids == sep_id[0] if sep_id else np.zeros(ids.size, dtype=bool)
    ends = np.concatenate((np.flatnonzero(is_sep), [ids.size]))
    if ends.size != n_docs * n_segs:
        raise ValueError(f"{ends.size} segments separated in the text, {n_docs} x {n_segs} expected")
    lengths = np.diff(ends, prepend=-1) - 1
    return EncodedDocs(ids[~is_sep].astype(np.int64, copy=False), lengths.reshape(n_docs, n_segs), n_docs, n_segs)


def match_counts(enc: EncodedDocs, n_refs: int, max_order: int, ref_mode: str) -> np.ndarray:
    """Clipped n-gram matches of every system doc against the reference docs.

    ``ref_mode="each"``: against each reference separately, shape (R, S, L, max_order)
    (chrF, which then keeps the best reference per segment).
    ``ref_mode="max"``: against the per-n-gram maximum count over references, shape
    (1, S, L, max_order) (BLEU's multi-reference clipping).
    """
    n_sys = enc.n_docs - n_refs
    D, L = enc.n_docs, enc.n_segs
    n_out = n_refs if ref_mode == "each" else 1
    out = np.zeros((n_out, L, n_sys, max_order), dtype=np.int64)
    if enc.units.size == 0 or n_sys == 0 or max_order < 1:
        return out.transpose(0, 2, 1, 3)

    gid, n_ids = _dense_ids(enc.units)
    # Segment-major order of the units (line (seg, doc) after (seg, doc - 1)), gathered a
    # chunk at a time: a whole-corpus index would be three arrays the size of the corpus
    # (chrF's characters: ~100 MB each), written once and read once, out of cache.
    doc_major_start = np.zeros(D * L, dtype=np.int64)
    np.cumsum(enc.lengths.ravel()[:-1], out=doc_major_start[1:])
    lens = enc.lengths.T.ravel()  # line lengths in segment-major order
    seg_major_start = np.zeros(D * L, dtype=np.int64)
    np.cumsum(lens[:-1], out=seg_major_start[1:])
    shift = doc_major_start.reshape(D, L).T.ravel() - seg_major_start  # per line: doc-major minus seg-major start

    # Chunks of whole segments with about _CHUNK_UNITS units each.
    seg_end = np.cumsum(enc.lengths.sum(axis=0))
    cuts = np.searchsorted(seg_end, np.arange(_CHUNK_UNITS, int(seg_end[-1]), _CHUNK_UNITS), side="left")
    cuts = np.concatenate(([0], np.minimum(cuts + 1, L), [L]))
    cuts = cuts[np.flatnonzero(np.diff(cuts, prepend=-1))]  # drop repeats (cheaper than np.unique)
    seg_start = np.concatenate(([0], seg_end)).tolist()
    for s0, s1 in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        a, b = seg_start[s0], seg_start[s1]
        if b > a:
            lines = slice(s0 * D, s1 * D)
            chunk = gid[np.repeat(shift[lines], lens[lines]) + np.arange(a, b)]
            out[:, s0:s1] = _chunk_matches(chunk, n_ids, enc.lengths[:, s0:s1], n_refs, max_order, ref_mode)
    return out.transpose(0, 2, 1, 3)


def _chunk_matches(units: np.ndarray, n_ids: int, line_len: np.ndarray, n_refs: int, max_order: int,
                   ref_mode: str) -> np.ndarray:
    """Matches for one chunk of L segments: ``units`` segment-major, ``line_len`` (D, L).
    Returns (n_out, L, S, max_order)."""
    D, L = line_len.shape
    N = units.size
    n_out = n_refs if ref_mode == "each" else 1
    out = np.zeros((n_out, L, D - n_refs, max_order), dtype=np.int64)

    lens = line_len.T.ravel()  # (seg, doc) lines
    line_end = np.cumsum(lens)
    seg_pos = np.repeat(np.repeat(np.arange(L, dtype=np.int64), D), lens)
    doc_pos = np.repeat(np.tile(np.arange(D, dtype=np.int64), L), lens)
    seg_units = line_len.sum(axis=0)
    nonempty = np.flatnonzero(seg_units)
    seg_first = (np.cumsum(seg_units) - seg_units)[nonempty]  # first position of every non-empty segment
    # every valid key is < bound; a crossing position of segment j gets bound + j
    bound = max(L, N) * n_ids

    key = seg_pos * n_ids + units
    crossing = np.zeros(0, dtype=np.int64)
    codes = np.zeros(0, dtype=np.int64)
    for n in range(1, max_order + 1):
        if n > 1:
            # the n-gram at the (n-1)-th last unit of a line now crosses the line end
            crossing = np.concatenate((crossing, line_end[lens >= n - 1] - (n - 1)))
            M = N - n + 1  # positions with n-1 units after them: shifted views
            if M <= 0:
                break  # no line holds an n-gram this long
            np.multiply(codes[:M], n_ids, out=key[:M])
            key[:M] += units[n - 1:]
            key[crossing] = bound + seg_pos[crossing]
        codes, uniq = pd.factorize(key, sort=False)
        codes = codes.astype(np.int64, copy=False)
        U = uniq.size
        counts = np.bincount(codes * D + doc_pos, minlength=U * D).reshape(U, D)
        if crossing.size:
            counts[codes[crossing]] = 0
        refs = counts[:, :n_refs]
        if ref_mode != "each" and n_refs > 1:
            refs = refs.max(axis=1, keepdims=True)
        hyps = counts[:, n_refs:]
        starts = codes[seg_first]  # codes ascend with the segment: one range each
        for r in range(refs.shape[1]):
            clipped = np.minimum(hyps, refs[:, r:r + 1])
            out[r, nonempty, :, n - 1] = np.add.reduceat(clipped, starts, axis=0)
    return out


def _dense_ids(units: np.ndarray) -> tuple[np.ndarray, int]:
    """Units renumbered 0..n_ids-1 (order-preserving), and n_ids."""
    span = int(units.max()) + 1
    if span <= 4 * units.size + 65536 and units.min() >= 0:
        # presence table over unit values (characters, vocabulary ids)
        present = np.zeros(span, dtype=bool)
        present[units] = True
        ids = np.cumsum(present, dtype=np.int64) - 1
        return ids[units], int(ids[-1]) + 1
    uniq, inv = np.unique(units, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), int(uniq.size)
