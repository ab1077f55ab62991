"""Test sets as frozen descriptors with per-pair overrides, read from data files.

Facts about a test set (which reference is primary, which directions are zero-shot,
where the text can be found) live in one YAML file each, ``tasks/testset-<name>.yaml``
(a user's own: any YAML with a ``testset:`` key in an ``--include-path`` folder),
checked on load into the frozen descriptors below, so that "cs uses ref B" is one
line of data and never an ``if`` in a loader.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from mtbench.errors import MtbenchError
from mtbench.paths import bundled_tasks_folder
from mtbench.registry import Registry, did_you_mean
from mtbench.yamlio import load_yaml_mapping


@dataclass(frozen=True)
class PairSpec:
    src: str
    tgt: str
    ref: str = "A"  # id of the primary reference (refs/ref.<ID>.txt, sacrebleu's ref:<ID>)
    zero_shot: bool = False  # direction unseen in the seed papers' training data

    def __post_init__(self) -> None:
        if not self.src or not self.tgt or self.src == self.tgt:
            raise ValueError(f"bad language pair {self.src!r}-{self.tgt!r}")
        if not self.ref:
            raise ValueError(f"pair {self.key}: empty reference id")

    @property
    def key(self) -> str:
        return f"{self.src}-{self.tgt}"


@dataclass(frozen=True)
class HFSource:
    """A Hugging Face dataset holding the test set, e.g. IWSLT 2017 multilingual."""

    path: str
    config: str  # format string with {src} and {tgt}
    split: str = "test"


@dataclass(frozen=True)
class TestSet:
    name: str
    description: str
    pairs: Mapping[str, PairSpec]
    # Folders under the data directory that hold this set in mtbench's layout
    # (<dir>/<src>-<tgt>/src.txt ...) or as WIT3 XML files.
    local_dirs: tuple[str, ...]
    sacrebleu: str | None = None  # sacrebleu dataset name
    wit3_prefix: str | None = None  # file stem of WIT3 XML files, e.g. IWSLT17.TED.tst2017
    hf: HFSource | None = None

    def __post_init__(self) -> None:
        for key, spec in self.pairs.items():
            if key != spec.key:
                raise ValueError(f"{self.name}: pair key {key!r} does not match {spec.key!r}")
        if not self.local_dirs:
            raise ValueError(f"{self.name}: no local folder name")

    def pair(self, key: str) -> PairSpec:
        try:
            return self.pairs[key]
        except KeyError:
            raise MtbenchError(
                f"test set {self.name!r} has no pair {key!r}: {did_you_mean(key, list(self.pairs))}"
            ) from None


def make_testset(
    name: str,
    description: str,
    pairs: Iterable[str],
    local_dirs: tuple[str, ...],
    overrides: Mapping[str, Mapping[str, object]] | None = None,
    **kwargs: object,
) -> TestSet:
    """Build a test set from "src-tgt" keys, then apply per-pair overrides."""
    specs: dict[str, PairSpec] = {}
    for key in pairs:
        src, _, tgt = key.partition("-")
        specs[key] = PairSpec(src, tgt)
    for key, changes in (overrides or {}).items():
        if key not in specs:
            raise ValueError(f"{name}: override for unknown pair {key!r}")
        specs[key] = dataclasses.replace(specs[key], **changes)  # type: ignore[arg-type]
    return TestSet(name=name, description=description, pairs=MappingProxyType(specs),
                   local_dirs=local_dirs, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- test sets as data files

#: The keys of a test-set YAML file (``testset:`` marks one; ``suite:`` marks a suite).
TESTSET_KEYS = ("testset", "description", "pairs", "primary_ref", "zero_shot", "local_dirs", "sacrebleu",
                "wit3_prefix", "hf")


def _strings(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise MtbenchError(f"{path}: `{key}:` must be a non-empty list of strings, got {value!r}")
    return value


def testset_from_file(path: Path, data: Mapping[str, Any]) -> TestSet:
    """A test set from the mapping of a YAML file, checked key by key; every error is
    one line naming the file and the key."""
    unknown = [k for k in data if k not in TESTSET_KEYS]
    if unknown:
        raise MtbenchError(f"{path}: unknown key {unknown[0]!r}: {did_you_mean(str(unknown[0]), list(TESTSET_KEYS))}")
    for key in ("testset", "description", "pairs", "local_dirs"):
        if key not in data:
            raise MtbenchError(f"{path}: test set needs `{key}:` (see tasks/testset-wmt22.yaml)")
    name = data["testset"]
    if not isinstance(name, str) or not name or ":" in name or "," in name:
        raise MtbenchError(f"{path}: `testset:` must be a name without ':' or ',', got {name!r}")
    pairs = _strings(path, "pairs", data["pairs"])
    bad = [p for p in pairs if p.count("-") != 1 or not all(p.split("-"))]
    if bad or len(set(pairs)) != len(pairs):
        raise MtbenchError(f"{path}: `pairs:` must be distinct src-tgt language pairs such as de-en, got "
                           f"{bad[0] if bad else sorted({p for p in pairs if pairs.count(p) > 1})[0]!r}")
    refs = data.get("primary_ref") or {}
    if not isinstance(refs, dict) or not all(isinstance(v, str) and v for v in refs.values()):
        raise MtbenchError(f"{path}: `primary_ref:` must map pairs to a reference id (cs-en: B), got {refs!r}")
    zero_shot = data.get("zero_shot") or []
    if not isinstance(zero_shot, list):
        raise MtbenchError(f"{path}: `zero_shot:` must be a list of this test set's pairs, got {zero_shot!r}")
    for key, listed in (("primary_ref", list(refs)), ("zero_shot", zero_shot)):
        stray = [p for p in listed if p not in pairs]
        if stray:
            raise MtbenchError(f"{path}: `{key}:` names {stray[0]!r}, which is not in `pairs:`: "
                               f"{did_you_mean(str(stray[0]), pairs)}")
    optional: dict[str, Any] = {}
    for key in ("sacrebleu", "wit3_prefix"):
        if data.get(key) is not None:
            if not isinstance(data[key], str) or not data[key]:
                raise MtbenchError(f"{path}: `{key}:` must be a string, got {data[key]!r}")
            optional[key] = data[key]
    hf = data.get("hf")
    if hf is not None:
        if not isinstance(hf, dict) or set(hf) - {"path", "config", "split"} or not {"path", "config"} <= set(hf):
            raise MtbenchError(f"{path}: `hf:` must be a mapping with path, config (and split), got {hf!r}")
        optional["hf"] = HFSource(str(hf["path"]), str(hf["config"]), str(hf.get("split", "test")))
    overrides: dict[str, dict[str, object]] = {p: {} for p in pairs}
    for pair, ref in refs.items():
        overrides[pair]["ref"] = ref
    for pair in zero_shot:
        overrides[pair]["zero_shot"] = True
    try:
        return make_testset(name, str(data["description"]), pairs,
                            tuple(_strings(path, "local_dirs", data["local_dirs"])),
                            {k: v for k, v in overrides.items() if v}, **optional)
    except ValueError as exc:
        raise MtbenchError(f"{path}: {exc}") from None


def yaml_testsets(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(file, mapping) of every YAML file in ``folder`` that defines a test set."""
    found = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        data = load_yaml_mapping(path)
        if "testset" in data:
            found.append((path, data))
    return found


_defined_in: dict[str, Path] = {}  # test set -> the file that defined it


def register_testsets(folders: Iterable[Path]) -> None:
    """Register the test sets of ``folders`` (the bundled ``tasks/``, a user's
    ``--include-path``); loading a file again is a no-op, a second definition of a name
    is an error naming both files."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise MtbenchError(f"--include-path {folder} is not a folder; give a folder of suite, test set or "
                               "Python files")
        for path, data in yaml_testsets(Path(folder)):
            path = path.resolve()
            if path in _defined_in.values():
                continue
            ts = testset_from_file(path, data)
            if ts.name in _defined_in or ts.name in TESTSETS:
                where = _defined_in.get(ts.name, "an installed plugin")
                raise MtbenchError(f"{path}: test set {ts.name!r} is already defined in {where}; give it another name")
            TESTSETS.register(ts.name, ts)
            _defined_in[ts.name] = path


TESTSETS: Registry[TestSet] = Registry("test set", entry_point_group="mtbench.testsets")
register_testsets([bundled_tasks_folder()])  # tasks/testset-*.yaml


def get_testset(name: str) -> TestSet:
    return TESTSETS.get(name)
