"""``mle``: ALMA stage 2 and plain instruction tuning. Each parallel pair becomes the
adapter's prompt followed by the reference; the loss is the NLL of the target tokens
only (ALMA @10360c33 ``utils/utils.py`` masks the prompt's labels to -100)."""

from __future__ import annotations

from mtbench.train.recipes import Recipe


class Method(Recipe):
    name = "mle"
    summary = "ALMA stage 2 / instruction tuning: NLL of the reference after the adapter's prompt"
