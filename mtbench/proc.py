"""Child processes that die with their parent.

mtbench runs work in child processes (the scoring stage, the scoring and drawing
pools' workers). Killed with SIGKILL, a parent cannot clean up, so each child asks the
kernel to kill it when its parent goes (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``) and
exits at once if the parent is already gone (the race between fork and prctl). The
signal is kept across ``exec``, so a child may set it in its own ``main``. The kernel
sends it when the *thread* that started the child ends, so these children are started
from the main thread; a vLLM worker, started from a thread, watches its parent's pid
instead (``vllm_worker.follow_parent``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

PARENT_ENV = "MTBENCH_PARENT_PID"  # set by a parent for the mtbench processes it starts
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> bool:
    """Have the kernel SIGKILL this process when its parent dies; True if it could
    (Linux), False elsewhere. ``parent_pid``: the expected parent, to close the race."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect: nobody waits for us
    return True


def pid_alive(pid: int) -> bool:
    """A process of that pid exists (on this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's
    return True


def die_with_parent_from_env() -> None:
    """In a process started by mtbench with ``child_env()``: follow the parent. A
    variable inherited from further up (the named process is alive but is not our
    parent) is ignored; a parent that is already gone means exit."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not parent.isdigit():
        return
    pid = int(parent)
    if os.getppid() == pid:
        die_with_parent(pid)
    elif not pid_alive(pid):
        os._exit(1)  # started by a parent that has died since: its run is over


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an mtbench child process: this process as its parent."""
    return {**os.environ, PARENT_ENV: str(os.getpid()), **(extra or {})}


def pool_worker(parent: int) -> None:
    """Initializer of a worker process in one of mtbench's pools (scoring, figures): it
    dies with the pool's owner (even on SIGKILL), uses one thread (the pool already has
    one worker per thread) and leaves stop requests (SIGTERM, Ctrl-C) to the owner,
    which finishes the jobs in flight."""
    from mtbench.threads import single_threaded_worker

    die_with_parent(parent)
    single_threaded_worker()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)


def close_pool(pool: Any, now: bool = False) -> None:
    """Shut a ``ProcessPoolExecutor`` of ``pool_worker`` processes down: after the jobs
    in flight (a stop request), or ``now`` (a second Ctrl-C: they ignore SIGINT, so they
    are killed, and their jobs are lost)."""
    if now:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=not now, cancel_futures=True)
