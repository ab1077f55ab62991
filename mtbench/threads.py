"""How many CPU threads mtbench's compute uses: one decision per run, made here.

torch's intra-op threads, BLAS, fastText's batches and the scoring pool all read
their size from this module, so they never add up to more threads than the machine
gives this process.

Why it counts busy cores: torch's OpenMP threads wait for each other at the end of
every operation. With two threads on two cores and another process keeping one core
busy, every operation waits for the thread that shares its core, and SmolLM2's decode
fell to a third of its idle speed here (20 vs 57 tokens/s), where one thread on the
free core keeps 80% of it (46 tokens/s). ``OMP_WAIT_POLICY=PASSIVE`` softens the wait
but costs a third of the idle speed, so it is not used.

The decision is made once, when a run starts (a core that becomes busy later is not
seen), from /proc/stat sampled between the CLI's start and the decision (a quarter
of a second at least, this process's own CPU time taken off), and it travels to
child processes (the scoring stage) in ``$MTBENCH_THREADS``; the process's own
environment is left as it was.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mtbench.errors import MtbenchError

ENV = "MTBENCH_THREADS"  # the decision, inherited by child processes
BUSY_FRACTION = 0.5  # a core counts as busy when other work kept it this busy while we sampled
SAMPLE_SECONDS = 0.25
_decided: int | None = None  # this process's decision (apply), read by choose() and current()


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    usable: int  # cores this process may run on (affinity and cgroup quota)
    busy: int  # of those, cores another process kept busy when the run started
    source: str  # "--threads", "$MTBENCH_THREADS", "$OMP_NUM_THREADS" or "free cores"
    before: tuple[int | None, int | None] = (None, None)  # (decision, torch threads) before apply, for restore

    def describe(self) -> str:
        why = {"free cores": f"{self.usable} usable core(s), {self.busy} busy with other processes"}.get(
            self.source, f"set by {self.source}; {self.usable} usable core(s)")
        return f"{self.threads} CPU thread(s) ({why}; --threads N to choose)"

    def to_dict(self) -> dict[str, object]:  # what the manifest records
        return {"threads": self.threads, "usable_cores": self.usable, "busy_cores": self.busy, "source": self.source}


def usable_cores() -> int:
    """Cores in this process's affinity mask, capped by a cgroup v2 CPU quota (a
    container given 1.5 CPUs on a 64-core host may use 2, not 64)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_quota(Path("/sys/fs/cgroup/cpu.max"))
    return max(1, min(cores, quota) if quota else cores)


