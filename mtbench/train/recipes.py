"""Training methods as recipes: what a method is, apart from the loop that runs it.

A recipe owns what differs between methods: its own config section (a dataclass,
``section: Options`` in the YAML), which files it reads, how training rows are built,
its loss and whether the policy carries TIM's reward head. The loop
(``mtbench.train.trainer``), tuning (full/fixemb/LoRA), batching and saving are shared.

The bundled recipes live in the repository's top-level ``trainers/`` folder (installed
as ``mtbench.trainers``), one file each. A new method is one file too: a ``Recipe``
subclass registered with ``RECIPES.register(name, cls)`` in a Python file on
``mtbench train --include-path DIR``, or an entry point in the group ``mtbench.trainers``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from mtbench.errors import MtbenchError
from mtbench.registry import Registry
from mtbench.textio import sha256_file

if TYPE_CHECKING:  # torch stays out of `mtbench train --help`
    import torch

    from mtbench.train.config import TrainConfig
    from mtbench.train.data import Example, Pair


class Recipe:
    """One training method. Subclasses set ``name`` and ``summary`` and override what
    differs; the defaults are ALMA stage 2's: parallel data, prompt + target rows, NLL
    on the target."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    section: ClassVar[str | None] = None  # the YAML key of the method's own options
    Options: ClassVar[type | None] = None  # their dataclass
    reward_head: ClassVar[bool] = False  # TIM's token-level value head on the policy
    defaults: ClassVar[dict[str, Any]] = {}  # TrainConfig keys this method sets when a config leaves them out

    # --- configuration -------------------------------------------------------------

    def check(self, cfg: "TrainConfig") -> list[str]:
        """Raise ``MtbenchError`` for a config this method cannot train; return the data
        files it reads (their existence is checked by the caller)."""
        d = cfg.data
        if d.folder is not None:
            if not d.pairs:
                raise MtbenchError("data.folder needs data.pairs, e.g. [de-en]")
            if not Path(d.folder).is_dir():
                raise MtbenchError(f"data.folder {d.folder!r} is not a folder")
            return []
        if not (d.src and d.tgt and d.src_lang and d.tgt_lang):
            raise MtbenchError("data needs src, tgt, src_lang and tgt_lang (or folder + pairs)")
        return [d.src, d.tgt]

    def paths(self, options: Any) -> list[str]:
        """Option fields that are file paths (resolved like the config's other paths)."""
        return []

    # --- rows ----------------------------------------------------------------------

    def examples(self, cfg: "TrainConfig", tokenizer: Any) -> tuple[list["Example"], dict[str, str]]:
        """Training rows and the sha256 of every file read."""
        from mtbench.prompts import make_adapter
        from mtbench.train import data as tdata

        adapter = make_adapter(cfg.adapter, **cfg.adapter_options)
        pairs, sums = load_pairs(cfg)
        if not pairs:
            raise MtbenchError("no training pairs: the data files are empty (or data.limit is 0)")
        extras = self.prepare(cfg, pairs, sums)
        rows = []
        for k, pair in enumerate(pairs):
            prompt = adapter.prompt(pair.source, pair.src_lang, pair.tgt_lang)
            row = tdata.encode(tokenizer, prompt, pair.target, cfg.separator, cfg.max_length)
            for name, (other_prompt, other_target) in self.extra_rows(cfg, k, pair, prompt, adapter.prompt, extras).items():
                row.extra[name] = tdata.encode(tokenizer, other_prompt, other_target, cfg.separator, cfg.max_length)
            rows.append(row)
        return rows, sums

    def prepare(self, cfg: "TrainConfig", pairs: list["Pair"], sums: dict[str, str]) -> Any:
        """Whatever ``extra_rows`` needs once (a seeded RNG, a file of outputs)."""
        return None

    def extra_rows(self, cfg: "TrainConfig", k: int, pair: "Pair", prompt: str, make_prompt: Any,
                   prepared: Any) -> dict[str, tuple[str, str]]:
        """Extra (prompt, target) rows that go with training pair ``k``, by name; they
        reach the loss as ``batch["<name>_input_ids"]`` etc."""
        return {}

    # --- loss ----------------------------------------------------------------------

    def loss(self, policy: Any, batch: dict[str, "torch.Tensor"], cfg: "TrainConfig"
             ) -> tuple["torch.Tensor", dict[str, float]]:
        """The loss of one micro-batch and its logged parts."""
        from mtbench.train import losses

        logits, _ = policy(batch["input_ids"], batch["attention_mask"])
        loss = losses.masked_nll(logits, batch["labels"])
        return loss, {"nll": loss.item()}


def load_pairs(cfg: "TrainConfig") -> tuple[list["Pair"], dict[str, str]]:
    """The config's translation pairs and the sha256 of every file read."""
    from mtbench.train import data as tdata

    d = cfg.data
    files: list[tuple[Path, Path, str, str]] = []
    if d.folder is not None:
        files = [tdata.pair_files(d.folder, p) for p in d.pairs]
    elif d.src and d.tgt and d.src_lang and d.tgt_lang:
        files = [(Path(d.src), Path(d.tgt), d.src_lang, d.tgt_lang)]
    pairs: list[Pair] = []
    sums: dict[str, str] = {}
    for a, b, la, lb in files:
        pairs += tdata.read_parallel(a, b, la, lb, d.both_directions, d.limit)
        sums[str(a)] = sha256_file(a)
        sums[str(b)] = sha256_file(b)
    return pairs, sums


RECIPES: Registry[type[Recipe]] = Registry("training method", entry_point_group="mtbench.trainers")
# name -> the bundled recipe's file in trainers/ (mtbench.trainers once installed)
for _name, _module in (("mle", "mle"), ("alma-stage1", "alma_stage1"), ("lat", "lat"), ("tim", "tim"),
                       ("mfti", "mfti")):
    RECIPES.register(_name, f"mtbench.trainers.{_module}:Method")


def get_recipe(name: str) -> Recipe:
    """An instance of the method ``name`` (did-you-mean for a name that is none)."""
    cls = RECIPES.get(name)
    if not (isinstance(cls, type) and issubclass(cls, Recipe)):
        raise MtbenchError(f"training method {name!r} is {cls!r}, not a mtbench.train.recipes.Recipe subclass")
    return cls()


def method_lines() -> list[str]:
    """``name  summary`` for every method, for `mtbench train --help` and `mtbench ls`."""
    out = []
    for name in RECIPES.names():
        try:
            summary = get_recipe(name).summary
        except MtbenchError as exc:
            summary = f"(cannot load: {exc})"
        out.append(f"{name:12s} {summary}")
    return out


def options_dict(options: Any) -> dict[str, Any] | None:
    return dataclasses.asdict(options) if options is not None and dataclasses.is_dataclass(options) else None
