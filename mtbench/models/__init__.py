"""Model kinds, registered as lazy entries so that torch and transformers are
imported only when a generation backend is used. Each entry is a factory with a typed
options dataclass (``mtbench.models.options``) that builds a generation backend
(``base.Backend``) or an output source (``base.OutputSource``).

- ``files``: precomputed system outputs in the data layout (an output source);
- ``hf``: any decoder-only Hugging Face model (``HFBackend(path, ...)``);
- ``vllm``: the same through vLLM in its own interpreter (``VLLMBackend(path, ...)``);
- named models: ready-made backends that need no path (``MODELS.get(name)(**kwargs)``
  returns an ``HFBackend``); ``smollm2-135m`` is the embedded default model.
"""

from __future__ import annotations

from typing import Any

from mtbench.registry import Registry

MODELS: Registry[Any] = Registry("model backend", entry_point_group="mtbench.models")
MODELS.register("files", "mtbench.models.precomputed:SystemOutputs")
MODELS.register("hf", "mtbench.models.hf_kind:hf_backend")
MODELS.register("vllm", "mtbench.models.vllm_backend:VLLMBackend")

# Named models: name -> factory(**HFBackend keyword arguments) -> backend.
NAMED_MODELS: dict[str, str] = {
    "smollm2-135m": "mtbench.models.smollm2:smollm2_backend",
}
for _name, _target in NAMED_MODELS.items():
    MODELS.register(_name, _target)

# Named models that are a local Hugging Face folder once prepared: name -> function
# returning that folder (prepared on first use). Training configs may name them as
# ``base_model``.
NAMED_CHECKPOINTS: Registry[Any] = Registry("named checkpoint")
NAMED_CHECKPOINTS.register("smollm2-135m", "mtbench.models.smollm2:smollm2_path")
