"""Tasks (one test set direction) and suites (named lists of tasks in tasks/*.yaml).

A task spec is ``testset:src-tgt``; ``testset:*`` means every pair of the set; any
other word is a suite name. User suites come from ``--include-path DIR``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mtbench.data.testsets import TESTSETS, PairSpec, TestSet, get_testset, register_testsets
from mtbench.paths import bundled_tasks_folder
from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.yamlio import load_yaml_mapping


@dataclass(frozen=True)
class Task:
    testset: str
    pair: str
    # Unseen in the training of the models a suite is about (the suite's `zero_shot:`);
    # None = the test set's registry flag (unseen in the seed papers' training data).
    unseen: bool | None = field(default=None, compare=False)

    @property
    def zero_shot(self) -> bool:
        return self.spec.zero_shot if self.unseen is None else self.unseen

    @property
    def name(self) -> str:
        return f"{self.testset}:{self.pair}"

    @property
    def spec(self) -> PairSpec:
        return get_testset(self.testset).pair(self.pair)

    @property
    def src(self) -> str:
        return self.pair.split("-", 1)[0]

    @property
    def tgt(self) -> str:
        return self.pair.split("-", 1)[1]

    @property
    def dirname(self) -> str:
        """File-system-safe name used inside run directories."""
        return f"{self.testset}_{self.pair}"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    tasks: tuple[str, ...]
    path: Path
    limit: int | None = None  # first N segments of every task (None = all)
    # Run settings the suite stands for (models, adapters, decoding...): they apply when
    # the suite is run on its own and the user left that setting at its default.
    run: tuple[tuple[str, Any], ...] = ()
    # Directions the suite's models were not trained on: task specs of its own list, or
    # every task of the suite (`zero_shot: true`). Reports average them apart.
    zero_shot: tuple[str, ...] = ()


def _suite_files(include_paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for d in include_paths:
        d = Path(d)
        if not d.is_dir():
            raise MtbenchError(f"--include-path {d} is not a directory; give a folder of suite YAML files")
        files.extend(sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")))
    files.extend(sorted(p for p in bundled_tasks_folder().glob("*.yaml")))
    return files


def load_suites(include_paths: Iterable[Path] = ()) -> dict[str, Suite]:
    """Every suite; user suites (include paths) shadow built-in ones of the same name.
    The test sets of the include paths are registered first: suites may name them."""
    include_paths = [Path(p) for p in include_paths]
    register_testsets(include_paths)
    suites: dict[str, Suite] = {}
    for f in _suite_files(include_paths):
        data = load_yaml_mapping(f)
        if "suite" not in data:
            continue  # other YAML (e.g. run configs) may share the folder
        name = str(data["suite"])
        tasks = data.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
            raise MtbenchError(f"{f}: suite {name!r} needs `tasks:` as a list of strings like wmt22:de-en")
        limit = data.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise MtbenchError(f"{f}: `limit: {limit}` must be a positive integer")
        run = data.get("run") or {}
        if not isinstance(run, dict):
            raise MtbenchError(f"{f}: `run:` must be a mapping of run settings (models, adapters, ...)")
        from mtbench.config import FIELD_NAMES

        for key in run:
            if key not in FIELD_NAMES or key in ("tasks", "out", "limit"):
                raise MtbenchError(f"{f}: unknown run setting {key!r} in suite {name!r}: "
                                   f"{did_you_mean(str(key), [k for k in FIELD_NAMES if k not in ('tasks', 'out', 'limit')])}")
        zero_shot = data.get("zero_shot") or ()
        if zero_shot is True:
            zero_shot = tuple(tasks)
        if not isinstance(zero_shot, (list, tuple)) or any(z not in tasks for z in zero_shot):
            stray = [z for z in zero_shot if z not in tasks] if isinstance(zero_shot, (list, tuple)) else zero_shot
            raise MtbenchError(f"{f}: `zero_shot:` must be true or a list of this suite's own tasks; "
                               f"not in `tasks:`: {stray}")
        suites.setdefault(name, Suite(name, str(data.get("description", "")), tuple(tasks), f, limit,
                                      tuple(run.items()), tuple(zero_shot)))
    return suites


def resolve_tasks(spec: str | Iterable[str], include_paths: Iterable[Path] = ()) -> list[Task]:
    """Expand comma-separated task specs and suite names into unique tasks, in order."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    suites = load_suites(include_paths)
    out: list[Task] = []
    seen: set[str] = set()

    def add(item: str, stack: tuple[str, ...], unseen: bool | None = None) -> None:
        if not item:
            return
        if ":" in item:
            ts_name, _, pair = item.partition(":")
            ts: TestSet = get_testset(ts_name)
            pairs = list(ts.pairs) if pair == "*" else [ts.pair(pair).key]
            for p in pairs:
                task = Task(ts.name, p, unseen)
                if task.name not in seen:
                    seen.add(task.name)
                    out.append(task)
            return
        if item in stack:
            raise MtbenchError(f"suite {item!r} includes itself ({' -> '.join(stack + (item,))})")
        if item not in suites:
            hint = did_you_mean(item, list(suites) + [f"{t}:*" for t in TESTSETS.names()])
            raise MtbenchError(f"unknown task or suite {item!r}: {hint}")
        suite = suites[item]
        for sub in suite.tasks:
            # A suite that names zero-shot tasks says which of its tasks were seen, too.
            add(sub, stack + (item,), (sub in suite.zero_shot) if suite.zero_shot else unseen)

    for item in items:
        add(item, ())
    if not out:
        raise MtbenchError("no tasks given; name pairs like wmt22:de-en or a suite like alma (see `mtbench ls`)")
    return out


def single_suite(spec: str | Iterable[str], include_paths: Iterable[Path] = ()) -> Suite | None:
    """The suite, if the spec names exactly one suite."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if len(items) == 1 and ":" not in items[0]:
        return load_suites(include_paths).get(items[0])
    return None


def suite_limit(spec: str | Iterable[str], include_paths: Iterable[Path] = ()) -> int | None:
    """The `limit` of a single named suite, if the spec is exactly one suite."""
    suite = single_suite(spec, include_paths)
    return suite.limit if suite else None
