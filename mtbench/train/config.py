"""Training configuration: a YAML mapping -> :class:`TrainConfig`, every default
explicit, every bad key or path a one-line :class:`MtbenchError` naming the fix.

Defaults follow the seeds where one method's value is the natural one (LAT stage 2:
alpha 0.05; TIM: margin ranking loss, noise 0.15/0.15/1; LoRA: r 16, alpha 32, dropout
0.05 as ALMA, on q_proj/v_proj unless a config says otherwise) and are small elsewhere, so a config states what a run
really used (``mtbench_train.json`` records the resolved config).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.yamlio import load_yaml_mapping

METHODS = ("mle", "lat", "tim", "alma-stage1")
TUNINGS = ("full", "fixemb", "lora")
SCHEDULERS = ("linear", "cosine", "constant")
MIXED = ("no", "bf16", "fp16")


@dataclass
class DataConfig:
    src: str | None = None  # a source file (one sentence a line) ...
    tgt: str | None = None  # ... and its line-aligned target file
    src_lang: str | None = None
    tgt_lang: str | None = None
    folder: str | None = None  # or ALMA's layout: <folder>/deen/train.de-en.{de,en}
    pairs: list[str] = field(default_factory=list)  # with folder: ["de-en", "cs-en"]
    both_directions: bool = True
    limit: int | None = None  # first N line pairs of each file pair
    monolingual: list[str] = field(default_factory=list)  # alma-stage1: plain text files


@dataclass
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    # a list of module names, or a peft keyword such as "all-linear" (ALMA @10360c33 utils.py l.543)
    target_modules: list[str] | str = field(default_factory=lambda: ["q_proj", "v_proj"])


@dataclass
class LatConfig:
    alpha: float = 0.05  # LAT train.py TrainingArguments.alpha
    conflict_langs: list[str] = field(default_factory=lambda: ["en", "de", "cs", "ru", "zh", "ja", "fr", "is", "uk"])


@dataclass
class NoiseConfig:
    p_delete: float = 0.15
    p_repeat: float = 0.15
    swap_range: int = 1


@dataclass
class TimConfig:
    alpha: float = 1.0  # HEAD adds the ranking loss unweighted; paper-time sigmoid used 0.5
    variant: str = "margin"  # or "sigmoid" (paper-time code)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    bad_outputs: str | None = None  # a file of dispreferred outputs, one per training pair


@dataclass
class TrainConfig:
    method: str
    base_model: str
    out: str
    data: DataConfig
    adapter: str = "alma"
    adapter_options: dict[str, Any] = field(default_factory=dict)
    separator: str = " "  # between prompt and target
    steps: int = 100
    lr: float = 2e-5
    batch_size: int = 4
    grad_accum: int = 1
    warmup_ratio: float = 0.01
    scheduler: str = "linear"
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_length: int = 256
    seed: int = 42
    tuning: str = "full"
    lora: LoraConfig = field(default_factory=LoraConfig)
    merge_lora: bool = True
    mixed_precision: str = "no"
    device: str = "cpu"  # "cpu" or "auto" (accelerate picks the GPU)
    lat: LatConfig = field(default_factory=LatConfig)
    tim: TimConfig = field(default_factory=TimConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, raw: Any, where: str, source: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MtbenchError(f"{source}: {where} must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise MtbenchError(f"{source}: unknown key {where + '.' if where else ''}{key} ({did_you_mean(str(key), list(fields))})")
        sub = {"data": DataConfig, "lora": LoraConfig, "lat": LatConfig, "tim": TimConfig, "noise": NoiseConfig}.get(key)
        kwargs[key] = _build(sub, value, f"{where + '.' if where else ''}{key}", source) if sub else value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        missing = str(exc).split("argument")[-1].strip(": ")
        raise MtbenchError(f"{source}: {where or 'the config'} is missing required key(s) {missing}") from None


def _check(cfg: TrainConfig, source: str) -> None:
    def bad(msg: str) -> MtbenchError:
        return MtbenchError(f"{source}: {msg}")

    if cfg.method not in METHODS:
        raise bad(f"method {cfg.method!r} is not one of {', '.join(METHODS)}")
    for name, allowed in (("tuning", TUNINGS), ("scheduler", SCHEDULERS), ("mixed_precision", MIXED)):
        if getattr(cfg, name) not in allowed:
            raise bad(f"{name} {getattr(cfg, name)!r} is not one of {', '.join(allowed)}")
    if cfg.tim.variant not in ("margin", "sigmoid"):
        raise bad(f"tim.variant {cfg.tim.variant!r} is not one of margin, sigmoid")
    for name in ("steps", "batch_size", "grad_accum", "max_length"):
        v = getattr(cfg, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise bad(f"{name} must be a positive integer, got {v!r}")
    for name in ("lr", "warmup_ratio", "weight_decay", "max_grad_norm"):
        v = getattr(cfg, name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise bad(f"{name} must be a non-negative number, got {v!r}")
    if cfg.device not in ("cpu", "auto"):
        raise bad(f"device {cfg.device!r} is not one of cpu, auto")
    base = Path(cfg.base_model)
    if not base.is_dir():
        from mtbench.models import NAMED_CHECKPOINTS

        if cfg.base_model not in NAMED_CHECKPOINTS:
            raise bad(f"base_model {cfg.base_model!r} is not a local folder (training loads local Hugging Face "
                      f"checkpoints, or a named model: {', '.join(NAMED_CHECKPOINTS)})")
        cfg.base_model = str(NAMED_CHECKPOINTS.get(cfg.base_model)())
    d = cfg.data
    if cfg.method == "alma-stage1":
        if not d.monolingual:
            raise bad("method alma-stage1 needs data.monolingual: a list of plain text files")
        files = list(d.monolingual)
    elif d.folder is not None:
        if not d.pairs:
            raise bad("data.folder needs data.pairs, e.g. [de-en]")
        if not Path(d.folder).is_dir():
            raise bad(f"data.folder {d.folder!r} is not a folder")
        files = []
    else:
        if not (d.src and d.tgt and d.src_lang and d.tgt_lang):
            raise bad("data needs src, tgt, src_lang and tgt_lang (or folder + pairs)")
        files = [d.src, d.tgt]
    if cfg.tim.bad_outputs:
        files.append(cfg.tim.bad_outputs)
    for f in files:
        if not Path(f).is_file():
            raise bad(f"data file {f!r} does not exist")


def _map_paths(cfg: TrainConfig, fn: Callable[[str], str], keep: tuple[str, ...] = ()) -> None:
    """Apply ``fn`` to every path in ``cfg`` (a named base model in ``keep`` is no path)."""
    def f(p: str | None) -> str | None:
        return None if p is None else fn(p)

    if cfg.base_model not in keep:
        cfg.base_model = fn(cfg.base_model)
    cfg.out = fn(cfg.out)
    d = cfg.data
    d.src, d.tgt, d.folder = f(d.src), f(d.tgt), f(d.folder)
    d.monolingual = [fn(p) for p in d.monolingual]
    cfg.tim.bad_outputs = f(cfg.tim.bad_outputs)


def parse_config(raw: dict[str, Any], method: str | None = None, source: str = "<config>",
                 base_dir: Path | None = None) -> TrainConfig:
    """A checked :class:`TrainConfig` from a mapping. ``method`` (from the command line)
    wins over a ``method`` key; relative paths resolve against ``base_dir``."""
    raw = dict(raw)
    if method is not None:
        if raw.get("method", method) != method:
            raise MtbenchError(f"{source}: says method {raw['method']!r} but {method!r} was asked for; drop the key or change one")
        raw["method"] = method
    cfg: TrainConfig = _build(TrainConfig, raw, "", source)
    from mtbench.models import NAMED_CHECKPOINTS

    def expand(p: str) -> str:
        # ${VAR} / $VAR in paths, so one config works wherever the data lives
        # (data.folder: ${MTBENCH_DATA}/train/alma-human-written).
        out = os.path.expandvars(p)
        unset = re.search(r"\$\{?(\w+)", out)
        if unset:
            raise MtbenchError(f"{source}: path {p!r} uses ${unset.group(1)}, which is not set; export it or write the path out")
        return out if base_dir is None or Path(out).is_absolute() else str(base_dir / out)

    _map_paths(cfg, expand, keep=tuple(NAMED_CHECKPOINTS))
    _check(cfg, source)
    return cfg


def load_config(path: str | Path, method: str | None = None) -> TrainConfig:
    p = Path(path)
    # Relative paths in a config are read from the current directory, like the CLI's other
    # paths; a config meant to travel uses absolute paths or ${VAR}s.
    return parse_config(load_yaml_mapping(p), method, source=str(p))
