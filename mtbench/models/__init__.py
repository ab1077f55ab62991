"""Model backends. Only precomputed output files exist so far; generation backends
(Hugging Face, vLLM) register here as lazy entries."""

from __future__ import annotations

from typing import Any

from mtbench.registry import Registry

MODELS: Registry[Any] = Registry("model backend", entry_point_group="mtbench.models")
MODELS.register("files", "mtbench.models.precomputed:discover_systems")
