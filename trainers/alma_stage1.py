"""``alma-stage1``: ALMA's first stage, continued pre-training on monolingual text:
causal LM loss on every token of each line (ALMA @10360c33 ``run_llmmt.py`` with
``--mono_data_path``; no prompt, nothing masked but padding)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtbench.errors import MtbenchError
from mtbench.textio import sha256_file
from mtbench.train.recipes import Recipe


class Method(Recipe):
    name = "alma-stage1"
    summary = "ALMA stage 1: causal LM on monolingual text (data.monolingual)"

    def check(self, cfg: Any) -> list[str]:
        if not cfg.data.monolingual:
            raise MtbenchError("method alma-stage1 needs data.monolingual: a list of plain text files")
        return list(cfg.data.monolingual)

    def examples(self, cfg: Any, tokenizer: Any) -> tuple[list[Any], dict[str, str]]:
        from mtbench.train import data as tdata

        lines: list[str] = []
        sums = {}
        for f in cfg.data.monolingual:
            lines += tdata.read_lines(f)
            sums[f] = sha256_file(Path(f))
        if cfg.data.limit is not None:
            lines = lines[: cfg.data.limit]
        return tdata.monolingual_examples(lines, tokenizer, cfg.max_length), sums
