"""Metric registry. Entries are lazy "module:attr" factories so that neural metrics
import their heavy dependencies only when a run asks for them.

Parametrized names: ``BASE:ARG`` where BASE is in ``PARAMETRIZED`` (``comet``,
``bleurt``) and ARG is a model (local folder, checkpoint file or hub id), e.g.
``comet:/models/wmt22-comet-da`` or ``comet:Unbabel/wmt22-cometkiwi-da``. The name is
split at its first colon (so ``comet:C:\\models\\x`` works too); a name registered as a
whole (a plugin may contain a colon) wins over the split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from mtbench.errors import MtbenchError
from mtbench.metrics.base import Metric, check_is_metric
from mtbench.registry import Registry, did_you_mean

MetricFactory = Callable[[], Any]
ParametrizedFactory = Callable[..., Any]  # factory(arg, name=full_name)

METRICS: Registry[MetricFactory] = Registry("metric", entry_point_group="mtbench.metrics")
METRICS.register("bleu", "mtbench.metrics.sacrebleu_metrics:Bleu")
METRICS.register("chrf", "mtbench.metrics.sacrebleu_metrics:Chrf")
METRICS.register("chrf++", "mtbench.metrics.sacrebleu_metrics:chrf_plus_plus")
METRICS.register("ter", "mtbench.metrics.sacrebleu_metrics:Ter")
METRICS.register("off-target", "mtbench.metrics.offtarget:OffTarget")
METRICS.register("empty", "mtbench.metrics.failures.empty:Empty")
METRICS.register("copy", "mtbench.metrics.failures.copied:Copy")
METRICS.register("echo", "mtbench.metrics.failures.echo:Echo")
METRICS.register("truncated", "mtbench.metrics.failures.truncated:Truncated")
METRICS.register("overlong", "mtbench.metrics.failures.overlong:Overlong")
METRICS.register("repetition", "mtbench.metrics.failures.repetition:Repetition")
METRICS.register("comet", "mtbench.metrics.comet_metric:comet")
METRICS.register("cometkiwi", "mtbench.metrics.comet_metric:cometkiwi")
METRICS.register("xcomet", "mtbench.metrics.comet_metric:xcomet")
METRICS.register("bleurt", "mtbench.metrics.bleurt_metric:bleurt")

#: Names that stand for several metrics, expanded where a metric list is read.
GROUPS: dict[str, tuple[str, ...]] = {
    # the failure profile (mtbench.metrics.failures and off-target)
    "failures": ("empty", "copy", "echo", "truncated", "overlong", "repetition", "off-target"),
}

PARAMETRIZED: Registry[ParametrizedFactory] = Registry("parametrized metric")
PARAMETRIZED.register("comet", "mtbench.metrics.comet_metric:make_comet")
PARAMETRIZED.register("bleurt", "mtbench.metrics.bleurt_metric:make_bleurt")


def expand_metric_names(names: list[str]) -> list[str]:
    """Groups (``failures``) replaced by their metrics, each name once, in order."""
    out: list[str] = []
    for name in names:
        for member in (GROUPS[name] if isinstance(name, str) and name in GROUPS and name not in METRICS else (name,)):
            if member not in out:
                out.append(member)
    return out


def split_metric_name(name: str) -> tuple[str, str | None]:
    """("comet", "/path") for "comet:/path"; (name, None) for a plain name."""
    if name in METRICS:
        return name, None
    base, sep, arg = name.partition(":")
    return (base, arg) if sep else (name, None)


def _check_parametrized(name: str, base: str, arg: str) -> None:
    if base not in PARAMETRIZED:
        raise MtbenchError(f"metric {name!r}: only {', '.join(PARAMETRIZED.names())} take a model after ':' "
                           f"({did_you_mean(base, PARAMETRIZED.names())})")
    if not arg.strip():
        raise MtbenchError(f"metric {name!r} names no model: write {base}:/path/to/model-folder or {base}:owner/model-id")
    path = Path(arg).expanduser()
    if arg.startswith(("/", "./", "../", "~")) and not path.exists():
        raise MtbenchError(f"metric {name!r}: model folder {path} does not exist; check the path after '{base}:'")


def make_metric(name: str) -> Metric:
    """A metric object for a registry name (``comet:/path`` included), checked to
    implement the metric contract."""
    base, arg = split_metric_name(name)
    if arg is None:
        metric = check_is_metric(name, METRICS.get(name)())
    else:
        _check_parametrized(name, base, arg)
        metric = check_is_metric(name, PARAMETRIZED.get(base)(arg, name=name))
    metric.name = name  # the name it was asked for is the name its numbers carry (a class may be registered twice)
    return metric


def check_metric_names(names: list[str]) -> None:
    """Fail before any work starts if a metric name is unknown (did-you-mean error), a
    parametrized name points at a folder that does not exist, or a registered factory
    makes something that is not a ``Metric``. Loads no model."""
    for name in names:
        base, arg = split_metric_name(name)
        if arg is not None:
            _check_parametrized(name, base, arg)
        else:
            make_metric(name)
