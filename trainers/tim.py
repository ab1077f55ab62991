"""``tim``: TIM (Teaching LMs to translate with comparisons). Each pair has a chosen
output (the reference) and a rejected one (the reference with word noise, or a line of
``bad_outputs``); a token-level reward head on the policy ranks them, and the loss is
``nll + alpha * preference`` (TIM ``reward_model.py``: ``v_head`` l.32, chosen and
rejected in one batch l.78-84; ``noisy-text`` for the noise)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtbench.errors import MtbenchError
from mtbench.textio import sha256_file
from mtbench.train.recipes import Recipe

VARIANTS = ("margin", "sigmoid")


@dataclass
class NoiseOptions:
    p_delete: float = 0.15
    p_repeat: float = 0.15
    swap_range: int = 1


@dataclass
class TimOptions:
    alpha: float = 1.0  # HEAD adds the ranking loss unweighted; paper-time sigmoid used 0.5
    variant: str = "margin"  # or "sigmoid" (paper-time code)
    noise: NoiseOptions = field(default_factory=NoiseOptions)
    bad_outputs: str | None = None  # a file of dispreferred outputs, one per training pair


class Method(Recipe):
    name = "tim"
    summary = "TIM: NLL + alpha * preference of the reference over a noisy or given bad output (section tim:)"
    section = "tim"
    Options = TimOptions
    reward_head = True

    def check(self, cfg: Any) -> list[str]:
        if cfg.options.variant not in VARIANTS:
            raise MtbenchError(f"tim.variant {cfg.options.variant!r} is not one of {', '.join(VARIANTS)}")
        return super().check(cfg) + ([cfg.options.bad_outputs] if cfg.options.bad_outputs else [])

    def paths(self, options: TimOptions) -> list[str]:
        return ["bad_outputs"]

    def prepare(self, cfg: Any, pairs: list[Any], sums: dict[str, str]) -> tuple[random.Random, list[str] | None]:
        from mtbench.train.data import read_lines

        bad = None
        if cfg.options.bad_outputs:
            bad = read_lines(cfg.options.bad_outputs)
            sums[cfg.options.bad_outputs] = sha256_file(Path(cfg.options.bad_outputs))
            if len(bad) != len(pairs):
                raise MtbenchError(f"tim.bad_outputs has {len(bad)} lines for {len(pairs)} training pairs; they must align")
        return random.Random(cfg.seed), bad

    def extra_rows(self, cfg: Any, k: int, pair: Any, prompt: str, make_prompt: Any,
                   prepared: tuple[random.Random, list[str] | None]) -> dict[str, tuple[str, str]]:
        from mtbench.train.data import add_noise

        rng, bad = prepared
        noise = cfg.options.noise
        rejected = bad[k] if bad is not None else add_noise(pair.target, rng, noise.p_delete, noise.p_repeat,
                                                            noise.swap_range)
        return {"rejected": (prompt, rejected)}

    def loss(self, policy: Any, batch: dict[str, Any], cfg: Any) -> tuple[Any, dict[str, float]]:
        import torch

        from mtbench.train import losses

        bs = batch["input_ids"].shape[0]
        ids = torch.cat([batch["input_ids"], batch["rejected_input_ids"]])
        mask = torch.cat([batch["attention_mask"], batch["rejected_attention_mask"]])
        logits, rewards = policy(ids, mask)
        nll = losses.masked_nll(logits[:bs], batch["labels"])
        pref = losses.tim_preference_loss(rewards[:bs], rewards[bs:], batch["input_ids"], batch["rejected_input_ids"],
                                          batch["attention_mask"], batch["rejected_attention_mask"], cfg.options.variant)
        return losses.tim_loss(nll, pref, cfg.options.alpha), {"nll": nll.item(), "pref": pref.item()}
