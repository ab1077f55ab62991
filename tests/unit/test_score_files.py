"""What the scoring stage writes and keys its files by: statistics stored compactly
and read back as the same numbers; the input checksums of the lines."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

from mtbench.store import compact_counts
from mtbench.textio import sha256_lines


def _round_trip(stats: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    np.save(buffer, compact_counts(stats), allow_pickle=False)
    buffer.seek(0)
    return np.load(buffer)


@pytest.mark.parametrize(("values", "dtype"), [
    ([[0.0, 3.0], [255.0, 1.0]], np.uint8),
    ([[0.0, 256.0]], np.uint16),
    ([[70000.0, 2.0]], np.uint32),
])
def test_counts_take_the_smallest_unsigned_type(values: list, dtype: type) -> None:
    stats = np.array(values, dtype=np.float64)
    assert compact_counts(stats).dtype == dtype
    back = _round_trip(stats).astype(np.float64)
    assert np.array_equal(back, stats)


@pytest.mark.parametrize("values", [
    [[0.5, 1.0]],          # not whole numbers (TER's edits averaged over references)
    [[-1.0, 2.0]],         # negative
    [[2.0**32, 1.0]],      # past uint32
])
def test_other_statistics_are_stored_as_they_are(values: list) -> None:
    stats = np.array(values, dtype=np.float64)
    assert compact_counts(stats).dtype == np.float64
    assert np.array_equal(_round_trip(stats), stats)


def test_empty_statistics() -> None:
    stats = np.zeros((0, 4))
    assert compact_counts(stats).shape == (0, 4)


@pytest.mark.parametrize("lines", [[], [""], ["", ""], ["a"], ["Der Hund.", "", "é\u2028x", "tab\there"]])
def test_sha256_lines_is_the_hash_of_newline_ended_lines(lines: list[str]) -> None:
    expected = hashlib.sha256()
    for line in lines:  # the definition, one line at a time
        expected.update(line.encode("utf-8") + b"\n")
    assert sha256_lines(lines) == expected.hexdigest()
    assert sha256_lines(iter(lines)) == expected.hexdigest()
