"""Processes as /proc shows them: for tests that check no process of a killed tree lives on."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator


def _stats() -> Iterator[tuple[int, str, int, int]]:
    """(pid, state, parent pid, process group) of every process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone while we looked
        yield int(stat.parent.name), fields[0], int(fields[1]), int(fields[2])


def alive_in_group(pgid: int) -> list[int]:
    """Processes of the process group that still run (a zombie is dead)."""
    return [pid for pid, state, _, group in _stats() if group == pgid and state != "Z"]


def children(pid: int) -> list[int]:
    return [child for child, _, parent, _ in _stats() if parent == pid]
