"""A run survives being killed anywhere: SIGKILL at the checkpoints of every stage
(each generation chunk, each generation and score file, significance tests, report
files; labelled as in mtbench.stop, listed by a clean run with ``MTBENCH_FAULT_LOG``),
each kill followed by the same command killed at the next label, until it finishes. Then: results byte-identical to a run never interrupted
(paths and wall-clock times aside), no finished segment generated twice, no process of
a killed tree alive, no temporary file left. Also SIGTERM and Ctrl-C (graceful: the
chunk in flight is finished, exit 143 / 130), a full disk, a read-only run directory
and a generation cache another process holds locked for a while."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.integration.test_hf_backend import CORPUS  # noqa: E402
from tests.proctree import alive_in_group  # noqa: E402

N_SEGMENTS = 16  # per direction
CHUNK = "8"  # prompts per cache commit: two generation checkpoints per direction
GENERATED = re.compile(r"generating (\S+) with (\S+): (\d+) of (\d+) segment")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two directions, each with one system file beside the generating model."""
    root = tmp_path_factory.mktemp("data")
    words = " ".join(CORPUS).split()
    for p, pair in enumerate(("de-en", "en-de")):
        src = [" ".join(words[(i * 5 + k + p) % len(words)] for k in range(3 + i % 6)) + f" {i}"
               for i in range(N_SEGMENTS)]
        folder = root / "wmt22" / pair
        (folder / "systems").mkdir(parents=True)
        for name in ("src.txt", "ref.txt"):
            (folder / name).write_text("".join(s + "\n" for s in src), encoding="utf-8")
        (folder / "systems" / "sys-a.txt").write_text("".join(s.upper() + "\n" for s in src), encoding="utf-8")
    return root


def command(model: Path, data: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "mtbench", "run", "--tasks", "wmt22:de-en,wmt22:en-de", "--model", f"hf:{model}",
            "--model", "files", "--adapter", "base", "--max-new-tokens", "8", "--device", "cpu", "--metrics",
            "bleu,chrf", "--n-resamples", "200", "--workers", "1", "--data-dir", str(data), "--out", str(out),
            "--cache", str(cache)]


