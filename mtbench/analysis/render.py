"""The analysis as documents: analysis.md (read it), analysis.tex (paste its tabulars
into a paper) and analysis.json (every number, for scripts). All three are rendered
from the same ``PairAnalysis`` and say the same scope in the same words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mtbench.analysis.buckets import FREQUENCY_BUCKETS, LENGTH_BUCKETS
from mtbench.analysis.scope import (direction_scope, ref_phrase, refs_summary, segments_phrase, segments_summary,
                                    short_names, tokenizer_summary)
from mtbench.analysis.sentence import BLEU_NAME, CHRF_NAME
from mtbench.textio import atomic_write_text

if TYPE_CHECKING:
    from mtbench.analysis import DirectionAnalysis, PairAnalysis

SCHEMA = "mtbench-analysis/1"


def definitions(an: "PairAnalysis") -> dict[str, str]:
    """One line per quantity: what a reader needs to interpret each table."""
    freq = ("its count over the direction's reference (the one used here)" if an.frequency_source == "references"
            else f"its count in {an.frequency_source} (tokenized like the references)")
    return {
        "sentence_chrf": f"{CHRF_NAME}: sacrebleu.sentence_chrf(output, [reference]).",
        "sentence_bleu": f"{BLEU_NAME}: sacrebleu BLEU(effective_order=True, tokenize=<the direction's BLEU "
                         f"tokenizer under preset {an.pair.preset}>).sentence_score(output, [reference]).",
        "length_bucket": "source length in tokens of sacrebleu's BLEU tokenizer for the source language "
                         f"(buckets {', '.join(b.label for b in LENGTH_BUCKETS)}); each cell is the mean over the "
                         "bucket's segments.",
        "word": "a token of the target language's BLEU tokenizer (case-sensitive, as BLEU).",
        "word_frequency": f"a word's frequency is {freq}; buckets {', '.join(b.label for b in FREQUENCY_BUCKETS)}.",
        "word_fmeasure": "per segment a word's matches are min(count in output, count in reference); recall = matches "
                         "/ reference words of the bucket, precision = matches / output words of the bucket, "
                         "F = 2PR/(P+R); '–' where a denominator is 0 (F: no reference word in the bucket; F = 0 where the "
                         "system wrote no word of the bucket).",
        "ngrams": f"for n = 1..{an.max_n}, each reference n-gram's matches per segment are min(count in output, "
                  f"count in reference), summed over the segments; ranked by (matches A + {an.alpha:g}) / "
                  f"(matches B + {an.alpha:g}) (or B over A), top {an.top_ngrams}.",
        "differences": f"the {an.top_segments} segments with the largest |sentence chrF A − sentence chrF B|; "
                       "segment ids are 0-based, as the id of generations/<task>/<model>.jsonl.",
    }


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _delta(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{a - b:+.2f}"


def _md(text: str) -> str:
    """Segment text inside Markdown: nothing in it may start markup or break a table."""
    out = text.replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>|":
        out = out.replace(ch, "\\" + ch)
    return out or "(empty)"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" if c == "l" else "---:" for c in align) + "|",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


# --- what each table covers ---------------------------------------------------------------

def titles(an: "PairAnalysis", da: "DirectionAnalysis") -> dict[str, str]:
    d, s = da.direction, direction_scope(da.direction, an.pair.refs_setting)
    freq = ("frequencies over that reference" if an.frequency_source == "references"
            else f"frequencies over {Path(an.frequency_source).name}")
    return {
        "length": f"Sentence chrF and BLEU by source length — {s}; source tokens: sacrebleu {da.source_tokenizer}, "
                  f"BLEU tokenizer {da.target_tokenizer}",
        "words": f"Word precision / recall / F-measure by word frequency — {s}; target tokens: sacrebleu "
                 f"{da.target_tokenizer}; {freq}",
        "ngrams_a": f"N-grams (n=1..{an.max_n}) A matches more often than B — {s}; target tokens: sacrebleu "
                    f"{da.target_tokenizer}; top {an.top_ngrams} by (A+{an.alpha:g})/(B+{an.alpha:g})",
        "ngrams_b": f"N-grams (n=1..{an.max_n}) B matches more often than A — {s}; target tokens: sacrebleu "
                    f"{da.target_tokenizer}; top {an.top_ngrams} by (B+{an.alpha:g})/(A+{an.alpha:g})",
        "differences": f"Segments where sentence chrF differs most — {d.task}, top {an.top_segments} of "
                       f"{segments_phrase(d)}, {ref_phrase(d, an.pair.refs_setting)}",
    }


def overview_scope(an: "PairAnalysis") -> str:
    dirs = [da.direction for da in an.directions]
    return (f"{segments_summary(dirs)}; {refs_summary(dirs, an.pair.refs_setting)}; "
            f"{tokenizer_summary({da.direction.task: da.source_tokenizer for da in an.directions}, 'source')}; "
            f"{tokenizer_summary({da.direction.task: da.target_tokenizer for da in an.directions}, 'target')}; "
            f"preset {an.pair.preset}")


# --- Markdown -----------------------------------------------------------------------------------

def overview_markdown(an: "PairAnalysis") -> str:
    """One row per direction: mean sentence chrF and BLEU of A and B (also what
    ``mtbench analyze`` prints)."""
    a, b = an.pair.a, an.pair.b
    lines = [f"## Overview — A = {_md(a)}, B = {_md(b)}; {overview_scope(an)}", ""]
    names = short_names([da.direction.task for da in an.directions])
    lines += _table(["direction", "segments", "chrF A", "chrF B", "Δ chrF", "BLEU A", "BLEU B", "Δ BLEU"],
                    [[names[da.direction.task], str(da.direction.segments), _f(da.mean_chrf[0]), _f(da.mean_chrf[1]),
                      _delta(*da.mean_chrf), _f(da.mean_bleu[0]), _f(da.mean_bleu[1]), _delta(*da.mean_bleu)]
                     for da in an.directions])
    lines.append("Means of sentence chrF and sentence BLEU over each direction's segments (not corpus scores).\n")
    return "\n".join(lines)


DEFINITION_LABELS = {"sentence_chrf": "Sentence chrF", "sentence_bleu": "Sentence BLEU",
                     "length_bucket": "Length bucket", "word": "Word", "word_frequency": "Word frequency",
                     "word_fmeasure": "Word P/R/F", "ngrams": "N-gram matches", "differences": "Differences"}


def render_markdown(an: "PairAnalysis", figures: list[str]) -> str:
    a, b = an.pair.a, an.pair.b
    lines = [f"# Analysis: A = {_md(a)} vs B = {_md(b)}", "",
             f"Runs: {', '.join(an.pair.runs)}. Scope: {overview_scope(an)}.", ""]
    for note in an.pair.skipped:
        lines.append(f"Note: {note}.  ")
    if an.pair.skipped:
        lines.append("")
    lines += ["Definitions:", ""] + [f"- {DEFINITION_LABELS[k]}: {v}" for k, v in definitions(an).items()] + [""]
    for fig in figures:
        lines += [f"![{fig}]({fig}.png)", ""]
    lines.append(overview_markdown(an))
    for da in an.directions:
        lines += _direction_markdown(an, da)
    return "\n".join(lines)


def _direction_markdown(an: "PairAnalysis", da: "DirectionAnalysis") -> list[str]:
    a, b = an.pair.a, an.pair.b
    t = titles(an, da)
    lines = [f"## {da.direction.task} — A = {_md(a)}, B = {_md(b)}", "", f"### {t['length']}", ""]
    lines += _table(["source length (tokens)", "segments", "chrF A", "chrF B", "Δ chrF", "BLEU A", "BLEU B", "Δ BLEU"],
                    [[r.bucket, str(r.segments), _f(r.chrf_a), _f(r.chrf_b),
                      _delta(r.chrf_a, r.chrf_b), _f(r.bleu_a), _f(r.bleu_b), _delta(r.bleu_a, r.bleu_b)]
                     for r in da.length])
    lines += [f"### {t['words']}", ""]
    lines += _table(["frequency", "ref words", "A words", "A matches", "A P", "A R", "A F",
                     "B words", "B matches", "B P", "B R", "B F"],
                    [[ra.bucket, str(ra.reference_words), str(ra.hypothesis_words), str(ra.matches),
                      _f(ra.precision, 4), _f(ra.recall, 4), _f(ra.f_measure, 4),
                      str(rb.hypothesis_words), str(rb.matches), _f(rb.precision, 4), _f(rb.recall, 4),
                      _f(rb.f_measure, 4)] for ra, rb in zip(da.words_a, da.words_b)])
    for key, rows in (("ngrams_a", da.ngrams_a), ("ngrams_b", da.ngrams_b)):
        lines += [f"### {t[key]}", ""]
        if rows:
            lines += _table(["n-gram", "n", "matches A", "matches B", "ratio"],
                            [[_md(r.ngram), str(r.n), str(r.matches_a), str(r.matches_b), f"{r.ratio:.2f}"] for r in rows])
        else:
            lines += ["None: no reference n-gram is matched more often by this system.", ""]
    lines += [f"### {t['differences']}", ""]
    if not da.differences:
        lines += ["None: A and B have the same sentence chrF on every segment.", ""]
    for x in da.differences:
        lines += [f"**Segment {x.segment}**: chrF A {x.chrf_a:.2f}, B {x.chrf_b:.2f} (A − B {x.delta:+.2f})", "",
                  f"- source: {_md(x.source)}", f"- reference: {_md(x.reference)}",
                  f"- A: {_md(x.output_a)}", f"- B: {_md(x.output_b)}", ""]
    return lines


# --- LaTeX ---------------------------------------------------------------------------------------

_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "^": r"\^{}",
        "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%", "<": r"\textless{}", ">": r"\textgreater{}",
        "|": r"\textbar{}", "—": "---", "–": "--", "−": "$-$", "Δ": r"$\Delta$"}


def tex(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text.replace("\n", " "))


def _tabular(caption: str, header: list[str], rows: list[list[str]], spec: str) -> list[str]:
    return ["\\begin{table}[t]", "\\centering", "\\small", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
            " & ".join(tex(h) for h in header) + " \\\\", "\\midrule",
            *(" & ".join(r) + " \\\\" for r in rows), "\\bottomrule", "\\end{tabular}",
            f"\\caption{{{tex(caption)}}}", "\\end{table}", ""]


def render_latex(an: "PairAnalysis") -> str:
    a, b = an.pair.a, an.pair.b
    out = ["% Generated by mtbench (mtbench analyze); needs \\usepackage{booktabs}. Segment texts in other scripts",
           "% (zh, ru, ...) need XeLaTeX or LuaLaTeX with a font that has them.",
           f"% A = {a}; B = {b}. Scope: {overview_scope(an)}.", ""]
    for da in an.directions:
        t, names = titles(an, da), f" (A = {a}, B = {b})"
        out += _tabular(t["length"] + names,
                        ["source length", "segments", "chrF A", "chrF B", "BLEU A", "BLEU B"],
                        [[tex(r.bucket), str(r.segments), _f(r.chrf_a).replace("–", "--"),
                          _f(r.chrf_b).replace("–", "--"), _f(r.bleu_a).replace("–", "--"),
                          _f(r.bleu_b).replace("–", "--")] for r in da.length], "lrrrrr")
        out += _tabular(t["words"] + names,
                        ["frequency", "ref words", "A P", "A R", "A F", "B P", "B R", "B F"],
                        [[tex(ra.bucket), str(ra.reference_words)]
                         + [_f(v, 4).replace("–", "--") for v in (ra.precision, ra.recall, ra.f_measure,
                                                                 rb.precision, rb.recall, rb.f_measure)]
                         for ra, rb in zip(da.words_a, da.words_b)], "lrrrrrrr")
        for key, rows in (("ngrams_a", da.ngrams_a), ("ngrams_b", da.ngrams_b)):
            out += _tabular(t[key] + names, ["n-gram", "n", "matches A", "matches B", "ratio"],
                            [[tex(r.ngram), str(r.n), str(r.matches_a), str(r.matches_b), f"{r.ratio:.2f}"]
                             for r in rows], "lrrrr")
        out += _tabular(t["differences"] + names, ["seg.", "chrF A", "chrF B", "source", "reference", "A", "B"],
                        [[str(x.segment), f"{x.chrf_a:.1f}", f"{x.chrf_b:.1f}", tex(x.source), tex(x.reference),
                          tex(x.output_a), tex(x.output_b)] for x in da.differences],
                        "rrrp{0.17\\linewidth}p{0.17\\linewidth}p{0.17\\linewidth}p{0.17\\linewidth}")
    return "\n".join(out)


# --- JSON -----------------------------------------------------------------------------------------

def _words(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"bucket": r.bucket, "reference_words": r.reference_words, "hypothesis_words": r.hypothesis_words,
             "matches": r.matches, "precision": r.precision, "recall": r.recall, "f_measure": r.f_measure} for r in rows]


def to_dict(an: "PairAnalysis") -> dict[str, Any]:
    p = an.pair
    dirs = []
    for da in an.directions:
        d, t = da.direction, titles(an, da)
        dirs.append({
            "task": d.task, "src": d.src, "tgt": d.tgt, "segments": d.segments,
            "segments_in_test_set": d.segments_in_test_set, "ref": d.ref_id, "refs_scored": list(d.refs_scored),
            "scope": direction_scope(d, p.refs_setting), "source_tokenizer": da.source_tokenizer,
            "target_tokenizer": da.target_tokenizer,
            "mean_sentence_chrf": {"a": da.mean_chrf[0], "b": da.mean_chrf[1]},
            "mean_sentence_bleu": {"a": da.mean_bleu[0], "b": da.mean_bleu[1]},
            "length_buckets": {"title": t["length"],
                               "rows": [{"bucket": r.bucket, "segments": r.segments,
                                         "chrf": {"a": r.chrf_a, "b": r.chrf_b},
                                         "bleu": {"a": r.bleu_a, "b": r.bleu_b}} for r in da.length]},
            "word_frequency_buckets": {"title": t["words"], "a": _words(da.words_a), "b": _words(da.words_b)},
            "ngrams": {"a_more": {"title": t["ngrams_a"], "rows": [vars(r) for r in da.ngrams_a]},
                       "b_more": {"title": t["ngrams_b"], "rows": [vars(r) for r in da.ngrams_b]}},
            "differences": {"title": t["differences"],
                            "rows": [{**vars(x), "delta": x.delta} for x in da.differences]},
        })
    return {"schema": SCHEMA, "a": p.a, "b": p.b, "under_test": sorted(p.under_test), "preset": p.preset,
            "refs_setting": p.refs_setting, "runs": list(p.runs), "frequency_source": an.frequency_source,
            "settings": {"top_ngrams": an.top_ngrams, "top_segments": an.top_segments, "alpha": an.alpha,
                         "max_n": an.max_n, "length_buckets": [b.label for b in LENGTH_BUCKETS],
                         "frequency_buckets": [b.label for b in FREQUENCY_BUCKETS]},
            "scope": overview_scope(an), "definitions": definitions(an), "skipped": list(p.skipped),
            "directions": dirs}


FIGURES = ("chrf-by-length", "bleu-by-length", "word-f-by-frequency")


def write_documents(an: "PairAnalysis", out_dir: Path) -> list[Path]:
    paths = [out_dir / "analysis.md", out_dir / "analysis.tex", out_dir / "analysis.json"]
    atomic_write_text(paths[0], render_markdown(an, list(FIGURES)))
    atomic_write_text(paths[1], render_latex(an))
    atomic_write_text(paths[2], json.dumps(to_dict(an), ensure_ascii=False, indent=2) + "\n")
    return paths
