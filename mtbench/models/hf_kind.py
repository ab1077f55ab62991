"""The ``hf`` model kind: its options (shared by named models built on it) and its
registry factory, kept apart from ``hf.py`` so that parsing a spec, checking its
options or listing them (`mtbench ls models`) imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mtbench.errors import MtbenchError
from mtbench.models.devices import check_device, check_dtype


@dataclass(frozen=True)
class HFOptions:
    """``hf:PATH?k=v,...``; ``device``, ``dtype`` and ``batch_tokens`` are also the run's
    shared flags (``--device``, ...)."""

    device: str = "auto"
    dtype: str = "auto"
    batch_tokens: int = 16384  # token budget per batch (per step with continuous batching)
    max_batch: int = 64  # most rows per batch
    continuous: bool | None = None  # continuous batching for greedy search (default: on CUDA only)

    def __post_init__(self) -> None:
        check_device(self.device)
        check_dtype(self.dtype)
        for key in ("batch_tokens", "max_batch"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise MtbenchError(f"{key} must be a positive integer, got {value!r}")


def hf_backend(path: str, device: str = "auto", dtype: str = "auto", batch_tokens: int | None = None,
               max_batch: int | None = None, continuous: bool | None = None, progress: bool = True) -> Any:
    """``hf:PATH``: an ``HFBackend`` (loaded when called)."""
    from mtbench.models.hf import HFBackend

    sizes = {k: v for k, v in (("batch_tokens", batch_tokens), ("max_batch", max_batch)) if v is not None}
    return HFBackend(path, device=device, dtype=dtype, continuous=continuous, progress=progress, **sizes)


hf_backend.Options = HFOptions  # type: ignore[attr-defined]
hf_backend.arg_is_checkpoint = True  # type: ignore[attr-defined]  # tables name it by the checkpoint folder
