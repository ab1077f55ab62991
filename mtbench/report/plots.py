"""Paper-style figures from results.json (and per-segment scores), as PNG and PDF.

Readable fonts, a colour-blind-safe palette, and one colour per system for every
figure of a report (assigned once, in the report's system order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Okabe & Ito (2008) colour-blind-safe palette, then Paul Tol's "muted" for more systems.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]

plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
                     "figure.dpi": 110, "savefig.dpi": 150, "axes.spines.top": False, "axes.spines.right": False})


def system_colours(systems: Sequence[str]) -> dict[str, str]:
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(systems)}


def _save(fig: Any, out_base: Path) -> list[Path]:
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out_base.with_suffix(f".{ext}")
        fig.savefig(p, bbox_inches="tight", metadata={"CreationDate": None} if ext == "pdf" else None)
        paths.append(p)
    plt.close(fig)
    return paths


def _short(task: str) -> str:
    """wmt22:de-en -> de-en (the test set is in the caption)."""
    return task.split(":", 1)[-1]


def grouped_bars(table: Mapping[str, Any], systems: Sequence[str], colours: Mapping[str, str], out_base: Path,
                 title: str = "") -> list[Path]:
    """Per-direction grouped bars plus the xx->en / en->xx averages (ALMA's main figure)."""
    rows = {r["model"]: r for r in table["rows"] if r["model"] in systems}
    cols = list(table["columns"]) + [a for a in table["average_columns"] if a != "avg"]
    labels = [_short(c) for c in table["columns"]] + [a for a in table["average_columns"] if a != "avg"]
    n = len(systems)
    width = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(cols) * max(1, n / 4)), 3.6))
    x = np.arange(len(cols))
    for i, s in enumerate(systems):
        r = rows[s]
        vals = [r["cells"].get(c) if c in r["cells"] else r["averages"].get(c) for c in cols]
        ax.bar(x + (i - (n - 1) / 2) * width, [np.nan if v is None else v for v in vals], width,
               label=s, color=colours[s], edgecolor="white", linewidth=0.4)
    n_dir = len(table["columns"])
    if len(cols) > n_dir:
        ax.axvline(n_dir - 0.5, color="#888888", linewidth=0.8, linestyle=":")
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel(table["metric"])
    ax.set_title(title or f"{table['metric']} per direction")
    ax.legend(ncol=min(4, n), loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out_base)


def heatmap(table: Mapping[str, Any], systems: Sequence[str], out_base: Path, title: str = "",
            extra_rows: Mapping[str, Mapping[str, float]] | None = None, fmt: str = "{:.1f}") -> list[Path]:
    """Systems x directions, the value printed in each cell (LAT's off-target tables);
    ``extra_rows`` adds rows such as the reference floor."""
    rows = {r["model"]: r["cells"] for r in table["rows"]}
    names = list(systems) + list(extra_rows or {})
    data = np.array([[np.nan if (v := (rows.get(s) or (extra_rows or {}).get(s, {})).get(c)) is None else v
                      for c in table["columns"]] for s in names], dtype=float)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(table["columns"]) + 2.5), 0.38 * len(names) + 1.6))
    cmap = "viridis" if table.get("higher_is_better", True) else "viridis_r"
    im = ax.imshow(data, aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(table["columns"])), [_short(c) for c in table["columns"]], rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    finite = data[np.isfinite(data)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                dark = (data[i, j] < mid) == (cmap == "viridis")
                ax.text(j, i, fmt.format(data[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    if extra_rows:
        ax.axhline(len(systems) - 0.5, color="white", linewidth=2)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label=table["metric"])
    ax.set_title(title or f"{table['metric']} per direction and system")
    ax.spines[:].set_visible(False)
    return _save(fig, out_base)


def curves(series: Mapping[str, Sequence[tuple[float, float]]], colours: Mapping[str, str], out_base: Path,
           xlabel: str, ylabel: str, title: str = "", logx: bool = False) -> list[Path]:
    """Metric against training step / alpha / data size, one line per series."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for i, (name, points) in enumerate(series.items()):
        pts = sorted(points)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3.5, linewidth=1.5,
                label=name, color=colours.get(name, PALETTE[i % len(PALETTE)]))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(frameon=False)
    return _save(fig, out_base)


def significance_matrix(systems: Sequence[str], p_values: np.ndarray, deltas: np.ndarray, out_base: Path,
                        metric: str, alpha: float = 0.05) -> list[Path]:
    """Pairwise tests: cell (i, j) is row minus column; marked where p < alpha."""
    n = len(systems)
    fig, ax = plt.subplots(figsize=(0.55 * n + 2.5, 0.5 * n + 1.5))
    lim = np.nanmax(np.abs(deltas)) if np.isfinite(deltas).any() else 1.0
    im = ax.imshow(deltas, cmap="PuOr", vmin=-lim, vmax=lim)
    for i in range(n):
        for j in range(n):
            if i != j and np.isfinite(deltas[i, j]):
                mark = "*" if p_values[i, j] < alpha else ""
                ax.text(j, i, f"{deltas[i, j]:+.1f}{mark}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n), systems, rotation=40, ha="right")
    ax.set_yticks(range(n), systems)
    ax.set_title(f"{metric}: row - column (* p < {alpha})")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    ax.spines[:].set_visible(False)
    return _save(fig, out_base)


def score_distributions(a_name: str, a: Sequence[float], b_name: str, b: Sequence[float], colours: Mapping[str, str],
                        out_base: Path, metric: str) -> list[Path]:
    """Segment-level scores of two systems: histograms and the per-segment difference."""
    a_arr, b_arr = np.asarray(a, float), np.asarray(b, float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.5, 3.2))
    bins = np.linspace(min(a_arr.min(), b_arr.min()), max(a_arr.max(), b_arr.max()), 30)
    ax1.hist(a_arr, bins=bins, alpha=0.6, label=a_name, color=colours.get(a_name, PALETTE[0]))
    ax1.hist(b_arr, bins=bins, alpha=0.6, label=b_name, color=colours.get(b_name, PALETTE[1]))
    ax1.set_xlabel(f"segment {metric}")
    ax1.set_ylabel("segments")
    ax1.legend(frameon=False)
    diff = b_arr - a_arr
    ax2.hist(diff, bins=40, color="#777777")
    ax2.axvline(0, color="black", linewidth=0.8)
    ax2.set_xlabel(f"{b_name} - {a_name}")
    ax2.set_title(f"better: {int((diff > 0).sum())}, worse: {int((diff < 0).sum())}, tied: {int((diff == 0).sum())}",
                  fontsize=9)
    return _save(fig, out_base)
