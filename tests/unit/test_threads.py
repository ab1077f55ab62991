"""The thread choice (mtbench.threads): usable cores, busy cores, who wins, and what a
run does with it (manifest, scoring pool size, the line said under load)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtbench import threads
from mtbench.cli import main
from mtbench.errors import MtbenchError
from mtbench.textio import read_json

# Two samples of /proc/stat, 100 jiffies apart on each cpu (user nice system idle iowait irq softirq steal).
STAT_BEFORE = """cpu  0 0 0 0 0 0 0 0
cpu0 1000 0 100 5000 10 0 0 0
cpu1 2000 0 100 9000 0 0 0 0
cpu2 300 0 0 800 0 0 0 0
intr 12345
"""
STAT_AFTER = """cpu  0 0 0 0 0 0 0 0
cpu0 1090 0 105 5005 10 0 0 0
cpu1 2010 0 100 9090 0 0 0 0
cpu2 351 0 0 849 0 0 0 0
intr 12399
"""


@pytest.fixture(autouse=True)
def no_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in (threads.ENV, "OMP_NUM_THREADS"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setattr(threads, "_decided", None)


def test_busy_cores_from_two_samples_of_proc_stat() -> None:
    before, after = threads.read_cpu_times(STAT_BEFORE), threads.read_cpu_times(STAT_AFTER)
    # cpu0: 95 of 95 jiffies busy; cpu1: 10 of 100; cpu2: 51 of 100 (just over half)
    assert before[0] == (1100, 6110) and after[1] == (2110, 11200)
    assert threads.count_busy(before, after, {0, 1, 2}) == 2
    assert threads.count_busy(before, after, {1, 2}) == 1  # cores outside the affinity do not count
    assert threads.count_busy(before, after, {0, 1, 2}, fraction=0.96) == 0


def test_this_processs_own_time_is_taken_off_the_busiest_cores() -> None:
    before, after = threads.read_cpu_times(STAT_BEFORE), threads.read_cpu_times(STAT_AFTER)
    # cpu0 95/95 busy, cpu2 51/100: our own 95 jiffies were cpu0's, cpu2 stays busy
    assert threads.count_busy(before, after, {0, 1, 2}, own_jiffies=95) == 1
    # 100 jiffies: all of cpu0's and 5 of cpu2's, which falls to 46/100
    assert threads.count_busy(before, after, {0, 1, 2}, own_jiffies=100) == 0
    assert threads.count_busy(before, after, {0, 1, 2}, own_jiffies=0) == 2


def test_a_sample_started_early_needs_no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    threads.start_sampling()
    deadline = time.monotonic() + threads.SAMPLE_SECONDS
    while time.monotonic() < deadline:  # this process's own work, which must not count
        pass
    threads.busy_cores()
    assert slept == []
    threads.busy_cores()  # the early sample is used once; then busy_cores sleeps its interval
    assert len(slept) == 1 and 0 < slept[0] <= threads.SAMPLE_SECONDS


def test_cgroup_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    assert threads.cgroup_quota(cpu_max) is None  # no file
    for text, cpus in (("max 100000\n", None), ("150000 100000\n", 2), ("50000 100000\n", 1), ("400000 100000", 4)):
        cpu_max.write_text(text)
        assert threads.cgroup_quota(cpu_max) == cpus, text


def test_who_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25: 1)
    assert (threads.choose().threads, threads.choose().source) == (3, "free cores")
    assert threads.choose(2) == threads.ThreadChoice(2, 4, 0, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.choose().source == "$OMP_NUM_THREADS"
    monkeypatch.setenv(threads.ENV, "1")  # a parent's decision wins over the user's OMP setting
    assert (threads.choose().threads, threads.choose().source) == (1, "$MTBENCH_THREADS")
    monkeypatch.setenv(threads.ENV, "two")
    with pytest.raises(MtbenchError, match=r"\$MTBENCH_THREADS='two' is not a positive integer"):
        threads.choose()


def test_every_core_busy_still_leaves_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25: 2)
    assert threads.choose().threads == 1


def test_usable_cores_follow_the_affinity_mask() -> None:
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); from mtbench import threads; print(threads.usable_cores())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"


def test_decide_and_restore_leave_torch_as_it_was() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    choice = threads.decide(1)
    assert torch.get_num_threads() == 1 and threads.current() == 1 and threads.child_env() == {threads.ENV: "1"}
    threads.restore(choice)
    assert torch.get_num_threads() == before and threads._decided is None


def test_without_a_decision_torch_keeps_its_user_setting() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        threads.configure_torch()  # what HFBackend calls when it loads: no run decided anything
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def spinning_process(core: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True: pass\n"])


needs_two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")


@needs_two_cores
def test_a_spinning_process_is_seen_as_a_busy_core() -> None:
    busy = spinning_process(min(os.sched_getaffinity(0)))
    try:
        time.sleep(0.3)
        assert threads.busy_cores(0.5) >= 1
    finally:
        busy.kill()
        busy.wait()


def test_our_own_work_in_the_sampling_interval_is_not_a_busy_core() -> None:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # our loop keeps exactly one core busy
    try:
        stat = Path("/proc/stat")
        before, own0 = threads.read_cpu_times(stat.read_text()), os.times()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            pass
        after, own1 = threads.read_cpu_times(stat.read_text()), os.times()
    finally:
        os.sched_setaffinity(0, cores)
    own = (own1.user + own1.system - own0.user - own0.system) * os.sysconf("SC_CLK_TCK")
    ours = min(cores)
    if own < 0.8 * (after[ours][1] - before[ours][1]):  # e.g. a VM's steal time, another process on our core
        pytest.skip("this process did not get its core to itself for the interval")
    counted = threads.count_busy(before, after, set(cores))
    assert counted >= 1  # our own loop, seen as a busy core
    assert threads.count_busy(before, after, set(cores), own_jiffies=own) == counted - 1


def test_threads_decide_the_scoring_pool(tiny_layout: Path, tmp_path: Path, capfd) -> None:
    """One thread: the scoring stage scores in its own process, one job after another
    ("scoring ..."); two: a pool of two workers ("scored ...", as jobs finish)."""
    base = ["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,chrf", "--data-dir", str(tiny_layout)]
    assert main([*base, "--threads", "1", "--out", str(tmp_path / "one")]) == 0
    err = capfd.readouterr().err  # the scoring stage is a child process: its stderr, not sys.stderr
    assert "scoring wmt22:de-en bleu" in err and "scored wmt22:de-en" not in err
    assert read_json(tmp_path / "one" / "manifest.json")["threads"] == {
        "threads": 1, "usable_cores": threads.usable_cores(), "busy_cores": 0, "source": "--threads"}
    assert main([*base, "--threads", "2", "--out", str(tmp_path / "two")]) == 0
    err = capfd.readouterr().err
    assert "scored wmt22:de-en bleu" in err and "scoring wmt22:de-en" not in err


@needs_two_cores
def test_a_run_beside_a_busy_process_says_so_and_uses_the_free_cores(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    usable = threads.usable_cores()
    busy = spinning_process(min(os.sched_getaffinity(0)))
    try:
        time.sleep(0.3)
        assert main(["run", "--tasks", "wmt22:de-en", "--metrics", "bleu", "--data-dir", str(tiny_layout),
                     "--out", str(tmp_path / "run")]) == 0
    finally:
        busy.kill()
        busy.wait()
    recorded = read_json(tmp_path / "run" / "manifest.json")["threads"]
    assert recorded["busy_cores"] >= 1 and recorded["threads"] == usable - recorded["busy_cores"]
    assert f"other processes keep {recorded['busy_cores']} of {usable} usable core(s) busy: using " \
           f"{recorded['threads']} CPU thread(s)" in capsys.readouterr().err


def test_bad_threads_value_is_one_line(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--threads", "-2",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "mtbench: error: command line: threads must be 0 (the free cores) or a positive integer, got -2"
    assert not (tmp_path / "run").exists()


def test_a_negative_own_time_counts_as_none() -> None:
    before, after = threads.read_cpu_times(STAT_BEFORE), threads.read_cpu_times(STAT_AFTER)
    assert threads.count_busy(before, after, {0, 1, 2}, own_jiffies=-50) == 2


def test_an_old_or_inherited_early_sample_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    threads.start_sampling()
    t0, stat, own, pid = threads._started
    monkeypatch.setattr(threads, "_started", (t0 - threads.MAX_SAMPLE_AGE - 1, stat, own, pid))
    threads.busy_cores()
    assert len(slept) == 1  # sampled afresh
    monkeypatch.setattr(threads, "_started", (time.monotonic() - 1, stat, own, pid + 1))  # a parent's, forked
    threads.busy_cores()
    assert len(slept) == 2
