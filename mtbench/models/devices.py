"""Device and dtype names that mtbench's backends accept, checked without torch."""

from __future__ import annotations

import re

from mtbench.errors import MtbenchError

DTYPE_NAMES = ("auto", "float32", "bfloat16", "float16")


def check_device(device: str) -> None:
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", str(device)):
        raise MtbenchError(f"device must be cpu, cuda, cuda:N or auto, got {device!r}")


def check_dtype(dtype: str) -> None:
    if dtype not in DTYPE_NAMES:
        raise MtbenchError(f"dtype must be one of {', '.join(DTYPE_NAMES)}, got {dtype!r}")
