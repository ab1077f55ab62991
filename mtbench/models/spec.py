"""Model specs on the command line: ``KIND:ARG`` (``hf:/ckpt``, ``vllm:/ckpt``,
``files:DIR``), a named model (``smollm2-135m``) or a plugin's kind, each optionally
followed by its own options: ``hf:/ckpt?max_batch=8,dtype=bfloat16``.

Every registry entry is a factory whose options are a typed dataclass
(``mtbench.models.options``); what a factory builds is either a generation backend
(``Backend``: prompts in, completions out) or an output source (``OutputSource``: a
task's finished outputs, like ``files``). The runner tells them apart by that contract,
not by the kind's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.models import MODELS
from mtbench.models.base import OutputSource, check_backend
from mtbench.registry import accepted_keywords
from mtbench.models.options import INTERNAL, build_options, looks_like_model_args, option_names, parse_model_args


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # registry name
    arg: str | None  # what follows "kind:", if anything (options removed)
    text: str  # as the user wrote it
    args: Mapping[str, str] = field(default_factory=dict)  # this model's own options (?k=v,...)

    @property
    def factory(self) -> Any:
        return MODELS.get(self.kind)

    @property
    def is_source(self) -> bool:
        """Whether the kind gives finished outputs (no prompts, no adapter)."""
        return isinstance(self.factory, type) and issubclass(self.factory, OutputSource)

    @property
    def label(self) -> str:
        """A short name for tables: ``?name=``, else the named model, or the checkpoint
        folder's name (prefixed by the kind unless the kind says its argument is a checkpoint)."""
        if self.args.get(NAME_OPTION):
            return str(self.args[NAME_OPTION])
        if self.arg is None:
            return self.kind
        tail = Path(self.arg.rstrip("/")).name or self.arg
        return tail if getattr(self.factory, "arg_is_checkpoint", False) else f"{self.kind}:{tail}"


#: A spec option that every kind has: the model's column name (``hf:/a/ckpt?name=mine``).
NAME_OPTION = "name"


def parse_model_spec(text: str) -> ModelSpec:
    body, args = text, {}
    head, sep, tail = text.rpartition("?")
    if sep and looks_like_model_args(tail):
        body, args = head, parse_model_args(tail, f"model {text!r}")
    kind, sep, arg = body.partition(":")
    kind = kind.strip()
    if not kind:
        raise MtbenchError(f"model spec {text!r} has no kind; write hf:PATH, vllm:PATH, files:DIR or a named model")
    factory = MODELS.get(kind)  # unknown kind: did-you-mean error before any work
    spec = ModelSpec(kind, arg if sep else None, text, args)
    bare = [p.strip() for p in tail.split(",")] if sep and not args else []
    named = [b for b in bare if b in option_names(factory) or b == NAME_OPTION]
    if named:  # "hf:/ckpt?max_batch": an option without its value, not part of a path
        raise MtbenchError(f"model {text!r}: option {named[0]!r} has no value; write {named[0]}=VALUE")
    if spec.is_source and NAME_OPTION in args:  # it would name nothing: silently ignored before
        raise MtbenchError(f"model {text!r}: ?{NAME_OPTION}= names a model's column, but {kind} gives systems named "
                           f"after their files; rename the files instead (e.g. {args[NAME_OPTION]}.txt)")
    takes = takes_argument(factory)
    if takes is True and spec.arg is None:
        raise MtbenchError(f"model {text!r}: {kind} needs an argument: {kind}:PATH_OR_ID")
    if takes is False and spec.arg is not None:
        raise MtbenchError(f"model {text!r}: {kind} takes no argument; write {kind} (options: {kind}?k=v)")
    return spec


def takes_argument(factory: Any) -> bool | None:
    """True: the factory's first parameter (KIND:ARG) has no default; False: it has no
    positional parameter at all; None: either works (or the signature is unknown)."""
    import inspect

    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional:
        return False if not any(p.kind is p.VAR_POSITIONAL for p in params) else None
    if positional[0].name in INTERNAL or positional[0].name in option_names(factory):
        return False  # a named model whose keywords happen to be positional (smollm2_backend(dtype, ...))
    return positional[0].default is inspect.Parameter.empty or None


def internal_options(factory: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """The mtbench-internal keywords (``INTERNAL``) that ``factory`` accepts."""
    return accepted_keywords(factory, {k: v for k, v in options.items() if k in INTERNAL})


def model_options(spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The typed options a model is built with (what the manifest records)."""
    own = {k: v for k, v in spec.args.items() if k != NAME_OPTION}
    return build_options(spec.factory, spec.kind, shared, run_args or {}, own, spec.text)


def build_model(spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any] | None = None) -> Any:
    """The backend or output source of a model spec. ``shared``: the run's settings that
    every kind may take (device, dtype, ...; mtbench's internal keywords too);
    ``run_args``: ``--model-args``."""
    factory = spec.factory
    kwargs = model_options(spec, shared, run_args)
    kwargs.update(internal_options(factory, shared))
    if spec.arg is not None and not spec.arg:
        raise MtbenchError(f"model spec {spec.text!r}: give a path or id after '{spec.kind}:'")
    obj = factory(**kwargs) if spec.arg is None else factory(spec.arg, **kwargs)
    return obj if isinstance(obj, OutputSource) else check_backend(obj, spec.text)
