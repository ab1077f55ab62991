"""fastText supervised prediction (top-1 label and probability) in numpy, for lid.176.

Why: the fastText bindings predict one line at a time in C++ (22-35 us a line on
lid.176.ftz on the project machine, most of it hashing every character n-gram of every
word again). A line's hidden vector is the mean of the input rows of its tokens, and a
token's rows never depend on its neighbours when ``wordNgrams`` is 1 (lid.176). So
each distinct token is hashed once per process, its rows summed once (vectorised over
all new tokens, kept in a cache of sorted 64-bit token keys), and a batch of lines is
then a binary search, one sparse product (lines x cached tokens) and the label tree,
with no Python object per token. Labels are fastText's own (near-ties are re-scored in
float64); probabilities agree to float rounding, because the sums run in another order.

What is implemented, read from fastText's sources (facebookresearch/fastText @1142dc4,
file format version 12): the binary layout (``Args::load``, ``Dictionary::load``,
``QuantMatrix::load``, ``ProductQuantizer::load``, ``DenseMatrix::load``), tokenising
(``readWord``: split at space, \\n, \\r, \\t, \\v, \\f, \\0; the line's newline is the
token ``</s>``; a ``</s>`` token ends the line; ``__label__`` tokens are skipped),
subwords (``computeSubwords``: UTF-8 character n-grams of ``<token>``, FNV-1a over
sign-extended bytes, modulo ``bucket``, through the pruning map), and prediction with
the ``hs`` (hierarchical softmax tree built from label counts, ``buildTree``; exact
sigmoid, score = sum of log(p + 1e-5) along the path) and ``softmax`` losses. Anything
else (``ns``/``ova`` losses, ``wordNgrams`` > 1, old format versions) raises
:class:`Unsupported` and the caller uses the fastText bindings.
"""

from __future__ import annotations

import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_array, csr_array
from threadpoolctl import threadpool_limits

MAGIC = 793712314
VERSION = 12
LOSS_HS, LOSS_SOFTMAX = 1, 3
MODEL_SUPERVISED = 3
EOS = b"</s>"
LABEL_PREFIX = b"__label__"
FNV_OFFSET, FNV_PRIME = 2166136261, 16777619
KSUB = 256  # product quantizer: 8-bit codes
LOG_EPS = 1e-5  # fastText's std_log(x) = log(x + 1e-5)
TIE_GAP = 1e-3  # float32 score gap below which the top label is rechecked in float64
CHUNK_LINES = 4096  # lines per batch: bounds memory, and gives threads work to share