def start(cmd: list[str], **env: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MTBENCH_CHUNK": CHUNK, **env}, start_new_session=True)


def wait_group_gone(pgid: int, seconds: float = 15) -> list[int]:
    deadline = time.time() + seconds
    while alive_in_group(pgid) and time.time() < deadline:
        time.sleep(0.05)
    return alive_in_group(pgid)


def snapshot(run: Path) -> dict[str, bytes]:
    """Everything a reader reads, with the run's own path and wall-clock times taken out."""
    out = {}
    for p in sorted(run.rglob("*")):
        rel = p.relative_to(run)
        if not p.is_file() or rel.name in ("manifest.json", "run.yaml") or rel.name.startswith(".mtbench"):
            continue
        data = p.read_bytes().replace(str(run).encode(), b"RUN")
        if rel.parts[0] == "generations" and p.suffix == ".jsonl":
            rows = [json.loads(line) for line in data.decode().splitlines()]
            for r in rows:
                r.pop("time", None)
            data = json.dumps(rows).encode()
        if rel.name.endswith(".meta.json"):
            meta = json.loads(data)
            for key in ("seconds", "path", "generated", "from_cache", "new_tokens"):  # work done, not results
                meta.pop(key, None)
            data = json.dumps(meta).encode()
        out[str(rel)] = data
    return out


def generated_counts(stderr: str) -> int:
    """Segments the runs said they would generate (the rest came from the cache)."""
    return sum(int(m.group(3)) for m in GENERATED.finditer(stderr))


def kill_points(labels: list[str]) -> list[str]:
    """Every generation and scoring checkpoint, the first and last significance test and
    three report files: over 20 points that cover each boundary, within CI's time."""
    by_stage: dict[str, list[str]] = {}
    for label in labels:
        by_stage.setdefault(label.split(":", 1)[0], []).append(label)
    report = by_stage.get("report", [])
    sig = by_stage.get("significance", [])
    chosen = set(by_stage.get("generate", []) + by_stage.get("score", []) + sig[:1] + sig[-1:]
                 + report[:1] + report[len(report) // 2: len(report) // 2 + 1] + report[-1:])
    return [label for label in labels if label in chosen]  # in the order a run reaches them


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
def test_sigkill_at_every_checkpoint_then_resume(tiny_llama_dir: Path, layout: Path, tmp_path: Path) -> None:
    started = time.time()
    clean, log = tmp_path / "clean" / "run", tmp_path / "labels.txt"  # the same folder name as the chain's
    proc = start(command(tiny_llama_dir, layout, clean, tmp_path / "clean.sqlite"), MTBENCH_FAULT_LOG=str(log))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    expected = snapshot(clean)
    labels = log.read_text(encoding="utf-8").splitlines()
    assert len(labels) == len(set(labels)), "checkpoint labels must be unique within a run"

    out, cache = tmp_path / "chain" / "run", tmp_path / "cache.sqlite"
    points = kill_points(labels)
    finished: dict[str, int] = {}  # direction -> segments committed to the cache so far

    def check_generation(err: str, passed: list[str]) -> None:
        """Each run generates exactly what the runs before it did not finish."""
        for m in GENERATED.finditer(err):
            task, todo, total = m.group(1), int(m.group(3)), int(m.group(4))
            assert todo == total - finished.get(task, 0), (passed[-1:], m.group(0), finished)
        for label in passed:  # what this run finished, up to where it was killed
            if label.startswith("generate:chunk:"):
                parts = label.split(":")
                finished[f"{parts[2]}:{parts[3]}"] = int(parts[-1])

    for label in points:
        # the run before died at the label before this one: this label is still ahead
        proc = start(command(tiny_llama_dir, layout, out, cache), MTBENCH_FAULT=label)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err, err
        assert proc.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), f"not killed at {label}: {err[-2000:]}"
        assert wait_group_gone(proc.pid) == [], f"killed at {label}: processes of its tree still alive"
        check_generation(err, labels[: labels.index(label) + 1])
    proc = start(command(tiny_llama_dir, layout, out, cache))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    check_generation(err, labels)
    print(f"{len(points)} kill points of {len(labels)} checkpoints ({time.time() - started:.0f} s): {', '.join(points)}")
    assert len(points) >= 20
    assert {label.split(":")[0] for label in points} == {"generate", "score", "significance", "report"}
    assert finished == {"wmt22:de-en": N_SEGMENTS, "wmt22:en-de": N_SEGMENTS}
    assert snapshot(out) == expected
    assert not list(out.rglob("*.tmp"))


def _cached(cache: Path) -> int:
    try:
        with sqlite3.connect(cache, timeout=30) as con:
            return con.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_finish_the_chunk_in_flight(tiny_llama_dir: Path, layout: Path, tmp_path: Path,
                                                        sig: int, code: int) -> None:
    out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
    proc = start(command(tiny_llama_dir, layout, out, cache), MTBENCH_CHUNK="1")
    deadline = time.time() + 120
    while _cached(cache) == 0 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else os.kill(proc.pid, sig)  # Ctrl-C reaches the whole group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert f"stopped by {signal.Signals(sig).name} after the work in flight" in err and "Traceback" not in err
    done = _cached(cache)
    assert 0 < done < 2 * N_SEGMENTS
    assert wait_group_gone(proc.pid) == []
    resumed = start(command(tiny_llama_dir, layout, out, cache))
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert generated_counts(err) == 2 * N_SEGMENTS - done  # the finished ones came from the cache


@pytest.mark.slow
def test_sigterm_during_scoring_stops_after_the_job_in_flight(tiny_llama_dir: Path, layout: Path,
                                                               tmp_path: Path) -> None:
    out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
    first = start(command(tiny_llama_dir, layout, out, cache), MTBENCH_FAULT="generate:manifest")  # generations done
    first.communicate(timeout=300)
    proc = start(command(tiny_llama_dir, layout, out, cache))
    deadline = time.time() + 120
    while not list((out / "scores").rglob("*.json")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("scoring finished before SIGTERM arrived (machine too fast for this timing)")
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    again = start(command(tiny_llama_dir, layout, out, cache))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert (out / "results.json").is_file()


def _mount(kind: str, where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", kind, "-o", options, kind, str(where)], capture_output=True).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="a small tmpfs needs root (mount); as another user this is not tested")
def test_full_disk_and_read_only_run_directory(tiny_layout: Path, tmp_path: Path) -> None:
    small = tmp_path / "small"
    if not _mount("tmpfs", small, "size=96k"):
        pytest.skip("mount -t tmpfs is not allowed here (no CAP_SYS_ADMIN in this container)")
    try:
        from tests.conftest import synthetic_layout

        data = synthetic_layout(tmp_path / "data400", pairs=("de-en",), n=400)
        proc = subprocess.run([sys.executable, "-m", "mtbench", "run", "--tasks", "wmt22:de-en", "--data-dir",
                               str(data), "--out", str(small / "run")], capture_output=True, text=True)
        assert proc.returncode == 2
        lines = [line for line in proc.stderr.splitlines() if line.startswith("mtbench: error:")]
        assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr
        assert not list(small.rglob("*.tmp"))  # nothing half-written left behind

        subprocess.run(["umount", str(small)], check=True)
        assert _mount("tmpfs", small, "size=8m")
        ok = subprocess.run([sys.executable, "-m", "mtbench", "run", "--tasks", "wmt22:de-en", "--data-dir",
                             str(tiny_layout), "--out", str(small / "run")], capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        before = {p: p.read_bytes() for p in (small / "run").rglob("*") if p.is_file()}
        subprocess.run(["mount", "-o", "remount,ro", str(small)], check=True)
        for argv in (["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(small / "run")],
                     ["score", "--run", str(small / "run"), "--metrics", "bleu,ter"]):
            proc = subprocess.run([sys.executable, "-m", "mtbench", *argv], capture_output=True, text=True)
            assert proc.returncode == 2, proc.stderr
            line = proc.stderr.strip().splitlines()[-1]
            assert line.startswith("mtbench: error:") and "Read-only file system" in line, proc.stderr
            assert "Traceback" not in proc.stderr
        assert {p: p.read_bytes() for p in (small / "run").rglob("*") if p.is_file()} == before
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


@pytest.mark.slow
def test_a_cache_locked_by_another_process_is_waited_for(tiny_llama_dir: Path, layout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    from mtbench.generate import GenerationCache

    GenerationCache(cache)  # create it
    holder = sqlite3.connect(cache, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write
    proc = start(command(tiny_llama_dir, layout, tmp_path / "run", cache))
    time.sleep(4)
    assert proc.poll() is None  # waiting, not failing
    holder.execute("COMMIT")
    holder.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _cached(cache) == 2 * N_SEGMENTS
