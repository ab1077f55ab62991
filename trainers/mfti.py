"""``mfti``: multilingual finetuning with translation instructions (Li et al. 2023,
github.com/NJUNLP/MFTI @a25f1ab8): ``mle`` over several directions at once, by default
with the XGLM study's training prompt ``[{Src}]: {src} [{Tgt}]:`` (adapter ``xglm``,
template ``train``; ``prepare_dataset.py``), loss on the target only
(``data_collator_for_partial_language_modeling``). Evaluate on unseen directions with
``mtbench run --tasks mfti-unseen``."""

from __future__ import annotations

from typing import Any

from mtbench.errors import MtbenchError
from .mle import Method as MLE


class Method(MLE):
    name = "mfti"
    summary = "MFTI: instruction tuning over several directions (default adapter xglm, template train)"
    defaults = {"adapter": "xglm", "adapter_options": {"template": "train"}}

    def check(self, cfg: Any) -> list[str]:
        files = super().check(cfg)
        d = cfg.data
        directions = (len(d.pairs) if d.folder is not None else 1) * (2 if d.both_directions else 1)
        if directions < 2:
            raise MtbenchError("method mfti tunes on several translation directions: give data.pairs with more than "
                               "one pair, or data.both_directions: true")
        return files
