"""Where mtbench runs from: a source checkout, or an installed wheel.

Code that wants the repository (its git revision, the `.venv-vllm` that `make
vllm-env` builds beside it) must not take ``Path(__file__).parent.parent`` on
trust: in a wheel install that folder is ``site-packages``, and a venv that lives
inside some other git repository would otherwise report that repository's revision.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The mtbench source checkout this package is imported from (editable install or
    ``PYTHONPATH=.``), recognised by its pyproject.toml naming mtbench and its
    ``tasks/`` folder; None when installed from a wheel or an sdist."""
    root = PACKAGE_DIR.parent
    pyproject = root / "pyproject.toml"
    try:
        if not (root / "tasks").is_dir() or 'name = "mtbench"' not in pyproject.read_text(encoding="utf-8"):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return root


def project_root() -> Path:
    """The folder project-local helpers live in: the checkout, else the folder holding
    the environment mtbench runs in (``/x/.venv`` -> ``/x``), where `make vllm-env`
    style siblings such as ``.venv-vllm`` would sit."""
    return checkout_root() or Path(sys.prefix).resolve().parent
