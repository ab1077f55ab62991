"""lid.176 on the real WMT22 references: how often a reference line gets its own
language's label (the reference floor of the off-target ratio).

Rule: every target language whose registry entry carries no `lid_caveat` must have at
least 97% of its reference lines labelled with its own language. A caveat is the
registry's statement that lid.176 cannot separate the language from a neighbour
(Serbo-Croatian varieties, Han-only text, Cyrillic Yakut); for those the floor is
printed and must be what the off-target metric reports as the reference row."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fasttext", reason="fastText bindings (mtbench[metrics]) not installed")

from mtbench.data.loaders import load_testdata  # noqa: E402
from mtbench.data.testsets import get_testset  # noqa: E402
from mtbench.langs import get_language  # noqa: E402
from mtbench.metrics.base import ScoringContext  # noqa: E402
from mtbench.metrics.offtarget import OffTarget, identify  # noqa: E402

pytestmark = pytest.mark.data


def _pairs(data_dir: Path) -> list[str]:
    """Every wmt22 direction the data folder holds."""
    return [p for p in sorted(get_testset("wmt22").pairs) if (data_dir / "wmt22" / p / "src.txt").exists()]


def test_reference_lines_carry_their_own_label(data_dir: Path) -> None:
    pairs = _pairs(data_dir)
    assert len(pairs) >= 8, f"expected the wmt22 layout under {data_dir}"
    failures, floors = [], {}
    for pair in pairs:
        tgt = pair.split("-")[1]
        lang = get_language(tgt)
        if lang.fasttext is None:
            print(f"{pair}: lid.176 has no label for {tgt}; no floor")
            continue
        data = load_testdata(get_testset("wmt22"), pair, data_dir)
        ref = data.refs("primary")[data.primary_ref]
        labels, _ = identify(ref)
        own = 100.0 * sum(label == lang.fasttext for label in labels) / len(ref)
        floor = OffTarget().reference_floor(ScoringContext(pair.split("-")[0], tgt, data.source, {"A": ref}))
        floors[pair] = floor
        print(f"{pair}: {own:.2f}% of {len(ref)} reference lines labelled {lang.fasttext}; floor {floor:.2f}"
              + (f"  [caveat: {lang.lid_caveat}]" if lang.lid_caveat else ""))
        assert floor == pytest.approx(100.0 - own)
        if lang.lid_caveat is None and own < 97.0:
            failures.append(f"{pair}: {own:.2f}%")
    assert not failures, f"lid.176 labels under 97% of these references with their own language: {failures}"
    assert any(f > 0 for f in floors.values())  # the floor is a real, non-zero measurement somewhere