def cgroup_quota(path: Path) -> int | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` file ("max 100000" or "150000 100000"),
    rounded up; None when there is no limit or no file."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def read_cpu_times(stat: str) -> dict[int, tuple[int, int]]:
    """cpu index -> (busy, total) jiffies from the text of /proc/stat."""
    times: dict[int, tuple[int, int]] = {}
    for line in stat.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        times[int(name[3:])] = (sum(values) - idle, sum(values))
    return times


def count_busy(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]], cpus: set[int],
               fraction: float = BUSY_FRACTION, own_jiffies: float = 0) -> int:
    """Cores of ``cpus`` that were busy for more than ``fraction`` of the interval with
    work other than this process's ``own_jiffies``, taken off the busiest cores first
    (a core this process kept busy is not another's). An estimate where this process
    shared cores with others: its time is not known per core."""
    own_jiffies = max(own_jiffies, 0)
    spans = {cpu: (after[cpu][0] - before[cpu][0], after[cpu][1] - before[cpu][1])
             for cpu in cpus if cpu in before and cpu in after}
    busy = 0
    for cpu in sorted(spans, key=lambda c: -spans[c][0]):
        d_busy, d_total = spans[cpu]
        mine = min(own_jiffies, d_busy)
        own_jiffies -= mine
        if d_total > 0 and (d_busy - mine) / d_total > fraction:
            busy += 1
    return busy


#: start_sampling's first sample: (monotonic time, /proc/stat, own CPU seconds, pid)
_started: tuple[float, dict[int, tuple[int, int]], float, int] | None = None
MAX_SAMPLE_AGE = 60.0  # seconds: an older first sample is not used


def start_sampling() -> None:
    """Take ``busy_cores``' first sample now (the CLI does, as it starts), so that the
    work done until the run decides (imports, loading its inputs) fills the sampling
    interval instead of a sleep; this process's own CPU time is taken off."""
    global _started
    if hasattr(os, "sched_getaffinity") and Path("/proc/stat").is_file():
        _started = _sample()


def _sample() -> tuple[float, dict[int, tuple[int, int]], float, int]:
    times = os.times()
    return time.monotonic(), read_cpu_times(Path("/proc/stat").read_text()), times.user + times.system, os.getpid()


def busy_cores(seconds: float = SAMPLE_SECONDS) -> int:
    """Cores of this process's affinity that other processes keep busy, sampled from
    /proc/stat over at least ``seconds`` (since ``start_sampling``, or sleeping now)
    (0 where there is no /proc/stat)."""
    global _started
    stat = Path("/proc/stat")
    if not hasattr(os, "sched_getaffinity") or not stat.is_file():
        return 0
    started, _started = _started, None
    # not a sample of a command that never decided, long ago, or of the process we were forked from
    usable = started is not None and time.monotonic() - started[0] <= MAX_SAMPLE_AGE and started[3] == os.getpid()
    t0, before, own0, _ = started if usable else _sample()  # type: ignore[misc]
    left = seconds - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)
    _, after, own1, _ = _sample()
    own_jiffies = (own1 - own0) * os.sysconf("SC_CLK_TCK")  # /proc/stat counts in clock ticks
    return count_busy(before, after, set(os.sched_getaffinity(0)), own_jiffies=own_jiffies)


def choose(requested: int = 0) -> ThreadChoice:
    """``requested`` (> 0) wins; then this process's or a parent's decision; then the user's
    $OMP_NUM_THREADS; else the usable cores that no other process keeps busy."""
    usable = usable_cores()
    if requested:
        return ThreadChoice(requested, usable, 0, "--threads")
    if _decided is not None:  # scoring in the process that generated: the run's decision
        return ThreadChoice(_decided, usable, 0, "this run")
    for env in (ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(env, "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise MtbenchError(f"${env}={value!r} is not a positive integer; unset it or give --threads N")
            return ThreadChoice(int(value), usable, 0, f"${env}")
    busy = min(busy_cores(), usable - 1)
    return ThreadChoice(usable - busy, usable, busy, "free cores")


def apply(choice: ThreadChoice) -> None:
    """This process's thread pools to ``choice.threads``: torch's now if it is loaded,
    else when a model loads (``configure_torch``); child processes get it through
    ``child_env``."""
    global _decided
    _decided = choice.threads
    configure_torch(only_if_loaded=True)


def decide(requested: int = 0) -> ThreadChoice:
    """Choose and apply; ``restore`` undoes it when the run ends (a Python session that
    runs twice decides twice: the load may have changed)."""
    torch_before = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    choice = dataclasses.replace(choose(requested), before=(_decided, torch_before))
    apply(choice)
    return choice


def restore(choice: ThreadChoice) -> None:
    global _decided
    _decided, torch_before = choice.before
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        target = torch_before if torch_before is not None else current()
        if torch.get_num_threads() != target:
            torch.set_num_threads(target)


def current() -> int:
    """The threads this process may use: its decision, else its parent's, else the
    usable cores."""
    if _decided is not None:
        return _decided
    value = os.environ.get(ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else usable_cores()


def child_env() -> dict[str, str]:
    """What a child process (the scoring stage) needs to follow this decision."""
    return {ENV: str(current())}


def configure_torch(only_if_loaded: bool = False) -> None:
    """torch's intra-op threads to the run's decision; called where a model loads, so
    runs that never need torch never import it. Without a decision (a model built
    from Python outside a run) torch is left as its user set it."""
    if _decided is None and not os.environ.get(ENV, "").isdigit():
        return
    if only_if_loaded and "torch" not in sys.modules:
        return
    import torch

    if torch.get_num_threads() != current():
        torch.set_num_threads(current())


def single_threaded_worker() -> None:
    """In a worker process of a pool that already has ``current()`` workers: one thread."""
    global _decided
    _decided = 1
    configure_torch(only_if_loaded=True)
