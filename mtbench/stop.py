"""Stopping gracefully, and stopping on purpose.

SIGTERM or Ctrl-C (SIGINT) ask mtbench to finish the unit of work in flight (a
generation chunk, a score job), leave the run directory valid and exit with 128 +
the signal's number (143, 130); the same command started again resumes. A second
signal to the process the user started stops it at once. A scoring stage started by
``mtbench run`` also receives the request (mtbench run passes it on) and never
escalates: its parent decides.

``checkpoint(stage, what)`` is where work can stop, and where tests inject faults.
Each checkpoint has a label that is the same in every run of the same command
(``generate:chunk:wmt22:de-en:MODEL:16`` = 16 segments of that direction finished):
``MTBENCH_FAULT_LOG=FILE`` appends every label reached to FILE, ``MTBENCH_FAULT=LABEL``
SIGKILLs the process when it reaches LABEL. A test lists the labels of a clean run,
then kills a run at each of them in turn, each time starting the same command again.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from mtbench.errors import MtbenchError

FAULT_ENV = "MTBENCH_FAULT"
FAULT_LOG_ENV = "MTBENCH_FAULT_LOG"

_requested: int | None = None
_escalate = True
_hurried = False  # a second signal came: what would wait for work in flight does not
_forward: list[int] = []  # child processes that get the request too (the scoring stage of a run)


class Stopped(MtbenchError):
    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name} after the work in flight; the run directory is valid: run the same "
                         f"command again to resume", exit_code=128 + signum)


def _handler(signum: int, frame: Any) -> None:
    global _requested
    if _requested is not None:
        if not _escalate:
            return  # a child: its parent decides
        global _hurried
        _hurried = True
        signal.signal(signum, signal.SIG_DFL)  # the second signal: stop now
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)
        return
    _requested = signum
    for pid in _forward:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


@contextmanager
def handling(escalate: bool = True) -> Iterator[None]:
    """While inside: SIGTERM and SIGINT ask ``checkpoint`` to stop the work (main
    thread only; the previous handlers come back afterwards)."""
    global _escalate, _requested, _hurried
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    _escalate, _requested, _hurried = escalate, None, False
    for sig in previous:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def hurried() -> bool:
    """A second stop signal came (the user wants out now): process pools are killed
    rather than waited for (wherever in the call stack its KeyboardInterrupt surfaced)."""
    return _hurried


@contextmanager
def forwarding_to(pid: int) -> Iterator[None]:
    """A stop request reaches this child process too."""
    _forward.append(pid)
    try:
        if _requested is not None:
            os.kill(pid, _requested)
        yield
    finally:
        _forward.remove(pid)


def checkpoint(stage: str, what: str = "") -> None:
    """A point where the work in flight is finished: stop here if asked to (or die
    here if a test said so)."""
    label = f"{stage}:{what}" if what else stage
    log = os.environ.get(FAULT_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(label + "\n")
    if os.environ.get(FAULT_ENV) == label:
        os.kill(os.getpid(), signal.SIGKILL)
    if _requested is not None:
        raise Stopped(_requested)
