"""The vLLM worker follows the mtbench process that started it, whatever thread
started it: it lives on when that thread ends (prctl's PDEATHSIG would have killed
it then), and it ends when mtbench is killed (taking the processes of its session,
vLLM's engines, with it: that part runs with vLLM, in test_vllm.py). Needs no vLLM:
the worker waits for its config line before it imports vLLM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mtbench.models.vllm_backend import WORKER
from mtbench.proc import PARENT_ENV, pid_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process semantics")


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_a_worker_started_from_a_thread_outlives_the_thread() -> None:
    procs: list[subprocess.Popen] = []

    def start() -> None:
        procs.append(subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env={**os.environ, PARENT_ENV: str(os.getpid())},
                                      start_new_session=True))

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    (proc,) = procs
    try:
        time.sleep(1.0)  # the thread that started it is gone
        assert proc.poll() is None, "the worker died with the thread that started it"
    finally:
        proc.kill()
        proc.wait()


def test_a_worker_ends_when_mtbench_is_killed(tmp_path: Path) -> None:
    # a stand-in for mtbench starts the worker in its own session, then is SIGKILLed
    pid_file = tmp_path / "worker.pid"
    script = f"""
import os, subprocess, sys, time
env = {{**os.environ, {PARENT_ENV!r}: str(os.getpid())}}
worker = subprocess.Popen([sys.executable, {str(WORKER)!r}], stdin=subprocess.PIPE, env=env, start_new_session=True)
open({str(pid_file)!r}, "w").write(str(worker.pid))
time.sleep(60)
"""
    mtbench = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = int(pid_file.read_text())
        time.sleep(0.5)
        assert pid_alive(worker)
    finally:
        mtbench.send_signal(signal.SIGKILL)
        mtbench.wait()
    assert _wait_gone(worker, 5.0), "the worker outlived mtbench"
