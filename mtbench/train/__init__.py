"""Bundled trainers: ALMA stage 2 / instruction tuning (``mle``), LAT stage 2 (``lat``),
TIM (``tim``) and ALMA stage 1 (``alma-stage1``), sharing one data pipeline and one loop.

Heavy imports (torch, transformers, accelerate, peft) happen only when training runs,
so ``import mtbench.train`` stays cheap for the CLI.
"""

from __future__ import annotations

import sys

from mtbench.errors import MtbenchError

__all__ = ["main_train"]


def main_train(method: str, config_path: str) -> int:
    """``mtbench train METHOD CONFIG``: train and save; returns the exit status.
    Configuration errors raise :class:`MtbenchError` (one line) for the CLI to print."""
    from mtbench.train.config import load_config

    cfg = load_config(config_path, method)
    try:
        import accelerate  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MtbenchError(f"training needs the 'train' extra ({exc.name} is missing): pip install 'mtbench[train]'") from None
    from mtbench.train.trainer import train

    result = train(cfg, echo=lambda line: print(line, file=sys.stderr))
    print(f"trained {cfg.method} for {result.steps} steps (final loss {result.final_loss:.4f}) -> {result.out}")
    return 0