SEPARATOR = np.zeros(256, dtype=bool)  # readWord's separators
SEPARATOR[[ord(c) for c in " \n\r\t\v\f\0"]] = True
SEPARATOR_MAX = ord(" ")  # no separator byte is above this: one compare finds the candidates
LINE_BYTE = ord("\n")  # joins the lines of a batch
KEY_BASE = 0x9E3779B97F4A7C15 | 1  # odd, so invertible modulo 2^64
KEY_BASE_INVERSE = pow(KEY_BASE, -1, 2**64)
KEY_LENGTH_MIX = 0xD6E8FEB86659FD93


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) modulo 2^64 (uint64 products wrap), from a table kept for
    the process and grown by doubling (each doubling one vector multiply)."""
    table = _POWERS.get(base)
    if table is None or len(table) < n:
        size = max(n, 2 * len(table) if table is not None else 1 << 16)
        table = np.ones(1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            while len(table) < size:  # doubling: [p^0..p^(k-1)] + p^k * [p^0..p^(k-1)]
                step = np.uint64(pow(base, len(table), 2**64))
                table = np.concatenate((table, table * step))
        _POWERS[base] = table
    return table[:n]


def _token_keys(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A 64-bit key per token ``buf[start:end]``: the polynomial sum(byte_i * B^i)
    modulo 2^64 over the token's own positions i = 0, 1, ..., from prefix sums over
    the whole buffer (a few vector passes, however many tokens), mixed with the length.
    A cache key, not a proof of equality: unrelated tokens collide with probability
    about n^2 / 2^65 (n distinct tokens); crafted pairs of 2000+ bytes can collide."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        prefix = np.empty(len(buf) + 1, dtype=np.uint64)
        prefix[0] = 0
        np.multiply(buf, _powers(KEY_BASE, len(buf)), out=prefix[1:], dtype=np.uint64)
        np.cumsum(prefix[1:], out=prefix[1:])
        shifted = (prefix[ends] - prefix[starts]) * _powers(KEY_BASE_INVERSE, len(buf))[starts]
        return shifted ^ ((ends - starts).astype(np.uint64) * np.uint64(KEY_LENGTH_MIX))


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``values`` at each of ``keys`` in the sorted key array, -1 where absent (binary
    search, all keys at once)."""
    if len(sorted_keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    order = np.argsort(keys)  # sorted queries search far faster (each starts near the last)
    at = np.empty(len(keys), dtype=np.int64)
    at[order] = np.minimum(np.searchsorted(sorted_keys, keys[order]), len(sorted_keys) - 1)
    return np.where(sorted_keys[at] == keys, values[at], -1)


def _wrapped(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every token ``buf[start:end]`` as fastText hashes it, ``<token>``, concatenated,
    and the token index of every output byte."""
    widths = ends - starts + 2
    offsets = np.cumsum(widths) - widths
    owner = np.repeat(np.arange(len(starts)), widths)
    source = np.arange(len(owner)) - offsets[owner] + starts[owner] - 1  # "<" and ">": overwritten
    out = buf[np.clip(source, 0, len(buf) - 1)]
    out[offsets], out[offsets + widths - 1] = ord("<"), ord(">")
    return out, owner


def _segment_sums(table: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """``table[indices[indptr[i]:indptr[i+1]]].sum(0)`` for every segment i, as one
    sparse-matrix product (no gathered copy of the rows: 8x faster here than
    ``np.add.reduceat`` over ``table[indices]``)."""
    ones = np.ones(len(indices), dtype=table.dtype)
    incidence = csr_array((ones, indices.astype(np.int32), indptr.astype(np.int32)),
                          shape=(len(indptr) - 1, len(table)))
    return incidence @ table


def _pair_sums(table: np.ndarray, owners: np.ndarray, indices: np.ndarray, n_owners: int) -> np.ndarray:
    """``table[indices]`` summed per owner, for (owner, index) pairs in any order."""
    ones = np.ones(len(indices), dtype=table.dtype)
    return coo_array((ones, (owners, indices)), shape=(n_owners, len(table))).tocsr() @ table


EOS_KEY = int(_token_keys(np.frombuffer(b"</s>", dtype=np.uint8), np.array([0]), np.array([4]))[0])


class Unsupported(Exception):
    """A model this implementation does not cover; use the fastText bindings."""


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.off, self.path = data, 0, path

    def take(self, fmt: str) -> tuple:
        try:
            values = struct.unpack_from("<" + fmt, self.data, self.off)
        except struct.error:
            raise ValueError(f"{self.path}: truncated fastText model file") from None
        self.off += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.off + size > len(self.data):
            raise ValueError(f"{self.path}: truncated fastText model file")
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.off)
        self.off += size
        return out

    def cstring(self) -> bytes:
        end = self.data.find(b"\0", self.off)
        if end < 0:
            raise ValueError(f"{self.path}: truncated fastText model file")
        out = self.data[self.off:end]
        self.off = end + 1
        return out


def _product_quantizer(r: _Reader) -> tuple[int, int, int, int, np.ndarray]:
    dim, nsubq, dsub, lastdsub = r.take("iiii")
    return dim, nsubq, dsub, lastdsub, r.array("<f4", dim * KSUB).astype(np.float64)


def _decode(codes: np.ndarray, pq: tuple[int, int, int, int, np.ndarray]) -> np.ndarray:
    """Rows of a product-quantised matrix: sub-vector m of row i is centroid codes[i, m]
    of sub-quantizer m (the last one may be narrower, ``lastdsub``)."""
    dim, nsubq, dsub, lastdsub, centroids = pq
    rows = np.empty((codes.shape[0], dim), dtype=np.float64)
    for m in range(nsubq):
        width = lastdsub if m == nsubq - 1 else dsub
        table = centroids[m * KSUB * dsub: m * KSUB * dsub + KSUB * width].reshape(KSUB, width)
        rows[:, m * dsub: m * dsub + width] = table[codes[:, m]]
    return rows


def _matrix(r: _Reader, quantized: bool) -> np.ndarray:
    if not quantized:
        m, n = r.take("qq")
        return r.array("<f4", m * n).astype(np.float64).reshape(m, n)
    (qnorm,) = r.take("?")
    m, n, codesize = r.take("qqi")
    codes = r.array("u1", codesize)
    pq = _product_quantizer(r)
    rows = _decode(codes.reshape(m, -1), pq)
    if qnorm:
        norm_codes = r.array("u1", m)
        norms = _product_quantizer(r)[4]
        rows *= norms[norm_codes][:, None]
    return rows


def _hs_tree(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """fastText's Huffman tree over labels (``buildTree``; leaves 0..n-1 sorted by count,
    descending; inner nodes n..2n-2, the root last): the left and right child of
    every inner node, indexed by node - n."""
    n = len(counts)
    total = 2 * n - 1
    count = [int(c) for c in counts] + [10**15] * (n - 1)
    left, right = np.zeros(max(n - 1, 0), dtype=np.int64), np.zeros(max(n - 1, 0), dtype=np.int64)
    leaf, node = n - 1, n
    for i in range(n, total):
        pick = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                pick.append(leaf)
                leaf -= 1
            else:
                pick.append(node)
                node += 1
        count[i] = count[pick[0]] + count[pick[1]]
        left[i - n], right[i - n] = pick
    return left, right


class FastTextNumpy:
    """A supervised fastText model (``.bin`` or quantised ``.ftz``) for top-1 prediction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        r = _Reader(self.path.read_bytes(), self.path)
        magic, version = r.take("ii")
        if magic != MAGIC:
            raise ValueError(f"{self.path} is not a fastText model file (bad magic number)")
        if version != VERSION:
            raise Unsupported(f"fastText file format version {version}")
        (self.dim, _ws, _epoch, _min_count, _neg, self.word_ngrams, self.loss, model, self.bucket,
         self.minn, self.maxn, _lr_update, _t) = r.take("12id")
        if model != MODEL_SUPERVISED:
            raise Unsupported("not a supervised model")
        if self.loss not in (LOSS_HS, LOSS_SOFTMAX) or self.word_ngrams > 1:
            raise Unsupported(f"loss {self.loss} / wordNgrams {self.word_ngrams}")
        size, self.nwords, nlabels, _ntokens, prune_size = r.take("iiiqq")
        words, label_counts, self.labels = {}, [], []
        for i in range(size):
            word = r.cstring()
            count, kind = r.take("qb")
            if kind == 0:
                words[word] = i
            else:
                self.labels.append(word[len(LABEL_PREFIX):].decode("utf-8", "replace"))
                label_counts.append(count)
        # A quantised model keeps only some n-gram buckets: bucket -> input row, -1 if
        # dropped (``pushHash``); None when nothing was pruned (row = nwords + bucket).
        self.prune_size = prune_size  # -1: not pruned; 0: no n-gram rows kept
        self.bucket_row: np.ndarray | None = None
        if prune_size >= 0:
            pruned = r.array("<i4", 2 * prune_size).reshape(-1, 2).astype(np.int64)
            self.bucket_row = np.full(self.bucket, -1, dtype=np.int32)  # int32: half the cache misses
            self.bucket_row[pruned[:, 0]] = self.nwords + pruned[:, 1]
        (quant_input,) = r.take("?")
        # float32 like fastText; for a quantised row, float32(norm * centroid) is exactly
        # the product fastText adds (a product of two floats is exact in float64).
        self.input = _matrix(r, quant_input).astype(np.float32)
        (quant_output,) = r.take("?")
        self.output = _matrix(r, quant_input and quant_output)
        if len(self.labels) != nlabels:
            raise ValueError(f"{self.path}: dictionary has {len(self.labels)} labels, header says {nlabels}")
        if self.loss == LOSS_HS:
            self.left_child, self.right_child = _hs_tree(label_counts)
        # Vocabulary by token key (_token_keys), for lookups of many tokens at once.
        word_bytes = list(words)
        word_buf = np.frombuffer(b"".join(word_bytes), dtype=np.uint8)
        word_ends = np.cumsum([len(w) for w in word_bytes], dtype=np.int64)
        word_keys = _token_keys(word_buf, word_ends - [len(w) for w in word_bytes], word_ends)
        order = np.argsort(word_keys)
        self._word_keys = word_keys[order]
        self._word_ids = np.fromiter(words.values(), dtype=np.int64, count=len(words))[order]
        if len(np.unique(self._word_keys)) != len(self._word_keys):
            raise Unsupported("two vocabulary words share a 64-bit token key")
        # Token cache, as one tuple replaced whole (threads read it without the lock):
        # sorted token keys, the row of each in the vectors/counts arrays (sum of the
        # token's input rows, their number). Row 0: a line's end, i.e. the </s>
        # fastText reads at the newline (its row if </s> is in the vocabulary); row 1:
        # nothing.
        eos_id = words.get(EOS, -1)
        vectors = np.zeros((2, self.dim), dtype=np.float32)
        counts = np.zeros(2, dtype=np.int64)
        if eos_id >= 0:
            vectors[0], counts[0] = self.input[eos_id], 1
        self._cache = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), vectors, counts)
        self._lock = threading.Lock()  # serialises adding to the cache

    # ------------------------------------------------------------ tokens -> rows

    def _ngram_rows(self, buf: np.ndarray, byte_tok: np.ndarray, n_tokens: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(token, input row) of every character n-gram of ``<token>`` that the model
        keeps (``computeSubwords`` + ``pushHash``), for all tokens at once: ``buf`` holds
        the tokens already wrapped in "<" ">", ``byte_tok`` the token of each byte. One
        pair of arrays per n-gram length."""
        if n_tokens == 0 or self.maxn <= 0 or self.prune_size == 0:
            return []
        starts = np.flatnonzero((buf & 0xC0) != 0x80)  # first byte of every UTF-8 character
        char_tok = byte_tok[starts]
        char_end = np.append(starts[1:], len(buf))  # a character's bytes: [start, next start)
        # the last character of each character's token (its ">")
        last_char = (np.cumsum(np.bincount(char_tok, minlength=n_tokens)) - 1)[char_tok]
        first_char = np.r_[True, char_tok[1:] != char_tok[:-1]]  # the token's "<"
        char_len = char_end - starts
        signed = buf.astype(np.int8).astype(np.int32).view(np.uint32)  # uint32(int8_t(byte))
        prime = np.uint32(FNV_PRIME)
        n_chars = len(starts)
        longest = np.minimum(last_char - np.arange(n_chars) + 1, self.maxn)  # longest n-gram from each char
        first_byte = signed[starts]
        # Bytes after the first of multi-byte characters: (character, value) per position.
        tails = []
        extra = 1
        multi = np.flatnonzero(char_len > 1)
        while multi.size:
            tails.append((multi, signed[starts[multi] + extra]))
            extra += 1
            multi = multi[char_len[multi] > extra]
        # The n-gram of length n from character c continues the hash of length n - 1 with
        # character c + n - 1; every start is carried along (those past their token's end
        # hold garbage that is never emitted), so each step is whole-array arithmetic.
        hashes = np.full(n_chars, FNV_OFFSET, dtype=np.uint32)
        out = []
        for n in range(1, self.maxn + 1):
            shift = n - 1
            hashes[: n_chars - shift] ^= first_byte[shift:]
            hashes *= prime
            for chars, values in tails:  # the appended character's further bytes
                c = chars[chars >= shift]
                hashes[c - shift] = (hashes[c - shift] ^ values[chars >= shift]) * prime
            if n >= self.minn:
                emit = longest >= n
                if n == 1:  # a lone "<" or ">" is no n-gram
                    emit &= ~(first_char | (np.arange(n_chars) == last_char))
                bucket = (hashes[emit] % np.uint32(self.bucket)).astype(np.int64)
                tok = char_tok[emit]
                if self.bucket_row is None:
                    out.append((tok, self.nwords + bucket))
                else:
                    rows = self.bucket_row[bucket]
                    kept = rows >= 0
                    out.append((tok[kept], rows[kept]))
        return out

    def _token_rows(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, keys: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Sum of input rows and their number for each token ``buf[start:end]`` (key
        ``keys``, from :func:`_token_keys`) as ``addSubwords`` does: a known word is its
        own row plus its n-grams (``</s>``: its row only); an unknown token its
        n-grams; an unknown ``__label__`` token nothing."""
        n = len(starts)
        wids = _lookup(self._word_keys, self._word_ids, keys)
        known = wids >= 0
        vectors = np.zeros((n, self.dim), dtype=np.float32)
        vectors[known] = self.input[wids[known]]
        counts = known.astype(np.int64)
        lengths = ends - starts
        is_label = ~known & (lengths >= len(LABEL_PREFIX))
        for j, byte in enumerate(LABEL_PREFIX):  # starts with __label__
            is_label[is_label] &= buf[starts[is_label] + j] == byte
        with_ngrams = np.flatnonzero(~is_label & (keys != EOS_KEY))
        if with_ngrams.size and self.maxn > 0 and self.prune_size != 0:
            wrapped, byte_tok = _wrapped(buf, starts[with_ngrams], ends[with_ngrams])
            levels = self._ngram_rows(wrapped, byte_tok, with_ngrams.size)
            if levels:
                tok = np.concatenate([t for t, _ in levels])
                rows = np.concatenate([r for _, r in levels])
                vectors[with_ngrams] += _pair_sums(self.input, tok, rows, with_ngrams.size)
                counts[with_ngrams] += np.bincount(tok, minlength=with_ngrams.size)
        return vectors, counts

    def _rows(self, keys: np.ndarray, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cache rows for distinct token ``keys`` (token i is ``buf[starts[i]:ends[i]]``),
        and the cache's vectors and counts holding them. New tokens' rows are computed
        outside the lock (threads share the cache) and added under it. Arrays are only
        ever replaced by longer ones, so a row once handed out stays valid in every
        later array."""
        cache_keys, cache_rows, vectors, counts = self._cache
        rows = _lookup(cache_keys, cache_rows, keys)
        new = np.flatnonzero(rows < 0)
        if new.size:
            new_vectors, new_counts = self._token_rows(buf, starts[new], ends[new], keys[new])
            with self._lock:
                cache_keys, cache_rows, vectors, counts = self._cache
                base = len(counts)
                rows[new] = np.arange(base, base + new.size)
                # another thread may have added some of these meanwhile: both rows hold
                # the same sums, and a lookup finds one of them
                merged = np.concatenate([cache_keys, keys[new]])
                order = np.argsort(merged, kind="stable")
                vectors = np.concatenate([vectors, new_vectors])
                counts = np.concatenate([counts, new_counts])
                self._cache = (merged[order], np.concatenate([cache_rows, rows[new]])[order], vectors, counts)
        return rows, vectors, counts

    # ------------------------------------------------------------ prediction

    def predict(self, lines: Sequence[str], threads: int = 1) -> tuple[list[str], np.ndarray]:
        """Top-1 label (without ``__label__``) and probability for each line, as
        ``fasttext`` ``model.predict(lines, k=1)``; a line with no known input gets
        label "" and probability 0 (fastText returns no label there). ``threads``
        batches run at once (numpy releases the GIL for most of the work)."""
        starts = range(0, len(lines), CHUNK_LINES)
        chunks = [lines[i:i + CHUNK_LINES] for i in starts]
        # One BLAS thread: the products here are small (labels x dim x lines), and
        # OpenBLAS's extra threads only spin beside ours (measured: 2x the CPU time).
        with threadpool_limits(limits=1, user_api="blas"):
            if threads > 1 and len(chunks) > 1:
                with ThreadPoolExecutor(min(threads, len(chunks))) as pool:
                    done = list(pool.map(self._predict_batch, chunks))
            else:
                done = [self._predict_batch(chunk) for chunk in chunks]
        labels = [label for batch_labels, _ in done for label in batch_labels]
        probs = np.concatenate([p for _, p in done]) if done else np.zeros(0)
        return labels, probs

    def _predict_batch(self, lines: Sequence[str]) -> tuple[list[str], np.ndarray]:
        hidden, counts = self._hidden(lines)
        empty = counts == 0
        hidden /= np.where(empty, 1, counts)[:, None]
        best, score = self._best(hidden)
        names = self.labels
        return (["" if e else names[b] for b, e in zip(best.tolist(), empty.tolist())],
                np.where(empty, 0.0, np.exp(score)))

    def _hidden(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Sum of input rows and their number per line, without a Python object per
        token: the lines are joined by newlines and encoded once, tokens are the runs
        between separator bytes, and each token is keyed by a 64-bit hash of its bytes,
        computed for all tokens at once."""
        # "\n" joins the lines (a newline inside a line is a space to fastText's predict)
        text = "\n".join(lines) + "\n"
        if text.count("\n") != len(lines):  # some line has a newline of its own: a space to fastText
            text = "\n".join(s.replace("\n", " ") for s in lines) + "\n"
        data = text.encode("utf-8", "surrogatepass")
        buf = np.frombuffer(data, dtype=np.uint8)
        candidates = np.flatnonzero(buf <= SEPARATOR_MAX)
        separators = candidates[SEPARATOR[buf[candidates]]]  # the last one: the final "\n"
        before = np.concatenate(([-1], separators[:-1]))
        has_token = separators - before > 1  # a token: the bytes between two separators
        starts, ends = before[has_token] + 1, separators[has_token]
        line_of = np.searchsorted(separators[buf[separators] == LINE_BYTE], starts)
        keys = _token_keys(buf, starts, ends)
        codes, distinct = pd.factorize(keys)
        first = np.empty(len(distinct), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]  # first occurrence of each distinct token
        distinct_rows, vectors, counts = self._rows(distinct, buf, starts[first], ends[first])
        rows = distinct_rows[codes]
        literal_eos = keys == EOS_KEY
        if literal_eos.any():  # a </s> token ends its line for fastText (the line end adds </s>)
            first_eos = np.full(len(lines), len(rows))
            np.minimum.at(first_eos, line_of[literal_eos], np.flatnonzero(literal_eos))
            rows = np.where(np.arange(len(rows)) >= first_eos[line_of], 1, rows)  # row 1: nothing
        line_start = np.searchsorted(line_of, np.arange(len(lines) + 1))  # tokens are in line order
        sums = _segment_sums(vectors, rows, line_start).astype(np.float64)
        numbers = np.diff(np.concatenate(([0], np.cumsum(counts[rows])))[line_start])
        return sums + vectors[0], numbers + counts[0]  # row 0: the line's </s>

    def _scores(self, hidden: np.ndarray) -> np.ndarray:
        """Every label's fastText score, log(p + 1e-5), as a labels x lines array in the
        dtype of ``hidden``. For ``hs`` the score of a node is its parent's plus
        log(sigmoid + 1e-5) of the branch taken (``dfs``), summed from the root down in
        fastText's order; leaves are the labels."""
        n_labels = len(self.labels)
        dtype = hidden.dtype
        eps = dtype.type(LOG_EPS)
        if self.loss == LOSS_HS:
            if n_labels == 1:
                return np.zeros((1, len(hidden)), dtype=dtype)
            with np.errstate(over="ignore"):  # exp overflow -> inf -> sigmoid 0, as wanted
                f = 1.0 / (1.0 + np.exp(-(self.output[: n_labels - 1].astype(dtype) @ hidden.T)))
            go_right, go_left = np.log(f + eps), np.log(dtype.type(1.0) - f + eps)
            node = np.empty((2 * n_labels - 1, len(hidden)), dtype=dtype)
            node[-1] = 0.0
            for i in range(n_labels - 2, -1, -1):  # inner nodes, root first (parents come after children)
                here = node[n_labels + i]
                np.add(here, go_left[i], out=node[self.left_child[i]])
                np.add(here, go_right[i], out=node[self.right_child[i]])
            return node[:n_labels]
        logits = self.output[:n_labels].astype(dtype) @ hidden.T
        logits -= logits.max(axis=0, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=0, keepdims=True)
        return np.log(p + eps)

    def _best(self, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top label and its score. Scored in float32 (as fastText itself); the rare
        lines whose two best labels are within ``TIE_GAP`` are scored again in float64,
        so a rounding difference cannot decide the label."""
        scores = self._scores(hidden.astype(np.float32))  # labels x lines
        best = scores.argmax(axis=0)  # the first of equal scores, as fastText's strict ">"
        cols = np.arange(scores.shape[1])
        top32 = scores[best, cols]
        scores[best, cols] = -np.inf  # the runner-up is the best of the rest
        second = scores.max(axis=0)
        top = top32.astype(np.float64)
        if scores.shape[0] > 1:
            close = np.flatnonzero(top - second < TIE_GAP)
            if close.size:
                exact = self._scores(hidden[close].astype(np.float64))
                best[close] = exact.argmax(axis=0)
                top[close] = exact[best[close], np.arange(close.size)]
        return best, top
