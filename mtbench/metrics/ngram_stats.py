"""Exact n-gram match statistics for many systems at once, vectorized with numpy.

sacrebleu builds a Counter per segment and intersects them in Python; that is the
whole cost of BLEU and chrF. Here every system of one direction (and every
reference) is encoded as one integer array and each n-gram order is counted with one
sort, so the statistics for 10-15 systems cost about as much as sacrebleu spends on
one. The results are *identical* to sacrebleu's ``_extract_corpus_statistics`` (the
data-backed tests compare every shared system file), so corpus scores are computed by
sacrebleu itself from these statistics.

Exactness: an n-gram is keyed by its units' ranks in a per-segment alphabet, read as a
base-V number (V = distinct units in that segment over all systems and references),
offset by the segment's start in a global key space. That key is injective. When the
key space of an order would overflow int64, the remaining orders fall back to dense
ranks: the previous order's keys are replaced by their global rank (``np.unique``)
and extended by one unit in base max(V). Slower, still exact.

Layout of one order's sort key: ``global_key << shift | doc``, with ``2**shift >= D``
documents, so sorting groups equal n-grams of one segment together with the documents
in increasing order (references first) inside each group, and groups (hence segments)
appear in segment order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Bound of the per-segment key space; tests lower it to force the dense fallback.
_INT64_MAX = np.iinfo(np.int64).max
# Sort sentinel for positions whose n-gram would cross the segment end (always the
# true int64 maximum, larger than any valid key).
_SENTINEL = np.iinfo(np.int64).max


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
        units = np.frombuffer(big.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    else:
        # one flat iterator over all ids of all segments (no per-segment arrays)
        flat = (u for doc in docs for seq in doc for u in seq)
        units = np.fromiter(flat, dtype=np.int64, count=total)
    return EncodedDocs(units, lengths, n_docs, n_segs)


def match_counts(enc: EncodedDocs, n_refs: int, max_order: int, ref_mode: str) -> np.ndarray:
    """Clipped n-gram matches of every system doc against the reference docs.

    ``ref_mode="each"``: against each reference separately, shape (R, S, L, max_order)
    (chrF, which then keeps the best reference per segment).
    ``ref_mode="max"``: against the per-n-gram maximum count over references, shape
    (1, S, L, max_order) (BLEU's multi-reference clipping).
    """
    n_sys = enc.n_docs - n_refs
    L = enc.n_segs
    n_out = n_refs if ref_mode == "each" else 1
    out = np.zeros((n_out, n_sys, L, max_order), dtype=np.int64)
    N = enc.units.size
    if N == 0 or n_sys == 0:
        return out
    D = enc.n_docs
    shift = max(D - 1, 1).bit_length()  # doc ids live in the low `shift` bits
    Dp = 1 << shift

    line_len = enc.lengths.ravel()  # per line (doc-major: line = doc * L + seg)
    line_end = np.cumsum(line_len)
    line = np.repeat(np.arange(D * L, dtype=np.intp), line_len)
    seg_of_line = np.tile(np.arange(L, dtype=np.int64), D)
    doc_of_line = np.repeat(np.arange(D, dtype=np.int64), L)
    seg_pos = seg_of_line[line]

    local, V = _segment_alphabet(enc.units, seg_pos, L)
    V_py = V.tolist()
    V_max = max(V_py)
    V_pos = V[seg_pos]

    key = local.copy()  # key of the n-gram starting at each position (garbage where invalid)
    comp = np.empty(N, dtype=np.int64)  # sort buffer
    invalid = np.zeros(0, dtype=np.int64)  # positions whose n-gram crosses the segment end
    dense = False  # whether `key` holds global dense ids (fallback) instead of per-segment keys

    for n in range(1, max_order + 1):
        if n > 1:
            # the n-gram at the (n-1)-th last unit of a line now crosses its end
            invalid = np.concatenate((invalid, line_end[line_len >= n - 1] - (n - 1)))
            M = N - n + 1  # positions that have n-1 units after them (shifted views)
            nxt = local[n - 1:]
            if not dense and sum(v**n for v in V_py) * Dp > _INT64_MAX:
                # Switch to dense ids: rank the previous order's global keys (offsets
                # included, so ranks stay distinct across segments and in segment order).
                dense = True
                prev = key + _offsets(V, n - 1)[seg_pos]
                key = np.unique(prev, return_inverse=True)[1].reshape(-1).astype(np.int64)
            elif dense:
                key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
            if dense:
                if N * V_max * Dp > _SENTINEL:  # ranks < N, units < V_max
                    raise OverflowError("too many units for exact n-gram keys")
                key[:M] *= V_max
            else:
                key[:M] *= V_pos[:M]
            key[:M] += nxt
        n_valid = N - invalid.size
        if n_valid == 0:
            break

        # comp = global_key << shift | doc, with the segment offset and the doc folded
        # into one per-line addend.
        if dense:
            addend = doc_of_line
        else:
            addend = (_offsets(V, n)[seg_of_line] << shift) | doc_of_line
        np.left_shift(key, shift, out=comp)
        comp += addend[line]
        comp[invalid] = _SENTINEL
        comp.sort()
        c = comp[:n_valid]

        # runs of equal (n-gram, doc)
        flag = np.empty(n_valid, dtype=bool)
        flag[0] = True
        np.not_equal(c[1:], c[:-1], out=flag[1:])
        run_start = np.flatnonzero(flag)
        R = run_start.size
        run_count = np.empty(R, dtype=np.int64)
        np.subtract(run_start[1:], run_start[:-1], out=run_count[:-1])
        run_count[-1] = n_valid - run_start[-1]
        run_key = c[run_start]
        run_doc = run_key & (Dp - 1)
        run_gram = run_key >> shift

        # group id (1-based) of every run: one group per distinct n-gram of a segment
        new_group = np.empty(R, dtype=np.int64)
        new_group[0] = 1
        np.not_equal(run_gram[1:], run_gram[:-1], out=new_group[1:])
        group = np.cumsum(new_group, out=new_group)
        n_groups = int(group[-1])

        # reference counts per group
        ref_counts = []
        for r in range(n_refs):
            sel = np.flatnonzero(run_doc == r)
            rc = np.zeros(n_groups + 1, dtype=np.int64)
            rc[group[sel]] = run_count[sel]
            ref_counts.append(rc)
        if ref_mode != "each" and n_refs > 1:
            ref_counts = [np.maximum.reduce(ref_counts)]

        # Segments occupy consecutive element ranges of the sorted keys (keys are
        # segment-major), so the segment of every run follows from per-segment counts.
        seg_elems = np.maximum(enc.lengths - (n - 1), 0).sum(axis=0)
        seg_bounds = np.zeros(L + 1, dtype=np.int64)
        np.cumsum(seg_elems, out=seg_bounds[1:])
        runs_per_seg = np.diff(np.searchsorted(run_start, seg_bounds))
        # bin = seg << shift | doc; reference runs land in reference bins, dropped below
        bins = np.repeat(np.arange(L, dtype=np.int64) << shift, runs_per_seg)
        bins |= run_doc

        for r, rc in enumerate(ref_counts):
            clipped = np.minimum(run_count, rc[group])
            per_bin = np.bincount(bins, weights=clipped, minlength=L * Dp).reshape(L, Dp)
            out[r, :, :, n - 1] = per_bin[:, n_refs:D].T
    return out


def _offsets(V: np.ndarray, n: int) -> np.ndarray:
    """Start of every segment in the global key space of order n (exclusive cumsum of
    V**n); only called when the total fits int64."""
    off = np.zeros(V.size, dtype=np.int64)
    np.cumsum(V[:-1] ** n, out=off[1:])
    return off


def _segment_alphabet(units: np.ndarray, seg_pos: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank of every unit among the distinct units of its segment, and the alphabet
    size V (at least 1) of every segment."""
    span = int(units.max()) + 1
    comp = seg_pos * span + units
    uniq, inv = np.unique(comp, return_inverse=True)
    V = np.bincount(uniq // span, minlength=L).astype(np.int64)
    first = np.zeros(L, dtype=np.int64)
    np.cumsum(V[:-1], out=first[1:])
    local = inv.reshape(-1) - first[seg_pos]
    return local, np.maximum(V, 1)
