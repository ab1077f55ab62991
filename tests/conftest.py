"""Shared fixtures: the shared test data (skipped with a reason when absent) and a tiny
data layout built in a temporary folder for CLI and bad-input tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    candidates = [os.environ.get("MTBENCH_DATA"), str(REPO.parent / "shared" / "mtdata")]
    for c in candidates:
        if c and (Path(c) / "wmt22").is_dir():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = shared_data_dir()
    if d is None:
        pytest.skip("shared test data not found: set MTBENCH_DATA to the mtdata folder")
    return d


TINY_SRC = ["Das Haus ist klein.", "Der Hund bellt laut.", "", "Ich trinke Kaffee, 3-4 Tassen."]
TINY_REF_A = ["The house is small.", "The dog barks loudly.", "", "I drink coffee, 3-4 cups."]
TINY_REF_B = ["The home is little.", "The dog is barking loudly.", "", "I drink 3-4 cups of coffee."]
TINY_SYS = {
    "good": ["The house is small.", "The dog barks loud.", "", "I drink coffee, 3-4 cups."],
    "bad": ["House small.", "Dog.", "", "Coffee."],
}


def write_lines(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def tiny_layout(tmp_path: Path) -> Path:
    """A data directory with wmt22/de-en (refs A and B) and two systems."""
    root = tmp_path / "data"
    pair = root / "wmt22" / "de-en"
    write_lines(pair / "src.txt", TINY_SRC)
    write_lines(pair / "ref.txt", TINY_REF_A)
    write_lines(pair / "refs" / "ref.A.txt", TINY_REF_A)
    write_lines(pair / "refs" / "ref.B.txt", TINY_REF_B)
    for name, lines in TINY_SYS.items():
        write_lines(pair / "systems" / f"{name}.txt", lines)
    return root


def synthetic_layout(root: Path, pairs: tuple[str, ...] = ("de-en", "en-de"), n: int = 40, seed: int = 0,
                     systems: tuple[tuple[str, float], ...] = (("best", 0.05), ("mid", 0.3), ("worst", 0.7)),
                     testset: str = "wmt22") -> Path:
    """A data layout with ``n`` random-word segments per pair and systems that corrupt
    the reference with the given word-replacement rates (so their order is known)."""
    import random

    rnd = random.Random(seed)
    vocab = [f"w{i}" for i in range(80)] + ["the", "a", "of", "and"]
    for pair in pairs:
        folder = root / testset / pair
        refs = [" ".join(rnd.choice(vocab) for _ in range(rnd.randint(4, 14))) for _ in range(n)]
        write_lines(folder / "src.txt", [f"src {i} " + r for i, r in enumerate(refs)])
        write_lines(folder / "refs" / "ref.A.txt", refs)
        for name, rate in systems:
            out = [" ".join(w if rnd.random() > rate else rnd.choice(vocab) for w in r.split()) for r in refs]
            write_lines(folder / "systems" / f"{name}.txt", out)
    return root
