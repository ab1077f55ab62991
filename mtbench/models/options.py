"""A backend's own options: a typed dataclass per model kind, filled from model args.

A model kind declares its options as a dataclass on its factory (``HFBackend.Options``);
a plugin that declares none gets one made from its factory's keyword parameters, so
every kind is checked the same way. Values arrive as text (``hf:PATH?max_batch=8``,
``--model-args k=v,...``) or as YAML values, and are converted to the field's type
here, with one-line errors that name the option, the model and the fix.

Three sources, from weakest to strongest:

- shared settings (``--device``, ``--dtype``, ``--batch-tokens``, ``--systems``, ...):
  given to every kind that declares the option, ignored by the others;
- ``--model-args`` / the ``model_args`` key: given to every generating model that
  declares the option; a key that no model of the run declares is an error;
- ``SPEC?k=v,...``: for that model alone; a key it does not declare is an error.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean

#: Keyword arguments that mtbench itself passes where a factory accepts them; they are
#: never a user's option.
INTERNAL = ("progress", "ray_address", "name")

_PAIR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def parse_model_args(text: str, where: str) -> dict[str, str]:
    """``"k=v,k2=v2"`` -> ``{"k": "v", "k2": "v2"}`` (values stay text until typed)."""
    out: dict[str, str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        m = _PAIR.match(part)
        if not m:
            raise MtbenchError(f"{where}: {part.strip()!r} is not KEY=VALUE; write model args as k=v,k2=v2")
        key, value = m.group(1), m.group(2).strip()
        if key in out:
            raise MtbenchError(f"{where}: {key} is given twice; keep one")
        out[key] = value
    return out


def looks_like_model_args(text: str) -> bool:
    """Whether the text after a spec's last ``?`` is model args (else it is part of a path)."""
    return bool(text.strip()) and all(_PAIR.match(p) for p in text.split(",") if p.strip())


def options_class(factory: Any) -> type:
    """The factory's options dataclass: its own ``Options``, else one made from its
    parameters with defaults after the first (which takes the spec's ``KIND:ARG``): a
    plugin's ``def __init__(self, path, temperature: float = 0.0)`` has one option."""
    declared = getattr(factory, "Options", None)
    if declared is not None and dataclasses.is_dataclass(declared):
        return declared
    cached = getattr(factory, "_mtbench_options", None)
    if cached is not None:
        return cached
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        params = list(inspect.signature(factory).parameters.values())
        hints = typing.get_type_hints(target)
    except (TypeError, ValueError, NameError):
        params, hints = [], {}
    if params and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        params = params[1:]  # the spec's argument (KIND:ARG), not an option
    fields = [(p.name, hints.get(p.name, Any), dataclasses.field(default=p.default)) for p in params
              if p.default is not inspect.Parameter.empty and p.name not in INTERNAL
              and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    made = dataclasses.make_dataclass(f"{getattr(factory, '__name__', 'Backend')}Options", fields, frozen=True)
    try:
        factory._mtbench_options = made
    except (AttributeError, TypeError):
        pass
    return made


def option_names(factory: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(options_class(factory))]


def describe_options(factory: Any) -> str:
    """``name: type = default, ...`` for `mtbench ls models`."""
    parts = []
    for f in dataclasses.fields(options_class(factory)):
        default = f.default if f.default is not dataclasses.MISSING else "?"
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts.append(f"{f.name}: {kind} = {default}".replace("typing.Any", "any"))
    return ", ".join(parts)


def coerce(value: Any, annotation: Any, where: str) -> Any:
    """``value`` (text from a command line, or a YAML value) as ``annotation``."""
    if isinstance(annotation, str):  # a string annotation left unresolved: keep the value
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            if type(None) in args:
                return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, where)
            except MtbenchError as exc:
                errors.append(str(exc))
        raise MtbenchError(errors[0] if errors else f"{where}: cannot read {value!r}")
    if annotation is Any or annotation is inspect.Parameter.empty:
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise MtbenchError(f"{where} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool):
            raise MtbenchError(f"{where} must be an integer, got {value!r}")
        try:
            return int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise MtbenchError(f"{where} must be an integer, got {value!r}") from None
    if annotation is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise MtbenchError(f"{where} must be a number, got {value!r}") from None
    if annotation is str:
        return str(value)
    return value


def build_options(factory: Any, kind: str, shared: Mapping[str, Any], run_args: Mapping[str, Any],
                  own_args: Mapping[str, Any], what: str) -> dict[str, Any]:
    """The keyword arguments for ``factory``: typed, checked by its options dataclass
    (``__post_init__`` may check more), holding only what was given."""
    cls = options_class(factory)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in own_args:
        if key not in fields:
            raise MtbenchError(f"model {what}: {kind} has no option {key!r}: "
                               f"{did_you_mean(key, list(fields)) if fields else 'it takes no options'}")
    hints = _hints(cls)
    given: dict[str, Any] = {}
    for source in (shared, run_args, own_args):
        for key, value in source.items():
            if key in fields and value is not None:
                given[key] = coerce(value, hints.get(key, Any), f"model {what}: option {key}")
    try:
        cls(**given)  # the dataclass's own checks (__post_init__) run on what was given
    except MtbenchError as exc:
        raise MtbenchError(f"model {what}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise MtbenchError(f"model {what}: {exc}") from None
    return given


def check_run_args(factories: Mapping[str, Any], run_args: Mapping[str, Any], where: str) -> None:
    """Every ``--model-args`` key must be an option of at least one generating model."""
    if not run_args:
        return
    known = {name for factory in factories.values() for name in option_names(factory)}
    for key in run_args:
        if key not in known:
            models = ", ".join(factories) or "no generating model"
            legacy = " (--vllm-python, --tensor-parallel-size and --data-parallel-size set options of vllm: models)" \
                if key in ("python", "tensor_parallel_size", "data_parallel_size") else ""
            raise MtbenchError(f"{where}: no model of this run ({models}) has an option {key!r}: "
                               f"{did_you_mean(key, sorted(known)) if known else 'they take no options'}{legacy}")


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        return {f.name: f.type for f in dataclasses.fields(cls)}
