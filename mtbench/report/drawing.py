"""Drawing a report's figures on every thread the run may use, while the report goes on.

matplotlib draws one figure at a time per process and spends ~0.5 s per saved file,
so a report with a dozen figures draws them in forked worker processes, one per
thread of ``mtbench.threads`` (the figures are independent: each plot function gets
its data and writes its own files). A ``Drawing`` starts them and returns at once:
the report builds what does not show a figure (the worst segments, the output
viewer's compressed payload) while the workers draw, then ``Drawing.paths`` waits
for them. The paths come back in the order asked.

Stop points stay in this process: a worker neither reacts to SIGTERM/Ctrl-C nor
runs the fault-injection hooks; the report's checkpoint for each figure is passed
here, when its files are written.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from mtbench import threads
from mtbench.proc import close_pool, pool_worker
from mtbench.stop import FAULT_ENV, FAULT_LOG_ENV, checkpoint, hurried

FigureJob = tuple[Callable[..., list[Path]], tuple[Any, ...]]


def _worker(parent: int) -> None:
    pool_worker(parent)
    for env in (FAULT_ENV, FAULT_LOG_ENV):  # fault hooks fire in the parent, per figure written
        os.environ.pop(env, None)


class Drawing:
    """Figures being drawn (in this process, before the constructor returns, when one
    thread is all the run may use); ``paths`` waits for them. Use as a context manager,
    so that the workers end with the report even when it fails before waiting."""

    def __init__(self, jobs: list[FigureJob]) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future] = []
        self._drawn: list[list[Path]] | None = None
        n = min(threads.current(), len(jobs))
        if n <= 1 or "fork" not in mp.get_all_start_methods():
            self._drawn = [plot(*args) for plot, args in jobs]  # each saved figure passed its checkpoint here
            return
        self._pool = ProcessPoolExecutor(n, mp_context=mp.get_context("fork"), initializer=_worker,
                                         initargs=(os.getpid(),))
        try:
            self._futures = [self._pool.submit(plot, *args) for plot, args in jobs]
        except BaseException:
            self.close(now=True)
            raise

    @staticmethod
    def _written(paths: list[Path]) -> list[Path]:
        """A worker's figure, written: its checkpoint, which the worker does not pass."""
        if paths:
            checkpoint("report", paths[0].stem)
        return paths

    def paths(self) -> list[Path]:
        """Every job's written paths, in job order, once all are drawn."""
        if self._drawn is None:
            self._drawn = [self._written(fut.result()) for fut in self._futures]
            self.close()
        return [p for written in self._drawn for p in written]

    def close(self, now: bool = False) -> None:
        """After the figures in flight; ``now``: at once (a second Ctrl-C)."""
        if self._pool is not None:
            close_pool(self._pool, now)
            self._pool = None

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(now=hurried())  # a second Ctrl-C: not after the figures in flight
