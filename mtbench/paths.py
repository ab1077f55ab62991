"""mtbench's cache folder, one rule for everything kept there (the generation cache,
converted models, remembered checksums): ``$MTBENCH_CACHE``, else
``$XDG_CACHE_HOME/mtbench``, else ``~/.cache/mtbench``."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "MTBENCH_CACHE"


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtbench"
