"""BLEU, chrF, chrF++ and TER with sacrebleu's definitions and signatures.

BLEU and chrF statistics come from the vectorized counter in ``ngram_stats`` (identical
to sacrebleu's, see the tests); sacrebleu turns statistics into scores and writes the
signature, so every number here is a sacrebleu number. TER is sacrebleu's own code.

Each metric's ``aggregate`` turns summed statistics into corpus scores for thousands
of resamples at once (``bleu_from_stats``, ``chrf_from_stats``, ``ter_from_stats``):
the same float operations as sacrebleu's ``_compute_score_from_stats``, vectorized.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping, Sequence

import numpy as np
from sacrebleu.metrics import BLEU, CHRF, TER

from mtbench.langs import bleu_tokenizer
from mtbench.metrics.base import Metric, MetricResult, ScoringContext
from mtbench.metrics.fast_tokenizers import FAST_TOKENIZERS, SEPARATOR, tokenize_13a, tokenize_13a_joined
from mtbench.metrics.ngram_stats import encode, encode_separated, encode_words, match_counts

# sacrebleu warns when a tokenizer other than its favourite is chosen for zh/ja; the
# choice is deliberate here (scoring presets) and recorded in the signature.
logging.getLogger("sacrebleu").setLevel(logging.ERROR)


def _signature(metric: Any, n_refs: int) -> str:
    metric.num_refs = n_refs
    return metric.get_signature().format()


class Bleu(Metric):
    name = "bleu"
    higher_is_better = True

    def __init__(self, tokenize: str | None = None, lowercase: bool = False, smooth_method: str = "exp",
                 smooth_value: float | None = None, max_ngram_order: int = 4) -> None:
        self.tokenize = tokenize
        self.lowercase = lowercase
        self.smooth_method = smooth_method
        self.smooth_value = smooth_value
        self.max_ngram_order = max_ngram_order

    def tokenizer_for(self, ctx: ScoringContext) -> str:
        return self.tokenize or bleu_tokenizer(ctx.tgt_lang, ctx.preset)

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        return {"tokenize": self.tokenize if ctx is None else self.tokenizer_for(ctx), "lowercase": self.lowercase,
                "smooth_method": self.smooth_method, "smooth_value": self.smooth_value,
                "max_ngram_order": self.max_ngram_order}

    def _sacrebleu(self, ctx: ScoringContext, effective_order: bool = False) -> BLEU:
        return BLEU(tokenize=self.tokenizer_for(ctx), lowercase=self.lowercase, smooth_method=self.smooth_method,
                    smooth_value=self.smooth_value, max_ngram_order=self.max_ngram_order,
                    effective_order=effective_order)

    def segment_statistics(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> np.ndarray:
        """(S, L, 2 + 2 * order) statistics, as sacrebleu's BLEU computes them."""
        bleu = self._sacrebleu(ctx)
        refs = list(ctx.references.values())
        fast = FAST_TOKENIZERS.get(self.tokenizer_for(ctx))
        if fast is not None:  # same output as sacrebleu's tokenizer, several times faster

            def prep(line: str) -> str:
                return fast((line.lower() if self.lowercase else line).rstrip())
        else:
            prep = bleu._preprocess_segment

        order = self.max_ngram_order
        docs = [*refs, *hypotheses.values()]
        joined = [tokenize_13a_joined(doc, self.lowercase) for doc in docs] if fast is tokenize_13a else []
        if joined and None not in joined:  # a whole document through 13a at once (same tokens)
            enc = encode_separated(f" {SEPARATOR} ".join(joined), len(docs), len(docs[0]))
        else:
            enc = encode_words([[prep(x) for x in doc] for doc in docs])
        correct = match_counts(enc, len(refs), order, ref_mode="max")[0]  # (S, L, order)
        hyp_len = enc.lengths[len(refs):]  # (S, L)
        ref_lens = enc.lengths[: len(refs)]  # (R, L)
        # closest reference length, ties broken towards the shorter one
        diff = np.abs(hyp_len[None, :, :] - ref_lens[:, None, :])  # (R, S, L)
        pick = np.argmin(diff * (int(ref_lens.max(initial=0)) + 1) + ref_lens[:, None, :], axis=0)
        ref_len = np.take_along_axis(np.broadcast_to(ref_lens[:, None, :], diff.shape), pick[None], axis=0)[0]
        total = np.stack([np.maximum(hyp_len - n + 1, 0) for n in range(1, order + 1)], axis=-1)
        return np.concatenate([hyp_len[..., None], ref_len[..., None], correct, total], axis=-1)

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        stats = self.segment_statistics(ctx, hypotheses)
        corpus_metric = self._sacrebleu(ctx)
        signature = _signature(corpus_metric, len(ctx.references))
        out = {}
        for (name, _), sys_stats in zip(hypotheses.items(), stats):
            corpus = corpus_metric._compute_score_from_stats([int(x) for x in sys_stats.sum(axis=0)])
            segs = sentence_bleu_from_stats(sys_stats, self.smooth_method, self.smooth_value).tolist()
            out[name] = MetricResult(self.name, corpus.score, signature, segs, sys_stats,
                                     {"bp": corpus.bp, "sys_len": corpus.sys_len, "ref_len": corpus.ref_len,
                                      "precisions": list(corpus.precisions)})
        return out

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        return bleu_from_stats(stats, self.smooth_method, self.smooth_value)

    def verbose(self, details: Mapping[str, Any]) -> str | None:
        """sacrebleu's verbose_score: ``p1/p2/p3/p4 (BP = ... ratio = ... hyp_len = ... ref_len = ...)``."""
        if not {"precisions", "bp", "sys_len", "ref_len"} <= set(details):
            return None
        prec = "/".join(f"{p:.1f}" for p in details["precisions"])
        ratio = details["sys_len"] / details["ref_len"] if details["ref_len"] else 0
        return (f"{prec} (BP = {details['bp']:.3f} ratio = {ratio:.3f} hyp_len = {details['sys_len']:d} "
                f"ref_len = {details['ref_len']:d})")


