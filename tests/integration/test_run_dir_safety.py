"""A run directory has one writer (a lock naming its holder; stale locks taken over),
its child processes die with it (SIGKILL during scoring leaves no process of the tree),
and --out never writes into a user's own folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtbench.runlock import WRITER_NAME, RunLock
from tests.conftest import synthetic_layout, write_lines
from tests.proctree import alive_in_group, children


def mtbench(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True, timeout=300, **kw)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_second_writer_fails_naming_the_holder_and_waits_with_wait(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]
    assert mtbench(*args).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with RunLock(out, log=lambda _: None):  # this test process is the writer now
        for argv in (args, ["score", "--run", str(out)]):
            proc = mtbench(*argv)
            assert proc.returncode == 2
            line = one_line(proc.stderr)
            assert f"is being written by pid {os.getpid()}" in line and "--wait" in line, line
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != WRITER_NAME} == before
        waiting = subprocess.Popen([sys.executable, "-m", "mtbench", *args, "--wait"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for us
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert f"waiting for pid {os.getpid()}" in err
    assert not (out / WRITER_NAME).exists()  # released at the end


def test_stale_lock_of_a_dead_process_is_taken_over(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]
    assert mtbench(*args).returncode == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # what a writer killed with SIGKILL leaves: its writer file (the kernel dropped the lock itself)
    import socket

    (out / WRITER_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                               "command": "mtbench run --killed", "started": time.time()}))
    proc = mtbench(*args)
    assert proc.returncode == 0, proc.stderr
    assert f"took over the lock of {out} from pid {dead.pid}" in proc.stderr and "no longer running" in proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) and /proc are Linux's")
def test_sigkill_during_scoring_leaves_no_process_of_the_tree(tmp_path: Path) -> None:
    systems = tuple((f"s{i}", 0.1 + 0.05 * i) for i in range(8))
    data = synthetic_layout(tmp_path / "data", pairs=("de-en", "en-de", "ru-en", "en-ru"), n=3000, systems=systems)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "mtbench", "run", "--tasks",
                             "wmt22:de-en,wmt22:en-de,wmt22:ru-en,wmt22:en-ru", "--metrics", "bleu,chrf,chrf++,ter",
                             "--workers", "2", "--data-dir", str(data), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    workers: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        # a run of system files scores in its own process: the pool's workers are its forks
        try:
            run_cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            workers = [c for c in children(proc.pid) if Path(f"/proc/{c}/cmdline").read_bytes() == run_cmdline]
        except OSError:  # a child that ended between the listing and the read
            workers = []
        if len(workers) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None and len(workers) >= 2, "the run ended before its scoring pool was seen"
    tree = sorted(alive_in_group(proc.pid))
    assert len(tree) >= 3  # run, two pool workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while alive_in_group(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert alive_in_group(proc.pid) == [], f"still alive after SIGKILL of the run: {alive_in_group(proc.pid)} (tree was {tree})"


def test_out_that_is_a_users_folder_is_refused_unless_forced(tiny_layout: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-thesis"
    write_lines(mine / "chapter1.tex", ["\\section{Intro}"])
    args = ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(mine)]
    proc = mtbench(*args)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "is not an mtbench run directory and not empty (chapter1.tex)" in line and "--force" in line
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.tex"]  # nothing written
    assert mtbench(*args, "--force").returncode == 0
    assert (mine / "chapter1.tex").read_text() == "\\section{Intro}\n" and (mine / "results.json").is_file()
    assert mtbench(*args).returncode == 0  # now it is a run directory: it resumes


def test_config_folder_binary_and_nul_files_are_one_line_errors(tiny_layout: Path, tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    proc = mtbench("run", "--config", str(tmp_path / "cfg"))
    assert proc.returncode == 2 and "is a folder, not a YAML file" in one_line(proc.stderr)
    png = tmp_path / "plot.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"\x00" * 200 + b"\n")
    for path in (png, nul):
        proc = mtbench("score", "--task", "wmt22:de-en", "--hyp", str(path), "--data-dir", str(tiny_layout))
        assert proc.returncode == 2
        line = one_line(proc.stderr)
        assert "looks binary, not text" in line and str(path) in line, line
    # a stray NUL inside real text is text (LLM output can carry one): scored, not refused
    stray = write_lines(tmp_path / "stray.txt", ["The house is small.\x00", "The dog.", "", "Coffee."])
    assert mtbench("score", "--task", "wmt22:de-en", "--hyp", str(stray), "--data-dir", str(tiny_layout)).returncode == 0
