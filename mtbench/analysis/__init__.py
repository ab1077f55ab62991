"""Two-system analysis in the style of compare-mt (Neubig et al., 2019), written by
mtbench: where a corpus score says "A beats B", these say where and at what.

For every direction where both systems have outputs:

1. mean sentence chrF and sentence BLEU per source-length bucket (``buckets``);
2. word precision / recall / F-measure per word-frequency bucket (``wordfreq``);
3. the n-grams each system matches more often than the other (``ngrams``);
4. the segments whose sentence chrF differs most (``differences``).

Everything is measured against one reference per segment (the run's primary one,
or the first it scored) and counted in the target side's BLEU tokens (``tokens``).
``analyze_pair`` reads only run directories (``inputs``) and writes analysis.md,
analysis.tex, analysis.json (``render``) and PNG+PDF figures (``figures``) into a
folder of its own: a run directory is never written into except its report/ folder.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from mtbench.analysis.buckets import LengthRow, by_length
from mtbench.analysis.differences import TOP_SEGMENTS, Difference, largest_differences
from mtbench.analysis.inputs import Direction, PairData, load_pair
from mtbench.analysis.ngrams import ALPHA, MAX_N, TOP_NGRAMS, NgramRow, ngram_matches, top_ngrams
from mtbench.analysis.sentence import sentence_scores
from mtbench.analysis.tokens import tokenizer_for
from mtbench.analysis.wordfreq import FrequencyRow, word_fmeasure, word_frequencies
from mtbench.errors import MtbenchError
from mtbench.results import Results
from mtbench.store import RunDir
from mtbench.textio import read_lines

__all__ = ["analyze_pair", "analyze_run", "check_pair", "default_out", "folder_name", "parse_pair", "PairAnalysis",
           "DirectionAnalysis"]


@dataclass(frozen=True)
class DirectionAnalysis:
    direction: Direction
    source_tokenizer: str
    target_tokenizer: str
    mean_chrf: tuple[float, float]  # (A, B), mean sentence chrF over all segments
    mean_bleu: tuple[float, float]
    length: list[LengthRow]
    words_a: list[FrequencyRow]
    words_b: list[FrequencyRow]
    ngrams_a: list[NgramRow]  # matched more often by A
    ngrams_b: list[NgramRow]  # matched more often by B
    differences: list[Difference]


@dataclass(frozen=True)
class PairAnalysis:
    pair: PairData
    directions: list[DirectionAnalysis]
    frequency_source: str  # "references" or the --freq-corpus path
    top_ngrams: int = TOP_NGRAMS
    top_segments: int = TOP_SEGMENTS
    alpha: float = ALPHA
    max_n: int = MAX_N
    files: list[Path] = field(default_factory=list)


def slug(name: str) -> str:
    """A system name as part of a folder name ('/', spaces and the like become '_')."""
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name).strip(".") or "_"


def folder_name(a: str, b: str) -> str:
    return f"analysis-{slug(a)}-vs-{slug(b)}"


def default_out(run_dir: str | Path, a: str, b: str) -> Path:
    return Path(run_dir) / "report" / folder_name(a, b)


def parse_pair(spec: str, systems: Sequence[str]) -> tuple[str, str]:
    """``--analyze A,B``: split at the comma that leaves two known systems (a name may
    itself hold a comma); with one comma, split there and let the name check speak."""
    cuts = [i for i, c in enumerate(spec) if c == ","]
    for i in cuts:
        a, b = spec[:i].strip(), spec[i + 1:].strip()
        if a in systems and b in systems:
            return a, b
    if len(cuts) == 1:
        return spec[:cuts[0]].strip(), spec[cuts[0] + 1:].strip()
    raise MtbenchError(f"--analyze {spec!r}: give two systems as A,B, e.g. --analyze ALMA-13B-LoRA,GPT-4-1106-preview")


def _check_out(out_dir: Path, runs: Sequence[RunDir]) -> None:
    """A report writes into its own folder; inside a run directory only under report/."""
    if (out_dir / "run.yaml").exists() or (out_dir / "manifest.json").exists():
        raise MtbenchError(f"--out {out_dir} is a run directory: an analysis never writes into one; give a folder of its "
                           f"own (default: RUN_DIR/report/analysis-A-vs-B)")
    target = Path(os.path.realpath(out_dir))
    for run in runs:
        root = Path(os.path.realpath(run.path))
        if target.is_relative_to(root) and not target.is_relative_to(root / "report"):
            raise MtbenchError(f"--out {out_dir} is inside run directory {run.path}: reports only write into its "
                               f"report/ folder; choose a folder outside it or under {run.path / 'report'}")
    if out_dir.exists() and not out_dir.is_dir():
        raise MtbenchError(f"--out {out_dir} is a file, not a folder; choose a folder for the analysis")


def _frequency_lines(freq_corpus: Path | None) -> list[str] | None:
    if freq_corpus is None:
        return None
    lines = read_lines(freq_corpus, what="--freq-corpus file")
    if not any(line.strip() for line in lines):
        raise MtbenchError(f"--freq-corpus file {freq_corpus} is empty; give a UTF-8 text file with one sentence per "
                           f"line, or leave it out to count word frequencies over the references")
    return lines


def analyse_direction(d: Direction, preset: str, k_ngrams: int = TOP_NGRAMS, k_segments: int = TOP_SEGMENTS,
                      frequency_lines: Sequence[str] | None = None) -> DirectionAnalysis:
    src_tok, tgt_tok = tokenizer_for(d.src, preset), tokenizer_for(d.tgt, preset)
    lengths = [len(src_tok.tokens(s)) for s in d.source]
    sa = sentence_scores(d.output_a, d.reference, tgt_tok.name)
    sb = sentence_scores(d.output_b, d.reference, tgt_tok.name)
    refs = [tgt_tok.tokens(r) for r in d.reference]
    hyp_a = [tgt_tok.tokens(h) for h in d.output_a]
    hyp_b = [tgt_tok.tokens(h) for h in d.output_b]
    freq: Counter[str] = word_frequencies(refs if frequency_lines is None
                                          else (tgt_tok.tokens(line) for line in frequency_lines))
    a_more, b_more = top_ngrams(ngram_matches(refs, hyp_a, hyp_b), k_ngrams)
    n = max(len(d.source), 1)
    return DirectionAnalysis(
        direction=d, source_tokenizer=src_tok.name, target_tokenizer=tgt_tok.name,
        mean_chrf=(sum(sa.chrf) / n, sum(sb.chrf) / n), mean_bleu=(sum(sa.bleu) / n, sum(sb.bleu) / n),
        length=by_length(lengths, sa.chrf, sb.chrf, sa.bleu, sb.bleu),
        words_a=word_fmeasure(refs, hyp_a, freq), words_b=word_fmeasure(refs, hyp_b, freq),
        ngrams_a=a_more, ngrams_b=b_more,
        differences=largest_differences(d.source, d.reference, d.output_a, d.output_b, sa.chrf, sb.chrf, k_segments))


def _log(msg: str) -> None:
    print(msg, file=sys.stderr)


def check_pair(results: Results, a: str, b: str) -> None:
    """The name checks of ``analyze_pair`` alone, for callers that must fail before
    they write anything else (``mtbench compare --analyze``)."""
    from mtbench.analysis.inputs import check_names

    check_names(a, b, list(results.models), ", ".join(results.runs))


def analyze_pair(results: Results, runs: Sequence[RunDir], a: str, b: str, out_dir: str | Path, *,
                 freq_corpus: str | Path | None = None, tasks: Sequence[str] | None = None,
                 top_ngrams_k: int = TOP_NGRAMS, top_segments_k: int = TOP_SEGMENTS,
                 log: Callable[[str], None] = _log) -> PairAnalysis:
    """Analyse systems ``a`` and ``b`` of ``results`` (one run's, or several merged by
    ``mtbench.report.build.merge_runs``) and write the analysis into ``out_dir``.
    Every check (names, directions, --freq-corpus, --out) runs before anything is written."""
    from mtbench.analysis.figures import write_figures
    from mtbench.analysis.render import write_documents

    out = Path(out_dir)
    for flag, value in (("--top-ngrams", top_ngrams_k), ("--top-segments", top_segments_k)):
        if not isinstance(value, int) or value < 1:
            raise MtbenchError(f"{flag} must be a positive integer, got {value!r}")
    pair = load_pair(results, runs, a, b, tasks)
    lines = _frequency_lines(Path(freq_corpus) if freq_corpus is not None else None)
    _check_out(out, runs)
    for note in pair.skipped:
        log(f"mtbench: note: analysis {a} vs {b}: {note}")
    directions = []
    for d in pair.directions:
        directions.append(analyse_direction(d, pair.preset, top_ngrams_k, top_segments_k, lines))
    analysis = PairAnalysis(pair, directions, "references" if freq_corpus is None else str(freq_corpus),
                            top_ngrams=top_ngrams_k, top_segments=top_segments_k)
    out.mkdir(parents=True, exist_ok=True)
    analysis.files.extend(write_documents(analysis, out))
    analysis.files.extend(write_figures(analysis, out))
    return analysis


def analyze_run(run_dir: str | Path, a: str, b: str, out_dir: str | Path | None = None, **kwargs) -> PairAnalysis:
    """``mtbench analyze RUN_DIR A B``: one run's systems."""
    run = RunDir(run_dir)
    run.read_config()  # one line for a folder that is not a run
    results = Results.load(run.path)
    return analyze_pair(results, [run], a, b, out_dir if out_dir is not None else default_out(run.path, a, b), **kwargs)
