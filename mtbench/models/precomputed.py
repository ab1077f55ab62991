"""Precomputed outputs as a model: system files in the data layout or loose files.

In the data layout a direction folder holds ``systems/<NAME>.txt`` (WMT submissions)
and ``llm_outputs/<MODEL>.txt`` (released LLM outputs); each file is one model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
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
