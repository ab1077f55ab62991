"""One writer per run directory.

An advisory lock (``filelock``, an ``fcntl`` lock on ``RUN/.mtbench.lock``) is taken by
every process that writes a run directory: ``mtbench run``, ``mtbench score --run`` and
the Python API. Beside it, ``RUN/.mtbench-writer.json`` names the holder (pid, host,
command, start time), so a second writer fails at once with one line that says who,
or waits with ``--wait``. The kernel drops the lock when its holder dies, however it
dies; a writer file left by a dead holder is taken over and said so. The scoring stage
that ``mtbench run`` starts works under its parent's lock (``LOCK_ENV``).

Readers (``mtbench report``, ``compare``) take no lock: every file is written
atomically, so they see the old or the new version, never half of one.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

from filelock import FileLock, Timeout

from mtbench.errors import MtbenchError
from mtbench.proc import pid_alive

LOCK_NAME = ".mtbench.lock"
WRITER_NAME = ".mtbench-writer.json"
LOCK_ENV = "MTBENCH_RUN_LOCK_HELD"  # run directory whose lock the parent process holds for us
_HELD: set[str] = set()  # run directories this process holds (the scoring stage run in-process)


def _command() -> str:
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join(["mtbench" if prog in ("__main__.py", "mtbench") else prog, *sys.argv[1:]])


def describe(holder: dict[str, Any]) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return f"pid {holder.get('pid')} on {holder.get('host')} since {started} (`{holder.get('command')}`)"


class RunLock:
    """``with RunLock(path): ...`` -- the one writer of a run directory."""

    def __init__(self, path: str | Path, wait: bool = False, log: Callable[[str], None] = print) -> None:
        self.path = Path(path)
        self.wait = wait
        self.log = log
        self._lock: FileLock | None = None
        key = str(self.path.resolve())
        self.inherited = os.environ.get(LOCK_ENV) == key or key in _HELD

    def _holder(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / WRITER_NAME).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    def __enter__(self) -> "RunLock":
        if self.inherited:
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path / LOCK_NAME), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            holder = self._holder()
            who = describe(holder) if holder else "another mtbench process"
            if not self.wait:
                raise MtbenchError(f"run directory {self.path} is being written by {who}; wait for it to finish, "
                                   f"add --wait, or choose another --out") from None
            self.log(f"mtbench: waiting for {who} to finish writing {self.path}")
            lock.acquire(timeout=-1)
        except OSError as exc:
            raise MtbenchError(f"cannot lock run directory {self.path} ({exc.strerror or exc}); "
                               f"choose another --out") from None
        self._lock = lock
        self._remove_stale_temp_files()
        stale = self._holder()
        if stale and stale.get("pid") != os.getpid():
            gone = "no longer running" if stale.get("host") != socket.gethostname() or not pid_alive(int(stale["pid"])) \
                else "gone from the lock"
            self.log(f"mtbench: note: took over the lock of {self.path} from {describe(stale)}, {gone}")
        from mtbench.textio import atomic_write_json

        atomic_write_json(self.path / WRITER_NAME, {"pid": os.getpid(), "host": socket.gethostname(),
                                                    "command": _command(), "started": time.time()})
        _HELD.add(str(self.path.resolve()))
        return self

    def _remove_stale_temp_files(self) -> None:
        """Temporary files of atomic writes whose writer was killed before its rename:
        nobody else writes here while we hold the lock (report/ aside, which a reader's
        `mtbench report` may be writing)."""
        for tmp in self.path.rglob(".*.tmp"):
            if tmp.is_file() and "report" not in tmp.relative_to(self.path).parts[:-1]:
                tmp.unlink(missing_ok=True)

    def __exit__(self, *exc: Any) -> None:
        if self._lock is None:
            return
        _HELD.discard(str(self.path.resolve()))
        try:
            (self.path / WRITER_NAME).unlink()
        except FileNotFoundError:
            pass
        self._lock.release()
        self._lock = None

    def child_env(self) -> dict[str, str]:
        """Environment entries that let a child process write under this lock."""
        return {LOCK_ENV: str(self.path.resolve())}
