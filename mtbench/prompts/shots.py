"""Few-shot example pools and seeded, recorded selection.

The default pool is ALMA's: ``$MTBENCH_DATA/train/alma-shots/<HW-5-shot|Filtered-5-shot>/
shots.<src>-<tgt>.json``, a JSON list of ``{"source", "target"}``. A pool can also be any
folder in that layout, or one JSON file used for every direction whose items are either
``{"source", "target"}`` or ALMA's parallel-data form ``{"translation": {"de": .., "en": ..}}``.

Selection is fixed per direction (not per segment) so that a run's prompts are fully
described by the chosen examples, which ``describe()`` records for every direction the
pool holds: the manifest then shows exactly what the model saw, and the cache key
changes whenever the examples do.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mtbench.errors import MtbenchError

DATA_ENV = "MTBENCH_DATA"
ALMA_POOLS = ("HW-5-shot", "Filtered-5-shot")
DEFAULT_POOL = "HW-5-shot"  # what ALMA's own 5-shot evaluation script points at


@dataclass(frozen=True)
class Shot:
    source: str
    target: str


@dataclass(frozen=True)
class ShotSelector:
    """``k`` examples per direction from ``pool``.

    ``seed=None`` keeps the pool's file order (ALMA's code uses each file whole, in order);
    an integer draws ``k`` distinct examples with ``random.Random(seed)``, the same draw for
    every direction of equal pool size."""

    adapter: str
    k: int
    pool: str | None = None
    seed: int | None = None
    _memo: dict[tuple[str, str], list[Shot]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise MtbenchError(f"adapter {self.adapter!r}: seed must be an integer, got {self.seed!r}")
        if self.k > 0:
            self.location  # fail at construction when the pool itself is missing

    @property
    def label(self) -> str:
        """How the manifest names the pool: ALMA pools by name (machine-independent)."""
        name = self.pool or DEFAULT_POOL
        return f"alma:{name}" if name in ALMA_POOLS else name

    @cached_property
    def location(self) -> Path:
        name = self.pool or DEFAULT_POOL
        if name in ALMA_POOLS:
            root = os.environ.get(DATA_ENV)
            if not root:
                raise MtbenchError(
                    f"adapter {self.adapter!r}: few-shot pool {name!r} lives under ${DATA_ENV}/train/alma-shots "
                    f"but ${DATA_ENV} is not set; set it to the mtdata folder or pass shot_pool=DIR_OR_FILE"
                )
            path = Path(root) / "train" / "alma-shots" / name
        else:
            path = Path(name).expanduser()
        if not path.exists():
            raise MtbenchError(
                f"adapter {self.adapter!r}: few-shot pool {path} does not exist; "
                f"pass shot_pool=DIR_OR_FILE (one of {', '.join(ALMA_POOLS)} under ${DATA_ENV}/train/alma-shots, "
                f"a folder of shots.<src>-<tgt>.json, or one JSON file)"
            )
        return path

    def pool_file(self, src: str, tgt: str) -> Path:
        loc = self.location
        if loc.is_file():
            return loc
        path = loc / f"shots.{src}-{tgt}.json"
        if not path.is_file():
            raise MtbenchError(
                f"adapter {self.adapter!r}: few-shot pool file {path} does not exist for {src}-{tgt}; "
                f"pass shot_pool= a pool that has this direction (e.g. Filtered-5-shot) or use shots=0"
            )
        return path

    def select(self, src: str, tgt: str) -> list[Shot]:
        if self.k == 0:
            return []
        if (src, tgt) not in self._memo:  # one read per direction, not one per segment
            path = self.pool_file(src, tgt)
            self._memo[(src, tgt)] = [_shot(path, i, item, src, tgt) for i, item in self._chosen(path, _load(path))]
        return list(self._memo[(src, tgt)])

    def _chosen(self, path: Path, items: list[Any]) -> list[tuple[int, Any]]:
        if self.k > len(items):
            raise MtbenchError(
                f"adapter {self.adapter!r}: shots={self.k} but the pool {path} holds only {len(items)} examples; "
                f"lower shots or choose a bigger pool"
            )
        if self.seed is None:
            idx = list(range(self.k))
        else:
            idx = random.Random(self.seed).sample(range(len(items)), self.k)
        return [(i, items[i]) for i in idx]

    def describe(self) -> dict[str, Any]:
        """The selection rule and the examples it picks for every direction the pool holds."""
        if self.k == 0:
            return {"shots": 0}
        loc = self.location
        files = {"*": loc} if loc.is_file() else {
            f.name[len("shots."):-len(".json")]: f for f in sorted(loc.glob("shots.*-*.json"))
        }
        examples = {key: [item for _, item in self._chosen(f, _load(f))] for key, f in files.items()}
        return {
            "shots": self.k,
            "shot_pool": self.label,
            "selection": "file order" if self.seed is None else "seeded sample",
            "seed": self.seed,
            "examples": examples,
        }


def _load(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MtbenchError(f"few-shot pool {path} is not readable JSON ({exc}); fix or replace the file") from None
    if not isinstance(data, list):
        raise MtbenchError(f"few-shot pool {path} must hold a JSON list of {{\"source\", \"target\"}} objects")
    return data


def _shot(path: Path, index: int, item: Any, src: str, tgt: str) -> Shot:
    if isinstance(item, dict) and isinstance(item.get("translation"), dict):
        pair = item["translation"]
        source, target = pair.get(src), pair.get(tgt)
    elif isinstance(item, dict):
        source, target = item.get("source"), item.get("target")
    else:
        source = target = None
    if not isinstance(source, str) or not isinstance(target, str):
        raise MtbenchError(
            f"few-shot pool {path}, item {index}: needs string \"source\" and \"target\" "
            f"(or \"translation\" with {src!r} and {tgt!r}); fix the item"
        )
    return Shot(source, target)
