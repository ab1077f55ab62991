"""Prompt adapters: one per method, each byte-exact to its seed repository's prompt
and post-processing (see each module's docstring for the source file and commit).

Entries are lazy "module:attr" factories, like the metric registry, and plugins add
their own through the ``mtbench.adapters`` entry-point group. ``make_adapter`` checks
option names up front so a typo in a run config fails with a did-you-mean line instead
of a Python TypeError.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from mtbench.errors import MtbenchError
from mtbench.prompts.core import Adapter
from mtbench.registry import Registry, did_you_mean

AdapterFactory = Callable[..., Adapter]

ADAPTERS: Registry[AdapterFactory] = Registry("adapter", entry_point_group="mtbench.adapters")
ADAPTERS.register("base", "mtbench.prompts.labelled:base")
ADAPTERS.register("alma", "mtbench.prompts.labelled:alma")
ADAPTERS.register("tim", "mtbench.prompts.alpaca:tim")
ADAPTERS.register("lat", "mtbench.prompts.alpaca:lat")
ADAPTERS.register("lat-post-ins", "mtbench.prompts.alpaca:lat_post_ins")
ADAPTERS.register("lat-ptl", "mtbench.prompts.alpaca:lat_ptl_adapter")
ADAPTERS.register("xglm", "mtbench.prompts.xglm:xglm")
ADAPTERS.register("chat", "mtbench.prompts.chat:chat")

__all__ = ["ADAPTERS", "Adapter", "make_adapter"]


def make_adapter(name: str, **options: Any) -> Adapter:
    """The adapter ``name`` built with ``options`` (each factory's keyword arguments)."""
    factory = ADAPTERS.get(name)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a plugin whose signature cannot be read checks its own options
        params = {}
    if params and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        known = [p for p in params if params[p].kind is not inspect.Parameter.VAR_POSITIONAL]
        for option in options:
            if option not in known:
                raise MtbenchError(
                    f"adapter {name!r} has no option {option!r} "
                    f"({did_you_mean(option, known) if known else 'it takes no options'})"
                )
    return factory(**options)
