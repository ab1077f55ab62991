"""A small typed registry: decorator or lazy "module:attr" registration, entry-point
plugins and "did you mean" errors.

Heavy implementations (neural metrics, backends) are registered as strings and
imported only when first used, so ``mtbench ls`` stays instant and the core install
stays light.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, Mapping, TypeVar

from mtbench.errors import MtbenchError

T = TypeVar("T")


def did_you_mean(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(sorted(choices)[:12])
    more = ", ..." if len(choices) > 12 else ""
    return f"choose one of: {shown}{more}"


def accepted_keywords(factory: Callable[..., object], options: Mapping[str, object]) -> dict[str, object]:
    """The non-None ``options`` that ``factory`` declares as parameters (all of them if it
    takes ``**kwargs``): how a run hands its settings to plugins that take only some."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {k: v for k, v in options.items() if v is not None}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return {k: v for k, v in options.items() if v is not None and (takes_any or k in params)}


class Registry(Generic[T]):
    """Name -> object (or lazy ``"module:attr"`` placeholder) for one kind of thing."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self._entry_point_group = entry_point_group
        self._items: dict[str, T | str] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str, obj: T | str | None = None) -> Callable[[T], T] | None:
        """``registry.register("x", obj)``, ``registry.register("x", "pkg.mod:attr")``
        or ``@registry.register("x")``."""
        if obj is not None:
            self._add(name, obj)
            return None

        def decorator(target: T) -> T:
            self._add(name, target)
            return target

        return decorator

    def _add(self, name: str, obj: T | str) -> None:
        existing = self._items.get(name)
        if existing is not None and existing is not obj and existing != obj:
            raise MtbenchError(f"{self.kind} {name!r} is registered twice; rename one of them")
        self._items[name] = obj

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self._entry_point_group):
            self._items.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        self._load_plugins()
        if name not in self._items:
            raise MtbenchError(f"unknown {self.kind} {name!r}: {did_you_mean(name, list(self._items))}")
        obj = self._items[name]
        if isinstance(obj, str):
            obj = self._import(name, obj)
            self._items[name] = obj
        return obj

    def _import(self, name: str, target: str) -> T:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
            return getattr(module, attr) if attr else module  # type: ignore[return-value]
        except ImportError as exc:
            raise MtbenchError(
                f"{self.kind} {name!r} needs a package that is not installed ({exc.name or exc}); "
                f"install mtbench's extra for it, e.g. pip install 'mtbench[metrics]'"
            ) from None
        except AttributeError:
            raise MtbenchError(f"{self.kind} {name!r} points at {target!r}, which does not exist") from None
