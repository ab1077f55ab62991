"""Precomputed outputs as a model: system files in the data layout or loose files.

In the data layout a direction folder holds ``systems/<NAME>.txt`` (WMT submissions)
and ``llm_outputs/<MODEL>.txt`` (released LLM outputs); each file is one model.

``files`` is the output source (``OutputSource``) of the model registry: ``files``
alone reads the reference systems of ``--systems`` (else the data folder);
``files:DIR`` reads the user's own outputs, which are the systems under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
from mtbench.models.base import OutputSource
from mtbench.tasks import Task

SYSTEM_FOLDERS = ("systems", "llm_outputs")


@dataclass(frozen=True)
class SystemFile:
    name: str
    path: Path
    kind: str  # "systems", "llm_outputs" or "file"


def discover_systems(task: Task, root: Path) -> list[SystemFile]:
    """Every system output of ``task`` under a data-layout root, sorted by name."""
    ts = get_testset(task.testset)
    found: dict[str, SystemFile] = {}
    for folder in ts.local_dirs:
        pair_dir = root / folder / task.pair
        for kind in SYSTEM_FOLDERS:
            for f in sorted((pair_dir / kind).glob("*.txt")):
                name = f.stem
                if name in found:
                    # same name in systems/ and llm_outputs/: keep both, tell them apart
                    name = f"{kind}/{f.stem}"
                found[name] = SystemFile(name, f, kind)
    return sorted(found.values(), key=lambda s: s.name.lower())


class SystemOutputs(OutputSource):
    """The ``files`` model kind: every system file of a task in a data-layout folder."""

    @dataclass(frozen=True)
    class Options:
        systems: str | None = None  # --systems: the reference systems' folder
        data_dir: str | None = None  # --data-dir / $MTBENCH_DATA: where they are by default

    def __init__(self, folder: str | None = None, systems: str | None = None, data_dir: str | None = None) -> None:
        self.under_test = folder is not None
        root = folder or systems or data_dir
        if root is None or not Path(root).is_dir():
            where = f"files:{root}" if folder else (str(root) if root else "set $MTBENCH_DATA, --data-dir or --systems")
            raise MtbenchError(f"no folder of system outputs ({where}); point --systems (or files:DIR) at a folder in "
                               f"mtbench's data layout")
        self.root = Path(root)

    def systems(self, task: Task) -> list[SystemFile]:
        return discover_systems(task, self.root)

    def describe(self) -> str:
        return str(self.root)


def loose_files(paths: list[str]) -> list[SystemFile]:
    """Hypothesis files given on the command line; names are file stems, made unique."""
    out: list[SystemFile] = []
    used: set[str] = set()
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise MtbenchError(f"hypothesis file not found: {path} (check the path)")
        name = path.stem
        i = 2
        while name in used:
            name, i = f"{path.stem}-{i}", i + 1
        used.add(name)
        out.append(SystemFile(name, path, "file"))
    return out
