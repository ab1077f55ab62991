"""The Python API: evaluate any object with ``translate(list[Request]) -> list[str]``,
or any model spec the CLI takes, and get back the results model the CLI writes to
results.json (``mtbench.results.Results``).

    import mtbench
    results = mtbench.evaluate(model=MyTranslator(), tasks="wmt22:de-en", metrics="bleu,chrf")
    results.tasks["wmt22:de-en"].scores["MyTranslator+base"]["bleu"].score
    results.run_dir  # the run directory: `mtbench report` reads it

Each request carries the source, both languages and the prompt the chosen adapter
built; what ``translate`` returns is taken as the final translation (no adapter
post-processing). The run directory is a real one: ``mtbench report`` reads it.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Sequence

from mtbench.config import RunConfig
from mtbench.errors import MtbenchError
from mtbench.results import Results


def evaluate(model: Any, tasks: str | Sequence[str], metrics: str | Sequence[str] = ("bleu", "chrf"),
             adapter: str = "base", name: str | None = None, out: str | Path | None = None,
             include_systems: bool = False, isolate_scoring: bool = False, log=lambda _msg: None,
             **config: Any) -> Results:
    """Run ``model`` (a Translator object or a spec string such as ``hf:/ckpt``) on
    ``tasks`` and return the run's results. ``metrics`` is a list or a comma-separated
    string. ``config`` takes any RunConfig field (limit, refs, preset, significance,
    num_beams, ...). ``include_systems`` adds the data layout's precomputed system
    outputs for comparison. Without ``out`` the run goes to a new temporary folder,
    which ``results.run_dir`` names."""
    from mtbench.runner import run

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(config) - fields)
    if unknown:
        from mtbench.registry import did_you_mean

        raise MtbenchError(f"evaluate(): unknown option {unknown[0]!r}: {did_you_mean(unknown[0], sorted(fields))}")
    translators: dict[str, Any] = {}
    models: list[str] = ["files"] if include_systems else []
    if isinstance(model, str):
        models.append(model)
    elif callable(getattr(model, "translate", None)):
        translators[name or type(model).__name__] = model
    else:
        raise MtbenchError(f"evaluate(model=...): {type(model).__name__} has no translate(requests) method "
                           f"and is not a model spec such as 'hf:/path'")
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    cfg = RunConfig(tasks=tasks if isinstance(tasks, str) else ",".join(tasks), metrics=list(metrics),
                    models=models, adapters=[adapter], **config)
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="mtbench-"))
    cfg.out = str(out)
    run_dir = run(cfg, log=log, isolate_scoring=isolate_scoring, translators=translators)
    return Results.load(run_dir.path)