class Chrf(Metric):
    higher_is_better = True

    def __init__(self, char_order: int = 6, word_order: int = 0, beta: int = 2, lowercase: bool = False,
                 whitespace: bool = False, eps_smoothing: bool = False) -> None:
        self.char_order = char_order
        self.word_order = word_order
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.eps_smoothing = eps_smoothing
        self.name = "chrf++" if word_order == 2 and char_order == 6 else "chrf" if word_order == 0 else f"chrf-w{word_order}"

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        return {"char_order": self.char_order, "word_order": self.word_order, "beta": self.beta,
                "lowercase": self.lowercase, "whitespace": self.whitespace, "eps_smoothing": self.eps_smoothing}

    def _sacrebleu(self) -> CHRF:
        return CHRF(char_order=self.char_order, word_order=self.word_order, beta=self.beta, lowercase=self.lowercase,
                    whitespace=self.whitespace, eps_smoothing=self.eps_smoothing)

    def segment_statistics(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> np.ndarray:
        """(S, L, 3 * (char_order + word_order)) statistics with sacrebleu's choice of
        the best reference per segment."""
        chrf = self._sacrebleu()
        docs = [*ctx.references.values(), *hypotheses.values()]
        if self.lowercase:  # sacrebleu's only preprocessing of a chrF segment
            docs = [[chrf._preprocess_segment(x) for x in d] for d in docs]
        refs, hyps = docs[: len(ctx.references)], docs[len(ctx.references):]
        n_refs = len(refs)
        # sacrebleu removes whitespace from the character n-grams unless told not to
        chars = docs if self.whitespace else [["".join(x.split()) for x in d] for d in docs]
        parts = [self._triples(encode(chars, as_chars=True), n_refs, self.char_order)]
        if self.word_order > 0:  # words never hold whitespace: joined with spaces, they split back
            word_docs = [[" ".join(chrf._remove_punctuation(x)) for x in d] for d in refs + hyps]
            parts.append(self._triples(encode_words(word_docs), n_refs, self.word_order))
        stats = np.concatenate(parts, axis=-1)  # (R, S, L, 3 * orders)
        if n_refs == 1:
            return stats[0]
        # Several references: sacrebleu keeps, per segment, the first reference with the
        # highest sentence chrF; the f-scores below are bit-identical to its own.
        f = chrf_f_scores(stats, self.beta, self.eps_smoothing)  # (R, S, L)
        best = np.argmax(f, axis=0)  # first maximum, as sacrebleu's strict `>` keeps
        return np.take_along_axis(stats, best[None, :, :, None], axis=0)[0]

    @staticmethod
    def _triples(enc: Any, n_refs: int, order: int) -> np.ndarray:
        matches = match_counts(enc, n_refs, order, ref_mode="each")  # (R, S, L, order)
        hyp_len = enc.lengths[n_refs:]  # (S, L)
        ref_len = enc.lengths[:n_refs]  # (R, L)
        out = np.zeros(matches.shape[:3] + (3 * order,), dtype=np.int64)
        for n in range(1, order + 1):
            ref_count = np.maximum(ref_len - n + 1, 0)[:, None, :]  # (R, 1, L)
            hyp_count = np.maximum(hyp_len - n + 1, 0)[None, :, :]
            out[..., 3 * (n - 1)] = np.where(ref_count > 0, hyp_count, 0)
            out[..., 3 * (n - 1) + 1] = np.broadcast_to(ref_count, matches.shape[:3])
            out[..., 3 * (n - 1) + 2] = matches[..., n - 1]
        return out

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        stats = self.segment_statistics(ctx, hypotheses)
        chrf = self._sacrebleu()
        signature = _signature(chrf, len(ctx.references))
        out = {}
        for (name, _), sys_stats in zip(hypotheses.items(), stats):
            corpus = chrf._compute_score_from_stats([int(x) for x in sys_stats.sum(axis=0)])
            segs = chrf_f_scores(sys_stats, self.beta, self.eps_smoothing).tolist()
            out[name] = MetricResult(self.name, corpus.score, signature, segs, sys_stats)
        return out

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        return chrf_from_stats(stats, self.beta, self.eps_smoothing)


def chrf_f_scores(stats: np.ndarray, beta: int = 2, eps_smoothing: bool = False) -> np.ndarray:
    """Sentence chrF for every row of (..., 3 * orders) statistics.

    The same float operations in the same order as sacrebleu's ``CHRF._compute_f_score``
    (only +, -, *, / on float64, which numpy rounds exactly like Python), so the
    results are bit-identical to calling it once per segment, ~50x faster."""
    eps = 1e-16
    factor = beta**2
    n_hyp, n_ref, n_match = stats[..., 0::3], stats[..., 1::3], stats[..., 2::3]
    order = n_hyp.shape[-1]
    shape = n_hyp.shape[:-1]
    score = np.zeros(shape)
    avg_prec = np.zeros(shape)
    avg_rec = np.zeros(shape)
    effective_order = np.zeros(shape, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(order):
            h, r, m = n_hyp[..., i], n_ref[..., i], n_match[..., i]
            prec = np.where(h > 0, m / h, eps)
            rec = np.where(r > 0, m / r, eps)
            denom = factor * prec + rec
            score = score + np.where(denom > 0, (1 + factor) * prec * rec / denom, eps)
            both = (h > 0) & (r > 0)
            avg_prec = np.where(both, avg_prec + prec, avg_prec)
            avg_rec = np.where(both, avg_rec + rec, avg_rec)
            effective_order += both
        if eps_smoothing:
            return 100 * score / order
        avg_prec = np.where(effective_order > 0, avg_prec / effective_order, 0.0)
        avg_rec = np.where(effective_order > 0, avg_rec / effective_order, 0.0)
        f = (1 + factor) * avg_prec * avg_rec
        f = f / ((factor * avg_prec) + avg_rec)
        return np.where(avg_prec + avg_rec != 0, 100 * f, 0.0)


class Ter(Metric):
    name = "ter"
    higher_is_better = False

    def __init__(self, normalized: bool = False, no_punct: bool = False, asian_support: bool = False,
                 case_sensitive: bool = False) -> None:
        self.kwargs = {"normalized": normalized, "no_punct": no_punct, "asian_support": asian_support,
                       "case_sensitive": case_sensitive}

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        return dict(self.kwargs)

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        refs = [list(r) for r in ctx.references.values()]
        ter = TER(**self.kwargs, references=refs)
        signature = ter.get_signature().format()
        out = {}
        for name, hyps in hypotheses.items():
            stats = ter._extract_corpus_statistics(list(hyps), None)
            corpus = ter._compute_score_from_stats([sum(col) for col in zip(*stats)])
            segs = [ter._compute_score_from_stats(list(r)).score for r in stats]
            out[name] = MetricResult(self.name, corpus.score, signature, segs, [list(r) for r in stats])
        return out

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        return ter_from_stats(stats)


def chrf_plus_plus() -> Chrf:
    """chrF++ (Popović 2017): character 6-grams plus word 1- and 2-grams."""
    return Chrf(word_order=2)


# --------------------------------------------------------------------------------------
# Corpus aggregators: summed statistics (..., k) -> scores (...)
# --------------------------------------------------------------------------------------

_LOG_ZERO = -9999999999.0  # sacrebleu's my_log(0): drives exp() to exactly 0
_SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1.0, "exp": None}


def bleu_from_stats(stats: np.ndarray, smooth_method: str = "exp", smooth_value: float | None = None) -> np.ndarray:
    """Corpus BLEU for every row of summed (..., 2 + 2 * order) statistics
    [hyp_len, ref_len, correct_1..order, total_1..order].

    Mirrors ``sacrebleu.metrics.BLEU.compute_bleu`` (brevity penalty, smoothing,
    the early 0 when nothing matches, the log floor for zero precisions) with the same
    float operations, so it agrees with ``BLEU()._compute_score_from_stats`` to
    rounding; vectorized because it is called for 1000s of resamples at once."""
    if smooth_method not in _SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}: choose one of {sorted(_SMOOTH_DEFAULTS)}")
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth_method]
    stats = np.asarray(stats, dtype=np.float64)
    k = stats.shape[-1]
    if k < 4 or k % 2:
        raise ValueError(f"BLEU statistics need 2 + 2 * order columns, got {k}")
    order = (k - 2) // 2
    sys_len, ref_len = stats[..., 0], stats[..., 1]
    correct, total = stats[..., 2 : 2 + order], stats[..., 2 + order :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
        any_match = np.any(correct != 0, axis=-1)
        log_sum = np.zeros(sys_len.shape)
        stopped = np.zeros(sys_len.shape, dtype=bool)  # an order with no n-grams: sacrebleu breaks
        smooth = np.ones(sys_len.shape)
        for n in range(order):
            c, t = correct[..., n], total[..., n]
            if smooth_method == "add-k" and n > 0:
                c, t = c + smooth_value, t + smooth_value
            stopped |= t == 0
            zero = c == 0
            if smooth_method == "exp":
                smooth = np.where(zero & ~stopped, smooth * 2, smooth)
                p_zero = 100.0 / (smooth * t)
            elif smooth_method == "floor":
                p_zero = 100.0 * smooth_value / t
            else:
                p_zero = np.zeros_like(t)
            p = np.where(stopped, 0.0, np.where(zero, p_zero, 100.0 * c / t))
            log_sum = log_sum + np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), _LOG_ZERO)
        score = bp * np.exp(log_sum / order)
    return np.where(any_match, score, 0.0)


