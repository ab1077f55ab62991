"""Drawing a report's figures on every thread the run may use.

matplotlib draws one figure at a time per process and spends ~0.5 s per saved file,
so a report with a dozen figures draws them in forked worker processes, one per
thread of ``mtbench.threads`` (the figures are independent: each plot function gets
its data and writes its own files). The paths come back in the order asked.

Stop points stay in this process: a worker neither reacts to SIGTERM/Ctrl-C nor
runs the fault-injection hooks; the report's checkpoint for each figure is passed
here, when its files are written.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from mtbench import threads
from mtbench.proc import pool_worker
from mtbench.stop import FAULT_ENV, FAULT_LOG_ENV, checkpoint

FigureJob = tuple[Callable[..., list[Path]], tuple[Any, ...]]


def _worker(parent: int) -> None:
    pool_worker(parent)
    for env in (FAULT_ENV, FAULT_LOG_ENV):  # fault hooks fire in the parent, per figure written
        os.environ.pop(env, None)


def draw_all(jobs: list[FigureJob]) -> list[Path]:
    """Run every ``plot(*args)``; their written paths, in job order."""
    n = min(threads.current(), len(jobs))
    if n <= 1 or "fork" not in mp.get_all_start_methods():
        return [p for plot, args in jobs for p in plot(*args)]
    paths: list[Path] = []
    with ProcessPoolExecutor(n, mp_context=mp.get_context("fork"), initializer=_worker,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(plot, *args) for plot, args in jobs]
        for fut in futures:
            written = fut.result()
            paths += written
            if written:
                checkpoint("report", written[0].stem)
    return paths
