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


def _field(default: Any = None, help: str = "", default_note: str = "", factory: Any = None) -> Any:
    """A RunConfig field with its documentation: ``help`` says what it is, ``default_note``
    what the default means ("(default bs)"). The CLI's flags take both from here
    (``help_text``), so a key documents itself once for YAML and flags alike."""
    metadata = {"help": help, "default_note": default_note}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class RunConfig:
    tasks: str = _field("default", "tasks and suites, e.g. wmt22:de-en,alma", "(default: the `default` suite)")
    metrics: list[str] = _field(
        help="comma-separated metric names; 'failures' is the failure profile "
             "(empty,copy,echo,truncated,overlong,repetition,off-target)",
        default_note="(default: bleu,chrf; the default suite adds failures)", factory=lambda: ["bleu", "chrf"])
    refs: str = _field("primary", "references: primary, all, or ids such as A,B", "(default primary)")
    preset: str = _field("default", "scoring preset: default (sacrebleu/ALMA) or wmt (WMT official)", "(default: default)")
    data_dir: str | None = _field(None, "test data in mtbench's layout", "(default: $MTBENCH_DATA)")
    systems: str | None = _field(None, "folder in the data layout whose systems/ and llm_outputs/ are scored",
                                 "(default: the data dir)")
    include_path: list[str] = _field(help="extra folder of suite YAML files and Python plugins; repeatable", factory=list)
    limit: int | None = _field(None, "only the first N segments of each task")
    out: str | None = _field(None, "run directory", "(default: runs/<name>)")
    significance: str = _field("bs", "paired test: bs (bootstrap), ar (approximate randomization) or none", "(default bs)")
    baseline: str = _field("best", "system every other is tested against, or best per direction and metric",
                           "(default best)")
    n_resamples: int | None = _field(None, "bootstrap resamples / AR trials", "(default 1000 / 10000)")
    seed: int = _field(12345, "seed of the paired tests", "(default 12345)")
    systems_shown: int = _field(10, "best reference systems shown in figures beside the systems under test", "(default 10)")
    show: list[str] = _field(help="systems always shown in figures", factory=list)
    figure_tasks: str = _field("first", "directions with pairwise-significance and segment figures: first, all, or "
                                        "task names", "(default first)")
    workers: int = _field(0, "scoring processes", "(default 0: one per CPU thread)")
    threads: int = _field(0, "CPU threads for torch, BLAS and the scoring pool",
                          "(default 0: the cores this process may use that no other process keeps busy)")
    # --- generation
    models: list[str] = _field(
        help="files (system outputs in the data layout, the default), files:DIR, hf:PATH_OR_ID, vllm:PATH_OR_ID, "
             "smollm2-135m, or a plugin's kind; repeatable", factory=lambda: ["files"])
    adapters: list[str] = _field(help="prompt adapters for generating models, comma-separated",
                                 default_note="(default base; see `mtbench ls adapters`)", factory=lambda: ["base"])
    shots: int = _field(0, "few-shot examples per prompt (base, alma)", "(default 0)")
    num_beams: int | None = _field(None, "beam size", "(default: the adapter's)")
    max_new_tokens: int | None = _field(None, "new-token limit", "(default: the adapter's)")
    no_repeat_ngram_size: int | None = _field(None, "block repeated n-grams of this size", "(default: the adapter's)")
    device: str = _field("auto", "cpu, cuda, cuda:N or auto", "(default auto)")
    dtype: str = _field("auto", "auto, float32, bfloat16 or float16", "(default auto)")
    batch_tokens: int | None = _field(None, "token budget per generation batch (per step with continuous batching)",
                                      "(default 16384)")
    model_args: dict[str, Any] = _field(
        help="backend options K=V,... for every generating model that has them (one model's own: SPEC?K=V,...; "
             "`mtbench ls models` lists each kind's)", factory=dict)
    cache: str | None = _field(None, "generation cache file", "(default generations.sqlite in $MTBENCH_CACHE, else "
                                                             "$XDG_CACHE_HOME/mtbench, else ~/.cache/mtbench)")
    # --- where it runs and where it is logged (not part of the run directory's identity: see default_run_dir)
    executor: str = _field("local", "local (this process) or ray (generation and heavy metrics on a Ray cluster)",
                           "(default local)")
    ray_address: str | None = _field(None, "Ray cluster to join: HOST:PORT of its head, or auto for the one `ray start` "
                                           "runs here", "(default $RAY_ADDRESS, else a local Ray instance for this run)")
    ray_replicas: int = _field(0, "actors per generation model on Ray", "(default 0: as many as the cluster fits)")
    log_to: list[str] = _field(help="experiment trackers: mlflow, wandb; comma-separated or repeatable",
                               default_note="(MLFLOW_TRACKING_URI, default ./mlruns; WANDB_MODE, WANDB_PROJECT)",
                               factory=list)

    def load_plugins(self) -> None:
        """Execute the Python files of ``include_path`` (once each): they may register the
        adapters, metrics and models that ``validate`` then finds. The one side effect of
        a configuration, kept out of ``validate``."""
        from mtbench.plugins import load_include_python

        if not isinstance(self.include_path, list):
            raise MtbenchError(f"include_path must be a list of folders, got {self.include_path!r}")
        load_include_python([Path(p) for p in self.include_path])

    def is_checked(self) -> bool:
        """``validate`` passed and nothing changed since (a run validates once)."""
        return getattr(self, "_checked", None) == self.to_dict()

    def validate(self, where: str = "configuration", check_metrics: bool = True) -> None:
        """Check every value (names against the registries, so plugins are loaded first:
        ``load_plugins``) and normalise lists; reads and runs nothing."""
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
        for key in ("num_beams", "max_new_tokens", "batch_tokens"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise MtbenchError(f"{where}: {key} must be a positive integer, got {value!r}")
        if self.no_repeat_ngram_size is not None and (not isinstance(self.no_repeat_ngram_size, int) or self.no_repeat_ngram_size < 0):
            raise MtbenchError(f"{where}: no_repeat_ngram_size must be 0 (off) or a positive integer")
        from mtbench.models.devices import check_device, check_dtype

        for check, value in ((check_device, self.device), (check_dtype, self.dtype)):
            try:
                check(value)
            except MtbenchError as exc:
                raise MtbenchError(f"{where}: {exc}") from None
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
        if not isinstance(self.model_args, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, (str, int, float, bool))) for k, v in self.model_args.items()):
            raise MtbenchError(f"{where}: model_args must map option names to values (k=v,...), got {self.model_args!r}")
        specs = [parse_model_spec(spec) for spec in self.models]
        from mtbench.models.options import check_run_args

        check_run_args({s.text: s.factory for s in specs if not s.is_source}, self.model_args, f"{where}: model_args")
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
        object.__setattr__(self, "_checked", self.to_dict())  # not a field: replace() makes an unchecked copy

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELD_NAMES = [f.name for f in dataclasses.fields(RunConfig)]
_FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}


