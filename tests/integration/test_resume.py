"""Generation survives SIGKILL: a real `mtbench run` generating with a tiny random Llama
(built here, no downloads) is killed mid-run; started again it regenerates none of the
finished segments and ends with the same outputs as a run that was never interrupted.
Two runs sharing one cache at the same time leave it intact."""

from __future__ import annotations

import json
import os
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

N_SEGMENTS = 384


@pytest.fixture(scope="module")
def tiny_model(tiny_llama_dir: Path) -> Path:
    return tiny_llama_dir


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    """wmt22 de-en with many distinct short segments (words of the tiny corpus)."""
    root = tmp_path_factory.mktemp("data")
    words = " ".join(CORPUS).split()
    src = [" ".join(words[(i * 7 + k) % len(words)] for k in range(3 + i % 9)) + f" {i}" for i in range(N_SEGMENTS)]
    pair = root / "wmt22" / "de-en"
    pair.mkdir(parents=True)
    for name in ("src.txt", "ref.txt"):
        (pair / name).write_text("".join(s + "\n" for s in src), encoding="utf-8")
    return root


def _cmd(model: Path, data: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "mtbench", "run", "--tasks", "wmt22:de-en", "--model", f"hf:{model}",
            "--adapter", "base", "--max-new-tokens", "16", "--device", "cpu", "--metrics", "bleu",
            "--significance", "none", "--data-dir", str(data), "--out", str(out), "--cache", str(cache)]


def _cached(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache, timeout=30) as con:
            return con.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def _rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r.pop("time")  # wall-clock seconds differ between runs; everything else must not
    return rows


def test_sigkill_mid_generation_then_resume(tiny_model: Path, layout: Path, tmp_path: Path) -> None:
    gen = "generations/wmt22_de-en/{}+base.jsonl".format(tiny_model.name)
    # the uninterrupted reference run
    clean = tmp_path / "clean"
    subprocess.run(_cmd(tiny_model, layout, clean, tmp_path / "clean.sqlite"), check=True, capture_output=True)
    expected = _rows(clean / gen)
    assert [r["id"] for r in expected] == list(range(N_SEGMENTS))

    cache, out = tmp_path / "cache.sqlite", tmp_path / "run"
    proc = subprocess.Popen(_cmd(tiny_model, layout, out, cache), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while _cached(cache) == 0 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # the moment the first chunk is committed
    proc.wait()
    done = _cached(cache)
    assert 0 < done < N_SEGMENTS, f"kill landed outside generation ({done} of {N_SEGMENTS} cached)"
    assert not (out / gen).exists()  # nothing half-written in the run directory

    resumed = subprocess.run(_cmd(tiny_model, layout, out, cache), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    info = json.loads((out / "manifest.json").read_text())["models"][f"{tiny_model.name}+base"]["tasks"]["wmt22:de-en"]
    assert info["from_cache"] == done          # every finished segment reused ...
    assert info["generated"] == N_SEGMENTS - done  # ... and none of them generated again
    rows = _rows(out / gen)
    assert rows == expected
    assert len({r["id"] for r in rows}) == N_SEGMENTS  # no duplicates
    assert _cached(cache) == N_SEGMENTS


def test_two_runs_share_one_cache_at_once(tiny_model: Path, layout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "shared.sqlite"
    procs = [subprocess.Popen(_cmd(tiny_model, layout, tmp_path / f"run{i}", cache), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    gen = "generations/wmt22_de-en/{}+base.jsonl".format(tiny_model.name)
    assert _rows(tmp_path / "run0" / gen) == _rows(tmp_path / "run1" / gen)
    with sqlite3.connect(cache) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == N_SEGMENTS
