"""mtbench's process pools stop at once when asked to (a second Ctrl-C): their
workers ignore SIGINT, so ``close_pool(now=True)`` kills them instead of waiting
for the jobs in flight."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from mtbench.proc import close_pool, pid_alive, pool_worker

pytestmark = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="fork-based pools")


def test_a_pool_closed_now_does_not_wait_for_its_jobs() -> None:
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"), initializer=pool_worker, initargs=(os.getpid(),))
    job = pool.submit(time.sleep, 60)
    pid = pool.submit(os.getpid)  # queued behind the sleep
    deadline = time.monotonic() + 20
    while not pool._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    (worker,) = list(pool._processes)
    time.sleep(0.5)  # the sleep is in flight
    started = time.monotonic()
    close_pool(pool, now=True)
    assert time.monotonic() - started < 30  # not the 60 s job
    deadline = time.monotonic() + 10
    while pid_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(worker)
    assert pid.cancelled() or pid.exception() is not None
    assert job.done()


def test_a_pool_closed_after_its_jobs_finishes_them() -> None:
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"), initializer=pool_worker, initargs=(os.getpid(),))
    job = pool.submit(sum, [1, 2, 3])
    close_pool(pool)
    assert job.result() == 6


def test_a_second_stop_signal_is_a_hurry() -> None:
    import signal

    from mtbench import stop

    with stop.handling():
        assert not stop.hurried()
        os.kill(os.getpid(), signal.SIGTERM)  # the first: finish what is in flight
        time.sleep(0.1)
        assert not stop.hurried()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # the second: now
            time.sleep(1)
        assert stop.hurried()
    with stop.handling():
        assert not stop.hurried()  # a new run starts unhurried