def help_text(name: str, default_note: str | None = None) -> str:
    """A key's documentation as a flag's help: what it is, then what its default means
    (``default_note`` replaces that, e.g. "(default: the run's)" where a report reads
    it from the run)."""
    meta = _FIELDS[name].metadata
    note = meta["default_note"] if default_note is None else default_note
    return f"{meta['help']} {note}".strip()


def default_note(name: str) -> str:
    return str(_FIELDS[name].metadata["default_note"])


def is_int_key(name: str) -> bool:
    """Whether the key holds an integer (``int`` or ``int | None``)."""
    hint = _HINTS[name]
    return hint is int or int in typing.get_args(hint)


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

#: Run settings of earlier versions that are model args now (``--vllm-python X`` is
#: ``--model-args python=X``): config key / flag -> option name.
LEGACY_MODEL_ARGS = {"vllm_python": "python", "tensor_parallel_size": "tensor_parallel_size",
                     "data_parallel_size": "data_parallel_size"}


def read_model_args(value: Any, where: str) -> dict[str, Any]:
    """``model_args`` as YAML gives it (a mapping, or ``k=v,...`` text)."""
    from mtbench.models.options import parse_model_args

    if isinstance(value, str):
        return dict(parse_model_args(value, where))
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    raise MtbenchError(f"{where} must be a mapping (option: value) or k=v,... text, got {value!r}")


def load_config(path: str | Path, validate: bool = True) -> RunConfig:
    """A RunConfig from a YAML file; unknown keys and wrong types are one-line errors.
    ``validate=False``: the caller validates once, after adding its own settings."""
    data = load_yaml_mapping(path)
    cfg = RunConfig()
    for key, value in data.items():
        key_norm = str(key).replace("-", "_")
        if key_norm not in FIELD_NAMES and key_norm not in LEGACY_MODEL_ARGS:
            raise MtbenchError(f"{path}: unknown key {key!r}: {did_you_mean(key_norm, FIELD_NAMES)}")
        if key_norm in ("metrics", "include_path", "models", "adapters", "show", "log_to") and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if key_norm in LEGACY_MODEL_ARGS:  # the vLLM keys of earlier versions are vLLM's model args now
            cfg.model_args[LEGACY_MODEL_ARGS[key_norm]] = value
            continue
        if key_norm == "model_args":
            cfg.model_args.update(read_model_args(value, f"{path}: model_args"))
            continue
        if key_norm in ("tasks", "figure_tasks") and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        problem = _type_error(str(path), str(key), value, _HINTS[key_norm])
        if problem:
            raise MtbenchError(problem)
        setattr(cfg, key_norm, value)
    if validate:
        cfg.load_plugins()
        cfg.validate(str(path))
    return cfg
