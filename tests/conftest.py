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
