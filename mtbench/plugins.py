"""Python files from ``--include-path`` folders: a user's models, adapters and metrics
without a package (and, through ``mtbench.data.testsets``, the folders' test-set YAML). Each ``*.py`` file is executed once; it registers what it defines
with the registries (``ADAPTERS.register(...)``, ``METRICS.register(...)``,
``MODELS.register(...)``), exactly as an installed plugin's entry points would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Iterable

from mtbench.errors import MtbenchError

_loaded: set[Path] = set()


def load_include_python(folders: Iterable[Path]) -> list[Path]:
    """Execute each folder's Python files (once) and register its test-set YAML files."""
    from mtbench.data.testsets import register_testsets

    folders = [Path(f) for f in folders]
    loaded = []
    for folder in folders:
        if not Path(folder).is_dir():
            raise MtbenchError(f"--include-path {folder} is not a folder; give a folder of suite YAML or Python files")
        for path in sorted(Path(folder).glob("*.py")):
            path = path.resolve()
            if path in _loaded:
                continue
            name = f"mtbench_include_{path.stem}_{abs(hash(str(path))) % 10**8}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise MtbenchError(f"{path}: cannot be loaded as Python; fix or remove it from the include folder")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except MtbenchError:
                raise
            except Exception as exc:  # a user's file: report where it broke, in one line
                raise MtbenchError(f"{path}: {type(exc).__name__}: {exc} (while loading --include-path plugins)") from None
            _loaded.add(path)
            loaded.append(path)
    register_testsets(folders)  # after the Python: a test set file never depends on it, but errors read in order
    return loaded
