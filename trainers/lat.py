"""``lat``: LAT stage 2 (language-aware instruction tuning). Each pair trains as in
``mle`` and also as a *negative*: the same output under an instruction that names a
wrong target language, pushed down by an unlikelihood term. Loss ``nll + alpha * ul``
(LAT ``train.py``: ``TrainingArguments.alpha`` 0.05, one negative per sample, l.224-240)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from mtbench.train.recipes import Recipe

# Wrong target languages: the languages of the LAT and ALMA test directions.
CONFLICT_LANGS = ["en", "de", "cs", "ru", "zh", "ja", "fr", "is", "uk"]


@dataclass
class LatOptions:
    alpha: float = 0.05  # weight of the unlikelihood term
    conflict_langs: list[str] = field(default_factory=lambda: list(CONFLICT_LANGS))


class Method(Recipe):
    name = "lat"
    summary = "LAT stage 2: NLL + alpha * unlikelihood of the output under a wrong target language (section lat:)"
    section = "lat"
    Options = LatOptions

    def prepare(self, cfg: Any, pairs: list[Any], sums: dict[str, str]) -> random.Random:
        return random.Random(cfg.seed)  # the wrong languages are drawn in pair order, reproducibly

    def extra_rows(self, cfg: Any, k: int, pair: Any, prompt: str, make_prompt: Any,
                   rng: random.Random) -> dict[str, tuple[str, str]]:
        from mtbench.train.data import conflicting_language

        wrong = conflicting_language(pair.tgt_lang, pair.src_lang, cfg.options.conflict_langs, rng)
        return {"negative": (make_prompt(pair.source, pair.src_lang, wrong), pair.target)}

    def loss(self, policy: Any, batch: dict[str, Any], cfg: Any) -> tuple[Any, dict[str, float]]:
        from mtbench.train import losses

        logits, _ = policy(batch["input_ids"], batch["attention_mask"])
        nll = losses.masked_nll(logits, batch["labels"])
        neg_logits, _ = policy(batch["negative_input_ids"], batch["negative_attention_mask"])
        ul = losses.unlikelihood(neg_logits, batch["negative_labels"])
        return losses.lat_stage2_loss(nll, ul, cfg.options.alpha), {"nll": nll.item(), "ul": ul.item()}
