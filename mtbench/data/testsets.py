"""Test sets as frozen descriptors with per-pair overrides.

Facts about a test set (which reference is primary, which directions are zero-shot,
where the text can be found) live here as data, validated on construction, so that
"cs uses ref B" is one line of registry and never an ``if`` in a loader.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

from mtbench.errors import MtbenchError
from mtbench.registry import Registry, did_you_mean


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


def _both_ways(langs: Iterable[str], pivot: str = "en") -> list[str]:
    return [p for lang in langs for p in (f"{lang}-{pivot}", f"{pivot}-{lang}")]


WMT22 = make_testset(
    "wmt22",
    "WMT22 General MT test set (generaltest2022)",
    pairs=["cs-en", "cs-uk", "de-en", "de-fr", "en-cs", "en-de", "en-hr", "en-ja", "en-liv",
           "en-ru", "en-uk", "en-zh", "fr-de", "ja-en", "liv-en", "ru-en", "ru-sah", "sah-ru",
           "uk-cs", "uk-en", "zh-en"],
    local_dirs=("wmt22",),
    # WMT22 has no reference A for cs-en/en-cs; B is what ALMA and LAT evaluate against.
    overrides={"cs-en": {"ref": "B"}, "en-cs": {"ref": "B"}},
    sacrebleu="wmt22",
)

WMT21 = make_testset(
    "wmt21",
    "WMT21 News test set (newstest2021)",
    pairs=["cs-en", "de-en", "de-fr", "en-cs", "en-de", "en-ha", "en-is", "en-ja", "en-ru",
           "en-zh", "fr-de", "ha-en", "is-en", "ja-en", "ru-en", "zh-en"],
    local_dirs=("wmt21",),
    sacrebleu="wmt21",
)

IWSLT17 = make_testset(
    "iwslt17",
    "IWSLT 2017 bilingual TED test set (tst2017)",
    pairs=_both_ways(["de", "fr", "zh", "ja", "ko", "ar"]),
    local_dirs=("iwslt17-bilingual-tst2017", "iwslt17-raw-xml"),
    sacrebleu="iwslt17",
    wit3_prefix="IWSLT17.TED.tst2017",
)

IWSLT17_TST2016 = make_testset(
    "iwslt17-tst2016",
    "IWSLT 2017 bilingual TED dev/test set tst2016",
    pairs=_both_ways(["de", "fr", "zh", "ja", "ko", "ar"]),
    local_dirs=("iwslt17-bilingual-tst2016", "iwslt17-raw-xml"),
    sacrebleu="iwslt17/tst2016",
    wit3_prefix="IWSLT17.TED.tst2016",
)

_MLTLNG_ZERO_SHOT = ["it-nl", "nl-it", "it-ro", "ro-it", "nl-ro", "ro-nl"]

IWSLT17_MLTLNG = make_testset(
    "iwslt17-mltlng",
    "IWSLT 2017 multilingual TED test set (tst2017; en, de, it, nl, ro)",
    pairs=_both_ways(["de", "it", "nl", "ro"]) + _MLTLNG_ZERO_SHOT,
    local_dirs=("iwslt17-mltlng-tst2017", "iwslt17-raw-xml"),
    # Zero-shot in the Language-Aware Tuning setting: trained on en<->it/nl/ro only.
    overrides={key: {"zero_shot": True} for key in _MLTLNG_ZERO_SHOT},
    wit3_prefix="IWSLT17.TED.tst2017.mltlng",
)

# The Hugging Face copy of the multilingual data (IWSLT/iwslt2017) serves tst2010 as its
# test split, not tst2017, and has no German in the multilingual configs: it is a
# different test set and is registered as one, so it can never stand in for tst2017.
IWSLT17_MLTLNG_TST2010 = make_testset(
    "iwslt17-mltlng-tst2010",
    "IWSLT 2017 multilingual TED, tst2010 (the test split of Hugging Face IWSLT/iwslt2017)",
    pairs=_both_ways(["it", "nl", "ro"]) + _MLTLNG_ZERO_SHOT,
    local_dirs=("iwslt17-mltlng-tst2010",),
    overrides={key: {"zero_shot": True} for key in _MLTLNG_ZERO_SHOT},
    wit3_prefix="IWSLT17.TED.tst2010.mltlng",
    hf=HFSource(path="IWSLT/iwslt2017", config="iwslt2017-{src}-{tgt}", split="test"),
)

TESTSETS: Registry[TestSet] = Registry("test set", entry_point_group="mtbench.testsets")
for _ts in (WMT22, WMT21, IWSLT17, IWSLT17_TST2016, IWSLT17_MLTLNG, IWSLT17_MLTLNG_TST2010):
    TESTSETS.register(_ts.name, _ts)


def get_testset(name: str) -> TestSet:
    return TESTSETS.get(name)
