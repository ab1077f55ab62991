"""Float tolerances derived from the dtype and the magnitude of the numbers compared.

Two runs of the same network on differently shaped batches (padding, batch size,
another CPU's SIMD width, a GPU's kernels) sum in another order; in floating point the
results then differ in their last bits, by a few units in the last place (ulp) of the
*magnitude* of the values. A bare absolute tolerance such as 1e-6 is 8 ulp at 1.0 in
float32 but under 2 ulp at 4.5, so it passes on one machine and fails on the next.

``close(expected, dtype, ulps)`` is ``pytest.approx`` with ``abs = ulps * eps(dtype) *
max(1, |largest expected value|)`` and ``rel = ulps * eps(dtype)``: ``ulps`` units in the
last place of the dtype at the scale of the numbers. The default of 64 ulp is far below
any real difference (a segment scored against the wrong reference moves by ~1e-2) and
far above reordering noise (measured: 4 ulp for BLEURT's fp32 scores at magnitude 4.5).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pytest

DEFAULT_ULPS = 64


def _magnitude(expected: Any) -> float:
    values = np.abs(np.asarray(list(expected) if isinstance(expected, Iterable) else [expected], dtype=np.float64))
    return float(max(1.0, values.max(initial=0.0)))


def tolerance(expected: Any, dtype: Any = np.float32, ulps: int = DEFAULT_ULPS) -> float:
    """The absolute tolerance ``close`` uses for ``expected``."""
    return ulps * float(np.finfo(dtype).eps) * _magnitude(expected)


def close(expected: Any, dtype: Any = np.float32, ulps: int = DEFAULT_ULPS) -> Any:
    """``pytest.approx(expected)`` within ``ulps`` ulp of ``dtype`` at the values' magnitude."""
    return pytest.approx(expected, rel=ulps * float(np.finfo(dtype).eps), abs=tolerance(expected, dtype, ulps))