def sentence_bleu_from_stats(stats: np.ndarray, smooth_method: str = "exp",
                             smooth_value: float | None = None) -> np.ndarray:
    """Sentence BLEU of every row of (L, 2 + 2 * order) statistics, bit-identical to
    ``BLEU(effective_order=True)._compute_score_from_stats`` per row.

    numpy does the +, -, *, / (float64, rounded as Python rounds them, in the same
    order); the logs and exps go through ``math`` (the C library sacrebleu's go
    through), since numpy's own may differ in the last bit. Effective order: the
    orders up to the first one without n-grams count, as in sacrebleu."""
    if smooth_method not in _SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}: choose one of {sorted(_SMOOTH_DEFAULTS)}")
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth_method]
    stats = np.asarray(stats, dtype=np.float64).reshape(len(stats), -1)
    order = (stats.shape[1] - 2) // 2
    sys_len, ref_len = stats[:, 0], stats[:, 1]
    correct, total = stats[:, 2 : 2 + order].copy(), stats[:, 2 + order :].copy()
    any_match = np.any(correct != 0, axis=1)  # sacrebleu's early 0, checked before add-k
    if smooth_method == "add-k":
        correct[:, 1:] += smooth_value
        total[:, 1:] += smooth_value
    counted = np.cumsum(total == 0, axis=1) == 0  # sacrebleu stops at the first order without n-grams
    eff = counted.sum(axis=1)
    precision = np.zeros_like(correct)
    smooth = np.ones(len(stats))
    with np.errstate(divide="ignore", invalid="ignore"):
        for n in range(order):
            zero = correct[:, n] == 0
            if smooth_method == "exp":
                smooth = np.where(zero & counted[:, n], smooth * 2, smooth)
                p_zero = 100.0 / (smooth * total[:, n])
            elif smooth_method == "floor":
                p_zero = 100.0 * smooth_value / total[:, n]
            else:
                p_zero = np.zeros(len(stats))
            precision[:, n] = np.where(counted[:, n], np.where(zero, p_zero, 100.0 * correct[:, n] / total[:, n]), 0.0)
    scored = np.flatnonzero(any_match)
    out = np.zeros(len(stats))
    if not len(scored):
        return out
    precision = precision[scored]
    logs = np.full(precision.shape, _LOG_ZERO)
    nonzero = precision != 0.0
    logs[nonzero] = list(map(math.log, precision[nonzero].tolist()))
    log_sum = np.zeros(len(scored))
    for n in range(order):  # Python's sum: left to right, only the counted orders (adding 0.0 is exact)
        log_sum = log_sum + np.where(counted[scored, n], logs[:, n], 0.0)
    mean = log_sum / eff[scored]
    short = sys_len[scored] < ref_len[scored]
    bp = np.ones(len(scored))
    ratio = ref_len[scored][short] / sys_len[scored][short]  # sys_len 0 is no match: never scored
    bp[short] = list(map(math.exp, (1 - ratio).tolist()))
    out[scored] = bp * np.array(list(map(math.exp, mean.tolist())))
    return out


def chrf_from_stats(stats: np.ndarray, beta: int = 2, eps_smoothing: bool = False) -> np.ndarray:
    """Corpus chrF / chrF++ for summed (..., 3 * orders) statistics (sacrebleu's
    ``CHRF._compute_f_score``, bit-identical, via ``chrf_f_scores``)."""
    return chrf_f_scores(np.asarray(stats, dtype=np.float64), beta, eps_smoothing)


def ter_from_stats(stats: np.ndarray) -> np.ndarray:
    """Corpus TER (0-100, lower is better) for summed (..., 2) [num_edits, ref_length]
    statistics, with sacrebleu's conventions for empty references."""
    stats = np.asarray(stats, dtype=np.float64)
    edits, ref_len = stats[..., 0], stats[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref_len > 0, edits / np.where(ref_len > 0, ref_len, 1.0), np.where(edits > 0, 1.0, 0.0))
    return 100 * ratio
