"""Model specs on the command line: ``KIND:ARG`` (``hf:/ckpt``, ``vllm:/ckpt``,
``files:DIR``), a named model (``smollm2-135m``), or a plugin's kind.

Every registry entry is a factory; keyword options from the run configuration
(device, dtype, ...) go to the factories that declare them, so a plugin backend takes
only what it understands.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.models import MODELS

PRECOMPUTED = "files"


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # registry name
    arg: str | None  # what follows "kind:", if anything
    text: str  # as the user wrote it

    @property
    def precomputed(self) -> bool:
        return self.kind == PRECOMPUTED

    @property
    def label(self) -> str:
        """A short name for tables: the named model, or the checkpoint folder's name."""
        if self.arg is None:
            return self.kind
        tail = Path(self.arg.rstrip("/")).name or self.arg
        return tail if self.kind in ("hf", "vllm") else f"{self.kind}:{tail}"


def parse_model_spec(text: str) -> ModelSpec:
    kind, sep, arg = text.partition(":")
    kind = kind.strip()
    if not kind:
        raise MtbenchError(f"model spec {text!r} has no kind; write hf:PATH, vllm:PATH, files:DIR or a named model")
    MODELS.get(kind)  # unknown kind: did-you-mean error before any work
    return ModelSpec(kind, arg if sep else None, text)


def accepted_options(factory: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return dict(options)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params and v is not None}


def build_backend(spec: ModelSpec, options: Mapping[str, Any]) -> Any:
    """The backend (or translator) object for a generation model spec."""
    factory = MODELS.get(spec.kind)
    kwargs = accepted_options(factory, options)
    if spec.arg is None:
        return factory(**kwargs)
    if not spec.arg:
        raise MtbenchError(f"model spec {spec.text!r}: give a path or id after '{spec.kind}:'")
    return factory(spec.arg, **kwargs)
