"""What the analysis reads: per direction, the source, one reference and the outputs
of systems A and B, from the run directories (their testdata copy and generations),
never from the data folder or a model, so any old run or comparison can be analysed.

System names are the names of the results object (for a comparison, the merged
names, ``<run>/<model>`` where a name is in several runs); each is found in the run
directory it was generated in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.results import Results
from mtbench.store import RunDir


@dataclass(frozen=True)
class Direction:
    """One direction where both systems have outputs, cut to the segments scored."""

    task: str
    src: str
    tgt: str
    segments: int
    segments_in_test_set: int
    ref_id: str  # the one reference everything is measured against
    refs_scored: tuple[str, ...]  # the references the run scored with
    source: tuple[str, ...]
    reference: tuple[str, ...]
    output_a: tuple[str, ...]
    output_b: tuple[str, ...]

    @property
    def limited(self) -> bool:
        return self.segments < self.segments_in_test_set


@dataclass(frozen=True)
class PairData:
    a: str
    b: str
    preset: str
    refs_setting: str  # the run's --refs (primary, all, ids)
    runs: tuple[str, ...]
    directions: tuple[Direction, ...]
    skipped: tuple[str, ...] = ()  # one line per direction left out, and why
    under_test: frozenset[str] = field(default_factory=frozenset)


def _locate(results: Results, runs: Sequence[RunDir]) -> dict[str, tuple[RunDir, str]]:
    """Merged model name -> (the run directory given on the command line, its name
    there). ``ModelInfo.run`` is the path the run was *scored* under, which may be
    relative to another working directory or moved since; the run directories given
    now are matched to it through their own results.json."""
    by_recorded: dict[str, RunDir] = {}
    for run in runs:
        for info in Results.load(run.path).models.values():
            by_recorded.setdefault(info.run, run)
    located = {}
    for name, info in results.models.items():
        run = by_recorded.get(info.run)
        if run is None:
            run = next((r for r in runs if os.path.abspath(r.path) == os.path.abspath(info.run)), RunDir(info.run))
        located[name] = (run, info.name_in_run)
    return located


def check_names(a: str, b: str, systems: list[str], where: str) -> None:
    for name in (a, b):
        if name not in systems:
            hint = did_you_mean(name, systems)
            if hint.startswith("did you mean"):  # the close names, then every system
                shown = ", ".join(sorted(systems)[:12]) + (", ..." if len(systems) > 12 else "")
                hint += f" (its {len(systems)} systems: {shown})"
            raise MtbenchError(f"system {name!r} is not in {where}: {hint}")
    if a == b:
        raise MtbenchError(f"systems A and B are both {a!r}; name two different systems of {where}")


def load_pair(results: Results, runs: Sequence[RunDir], a: str, b: str, tasks: Sequence[str] | None = None) -> PairData:
    where = ", ".join(str(r.path) for r in runs)
    systems = list(results.models)
    check_names(a, b, systems, where)
    wanted = list(results.tasks)
    if tasks is not None:
        if not tasks:
            raise MtbenchError("--tasks names no direction; give task names such as wmt22:de-en, or leave it out for all")
        for t in tasks:
            if t not in results.tasks:
                raise MtbenchError(f"--tasks {t!r} is not a direction of {where}: {did_you_mean(t, list(results.tasks))}")
        wanted = [t for t in results.tasks if t in tasks]
    located = _locate(results, runs)
    directions, skipped = [], []
    have: dict[str, list[str]] = {a: [], b: []}
    for task in wanted:
        info = results.tasks[task]
        present = {m: located[m][0].has_finished_generation(task, located[m][1]) for m in (a, b)}
        for m in (a, b):
            if present[m]:
                have[m].append(task)
        if not all(present.values()):
            missing = " and ".join(repr(m) for m in (a, b) if not present[m])
            skipped.append(f"{task}: skipped, {missing} {'has' if ' and ' not in missing else 'have'} no outputs there")
            continue
        run_a, name_a = located[a]
        td = run_a.read_testdata(task)
        refs = list(info.refs) or list(td["references"])
        n = info.segments
        outputs = {}
        for m in (a, b):
            run, name = located[m]
            out = run.read_generation(task, name)
            if len(out) != n:
                raise MtbenchError(f"{run.outputs_file(task, name)} has {len(out)} lines but {task} was scored on {n} "
                                   f"segments; rebuild the run with `mtbench run --out {run.path}`")
            outputs[m] = tuple(out)
        directions.append(Direction(task=task, src=info.src, tgt=info.tgt, segments=n,
                                    segments_in_test_set=info.segments_in_test_set, ref_id=refs[0],
                                    refs_scored=tuple(info.refs), source=tuple(td["source"][:n]),
                                    reference=tuple(td["references"][refs[0]][:n]),
                                    output_a=outputs[a], output_b=outputs[b]))
    if not directions:
        shown = {m: ", ".join(t) if t else "none" for m, t in have.items()}
        raise MtbenchError(f"{a!r} and {b!r} have no direction with outputs of both in {where} "
                           f"({a!r}: {shown[a]}; {b!r}: {shown[b]}); choose two systems that share a direction")
    refs_setting = str(runs[0].read_config().get("refs", "primary")) if runs else "primary"
    return PairData(a=a, b=b, preset=results.preset, refs_setting=refs_setting, runs=tuple(str(r.path) for r in runs),
                    directions=tuple(directions), skipped=tuple(skipped),
                    under_test=frozenset(m for m in (a, b) if results.models[m].under_test))
