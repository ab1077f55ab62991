"""Run configuration: one dataclass, filled from YAML and then from CLI flags, with
every default made explicit in the run directory's run.yaml."""

from __future__ import annotations

import dataclasses
import typing
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
    metrics: list[str] = field(default_factory=lambda: ["bleu", "chrf"],
                               metadata={"help": "metric names; 'failures' = the failure profile"})
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
    systems_shown: int = field(default=10, metadata={"help": "best reference systems shown in figures beside the systems under test"})
    show: list[str] = field(default_factory=list, metadata={"help": "systems always shown in figures"})
    figure_tasks: str = field(default="first", metadata={
        "help": "directions with pairwise-significance and segment figures: first, all, or task names"})
    workers: int = field(default=0, metadata={"help": "scoring processes (0 = one per CPU thread, see threads)"})
    threads: int = field(default=0, metadata={
        "help": "CPU threads for torch, BLAS and the scoring pool (0 = the usable cores that no other process keeps busy)"})
    # --- generation
    models: list[str] = field(default_factory=lambda: ["files"], metadata={
        "help": "models: files (the data layout's system outputs), files:DIR, hf:PATH, vllm:PATH, smollm2-135m, plugins"})
    adapters: list[str] = field(default_factory=lambda: ["base"], metadata={"help": "prompt adapters for generating models"})
    shots: int = field(default=0, metadata={"help": "few-shot examples per prompt (adapters base, alma)"})
    num_beams: int | None = field(default=None, metadata={"help": "beam size (default: the adapter's)"})
    max_new_tokens: int | None = field(default=None, metadata={"help": "new-token limit (default: the adapter's)"})
    no_repeat_ngram_size: int | None = field(default=None, metadata={"help": "n-gram repeat block (default: the adapter's)"})
    device: str = field(default="auto", metadata={"help": "cpu, cuda or auto"})
    dtype: str = field(default="auto", metadata={"help": "auto, float32, bfloat16 or float16"})
    batch_tokens: int | None = field(default=None, metadata={"help": "token budget per generation batch"})
    vllm_python: str | None = field(default=None, metadata={"help": "interpreter of the vLLM environment"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM tensor parallel size"})
    data_parallel_size: int = field(default=1, metadata={"help": "vLLM data parallel size"})
    cache: str | None = field(default=None, metadata={"help": "generation cache file (default generations.sqlite in mtbench.paths.cache_root())"})
    # --- where it runs and where it is logged (not part of the run directory's identity: see default_run_dir)
    executor: str = field(default="local", metadata={"help": "local (this process) or ray (a Ray cluster)"})
    ray_address: str | None = field(default=None, metadata={
        "help": "Ray cluster address (default $RAY_ADDRESS, else a local Ray instance for this run)"})
    ray_replicas: int = field(default=0, metadata={"help": "actors per generation model on Ray (0 = as many as fit)"})
    log_to: list[str] = field(default_factory=list, metadata={"help": "experiment trackers: mlflow, wandb"})

    def validate(self, where: str = "configuration", check_metrics: bool = True) -> None:
        from mtbench.plugins import load_include_python

        load_include_python([Path(p) for p in self.include_path])  # may register adapters, metrics, models
        if not isinstance(self.tasks, str) or not self.tasks.strip(" ,"):
            raise MtbenchError(f"{where}: tasks is empty; name pairs like wmt22:de-en or a suite like alma (see `mtbench ls`)")
        if not isinstance(self.systems_shown, int) or self.systems_shown < 0:
            raise MtbenchError(f"{where}: systems_shown must be 0 or a positive integer, got {self.systems_shown!r}")
        if not isinstance(self.show, list) or not all(isinstance(x, str) for x in self.show):
            raise MtbenchError(f"{where}: show must be a list of system names, got {self.show!r}")
        if not isinstance(self.figure_tasks, str) or not self.figure_tasks.strip(" ,"):
            raise MtbenchError(f"{where}: figure_tasks must be first, all or task names, got {self.figure_tasks!r}")
        if self.preset not in PRESETS:
            raise MtbenchError(f"{where}: unknown preset {self.preset!r}: {did_you_mean(self.preset, list(PRESETS))}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit <= 0):
            raise MtbenchError(f"{where}: limit must be a positive integer, got {self.limit!r}")
        if self.significance not in ("bs", "ar", "none"):
            raise MtbenchError(f"{where}: significance must be bs, ar or none, got {self.significance!r}")
        if self.n_resamples is not None and (not isinstance(self.n_resamples, int) or self.n_resamples <= 0):
            raise MtbenchError(f"{where}: n_resamples must be a positive integer, got {self.n_resamples!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise MtbenchError(f"{where}: seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise MtbenchError(f"{where}: workers must be 0 (one per core) or a positive integer, got {self.workers!r}")
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 0:
            raise MtbenchError(f"{where}: threads must be 0 (the free cores) or a positive integer, got {self.threads!r}")
        if not isinstance(self.metrics, list) or not self.metrics:
            raise MtbenchError(f"{where}: metrics must be a non-empty list of names, got {self.metrics!r}")
        for key in ("shots",):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 0:
                raise MtbenchError(f"{where}: {key} must be a non-negative integer, got {getattr(self, key)!r}")
        for key in ("num_beams", "max_new_tokens", "batch_tokens", "tensor_parallel_size", "data_parallel_size"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise MtbenchError(f"{where}: {key} must be a positive integer, got {value!r}")
        if self.no_repeat_ngram_size is not None and (not isinstance(self.no_repeat_ngram_size, int) or self.no_repeat_ngram_size < 0):
            raise MtbenchError(f"{where}: no_repeat_ngram_size must be 0 (off) or a positive integer")
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise MtbenchError(f"{where}: device must be cpu, cuda, cuda:N or auto, got {self.device!r}")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise MtbenchError(f"{where}: dtype must be auto, float32, bfloat16 or float16, got {self.dtype!r}")
        if not isinstance(self.models, list):  # empty: only Python-API translators
            raise MtbenchError(f"{where}: models must be a list of model specs, got {self.models!r}")
        if not isinstance(self.adapters, list) or not self.adapters:
            raise MtbenchError(f"{where}: adapters must be a non-empty list, got {self.adapters!r}")
        from mtbench.metrics import check_metric_names, expand_metric_names
        from mtbench.models.spec import parse_model_spec
        from mtbench.prompts import ADAPTERS

        self.metrics = expand_metric_names(self.metrics)  # "failures" -> the failure-profile metrics
        if check_metrics:
            check_metric_names(self.metrics)
        for spec in self.models:
            parse_model_spec(spec)
        for name in self.adapters:
            ADAPTERS.get(name)
        from mtbench.executors import EXECUTORS

        EXECUTORS.get(self.executor)  # did-you-mean for a name that is not one
        if self.executor != "ray" and (self.ray_address or self.ray_replicas):
            raise MtbenchError(f"{where}: ray_address and ray_replicas are options of the ray executor; "
                               f"add --executor ray (or executor: ray)")
        if not isinstance(self.ray_replicas, int) or self.ray_replicas < 0:
            raise MtbenchError(f"{where}: ray_replicas must be 0 (as many as fit) or a positive integer, got {self.ray_replicas!r}")
        from mtbench.trackers import check_names, split_names

        if not isinstance(self.log_to, list):
            raise MtbenchError(f"{where}: log_to must be a list of tracker names (mlflow, wandb), got {self.log_to!r}")
        self.log_to = split_names(self.log_to)
        check_names(self.log_to, f"{where}: log_to")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELD_NAMES = [f.name for f in dataclasses.fields(RunConfig)]


def _type_error(where: str, key: str, value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit the field's type, or None (YAML gives any type)."""
    args = typing.get_args(hint)
    if type(None) in args and value is None:
        return None
    kinds = [a for a in args if a is not type(None)] if args and typing.get_origin(hint) is not list else [hint]
    for kind in kinds:
        origin = typing.get_origin(kind)
        if origin is list:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return None
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return None
        elif kind is str:
            if isinstance(value, str):
                return None
        elif isinstance(value, kind):
            return None
    names = " or ".join("a list of strings" if typing.get_origin(k) is list else
                        {"int": "an integer", "str": "a string"}.get(getattr(k, "__name__", ""), str(k)) for k in kinds)
    return f"{where}: `{key}` must be {names}{' (or empty)' if type(None) in args else ''}, got {value!r}"


_HINTS = typing.get_type_hints(RunConfig)


def load_config(path: str | Path) -> RunConfig:
    """A RunConfig from a YAML file; unknown keys and wrong types are one-line errors."""
    data = load_yaml_mapping(path)
    cfg = RunConfig()
    for key, value in data.items():
        key_norm = str(key).replace("-", "_")
        if key_norm not in FIELD_NAMES:
            raise MtbenchError(f"{path}: unknown key {key!r}: {did_you_mean(key_norm, FIELD_NAMES)}")
        if key_norm in ("metrics", "include_path", "models", "adapters", "show", "log_to") and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if key_norm in ("tasks", "figure_tasks") and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        problem = _type_error(str(path), str(key), value, _HINTS[key_norm])
        if problem:
            raise MtbenchError(problem)
        setattr(cfg, key_norm, value)
    cfg.validate(str(path))
    return cfg
