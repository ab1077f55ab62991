"""mtbench's BLEU/chrF/chrF++/TER against sacrebleu's own API on hand-made and random
inputs: corpus scores, per-segment scores and statistics must be identical."""

from __future__ import annotations

import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF, TER

from mtbench.metrics.base import ScoringContext
from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf, Ter, chrf_f_scores, sentence_bleu_from_stats

REFS_A = ["The cat sat on the mat.", "It is 3-4 km, i.e. 2.5 miles.", "", "这是一个测试。"]
REFS_B = ["A cat was sitting on the mat.", "It's 3-4 kilometres.", "Nothing", "这是测试。"]
HYPS = {
    "s1": ["The cat sat on a mat.", "It is 3-4 km.", "", "这是一个测试。"],
    "s2": ["cat mat", "", "Nothing at all", "测试"],
}


def ctx(refs: dict[str, list[str]], tgt: str = "en") -> ScoringContext:
    return ScoringContext("de", tgt, ["x"] * len(next(iter(refs.values()))), refs)


@pytest.mark.parametrize("refs", [{"A": REFS_A}, {"A": REFS_A, "B": REFS_B}])
def test_corpus_and_segment_scores_equal_sacrebleu(refs: dict[str, list[str]]) -> None:
    ref_streams = list(refs.values())
    for mine, theirs, sentence in (
        (Bleu(), BLEU(), BLEU(effective_order=True)),
        (Chrf(), CHRF(), CHRF()),
        (Chrf(word_order=2), CHRF(word_order=2), CHRF(word_order=2)),
        (Ter(), TER(), TER()),
    ):
        results = mine.score_systems(ctx(refs), HYPS)
        for name, hyps in HYPS.items():
            assert results[name].score == theirs.corpus_score(hyps, ref_streams).score
            expected = [sentence.sentence_score(h, [r[i] for r in ref_streams]).score for i, h in enumerate(hyps)]
            assert results[name].segment_scores == expected
            assert results[name].signature == theirs.get_signature().format()


def test_zh_tokenizer_for_chinese_targets() -> None:
    hyps = {"s": ["这是一个测试。", "猫坐在垫子上。"]}
    refs = {"A": ["这是测试。", "猫坐在垫子上了。"]}
    res = Bleu().score_systems(ctx(refs, "zh"), hyps)["s"]
    assert res.score == sacrebleu.corpus_bleu(hyps["s"], [refs["A"]], tokenize="zh").score
    assert "tok:zh" in res.signature


text = st.text(alphabet="ab cd.,-1'\u00e9\u4e00\u4e01 \u03a3\t", max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(st.lists(text, min_size=n, max_size=n), min_size=1, max_size=3),
    st.lists(st.lists(text, min_size=n, max_size=n), min_size=1, max_size=3))))
def test_random_text_statistics_identical(data) -> None:
    refs, systems = data
    refs_map = {chr(65 + i): r for i, r in enumerate(refs)}
    hyps = {f"s{i}": h for i, h in enumerate(systems)}
    for mine, theirs in ((Bleu(), BLEU()), (Bleu(lowercase=True), BLEU(lowercase=True)), (Chrf(), CHRF()),
                         (Chrf(word_order=2), CHRF(word_order=2)), (Chrf(lowercase=True), CHRF(lowercase=True))):
        stats = mine.segment_statistics(ctx(refs_map), hyps)
        for i, h in enumerate(systems):
            assert stats[i].tolist() == theirs._extract_corpus_statistics(h, refs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)), min_size=6, max_size=6),
       st.sampled_from([1, 2, 3]), st.booleans())
def test_sentence_chrf_bit_identical(triples, beta, eps_smoothing) -> None:
    row = [x for h, r, m in triples for x in (h, r, min(m, h, r))]
    expected = CHRF(beta=beta, eps_smoothing=eps_smoothing)._compute_f_score(row)
    assert chrf_f_scores(np.array([row]), beta, eps_smoothing)[0] == expected


def bleu_rows(draw_rows: list[tuple[int, int, list[tuple[int, int]]]]) -> list[list[int]]:
    """[hyp_len, ref_len, correct_1..4, total_1..4] with correct <= total, and totals
    that fall to 0 past the hypothesis length (as real statistics do)."""
    rows = []
    for hyp_len, ref_len, orders in draw_rows:
        totals = [max(hyp_len - n, 0) for n in range(4)]
        correct = [min(c, t) for (c, _), t in zip(orders, totals)]
        rows.append([hyp_len, ref_len, *correct, *totals])
    return rows


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12),
                          st.lists(st.tuples(st.integers(0, 12), st.just(0)), min_size=4, max_size=4)),
                min_size=1, max_size=20),
       st.sampled_from([("exp", None), ("floor", None), ("floor", 0.3), ("add-k", None), ("add-k", 2), ("none", None)]))
def test_sentence_bleu_bit_identical(draw_rows, smoothing) -> None:
    """Every row against sacrebleu's own sentence BLEU (effective order), bit for bit:
    empty hypotheses, empty references, no matches, orders without n-grams."""
    rows = bleu_rows(draw_rows)
    method, value = smoothing
    theirs = BLEU(effective_order=True, smooth_method=method, smooth_value=value)
    expected = [theirs._compute_score_from_stats(list(r)).score for r in rows]
    assert sentence_bleu_from_stats(np.array(rows), method, value).tolist() == expected


def test_lone_surrogate_scores_like_sacrebleu() -> None:
    """A lone surrogate is a valid Python str character (the API allows it): chrF and
    BLEU count it as sacrebleu does instead of failing to encode it."""
    import sacrebleu

    from mtbench.metrics.base import ScoringContext
    from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf

    refs = ["ab\ud800c de", "x y z"]
    hyps = ["ab\ud800 de", "x\ud800 y"]
    ctx = ScoringContext("de", "en", ["s1", "s2"], {"A": refs})
    assert Chrf().score_systems(ctx, {"s": hyps})["s"].score == sacrebleu.corpus_chrf(hyps, [refs]).score
    assert Bleu().score_systems(ctx, {"s": hyps})["s"].score == sacrebleu.corpus_bleu(hyps, [refs]).score


def test_nul_inside_a_token_scores_like_sacrebleu() -> None:
    # pandas hashes strings only up to a NUL: "the\x00dog" must stay apart from "the"
    refs = {"A": ["the dog sat on the mat", "a b c d"]}
    hyps = {"s": ["the\x00dog sat on the\x00x mat", "a b\x00 c d"]}
    for mine, theirs in ((Bleu(), BLEU()), (Chrf(word_order=2), CHRF(word_order=2))):
        res = mine.score_systems(ctx(refs), hyps)["s"]
        assert res.score == theirs.corpus_score(hyps["s"], [refs["A"]]).score
