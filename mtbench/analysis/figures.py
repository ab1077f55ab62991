"""The analysis as figures (PNG + PDF): one small panel per direction, A's and B's
bars side by side per bucket, so a reader sees at a glance in which buckets (long
sources, rare words) one system pulls ahead.

Drawn with the report's conventions (``mtbench.report.plots``): its palette, the
``[under test]`` label and outline for the user's own systems, a title line naming A,
B and the metric, a scope line (segments, reference, tokenizers), and the figure's
words embedded in the PNG (``plots.figure_text``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from mtbench.analysis.buckets import FREQUENCY_BUCKETS, LENGTH_BUCKETS
from mtbench.analysis.scope import refs_summary, segments_summary, short_names, tokenizer_summary
from mtbench.report import plots

if TYPE_CHECKING:
    from mtbench.analysis import DirectionAnalysis, PairAnalysis

plt = plots.plt
COLUMNS = 5
PANEL_W, PANEL_H = 2.45, 2.05  # inches
HEADER_H = 1.3  # inches above the panels: title, scope line, legend
LEFT = 0.55  # inches left of the first column: its y label
FEW = 20  # a bucket mean over fewer segments (or reference words) than this is drawn pale


def _bucket_panels(an: "PairAnalysis", out_base: Path, title: str, subtitle: str, ylabel: str,
                   buckets: Sequence[str], values: Callable[["DirectionAnalysis"], tuple[list, list]],
                   ticks: Callable[["DirectionAnalysis"], list[str]], xlabel: str, rotate: int = 0,
                   panel_note: Callable[["DirectionAnalysis"], str] | None = None,
                   sizes: Callable[["DirectionAnalysis"], list[int]] | None = None,
                   ymax: float | None = None) -> list[Path]:
    """``sizes``: what each bucket's value rests on (segments, reference words); a
    bucket with fewer than ``FEW`` is drawn pale, so a noisy mean does not look like
    a finding."""
    a, b = an.pair.a, an.pair.b
    n = len(an.directions)
    ncols = min(COLUMNS, n)
    nrows = math.ceil(n / ncols)
    tick_h = 0.7 if rotate else 0.5
    height = HEADER_H + nrows * (PANEL_H + tick_h)
    width_in = max(6.8, ncols * PANEL_W)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, height), sharey=True, squeeze=False)
    fig.subplots_adjust(top=1 - HEADER_H / height, bottom=tick_h / height, hspace=(tick_h + 0.45) / PANEL_H,
                        left=LEFT / width_in, right=0.995, wspace=0.08)
    colours = {a: plots.PALETTE[0], b: plots.PALETTE[1]}
    names = short_names([da.direction.task for da in an.directions])
    width = 0.4
    top = 0.0
    for i, da in enumerate(an.directions):
        ax = axes[i // ncols][i % ncols]
        va, vb = values(da)
        for k, (system, vals) in enumerate(((a, va), (b, vb))):
            mine = system in an.pair.under_test
            xs = [j + (k - 0.5) * width for j in range(len(buckets))]
            heights = [math.nan if v is None else v for v in vals]
            bars = ax.bar(xs, heights, width, color=colours[system], label=f"{'AB'[k]}: {plots.label(system, mine)}",
                          edgecolor="black" if mine else "white", linewidth=1.2 if mine else 0.3)
            for x, v in zip(xs, vals):  # neither a bar of height 0 nor a missing one may read as the other
                if v is None or v == 0:
                    ax.text(x, 0, "n/a" if v is None else "0", ha="center", va="bottom", fontsize=6,
                            color="#555555", rotation=90 if v is None else 0)
            if sizes is not None:
                for bar, size in zip(bars, sizes(da)):
                    if size < FEW:
                        bar.set_alpha(0.4)
            top = max([top] + [v for v in vals if v is not None])
        ax.set_xticks(range(len(buckets)), ticks(da), fontsize=6.5, rotation=rotate,
                      ha="right" if rotate else "center", rotation_mode="anchor" if rotate else "default")
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
        note = f" · {panel_note(da)}" if panel_note else ""
        ax.set_title(f"{names[da.direction.task]}{note}", fontsize=8, loc="left")
        if i % ncols == 0:
            ax.set_ylabel(ylabel, fontsize=8)
        if i + ncols >= n:  # the lowest panel of its column
            ax.set_xlabel(xlabel, fontsize=7.5)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    first = axes[0][0]
    first.set_ylim(0, ymax if ymax is not None else (top * 1.08 if top > 0 else 1))
    # Title, scope line and legend are placed from the first panel in inches (not in
    # figure fractions, which bbox_inches="tight" rescales when it crops the figure).
    x_off = -(LEFT - 0.07) * 72
    first.annotate(title, xy=(0, 1), xycoords="axes fraction", xytext=(x_off, (HEADER_H - 0.12) * 72),
                   textcoords="offset points", fontsize=11, ha="left", va="top", gid=plots.TITLE_GID)
    first.annotate(subtitle, xy=(0, 1), xycoords="axes fraction", xytext=(x_off, (HEADER_H - 0.4) * 72),
                   textcoords="offset points", fontsize=7.5, ha="left", va="top", color="#444444",
                   gid=plots.TITLE_GID)
    handles = [Patch(facecolor=colours[s], edgecolor="black" if s in an.pair.under_test else "white",
                     label=f"{k}: {plots.label(s, s in an.pair.under_test)}") for k, s in (("A", a), ("B", b))]
    legend = first.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1),
                          bbox_transform=offset_copy(first.transAxes, fig=fig, x=x_off / 72, y=0.27, units="inches"),
                          ncol=2, frameon=False, fontsize=8, handlelength=1.2, borderaxespad=0)
    plots._mark_labels(legend.get_texts(), set(an.pair.under_test))
    return plots._save(fig, out_base)


def _ab(an: "PairAnalysis") -> str:
    return f"A = {an.pair.a}, B = {an.pair.b}"


def _scope(an: "PairAnalysis", *sides: str) -> str:
    dirs = [da.direction for da in an.directions]
    parts = [segments_summary(dirs), refs_summary(dirs, an.pair.refs_setting)]
    for side in sides:
        attr = "source_tokenizer" if side == "source" else "target_tokenizer"
        parts.append(tokenizer_summary({da.direction.task: getattr(da, attr) for da in an.directions}, side))
    return "; ".join(parts)


def length_figure(an: "PairAnalysis", out_dir: Path, metric: str) -> list[Path]:
    """Mean sentence chrF or BLEU per source-length bucket; n under each bucket."""
    key = "chrf" if metric == "chrF" else "bleu"
    what = ("sentence chrF (sacrebleu defaults)" if key == "chrf"
            else "sentence BLEU (sacrebleu, effective order, the direction's BLEU tokenizer)")
    return _bucket_panels(
        an, out_dir / f"{key}-by-length",
        f"Mean sentence {metric} by source length: {an.pair.a} vs {an.pair.b}",
        f"{what}, mean over the segments of each bucket (n = segments per bucket; pale: n < {FEW}"
        f"{'; n/a: n = 0' if any(r.segments == 0 for da in an.directions for r in da.length) else ''})\n"
        f"{_scope(an, 'source', *(['target'] if key == 'bleu' else []))}; preset {an.pair.preset}",
        f"mean sentence {metric}", [b.label for b in LENGTH_BUCKETS],
        lambda da: ([getattr(r, f"{key}_a") for r in da.length], [getattr(r, f"{key}_b") for r in da.length]),
        lambda da: [f"{r.bucket}\nn={r.segments}" for r in da.length], "source length (tokens)",
        panel_note=lambda da: f"{da.direction.segments} seg.", sizes=lambda da: [r.segments for r in da.length])


def word_figure(an: "PairAnalysis", out_dir: Path) -> list[Path]:
    """Word F-measure per frequency bucket. A bucket without an F in any direction is
    left out, and said so (bucket 0 when frequencies come from the references: every
    reference word occurs there at least once, so that bucket has no recall)."""
    counted = ("the direction's reference (all its segments)" if an.frequency_source == "references"
               else Path(an.frequency_source).name)
    labels = [b.label for b in FREQUENCY_BUCKETS]
    keep = [j for j in range(len(labels))
            if any(da.words_a[j].f_measure is not None or da.words_b[j].f_measure is not None for da in an.directions)]
    dropped = [labels[j] for j in range(len(labels)) if j not in keep]
    gaps = any(da.words_a[j].f_measure is None and da.words_b[j].f_measure is None
               for da in an.directions for j in keep)
    notes = [f"pale: fewer than {FEW} reference words in the bucket"]
    if dropped:
        noun = "bucket" if len(dropped) == 1 else "buckets"
        notes.append(f"{noun} {', '.join(dropped)} left out: no reference word has that frequency in any direction, "
                     f"so no recall (the precision of such output words is in analysis.md)")
    if gaps:
        notes.append("n/a: no reference word in the bucket")
    return _bucket_panels(
        an, out_dir / "word-f-by-frequency",
        f"Word F-measure by word frequency: {an.pair.a} vs {an.pair.b}",
        f"F = 2PR/(P+R) of word matches (per segment: min of the word's counts in output and reference), per bucket "
        f"of the word's frequency in {counted}\n{_scope(an, 'target')}; preset {an.pair.preset}"
        + ("\n" + "; ".join(notes) if notes else ""),
        "word F-measure", [labels[j] for j in keep],
        lambda da: ([da.words_a[j].f_measure for j in keep], [da.words_b[j].f_measure for j in keep]),
        lambda da: [labels[j] for j in keep],
        "word frequency (count in the reference)" if an.frequency_source == "references" else f"word count in {counted}",
        rotate=50, panel_note=lambda da: f"{da.direction.segments} seg.",
        sizes=lambda da: [da.words_a[j].reference_words for j in keep], ymax=1.0)


def write_figures(an: "PairAnalysis", out_dir: Path) -> list[Path]:
    return [*length_figure(an, out_dir, "chrF"), *length_figure(an, out_dir, "BLEU"), *word_figure(an, out_dir)]
