"""Run configuration: one dataclass, filled from YAML and then from CLI flags, with
every default made explicit in the run directory's run.yaml."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtbench.errors import MtbenchError
from mtbench.langs import PRESETS
from mtbench.registry import did_you_mean
from mtbench.yamlio import load_yaml_mapping


@dataclass
class RunConfig:
    tasks: str = field(default="default", metadata={"help": "task specs and suites, comma-separated (wmt22:de-en,alma)"})
    metrics: list[str] = field(default_factory=lambda: ["bleu", "chrf"], metadata={"help": "metric names"})
    refs: str = field(default="primary", metadata={"help": "references: primary, all, or ids like A,B"})
    preset: str = field(default="default", metadata={"help": "scoring preset: default (sacrebleu/ALMA) or wmt (WMT official)"})
    data_dir: str | None = field(default=None, metadata={"help": "test data in mtbench's layout (default $MTBENCH_DATA)"})
    systems: str | None = field(default=None, metadata={"help": "data-layout root holding systems/ and llm_outputs/ (default: data_dir)"})
    include_path: list[str] = field(default_factory=list, metadata={"help": "extra folders with suite YAML files"})
    limit: int | None = field(default=None, metadata={"help": "score only the first N segments of each task"})
    out: str | None = field(default=None, metadata={"help": "run directory (default runs/<name>)"})
    significance: str = field(default="bs", metadata={"help": "paired test: bs (bootstrap), ar (approximate randomization), none"})
    baseline: str = field(default="best", metadata={"help": "model every other is tested against, or best (per task and metric)"})
    n_resamples: int | None = field(default=None, metadata={"help": "bootstrap resamples / AR trials (default 1000 / 10000)"})
    seed: int = field(default=12345, metadata={"help": "seed of the paired tests"})
    workers: int = field(default=0, metadata={"help": "scoring processes (0 = one per CPU core)"})

    def validate(self, where: str = "configuration") -> None:
        if self.preset not in PRESETS:
            raise MtbenchError(f"{where}: unknown preset {self.preset!r}: {did_you_mean(self.preset, list(PRESETS))}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit <= 0):
            raise MtbenchError(f"{where}: limit must be a positive integer, got {self.limit!r}")
        if self.significance not in ("bs", "ar", "none"):
            raise MtbenchError(f"{where}: significance must be bs, ar or none, got {self.significance!r}")
        if self.n_resamples is not None and (not isinstance(self.n_resamples, int) or self.n_resamples <= 0):
            raise MtbenchError(f"{where}: n_resamples must be a positive integer, got {self.n_resamples!r}")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise MtbenchError(f"{where}: workers must be 0 (one per core) or a positive integer, got {self.workers!r}")
        if not isinstance(self.metrics, list) or not self.metrics:
            raise MtbenchError(f"{where}: metrics must be a non-empty list of names, got {self.metrics!r}")
        from mtbench.metrics import check_metric_names

        check_metric_names(self.metrics)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELD_NAMES = [f.name for f in dataclasses.fields(RunConfig)]


def load_config(path: str | Path) -> RunConfig:
    """A RunConfig from a YAML file; unknown keys and wrong types are one-line errors."""
    data = load_yaml_mapping(path)
    cfg = RunConfig()
    for key, value in data.items():
        key_norm = str(key).replace("-", "_")
        if key_norm not in FIELD_NAMES:
            raise MtbenchError(f"{path}: unknown key {key!r}: {did_you_mean(key_norm, FIELD_NAMES)}")
        if key_norm in ("metrics", "include_path") and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if key_norm == "tasks" and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        setattr(cfg, key_norm, value)
    cfg.validate(str(path))
    return cfg
