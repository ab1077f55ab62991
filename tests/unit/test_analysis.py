"""The two-system analysis (``mtbench analyze``, ``compare --analyze``): golden values
counted by hand on tiny inputs, sacrebleu as the reference for sentence scores, the
bucket boundaries, the n-gram ranking, one-line errors, and an end-to-end run on a
tiny run directory (files, scope in every title, figures read back from the PNGs)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from sacrebleu.metrics.bleu import BLEU

from mtbench.analysis import folder_name, parse_pair, slug
from mtbench.analysis.buckets import FREQUENCY_BUCKETS, LENGTH_BUCKETS, bucket_index, by_length
from mtbench.analysis.differences import largest_differences
from mtbench.analysis.ngrams import ngram_matches, top_ngrams
from mtbench.analysis.sentence import sentence_scores
from mtbench.analysis.tokens import tokenizer_for
from mtbench.analysis.wordfreq import FrequencyRow, word_fmeasure, word_frequencies
from mtbench.cli import main
from mtbench.errors import MtbenchError
from mtbench.report.plots import figure_text
from mtbench.textio import read_json
from tests.conftest import synthetic_layout, write_lines

EXACT = 1e-12  # relative: float64 arithmetic on exact fractions


def approx(value: Fraction | float) -> object:
    return pytest.approx(float(value), rel=EXACT)


# --- buckets -------------------------------------------------------------------------------

@pytest.mark.parametrize("value, label", [(0, "<10"), (9, "<10"), (10, "10-19"), (19, "10-19"), (20, "20-29"),
                                          (39, "30-39"), (40, "40-49"), (49, "40-49"), (50, ">=50"), (5000, ">=50")])
def test_length_bucket_boundaries(value: int, label: str) -> None:
    assert LENGTH_BUCKETS[bucket_index(LENGTH_BUCKETS, value)].label == label


@pytest.mark.parametrize("value, label", [(0, "0"), (1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5-9"), (9, "5-9"),
                                          (10, "10-99"), (99, "10-99"), (100, "100-999"), (999, "100-999"),
                                          (1000, "1000+"), (10**6, "1000+")])
def test_frequency_bucket_boundaries(value: int, label: str) -> None:
    assert FREQUENCY_BUCKETS[bucket_index(FREQUENCY_BUCKETS, value)].label == label


def test_means_per_length_bucket_with_segment_counts() -> None:
    lengths = [3, 9, 10, 25, 60]
    chrf_a, chrf_b = [10.0, 20.0, 30.0, 40.0, 50.0], [1.0, 2.0, 3.0, 4.0, 5.0]
    rows = by_length(lengths, chrf_a, chrf_b, chrf_b, chrf_a)
    assert [(r.bucket, r.segments) for r in rows] == [("<10", 2), ("10-19", 1), ("20-29", 1), ("30-39", 0),
                                                      ("40-49", 0), (">=50", 1)]
    assert rows[0].chrf_a == approx(15) and rows[0].chrf_b == approx(Fraction(3, 2)) and rows[0].bleu_a == approx(1.5)
    assert rows[3].chrf_a is None and rows[3].bleu_b is None
    assert rows[5].chrf_a == 50.0 and rows[5].bleu_b == 50.0


# --- tokenizers and sentence scores ----------------------------------------------------------

def test_source_lengths_use_the_languages_bleu_tokenizer() -> None:
    assert tokenizer_for("zh", "default").tokens("我爱北京。 ") == ["我", "爱", "北", "京", "。"]
    assert tokenizer_for("ja", "wmt").name == "char"
    assert tokenizer_for("de", "default").tokens('Das Haus, "klein". ') == ["Das", "Haus", ",", '"', "klein", '"', "."]


@pytest.mark.parametrize("tokenize", ["13a", "zh"])
def test_sentence_scores_are_sacrebleus(tokenize: str) -> None:
    hyps = ["The cat sat on the mat.", "A dog.", "", "我 爱 北京 天安门", "Exactly the same."]
    refs = ["The cat is on the mat.", "The dog barks.", "Something.", "我爱北京天安门。", "Exactly the same."]
    got = sentence_scores(hyps, refs, tokenize)
    bleu = BLEU(effective_order=True, tokenize=tokenize)
    for h, r, c, b in zip(hyps, refs, got.chrf, got.bleu):
        assert c == approx(sacrebleu.sentence_chrf(h, [r]).score)
        assert b == approx(bleu.sentence_score(h, [r]).score)
    assert got.chrf[-1] == approx(100) and got.bleu[-1] == approx(100)


# --- word F-measure by frequency, counted by hand ---------------------------------------------

REFS = [s.split() for s in ("the cat sat on the mat", "the dog sat", "a cat ran")]
HYPS = [s.split() for s in ("the cat sat the mat mat", "a dog sat down", "the cat runs")]


def test_word_fmeasure_by_frequency_by_hand() -> None:
    # frequencies over the references: the 3; cat, sat 2; on, mat, dog, a, ran 1
    freq = word_frequencies(REFS)
    assert freq == Counter({"the": 3, "cat": 2, "sat": 2, "on": 1, "mat": 1, "dog": 1, "a": 1, "ran": 1})
    rows = {r.bucket: r for r in word_fmeasure(REFS, HYPS, freq)}
    # bucket 3 (the): reference 2+1, output 2+1, matches min(2,2)+0
    assert (rows["3"].reference_words, rows["3"].hypothesis_words, rows["3"].matches) == (3, 3, 2)
    # bucket 2 (cat, sat): reference cat+sat | sat | cat = 4; output cat+sat | sat | cat = 4; all match
    assert (rows["2"].reference_words, rows["2"].hypothesis_words, rows["2"].matches) == (4, 4, 4)
    # bucket 1: reference on, mat | dog | a, ran = 5; output mat, mat | a, dog = 4; matches mat min(1,2) + dog = 2
    assert (rows["1"].reference_words, rows["1"].hypothesis_words, rows["1"].matches) == (5, 4, 2)
    # bucket 0: down, runs never occur in the references
    assert (rows["0"].reference_words, rows["0"].hypothesis_words, rows["0"].matches) == (0, 2, 0)
    p1, r1 = Fraction(2, 4), Fraction(2, 5)
    assert rows["1"].precision == approx(p1) and rows["1"].recall == approx(r1)
    assert rows["1"].f_measure == approx(2 * p1 * r1 / (p1 + r1)) and rows["1"].f_measure == approx(Fraction(4, 9))
    assert rows["2"].precision == 1.0 and rows["2"].recall == 1.0 and rows["2"].f_measure == 1.0
    assert rows["3"].precision == approx(Fraction(2, 3)) and rows["3"].f_measure == approx(Fraction(2, 3))
    # bucket 0 has a precision (0) but no recall; empty buckets have neither
    assert rows["0"].precision == 0.0 and rows["0"].recall is None and rows["0"].f_measure is None
    for label in ("4", "5-9", "10-99", "100-999", "1000+"):
        assert rows[label] == FrequencyRow(label, 0, 0, 0) and rows[label].f_measure is None


def test_word_frequencies_from_another_corpus_move_words_between_buckets() -> None:
    corpus = word_frequencies([["the"] * 1000, ["cat"] * 7, ["on"]])
    rows = {r.bucket: r for r in word_fmeasure(REFS, HYPS, corpus)}
    assert (rows["1000+"].reference_words, rows["1000+"].matches) == (3, 2)  # the
    assert (rows["5-9"].reference_words, rows["5-9"].hypothesis_words, rows["5-9"].matches) == (2, 2, 2)  # cat
    assert rows["1"].reference_words == 1 and rows["1"].matches == 0  # on
    # everything else is unseen in that corpus: sat, mat, dog, a, ran | sat, mat, a, dog, down, runs
    assert (rows["0"].reference_words, rows["0"].hypothesis_words, rows["0"].matches) == (6, 8, 4)
    assert rows["0"].f_measure == approx(2 * Fraction(4, 8) * Fraction(4, 6) / (Fraction(4, 8) + Fraction(4, 6)))
    assert FrequencyRow("x", 3, 2, 0).f_measure == 0.0  # P = R = 0
    assert FrequencyRow("x", 3, 0, 0).f_measure == 0.0  # no output word of the bucket: none of the 3 found
    assert FrequencyRow("x", 0, 2, 0).f_measure is None  # no reference word: nothing to find


# --- n-grams ------------------------------------------------------------------------------------

def test_ngram_matches_and_ranking_by_hand() -> None:
    refs = [s.split() for s in ("a b c", "a b d", "b c b c")]
    hyp_a = [s.split() for s in ("a b c", "a x d", "b c b c")]
    hyp_b = [s.split() for s in ("a c", "a b d", "c b")]
    m = ngram_matches(refs, hyp_a, hyp_b)
    expected = {("a",): (2, 2), ("b",): (3, 2), ("c",): (3, 2), ("d",): (1, 1), ("a", "b"): (1, 1),
                ("b", "c"): (3, 0), ("a", "b", "c"): (1, 0), ("c", "b"): (1, 1), ("b", "c", "b"): (1, 0),
                ("c", "b", "c"): (1, 0), ("b", "c", "b", "c"): (1, 0), ("b", "d"): (0, 1), ("a", "b", "d"): (0, 1)}
    assert m == expected  # every reference n-gram, n = 1..4, and only those
    a_more, b_more = top_ngrams(m, k=15)
    # (A+1)/(B+1): "b c" 4; then 2 for four n-grams (ties: more matches, then alphabetical); then b, c at 4/3
    assert [r.ngram for r in a_more] == ["b c", "a b c", "b c b", "b c b c", "c b c", "b", "c"]
    assert [r.ratio for r in a_more] == [approx(4), approx(2), approx(2), approx(2), approx(2),
                                         approx(Fraction(4, 3)), approx(Fraction(4, 3))]
    assert (a_more[0].n, a_more[0].matches_a, a_more[0].matches_b) == (2, 3, 0)
    assert [(r.ngram, r.matches_a, r.matches_b, r.ratio) for r in b_more] == [("a b d", 0, 1, 2.0), ("b d", 0, 1, 2.0)]
    top3, _ = top_ngrams(m, k=3)
    assert [r.ngram for r in top3] == ["b c", "a b c", "b c b"]


def test_largest_differences_order_and_ties() -> None:
    src = ["s0", "s1", "s2", "s3"]
    diffs = largest_differences(src, src, src, src, [50.0, 10.0, 70.0, 30.0], [50.0, 40.0, 40.0, 90.0], k=3)
    assert [(d.segment, d.delta) for d in diffs] == [(3, -60.0), (1, -30.0), (2, 30.0)]  # 0 is no difference


def test_folder_names_and_pair_specs() -> None:
    assert folder_name("ALMA-13B-LoRA", "GPT-4-1106-preview") == "analysis-ALMA-13B-LoRA-vs-GPT-4-1106-preview"
    assert folder_name("run a/my model", "x y") == "analysis-run_a_my_model-vs-x_y"
    assert slug("../up") == "_up"
    assert parse_pair("a,b", ["a", "b"]) == ("a", "b")
    assert parse_pair("x, y,z", ["x, y", "z"]) == ("x, y", "z")
    with pytest.raises(MtbenchError, match="A,B"):
        parse_pair("a", ["a", "b"])


# --- end to end -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """de-en and en-de with three systems, one more ("only de") in de-en alone; the
    tests only read it (an analysis writes under report/ or its own --out)."""
    tmp_path = tmp_path_factory.mktemp("analysis-run")
    data = synthetic_layout(tmp_path / "data", n=30)
    refs = (data / "wmt22" / "de-en" / "refs" / "ref.A.txt").read_text(encoding="utf-8").splitlines()
    write_lines(data / "wmt22" / "de-en" / "systems" / "only de.txt", [r.split()[0] for r in refs])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--metrics", "bleu,chrf", "--data-dir", str(data),
                 "--significance", "none", "--out", str(out)]) == 0
    return out


def test_analyze_end_to_end(run_dir: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["analyze", str(run_dir), "best", "worst"]) == 0
    captured = capsys.readouterr()
    out = run_dir / "report" / "analysis-best-vs-worst"  # the default: inside the run's report/ only
    assert "| de-en | 30 |" in captured.out and str(out / "analysis.md") in captured.err
    for name in ("analysis.md", "analysis.tex", "analysis.json", *(f"{f}.{ext}" for f in
                 ("chrf-by-length", "bleu-by-length", "word-f-by-frequency") for ext in ("png", "pdf"))):
        assert (out / name).is_file(), name
    data = read_json(out / "analysis.json")
    assert (data["a"], data["b"], data["skipped"]) == ("best", "worst", [])
    assert [d["task"] for d in data["directions"]] == ["wmt22:de-en", "wmt22:en-de"]

    # numbers: recomputed here from the run's own files with sacrebleu
    de = data["directions"][0]
    td = read_json(run_dir / "testdata" / "wmt22_de-en.json")
    src, ref = td["source"], td["references"]["A"]
    outs = {m: (run_dir / "generations" / "wmt22_de-en" / f"{m}.txt").read_text(encoding="utf-8").splitlines()
            for m in ("best", "worst")}
    lengths = [len(s.split()) for s in src]  # "src N w w w": 13a splits on spaces only here
    chrf = {m: [sacrebleu.sentence_chrf(h, [r]).score for h, r in zip(outs[m], ref)] for m in outs}
    for row, bucket in zip(de["length_buckets"]["rows"], LENGTH_BUCKETS):
        idx = [i for i, n in enumerate(lengths) if bucket.holds(n)]
        assert row["segments"] == len(idx)
        if idx:
            assert row["chrf"]["a"] == approx(np.mean([chrf["best"][i] for i in idx]))
            assert row["chrf"]["b"] == approx(np.mean([chrf["worst"][i] for i in idx]))
        else:
            assert row["chrf"] == {"a": None, "b": None}
    assert sum(r["segments"] for r in de["length_buckets"]["rows"]) == 30
    assert de["mean_sentence_chrf"]["a"] == approx(np.mean(chrf["best"]))
    delta = [abs(a - b) for a, b in zip(chrf["best"], chrf["worst"])]
    first = de["differences"]["rows"][0]
    assert first["segment"] == int(np.argmax(delta)) and abs(first["delta"]) == approx(max(delta))
    assert first["source"] == src[first["segment"]] and first["output_b"] == outs["worst"][first["segment"]]
    words = {r["bucket"]: r for r in de["word_frequency_buckets"]["a"]}
    assert sum(r["reference_words"] for r in words.values()) == sum(len(r.split()) for r in ref)
    assert sum(r["hypothesis_words"] for r in words.values()) == sum(len(h.split()) for h in outs["best"])
    assert de["ngrams"]["a_more"]["rows"] and all(r["matches_a"] > r["matches_b"] for r in de["ngrams"]["a_more"]["rows"])

    # every title says what it covers
    md = (out / "analysis.md").read_text(encoding="utf-8")
    assert "### Word precision / recall / F-measure by word frequency — wmt22:de-en, 30 segments, primary reference " \
           "only (ref A); target tokens: sacrebleu 13a" in md
    assert "A = best" in md and "B = worst" in md and "![chrf-by-length](chrf-by-length.png)" in md
    tex = (out / "analysis.tex").read_text(encoding="utf-8")
    assert tex.count("\\begin{tabular}") == 2 * 5 and "\\caption{Sentence chrF and BLEU by source length" in tex
    for fig in ("chrf-by-length", "bleu-by-length", "word-f-by-frequency"):
        shown = figure_text(out / f"{fig}.png")
        assert "best vs worst" in shown["suptitle"] and "30 segments per direction" in shown["suptitle"]
        assert "primary reference only: ref A" in shown["suptitle"]
        assert shown["axes"][0]["legend"] == ["A: best", "B: worst"]
        assert [ax["title"] for ax in shown["axes"]] == ["de-en · 30 seg.", "en-de · 30 seg."]
    shown = figure_text(out / "word-f-by-frequency.png")
    assert "buckets 0, 100-999, 1000+ left out" in shown["suptitle"] and "0" not in shown["axes"][0]["xticklabels"]
    assert "sentence chrF" in figure_text(out / "chrf-by-length.png")["suptitle"]


def test_a_direction_one_system_lacks_is_skipped_and_said(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "an"
    assert main(["analyze", str(run_dir), "only de", "best", "--out", str(out), "--top-ngrams", "3"]) == 0
    err = capsys.readouterr().err
    assert err.count("wmt22:en-de: skipped, 'only de' has no outputs there") == 1
    data = read_json(out / "analysis.json")
    assert [d["task"] for d in data["directions"]] == ["wmt22:de-en"] and len(data["skipped"]) == 1
    assert len(data["directions"][0]["ngrams"]["b_more"]["rows"]) == 3
    assert "Note: wmt22:en-de: skipped, 'only de' has no outputs there." in (out / "analysis.md").read_text()


def test_freq_corpus_and_tasks(run_dir: Path, tmp_path: Path, capsys) -> None:
    corpus = write_lines(tmp_path / "corpus.txt", ["the the the", "a of"])
    out = tmp_path / "an"
    assert main(["analyze", str(run_dir), "best", "mid", "--out", str(out), "--freq-corpus", str(corpus),
                 "--tasks", "wmt22:de-en"]) == 0
    data = read_json(out / "analysis.json")
    assert data["frequency_source"] == str(corpus) and [d["task"] for d in data["directions"]] == ["wmt22:de-en"]
    words = {r["bucket"]: r for r in data["directions"][0]["word_frequency_buckets"]["a"]}
    ref = read_json(run_dir / "testdata" / "wmt22_de-en.json")["references"]["A"]
    tokens = Counter(w for r in ref for w in r.split())
    assert words["3"]["reference_words"] == tokens["the"]
    assert words["1"]["reference_words"] == tokens["a"] + tokens["of"]
    assert words["0"]["reference_words"] == sum(tokens.values()) - tokens["the"] - tokens["a"] - tokens["of"]
    assert "corpus.txt" in figure_text(out / "word-f-by-frequency.png")["suptitle"]


def _one_line_error(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mtbench: error: ") and "Traceback" not in err
    return err


def test_one_line_errors(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    base = ["analyze", str(run_dir)]
    err = _one_line_error(capsys, base + ["bset", "worst"])
    assert "system 'bset' is not in" in err and "did you mean 'best'?" in err and "only de" in err  # every system
    err = _one_line_error(capsys, base + ["best", "best", "--out", str(out)])
    assert "systems A and B are both 'best'" in err
    err = _one_line_error(capsys, base + ["best", "worst", "--tasks", "de-en", "--out", str(out)])
    assert "--tasks 'de-en' is not a direction" in err and "wmt22:de-en" in err
    err = _one_line_error(capsys, base + ["only de", "best", "--tasks", "wmt22:en-de", "--out", str(out)])
    assert "have no direction with outputs of both" in err
    err = _one_line_error(capsys, base + ["best", "worst", "--freq-corpus", str(tmp_path / "none.txt"), "--out", str(out)])
    assert "--freq-corpus file not found" in err and "none.txt" in err
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Grüße aus Köln\n".encode("latin-1"))
    err = _one_line_error(capsys, base + ["best", "worst", "--freq-corpus", str(latin), "--out", str(out)])
    assert "--freq-corpus file is not valid UTF-8" in err and "iconv" in err
    err = _one_line_error(capsys, base + ["best", "worst", "--out", str(run_dir / "generations")])
    assert "inside run directory" in err
    err = _one_line_error(capsys, base + ["best", "worst", "--out", str(run_dir)])
    assert "is a run directory" in err
    err = _one_line_error(capsys, base + ["best", "worst", "--top-ngrams", "0", "--out", str(out)])
    assert "--top-ngrams must be a positive integer" in err
    assert not out.exists() and not (run_dir / "report" / "analysis-bset-vs-worst").exists()


def test_compare_writes_the_analysis_of_two_systems(run_dir: Path, tmp_path: Path, capsys) -> None:
    second = tmp_path / "run2"
    data = run_dir.parent / "data"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--metrics", "bleu,chrf", "--data-dir", str(data),
                 "--significance", "none", "--out", str(second)]) == 0
    out = tmp_path / "cmp"
    err = _one_line_error(capsys, ["compare", str(run_dir), str(second), "--out", str(out), "--analyze", "best,wrst"])
    assert "did you mean 'worst'" in err and not out.exists()  # checked before the report is written
    assert main(["compare", str(run_dir), str(second), "--out", str(out), "--analyze", "best,worst",
                 "--significance", "none"]) == 0
    assert "analysis-best-vs-worst" in capsys.readouterr().err
    data = read_json(out / "analysis-best-vs-worst" / "analysis.json")
    assert data["runs"] == [str(run_dir), str(second)] and len(data["directions"]) == 2
    assert (out / "leaderboard.md").is_file() and (out / "analysis-best-vs-worst" / "word-f-by-frequency.png").is_file()
