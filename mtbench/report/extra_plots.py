"""Plots from plugins: a figure of one's own in every report, without editing mtbench.

A plot is a function ``plot(ctx: PlotContext) -> list[Path]`` registered in ``PLOTS``
(``PLOTS.register("length-ratio", plot)`` in a Python file on ``--include-path``, or an
entry point in the group ``mtbench.plots``). It reads the results model and the
leaderboards the report shows, draws with matplotlib and saves through
``PlotContext.save``, which puts the report's title and scope lines on the figure (what
it shows, on how many segments, which references, preset and test) and writes the PNG
and PDF the report links. Its PNG appears in index.html after mtbench's own figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from mtbench.errors import MtbenchError
from mtbench.registry import Registry
from mtbench.report import plots
from mtbench.results import Results

PlotFunction = Callable[["PlotContext"], list[Path]]
PLOTS: Registry[PlotFunction] = Registry("plot", entry_point_group="mtbench.plots")


@dataclass(frozen=True)
class PlotContext:
    """What a plot gets: the run's results, the report's leaderboards (one per metric,
    rows in the order shown), every system's colour, the systems under test, and the
    phrases that say what a number covers."""

    results: Results
    tables: Sequence[Any]  # mtbench.report.leaderboard.Table
    out_dir: Path
    colours: dict[str, str]
    under_test: frozenset[str]
    segments: str  # "N segments per direction" (and the --limit note)
    scope: str  # references · preset

    def label(self, system: str) -> str:
        """The system's name as every figure shows it (systems under test marked)."""
        return plots.label(system, system in self.under_test)

    def save(self, fig: Any, ax: Any, name: str, title: str) -> list[Path]:
        """Title (``title — segments``) and scope line on ``ax``, then ``<name>.png/.pdf``."""
        plots.finish(fig, ax, f"{title} — {self.segments}", self.scope)
        return plots.save(fig, self.out_dir / name)


def draw_plugin_plots(ctx: PlotContext) -> list[Path]:
    """Every registered plot's files; a plot that fails is a one-line error naming it."""
    paths: list[Path] = []
    for name in PLOTS.names():
        plot = PLOTS.get(name)
        try:
            written = plot(ctx)
        except MtbenchError:
            raise
        except Exception as exc:
            raise MtbenchError(f"plot {name!r} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                               f"; fix its plugin or leave its folder out of --include-path") from None
        if not isinstance(written, list) or not all(isinstance(p, Path) and p.is_file() for p in written):
            raise MtbenchError(f"plot {name!r} returned {written!r}; a plot returns the list of files it wrote "
                               f"(PlotContext.save gives them)")
        paths += written
    return paths
