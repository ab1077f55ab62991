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
offset by the segment's start in the key space. That key is injective. When the key
space of an order would overflow int64, the remaining orders fall back to dense ranks:
the previous order's keys are replaced by their rank (``np.unique``) and extended by
one unit in base max(V). Slower, still exact.

Layout: segments are processed in chunks of about ``_CHUNK_UNITS`` units (all docs of
whole segments), so that the dozen numpy passes per order run on cache-resident arrays
and key spaces stay small (offsets restart in every chunk; low orders then fit uint32,
which sorts faster). One order's sort key is ``key << shift | doc`` with
``2**shift >= D`` documents: sorting puts equal n-grams of one segment together,
documents ascending (references first) inside, and segments in order. n-grams are
built with shifted views (``key[:-k] * V + digit[k:]``); positions whose n-gram would
cross the end of its line get a sentinel key that sorts last.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Bound of a chunk's per-segment key space; tests lower it to force the dense fallback.
_INT64_MAX = np.iinfo(np.int64).max
# Key spaces below this sort as uint32; tests set it to 0 to exercise int64 keys.
_UINT32_LIMIT = 1 << 32
# Units per chunk of segments (a few hundred KiB per int64 array: fits in L2 cache).
_CHUNK_UNITS = 1 << 15


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
    out = np.zeros((n_out, n_sys, L, max_order), dtype=np.int64)
    if enc.units.size == 0 or n_sys == 0 or max_order < 1:
        return out

    gid, n_ids = _dense_ids(enc.units)
    # start of every (doc, segment) line in the flat array, plus each doc's end
    line_start = np.zeros((D, L + 1), dtype=np.int64)
    np.cumsum(enc.lengths, axis=1, out=line_start[:, 1:])
    doc_len = line_start[:, -1].copy()
    line_start += (np.cumsum(doc_len) - doc_len)[:, None]

    # Chunks of whole segments with about _CHUNK_UNITS units each; in the doc-major
    # flat array a chunk is one slice per doc.
    seg_end = np.cumsum(enc.lengths.sum(axis=0))
    cuts = np.searchsorted(seg_end, np.arange(_CHUNK_UNITS, int(seg_end[-1]), _CHUNK_UNITS), side="left")
    cuts = np.concatenate(([0], np.minimum(cuts + 1, L), [L]))
    cuts = cuts[np.flatnonzero(np.diff(cuts, prepend=-1))]  # drop repeats (cheaper than np.unique)
    for s0, s1 in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        units = np.concatenate([gid[line_start[d, s0]:line_start[d, s1]] for d in range(D)])
        if units.size:
            part = _chunk_matches(units, n_ids, enc.lengths[:, s0:s1], n_refs, max_order, ref_mode)
            out[:, :, s0:s1, :] = part.transpose(0, 2, 1, 3)
    return out


