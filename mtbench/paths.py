"""Where mtbench's files are: its cache folder, one rule for everything kept there (the
generation cache, converted models, remembered checksums): ``$MTBENCH_CACHE``, else
``$XDG_CACHE_HOME/mtbench``, else ``~/.cache/mtbench``; and the bundled ``tasks/``."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

CACHE_ENV = "MTBENCH_CACHE"


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtbench"


def bundled_tasks_folder() -> Path:
    """The shipped suites and test sets: ``mtbench.suites`` in an install (pyproject maps
    ``tasks/`` there), else ``tasks/`` beside the package in a checkout used without
    installing (``PYTHONPATH=. python -m mtbench``)."""
    try:
        return Path(str(resources.files("mtbench.suites")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "tasks"
