"""Training configuration: a YAML mapping -> :class:`TrainConfig`, every default
explicit, every bad key or path a one-line :class:`MtbenchError` naming the fix.

Defaults follow the seeds where one method's value is the natural one (LoRA: r 16,
alpha 32, dropout 0.05 as ALMA, on q_proj/v_proj unless a config says otherwise; each
method's own section, ``lat:`` or ``tim:``, is its recipe's options dataclass, with the
seed's values) and are small elsewhere, so a config states what a run really used
(``mtbench_train.json`` records the resolved config).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.yamlio import load_yaml_mapping

TUNINGS = ("full", "fixemb", "lora")
SCHEDULERS = ("linear", "cosine", "constant")
MIXED = ("no", "bf16", "fp16", "auto")  # auto: bf16 where the hardware has it, else none (mtbench.train.precision)


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
    # (each method's own settings are its recipe's section: mtbench.train.recipes)


@dataclass
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    # a list of module names, or a peft keyword such as "all-linear" (ALMA @10360c33 utils.py l.543)
    target_modules: list[str] | str = field(default_factory=lambda: ["q_proj", "v_proj"])


#: Keys an older mtbench read, and what took their place (a config that still sets
#: one must not train with a meaning it no longer has).
REMOVED_KEYS = {
    "merge_lora": "a LoRA training always writes the merged model to out (what `mtbench run --model hf:DIR` "
                  "and vLLM load) and the adapter alone to out/adapter",
}


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
    mixed_precision: str = "no"
    device: str = "cpu"  # "cpu" or "auto" (accelerate picks the GPU)
    options: Any = None  # the method's own section (its recipe's Options), e.g. `lat:` for lat

    @property
    def recipe(self) -> Any:
        from mtbench.train.recipes import get_recipe

        return get_recipe(self.method)

    def to_dict(self) -> dict[str, Any]:
        """Every key as the YAML names it (the method's section under its own name)."""
        from mtbench.train.recipes import options_dict

        d = {f.name: dataclasses.asdict(v) if dataclasses.is_dataclass(v := getattr(self, f.name)) else v
             for f in dataclasses.fields(self) if f.name != "options"}
        section = self.recipe.section
        if section:
            d[section] = options_dict(self.options)
        return d


def _build(cls: type, raw: Any, where: str, source: str) -> Any:
    """``cls`` from a mapping; fields whose type is a dataclass are built the same way."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MtbenchError(f"{source}: {where} must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "options"}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"{where + '.' if where else ''}{key}"
        if key in REMOVED_KEYS:
            raise MtbenchError(f"{source}: {path} is no longer a setting: {REMOVED_KEYS[key]}; delete the key")
        if key not in fields:
            raise MtbenchError(f"{source}: unknown key {path} ({did_you_mean(str(key), list(fields))})")
        sub = hints.get(key)
        if dataclasses.is_dataclass(sub):
            kwargs[key] = _build(sub, value, path, source)
            continue
        problem = _type_problem(value, sub)
        if problem:
            raise MtbenchError(f"{source}: {path} must be {problem}, got {value!r}")
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        missing = str(exc).split("argument")[-1].strip(": ")
        raise MtbenchError(f"{source}: {where or 'the config'} is missing required key(s) {missing}") from None


def _type_problem(value: Any, hint: Any) -> str | None:
    """What ``value`` should be for the field type ``hint`` (None: it fits). YAML gives
    typed values: an int is a number, nothing else converts."""
    if hint is None or hint is Any:
        return None
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        problems = [_type_problem(value, a) for a in options]
        return None if any(p is None for p in problems) else " or ".join(p for p in problems if p)
    if hint is bool:
        return None if isinstance(value, bool) else "true or false"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if hint is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if hint is str:
        return None if isinstance(value, str) else "a string"
    origin = typing.get_origin(hint)
    if origin is list:
        item = args[0] if args else Any
        if not isinstance(value, list):
            return f"a list{' of strings' if item is str else ''}"
        return None if all(_type_problem(v, item) is None for v in value) else f"a list of {_type_problem(value[0], item) or 'values'}"
    if origin is dict:
        return None if isinstance(value, dict) else "a mapping"
    return None


def _check(cfg: TrainConfig, source: str) -> None:
    def bad(msg: str) -> MtbenchError:
        return MtbenchError(f"{source}: {msg}")

    for name, allowed in (("tuning", TUNINGS), ("scheduler", SCHEDULERS), ("mixed_precision", MIXED)):
        if getattr(cfg, name) not in allowed:
            raise bad(f"{name} {getattr(cfg, name)!r} is not one of {', '.join(allowed)}")
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
    try:
        files = cfg.recipe.check(cfg)
    except MtbenchError as exc:
        raise bad(str(exc)) from None
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
    if cfg.options is not None:
        for name in cfg.recipe.paths(cfg.options):
            setattr(cfg.options, name, f(getattr(cfg.options, name)))


def parse_config(raw: dict[str, Any], method: str | None = None, source: str = "<config>",
                 base_dir: Path | None = None) -> TrainConfig:
    """A checked :class:`TrainConfig` from a mapping. ``method`` (from the command line)
    wins over a ``method`` key; relative paths resolve against ``base_dir``."""
    raw = dict(raw)
    if method is not None:
        if raw.get("method", method) != method:
            raise MtbenchError(f"{source}: says method {raw['method']!r} but {method!r} was asked for; drop the key or change one")
        raw["method"] = method
    from mtbench.train.recipes import RECIPES, get_recipe

    name = raw.get("method")
    if not isinstance(name, str) or name not in RECIPES:
        from mtbench.registry import did_you_mean as suggest

        raise MtbenchError(f"{source}: method {name!r} is not a training method: {suggest(str(name), RECIPES.names())} "
                           f"(`mtbench train --help` lists them; a plugin's method: --include-path DIR)")
    recipe = get_recipe(name)
    for key, value in recipe.defaults.items():
        raw.setdefault(key, value)
    others = {section: m for m in RECIPES.names() if m != name and (section := _section_of(m))}
    for key in raw:
        if key in others and key != recipe.section:
            raise MtbenchError(f"{source}: {key}: holds the settings of method {others[key]}; this config trains {name} "
                               f"(drop the section or change the method)")
    section = raw.pop(recipe.section, None) if recipe.section else None
    cfg: TrainConfig = _build(TrainConfig, raw, "", source)
    if recipe.Options is not None:
        cfg.options = _build(recipe.Options, section, recipe.section or name, source)
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


def _section_of(method: str) -> str | None:
    from mtbench.train.recipes import get_recipe

    try:
        return get_recipe(method).section
    except MtbenchError:  # a plugin method that does not load says so when it is used
        return None


def load_config(path: str | Path, method: str | None = None) -> TrainConfig:
    p = Path(path)
    # Relative paths in a config are read from the current directory, like the CLI's other
    # paths; a config meant to travel uses absolute paths or ${VAR}s.
    return parse_config(load_yaml_mapping(p), method, source=str(p))