def _chunk_matches(units: np.ndarray, n_ids: int, line_len: np.ndarray, n_refs: int, max_order: int,
                   ref_mode: str) -> np.ndarray:
    """Matches for one chunk of L segments: ``units`` doc-major, ``line_len`` (D, L).
    Returns (n_out, L, S, max_order)."""
    D, L = line_len.shape
    N = units.size
    shift = max(D - 1, 1).bit_length()  # doc ids live in the low `shift` bits of a sort key
    Dp = 1 << shift
    n_out = n_refs if ref_mode == "each" else 1
    out = np.zeros((n_out, L, D - n_refs, max_order), dtype=np.int64)

    # Per-line tables (line = doc * L + seg), expanded to units with np.repeat.
    ll = line_len.ravel()
    line_end = np.cumsum(ll)
    seg_of_line = np.tile(np.arange(L, dtype=np.int64), D)
    doc_of_line = np.repeat(np.arange(D, dtype=np.int64), L)

    local, V = _segment_alphabet(units, n_ids, np.repeat(seg_of_line, ll), L)
    V_py = V.tolist()
    V_max = max(V_py)
    V_pos = np.repeat(V[seg_of_line], ll)
    local <<= shift  # digits pre-shifted: keys are kept as `key << shift` throughout

    key = local.copy()  # (key of the n-gram starting at each position) << shift; garbage where invalid
    comp64 = np.empty(N, dtype=np.int64)  # sort buffers
    comp32 = np.empty(N, dtype=np.uint32)
    invalid = np.zeros(0, dtype=np.int64)  # positions whose n-gram crosses its line end
    dense = False  # whether `key` holds dense ranks (fallback) instead of per-segment keys

    for n in range(1, max_order + 1):
        # bound of this order's sort keys
        space = (N * V_max if dense else sum(v**n for v in V_py)) * Dp
        if n > 1:
            # the n-gram at the (n-1)-th last unit of a line now crosses the line end
            invalid = np.concatenate((invalid, line_end[ll >= n - 1] - (n - 1)))
            M = N - n + 1  # positions with n-1 units after them: shifted views, no masks
            if not dense and space > _INT64_MAX:
                # Switch to dense ranks of the previous order's keys (offsets included,
                # so ranks differ across segments and keep segment order).
                dense = True
                space = N * V_max * Dp
                key += np.repeat(_offsets(V, n - 1)[seg_of_line] << shift, ll)
            if dense:
                # rank < N and digit < V_max, so the extended key fits when `space` does
                if space > np.iinfo(np.int64).max:
                    raise OverflowError("too many units for exact n-gram keys")
                key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
                key[:M] *= V_max << shift
            else:
                key[:M] *= V_pos[:M]
            key[:M] += local[n - 1:]
        n_valid = N - invalid.size
        if n_valid == 0:
            break

        # Sort key: (segment offset + key) << shift | doc; offset and doc are one
        # per-line addend. Small key spaces (low orders) use uint32, which sorts about
        # twice as fast.
        comp = comp32 if space < _UINT32_LIMIT else comp64
        addend = doc_of_line if dense else (_offsets(V, n)[seg_of_line] << shift) | doc_of_line
        np.add(key, np.repeat(addend, ll), out=comp, casting="unsafe")  # garbage keys may wrap

        # runs of equal (n-gram, doc): run_key, run_count, run_start (in sorted order)
        if space <= 2 * N:
            # tiny key space (order 1): count keys instead of sorting them; invalid
            # positions go to an extra last bin
            comp[invalid] = space
            counts = np.bincount(comp, minlength=space + 1)[:space]
            run_key = np.flatnonzero(counts)
            run_count = counts[run_key]
            run_start = np.cumsum(run_count) - run_count
        else:
            comp[invalid] = np.iinfo(comp.dtype).max  # sorts last, cut off below
            comp.sort()
            c = comp[:n_valid]
            run_start, run_count = _runs(c)
            run_key = c[run_start]
        R = run_start.size
        run_doc = run_key & (Dp - 1)

        # groups of runs with the same n-gram (of one segment)
        run_key >>= shift
        g_start, g_runs = _runs(run_key)

        # Reference counts per group. References are docs 0..n_refs-1 and docs sort
        # ascending within a group, so reference r's run (if any) is at offset <= r.
        ref_counts = []
        for r in range(n_refs):
            rc = np.zeros(g_start.size, dtype=np.int64)
            for j in range(min(r + 1, D)):
                idx = np.minimum(g_start + j, R - 1) if j else g_start
                hit = run_doc[idx] == r
                if j:
                    hit &= g_runs > j
                rc += run_count[idx] * hit
            ref_counts.append(rc)
        if ref_mode != "each" and n_refs > 1:
            ref_counts = [np.maximum.reduce(ref_counts)]

        # Keys are segment-major, so each segment is one range of sorted elements; its
        # runs follow from per-segment element counts. bin = seg << shift | doc
        # (reference runs land in reference bins, dropped below).
        seg_bounds = np.zeros(L + 1, dtype=np.int64)
        np.cumsum(np.maximum(line_len - (n - 1), 0).sum(axis=0), out=seg_bounds[1:])
        runs_per_seg = np.diff(np.searchsorted(run_start, seg_bounds))
        bins = np.repeat(np.arange(L, dtype=np.int64) << shift, runs_per_seg)
        bins |= run_doc

        for r, rc in enumerate(ref_counts):
            rc_run = np.repeat(rc, g_runs)  # reference count of every run's n-gram
            np.minimum(rc_run, run_count, out=rc_run)
            per_bin = np.bincount(bins, weights=rc_run, minlength=L * Dp).reshape(L, Dp)
            out[r, :, :, n - 1] = per_bin[:, n_refs:D]
    return out


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of every run of equal values in a sorted, non-empty array."""
    n = sorted_values.size
    flag = np.empty(n, dtype=bool)
    flag[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=flag[1:])
    start = np.flatnonzero(flag)
    count = np.empty(start.size, dtype=np.int64)
    np.subtract(start[1:], start[:-1], out=count[:-1])
    count[-1] = n - start[-1]
    return start, count


def _offsets(V: np.ndarray, n: int) -> np.ndarray:
    """Start of every segment in the key space of order n (exclusive cumsum of V**n);
    only called when the total fits int64."""
    off = np.zeros(V.size, dtype=np.int64)
    np.cumsum(V[:-1] ** n, out=off[1:])
    return off


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


def _segment_alphabet(units: np.ndarray, n_ids: int, seg_pos: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank of every unit (ids < n_ids) among the distinct units of its segment
    (int64), and the alphabet size V (at least 1) of every segment."""
    pair = seg_pos * n_ids + units
    if L * n_ids <= 4 * units.size + 4096:
        # presence table of (segment, unit) pairs; ranks by a cumsum along each row
        seen = np.zeros((L, n_ids), dtype=bool)
        seen.ravel()[pair] = True
        rank = np.cumsum(seen, axis=1, dtype=np.int64)
        V = rank[:, -1].copy()
        local = rank.ravel()[pair] - 1
    else:
        uniq, inv = np.unique(pair, return_inverse=True)
        V = np.bincount(uniq // n_ids, minlength=L).astype(np.int64)
        first = np.zeros(L, dtype=np.int64)
        np.cumsum(V[:-1], out=first[1:])
        local = inv.reshape(-1) - first[seg_pos]
    return local, np.maximum(V, 1)
