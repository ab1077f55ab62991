"""Paper-style figures as PNG and PDF.

Readable fonts, a colour-blind-safe palette, one colour per system for every figure
of a report (assigned once, in the report's system order). Every figure has a title
line saying what it shows and how many segments it covers, and a scope line
(references, preset, test); systems under test are drawn with a black outline and
labelled ``[under test]``.

What each PNG shows in words (titles, axis and tick labels, legend, cell texts, bar
heights) is read back from the drawn figure and embedded in the PNG as the text chunk
``mtbench-figure`` (JSON), so tests and scripts can check a figure's content without
looking at pixels: ``figure_text(path)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from mtbench.report.scope import direction_labels  # noqa: E402
from mtbench.stop import checkpoint  # noqa: E402

# Okabe & Ito (2008) colour-blind-safe palette, then Paul Tol's "muted" for more systems.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
UNDER_TEST = " [under test]"
DISCRETE_VALUES = 3  # segment scores with this few distinct values are drawn as shares
FIGURE_TEXT_KEY = "mtbench-figure"

plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
                     "figure.dpi": 110, "savefig.dpi": 150, "axes.spines.top": False, "axes.spines.right": False})


def system_colours(systems: Sequence[str]) -> dict[str, str]:
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(systems)}


def label(name: str, under_test: bool) -> str:
    return name + UNDER_TEST if under_test else name


TITLE_GID = "mtbench-title"


def _titles(fig: Any, ax: Any, title: str, subtitle: str) -> None:
    """The title line (what, and how many segments) above the scope line (refs,
    preset, test), both left-aligned on the first axes so they never overlap."""
    ax.set_title(subtitle, fontsize=8, color="#444444", loc="left")
    lift = 20 + 10 * subtitle.count("\n")  # above every line of the scope
    ax.annotate(title, xy=(0, 1), xycoords="axes fraction", xytext=(0, lift), textcoords="offset points",
                fontsize=11, ha="left", va="bottom", gid=TITLE_GID)


def _read_back(fig: Any) -> dict[str, Any]:
    """What the figure shows, from its artists."""
    def texts(items: Any) -> list[str]:
        return [t.get_text() for t in items if t.get_text() and t.get_gid() != TITLE_GID]

    titles = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == TITLE_GID]

    axes = []
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        entry: dict[str, Any] = {
            "title": ax.get_title(loc="left") or ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
            "xticklabels": texts(ax.get_xticklabels()), "yticklabels": texts(ax.get_yticklabels()),
            "texts": texts(ax.texts),
            "bold": [t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]
                     if t.get_text() and t.get_fontweight() == "bold"],
        }
        legend = ax.get_legend()
        if legend is not None:
            entry["legend"] = texts(legend.get_texts())
            entry["bold"] += [t.get_text() for t in legend.get_texts() if t.get_fontweight() == "bold"]
        bars = [{"label": c.get_label(), "heights": [None if not np.isfinite(b.get_height()) else round(float(b.get_height()), 6)
                                                    for b in c]}
                for c in ax.containers if isinstance(c, BarContainer)]
        if bars:
            entry["bars"] = bars
        axes.append(entry)
    return {"suptitle": " ".join(titles), "axes": axes}


def finish(fig: Any, ax: Any, title: str, subtitle: str) -> None:
    """A plugin plot's title and scope lines, placed as mtbench's own figures place them."""
    _titles(fig, ax, title, subtitle)


def save(fig: Any, out_base: Path) -> list[Path]:
    """``out_base``.png (with the figure's text for tests) and .pdf; the figure is closed."""
    return _save(fig, out_base)


def _save(fig: Any, out_base: Path) -> list[Path]:
    out_base.parent.mkdir(parents=True, exist_ok=True)
    shown = json.dumps(_read_back(fig), ensure_ascii=False, sort_keys=True)
    # The tight box once, measured at the saved dpi: what bbox_inches="tight" finds,
    # without its extra layout draw per file (a third of a report's drawing time).
    fig.set_dpi(plt.rcParams["savefig.dpi"])
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    paths = []
    for ext in ("png", "pdf"):
        p = out_base.with_name(f"{out_base.name}.{ext}")  # not with_suffix: a name like lat-a0.05 keeps its .05
        meta = {FIGURE_TEXT_KEY: shown} if ext == "png" else {"CreationDate": None}
        fig.savefig(p, bbox_inches=box, metadata=meta)
        paths.append(p)
    plt.close(fig)
    checkpoint("report", out_base.name)
    return paths


def figure_text(png: str | Path) -> dict[str, Any]:
    """The ``mtbench-figure`` text of a PNG this module wrote."""
    from PIL import Image

    with Image.open(png) as img:
        return json.loads(img.text[FIGURE_TEXT_KEY])


def _mark_labels(labels: Sequence[Any], under_test: set[str]) -> None:
    for t in labels:
        if t.get_text().endswith(UNDER_TEST):
            t.set_fontweight("bold")


def grouped_bars(columns: Sequence[str], n_directions: int, systems: Sequence[str],
                 values: Mapping[str, Sequence[float | None]], under_test: set[str], colours: Mapping[str, str],
                 out_base: Path, title: str, subtitle: str, ylabel: str) -> list[Path]:
    """Per-direction grouped bars plus the group averages (ALMA's main figure)."""
    n = len(systems)
    width = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(max(6.5, 0.55 * len(columns) * max(1, n / 4)), 3.8))
    x = np.arange(len(columns))
    for i, s in enumerate(systems):
        vals = [np.nan if v is None else v for v in values[s]]
        mine = s in under_test
        ax.bar(x + (i - (n - 1) / 2) * width, vals, width, label=label(s, mine), color=colours[s],
               edgecolor="black" if mine else "white", linewidth=1.4 if mine else 0.4, zorder=3 if mine else 2)
    if len(columns) > n_directions:
        ax.axvline(n_directions - 0.5, color="#888888", linewidth=0.8, linestyle=":")
    ax.set_xticks(x, direction_labels(columns[:n_directions]) + list(columns[n_directions:]), rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    _titles(fig, ax, title, subtitle)
    legend = ax.legend(ncol=min(4, n), loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    _mark_labels(legend.get_texts(), under_test)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out_base)


def heatmap(columns: Sequence[str], rows: Sequence[str], data: Sequence[Sequence[float | None]], n_systems: int,
            under_test: set[str], out_base: Path, title: str, subtitle: str, colorbar_label: str,
            higher_is_better: bool, fmt: str = "{:.1f}") -> list[Path]:
    """Rows x directions with the value printed in each cell (LAT's off-target tables);
    rows after the first ``n_systems`` are extra rows such as the reference floor."""
    arr = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float).reshape(len(rows), len(columns))
    fig, ax = plt.subplots(figsize=(max(5.5, 0.7 * len(columns) + 3.0), 0.38 * len(rows) + 1.9))
    cmap = "viridis" if higher_is_better else "viridis_r"
    im = ax.imshow(arr, aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(columns)), direction_labels(columns), rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [label(r, r in under_test) for r in rows])
    _mark_labels(ax.get_yticklabels(), under_test)
    finite = arr[np.isfinite(arr)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(arr.shape[0]):
        for j in range(arr.shape[1]):
            if np.isfinite(arr[i, j]):
                dark = (arr[i, j] < mid) == (cmap == "viridis")
                ax.text(j, i, fmt.format(arr[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    if len(rows) > n_systems:
        ax.axhline(n_systems - 0.5, color="white", linewidth=2)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label=colorbar_label)
    _titles(fig, ax, title, subtitle)
    ax.spines[:].set_visible(False)
    return _save(fig, out_base)


def curves(series: Mapping[str, Sequence[tuple[float, float]]], colours: Mapping[str, str], out_base: Path,
           xlabel: str, ylabel: str, title: str = "", subtitle: str = "", logx: bool = False,
           under_test: set[str] = frozenset(), point_labels: Mapping[str, Mapping[float, str]] | None = None
           ) -> list[Path]:
    """Metric against training step / alpha / data size, one line per series;
    ``point_labels`` (series -> x -> text) writes a value beside each point."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for i, (name, points) in enumerate(series.items()):
        pts = sorted(points)
        mine = name in under_test
        colour = colours.get(name, PALETTE[i % len(PALETTE)])
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3.5, linewidth=2.2 if mine else 1.5,
                label=label(name, mine), color=colour)
        for x, y in pts:
            text = (point_labels or {}).get(name, {}).get(x)
            if text:
                ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8,
                            color=colour)
    xs = sorted({p[0] for points in series.values() for p in points})
    if logx:  # symlog keeps a 0 (the control of an ablation) on the axis
        positive = [x for x in xs if x > 0]
        if xs and xs[0] <= 0 and positive:
            ax.set_xscale("symlog", linthresh=positive[0])
        else:
            ax.set_xscale("log")
    if 1 < len(xs) <= 8:  # an ablation's few settings: label each one, and only those
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.xaxis.set_minor_formatter(NullFormatter())
    if point_labels:
        ax.margins(x=0.08, y=0.15)  # room for the labels above the highest points and at the ends
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _titles(fig, ax, title, subtitle)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        # a few lines: inside; more: beside the axes, where no label covers a line
        legend = ax.legend(frameon=False) if len(series) <= 4 else \
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _mark_labels(legend.get_texts(), under_test)
    return _save(fig, out_base)


def significance_matrix(systems: Sequence[str], p_values: np.ndarray, deltas: np.ndarray, under_test: set[str],
                        out_base: Path, title: str, subtitle: str, alpha: float,
                        higher_is_better: bool = True) -> list[Path]:
    """Pairwise tests: cell (i, j) is row minus column (displayed scale); * where p < alpha.
    Purple always means the row system is better, in the metric's own direction."""
    n = len(systems)
    fig, ax = plt.subplots(figsize=(0.6 * n + 3.2, 0.5 * n + 2.0))
    lim = np.nanmax(np.abs(deltas)) if np.isfinite(deltas).any() else 1.0
    im = ax.imshow(deltas, cmap="PuOr" if higher_is_better else "PuOr_r", vmin=-lim, vmax=lim)
    for i in range(n):
        for j in range(n):
            if i != j and np.isfinite(deltas[i, j]):
                mark = "*" if np.isfinite(p_values[i, j]) and p_values[i, j] < alpha else ""
                dark = abs(deltas[i, j]) > 0.55 * lim  # the colour map's ends are dark
                ax.text(j, i, f"{deltas[i, j]:+.1f}{mark}", ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    labels = [label(s, s in under_test) for s in systems]
    ax.set_xticks(range(n), labels, rotation=40, ha="right")
    ax.set_yticks(range(n), labels)
    _mark_labels([*ax.get_xticklabels(), *ax.get_yticklabels()], under_test)
    better = "higher" if higher_is_better else "lower"
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="row − column")
    _titles(fig, ax, title, f"purple: row better ({better} is better) · {subtitle}")
    ax.spines[:].set_visible(False)
    return _save(fig, out_base)


def segment_scores(systems: Sequence[str], scores: Mapping[str, Sequence[float]], under_test: set[str],
                   colours: Mapping[str, str], pair: tuple[str, str] | None, higher_is_better: bool, out_base: Path,
                   title: str, subtitle: str, xlabel: str) -> list[Path]:
    """Segment-level scores of every shown system (box plots, mean marked) and, for one
    pair, the per-segment difference (how often the first is better, worse, tied in the
    metric's direction)."""
    fig, axes = plt.subplots(1, 2 if pair else 1, figsize=(10.0 if pair else 6.0, 0.32 * len(systems) + 2.2),
                             gridspec_kw={"width_ratios": [1.4, 1]} if pair else None, squeeze=False)
    ax1 = axes[0][0]
    data = [np.asarray(scores[s], float) for s in systems][::-1]  # best at the top
    names = list(systems)[::-1]
    values = np.unique(np.concatenate(data)) if data else np.zeros(0)
    if len(values) <= DISCRETE_VALUES:
        # few distinct values (off-target's 0/100): the share of segments at each value
        # other than the most common one, which a box plot would hide
        every = np.concatenate(data)
        common = values[np.argmax([np.sum(every == v) for v in values])]
        others = [v for v in values if v != common] or [common]
        height = 0.8 / len(others)
        for k, v in enumerate(others):
            share = [100.0 * np.mean(d == v) for d in data]
            bars = ax1.barh(np.arange(1, len(names) + 1) + (k - (len(others) - 1) / 2) * height, share, height,
                            color=PALETTE[(k + 3) % len(PALETTE)], label=f"segment score {v:g}")
            ax1.bar_label(bars, fmt="%.1f%%", fontsize=7, padding=2)
        ax1.set_xlim(0, max(1.0, ax1.get_xlim()[1] * 1.15))
        if len(others) > 1:
            ax1.legend(frameon=False, fontsize=7)
        xlabel = f"% of segments with score {', '.join(f'{v:g}' for v in others)} ({xlabel.removeprefix('segment ')})"
    else:
        box = ax1.boxplot(data, orientation="horizontal", widths=0.6, showmeans=True, patch_artist=True,
                          meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black",
                                     "markersize": 3.5},
                          medianprops={"color": "black"}, flierprops={"markersize": 2, "alpha": 0.4})
        for patch, s in zip(box["boxes"], names):
            patch.set_facecolor(colours.get(s, PALETTE[0]))
            patch.set_alpha(0.75)
            if s in under_test:
                patch.set_edgecolor("black")
                patch.set_linewidth(1.6)
    ax1.set_yticks(range(1, len(names) + 1), [label(s, s in under_test) for s in names])
    _mark_labels(ax1.get_yticklabels(), under_test)
    ax1.set_xlabel(xlabel)
    ax1.grid(axis="x", alpha=0.3)
    _titles(fig, ax1, title, subtitle)
    if pair:
        a, b = pair
        diff = np.asarray(scores[a], float) - np.asarray(scores[b], float)
        ax2 = axes[0][1]
        ax2.hist(diff, bins=40, color="#777777")
        ax2.axvline(0, color="black", linewidth=0.8)
        ax2.set_xlabel(f"{label(a, a in under_test)} − {b}")
        ax2.set_ylabel("segments")
        better, worse = (diff > 0, diff < 0) if higher_is_better else (diff < 0, diff > 0)
        ax2.set_title(f"{a} better: {int(better.sum())}, worse: {int(worse.sum())}, tied: {int((diff == 0).sum())}",
                      fontsize=8, loc="left")
    return _save(fig, out_base)
