"""Bundled trainers: ALMA stage 2 / instruction tuning (``mle``), LAT stage 2 (``lat``),
TIM (``tim``) and ALMA stage 1 (``alma-stage1``), sharing one data pipeline and one loop.

Heavy imports (torch, transformers, accelerate, peft) happen only when training runs,
so ``import mtbench.train`` stays cheap for the CLI.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from mtbench.errors import MtbenchError

__all__ = ["main_train"]


def main_train(method: str, config_path: str, log_to: Sequence[str] = (), retrain: bool = False) -> int:
    """``mtbench train METHOD CONFIG``: train and save, unless the out folder already
    holds this training (``retrain``: train anyway); returns the exit status (3 when
    the checkpoint is saved but an experiment tracker in ``log_to`` failed).
    Configuration errors raise :class:`MtbenchError` (one line) for the CLI to print."""
    from mtbench.train.config import load_config
    from mtbench.trackers import TRACKER_FAILED_EXIT, check_available

    cfg = load_config(config_path, method)
    check_available(list(log_to))  # before any work
    try:
        import accelerate  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MtbenchError(f"training needs the 'train' extra ({exc.name} is missing): pip install 'mtbench[train]'") from None
    from mtbench.train.trainer import train

    if os.environ.get("RANK", "0") != "0":  # `accelerate launch`: the main process logs, once
        log_to = ()
    echo = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if not log_to:
        result = train(cfg, echo=echo, retrain=retrain)
        ok = True
    else:
        from pathlib import Path

        from mtbench.trackers import StepLogger

        logger = StepLogger(list(log_to), echo)
        # started once training starts: a training found finished logs no empty run
        start = lambda: logger.start(Path(cfg.out).name, {"method": method, **cfg.to_dict()},  # noqa: E731
                                     {"mtbench.command": "train", "mtbench.out": str(Path(cfg.out).resolve())})
        try:
            result = train(cfg, echo=echo, on_step=logger.step, retrain=retrain, on_start=start)
        except BaseException:
            logger.finish(None, failed=True)
            raise
        if not result.reused:
            logger.finish(result.out)
        ok = logger.ok or result.reused  # nothing trained: nothing a tracker could have missed
    if result.reused:
        print(f"already trained: {cfg.method}, {result.steps} steps (final loss {result.final_loss:.4f}) -> {result.out}")
    else:
        print(f"trained {cfg.method} for {result.steps} steps (final loss {result.final_loss:.4f}) -> {result.out}")
    return 0 if ok else TRACKER_FAILED_EXIT
