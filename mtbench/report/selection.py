"""Which systems a figure shows and which directions get per-direction figures.

The user's own systems (generated, files:DIR, Python-API translators) are always
shown; next to them the best ``systems_shown`` reference systems of the table and any
named with ``show``. Per-direction figures (pairwise significance, segment scores)
are drawn for ``figure_tasks``: the first direction, every one (``all``) or a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.report.leaderboard import Table
from mtbench.results import Results

DEFAULT_SYSTEMS_SHOWN = 10


@dataclass(frozen=True)
class ViewOptions:
    systems_shown: int = DEFAULT_SYSTEMS_SHOWN  # best reference systems shown beside the systems under test
    show: tuple[str, ...] = ()  # systems always shown as well
    figure_tasks: str = "first"  # "first", "all" or comma-separated directions

    def __post_init__(self) -> None:
        if not isinstance(self.systems_shown, int) or self.systems_shown < 0:
            raise MtbenchError(f"--systems-shown must be 0 or a positive integer, got {self.systems_shown!r}")
        if not isinstance(self.figure_tasks, str) or not _split(self.figure_tasks):
            raise MtbenchError(f"--figure-tasks {self.figure_tasks!r} names no direction: give first, all or task "
                               f"names such as wmt22:de-en")


def check_names(view: ViewOptions, models: Sequence[str], tasks: Sequence[str]) -> None:
    """Every --show name is a system and every --figure-tasks name a direction."""
    for name in view.show:
        if name not in models:
            raise MtbenchError(f"--show {name!r} is not a system of this run: {did_you_mean(name, list(models))}")
    if view.figure_tasks not in ("first", "all"):
        for name in _split(view.figure_tasks):
            if name not in tasks:
                raise MtbenchError(f"--figure-tasks {name!r} is not a direction of this run: "
                                   f"{did_you_mean(name, list(tasks))} (or first, all)")


def _split(spec: str) -> list[str]:
    return [s.strip() for s in spec.split(",") if s.strip()]


def figure_tasks(results: Results, view: ViewOptions) -> list[str]:
    scored = results.scored_tasks
    if view.figure_tasks == "all":
        return scored
    if view.figure_tasks == "first":
        return scored[:1]
    return [t for t in _split(view.figure_tasks) if t in scored]


def shown_systems(table: Table, view: ViewOptions) -> list[str]:
    """The systems under test, the --show ones and the best N reference systems, in the
    table's order (best first). Systems with a score in every direction come first;
    where fewer than N have one, those covering the most directions fill the rest."""
    chosen = {r.model for r in table.rows if r.under_test or r.model in view.show}
    rest = [r for r in table.rows if r.model not in chosen]
    full = [r.model for r in rest if r.averages.get("avg") is not None]
    partial = [r for r in rest if r.averages.get("avg") is None]
    sign = -1 if table.metric.higher_is_better else 1

    def rank(r: Any) -> tuple[int, float]:
        values = [v for v in r.cells.values() if v is not None]
        return (-len(values), sign * sum(values) / len(values) if values else float("inf"))

    chosen |= set((full + [r.model for r in sorted(partial, key=rank)])[: view.systems_shown])
    return [r.model for r in table.rows if r.model in chosen]


def shown_in_task(results: Results, task: str, metric: str, view: ViewOptions, baseline: str = "best") -> list[str]:
    """A per-direction figure's systems: those under test, the --show ones, a named
    baseline and the best N reference systems of that direction, best first."""
    info = results.metrics[metric]
    scores = results.tasks[task].scores
    present = sorted((s for s in scores if metric in scores[s]),
                     key=lambda s: -scores[s][metric].score if info.higher_is_better else scores[s][metric].score)
    named = baseline if baseline != "best" else None  # "best" is the top of the direction anyway
    chosen = {s for s in present if results.models[s].under_test or s in view.show or s == named}
    chosen |= set([s for s in present if s not in chosen][: view.systems_shown])
    return [s for s in present if s in chosen]


def pairwise_plan(results: Results, view: ViewOptions, baseline: str = "best") -> dict[str, dict[str, list[str]]]:
    """task -> metric -> systems of its significance matrix."""
    plan: dict[str, dict[str, list[str]]] = {}
    for task in figure_tasks(results, view):
        for metric in results.metrics:
            systems = shown_in_task(results, task, metric, view, baseline)
            if len(systems) >= 2:
                plan.setdefault(task, {})[metric] = systems
    return plan
