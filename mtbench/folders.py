"""A folder replaced whole: what a command writes goes into ``.<name>.partial`` beside
the folder, which takes the folder's place only once everything is written. A command
that fails or is stopped midway leaves the previous folder exactly as it was (a
training's checkpoint, log and meta; a report's pages, tables and figures), and a new
report never keeps the files of an older one that no longer apply.

The swap is two renames (the old folder aside to ``.<name>.old``, the new one in); a
crash between them leaves the old folder aside, and ``restore_interrupted`` puts it
back before the next command looks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mtbench.errors import MtbenchError


def replaceable(folder: str | os.PathLike[str], what: str) -> Path:
    """``folder`` resolved (a symlink's target is what is replaced), once it is known
    that it can be: not the root, not a mount point (it cannot be renamed), in a folder
    this process may write. ``what`` names it in the error (``out``, ``--out``)."""
    path = Path(folder).expanduser().resolve()
    if path.parent == path:
        raise MtbenchError(f"{what} {folder} is the root folder; give a folder to write into")
    if os.path.ismount(path):
        raise MtbenchError(f"{what} {folder} is a mount point, which cannot be replaced; give a folder inside it")
    parent = next((p for p in path.parents if p.exists()), path.parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MtbenchError(f"{what} {folder}: {parent} is not writable, and the new folder is written beside the old "
                           f"one first; fix its permissions or choose another {what}")
    return path


def staging(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.partial")


def moved_aside(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


def restore_interrupted(folder: Path) -> None:
    """A swap that crashed after moving ``folder`` aside: the old folder comes back."""
    aside = moved_aside(folder)
    if not folder.exists() and aside.is_dir():
        aside.rename(folder)


def start(folder: Path) -> Path:
    """An empty staging folder for ``folder`` (what an earlier stopped command left there
    is removed)."""
    restore_interrupted(folder)
    work = staging(folder)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def publish(work: Path, folder: Path) -> None:
    """``work`` (complete) becomes ``folder``; the folder it replaces is removed."""
    aside = moved_aside(folder)
    _remove(aside)
    if folder.exists():
        folder.rename(aside)
    work.rename(folder)
    _remove(aside)


def discard(work: Path) -> None:
    _remove(work)


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
