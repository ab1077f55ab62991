"""The built wheel works anywhere: installed with only its core dependencies into a
fresh venv (no system site-packages, no torch) and run from a folder outside the
checkout, `mtbench ls`, `validate`, `run --model files` and `report` find everything
they read (suites, test-set definitions, the viewer's assets) inside the package.

The venv sits inside a git repository of its own, so the test also shows that an
installed mtbench does not record some other repository's revision as its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, synthetic_layout

pytestmark = pytest.mark.slow

VIEWER_MARK = "mtbench output viewer: renders the JSON"  # viewer.js's first line, inlined into index.html


def _sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _build(out: Path) -> Path:
    """sdist, then the wheel from the sdist (what `python -m build` does): a file the
    sdist forgets breaks the wheel too. Isolated first; offline index, else --no-isolation."""
    if _sh([sys.executable, "-c", "import build"], REPO).returncode != 0:
        pytest.skip("the `build` package is not installed (pip install build, in the test extra)")
    done = _sh([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], REPO)
    if done.returncode != 0:
        done = _sh([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    wheels = list(out.glob("mtbench-*.whl"))
    assert len(wheels) == 1 and list(out.glob("mtbench-*.tar.gz")), sorted(p.name for p in out.iterdir())
    return wheels[0]


def _venv(where: Path) -> Path:
    done = _sh([sys.executable, "-m", "venv", str(where)], where.parent)
    if done.returncode != 0:
        pytest.skip(f"cannot create a venv here: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return where / "bin"


def _clean_env(tmp: Path, bindir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MTBENCH_DATA", "PYTHONSTARTUP")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["MTBENCH_CACHE"] = str(tmp / "cache")
    env["MPLBACKEND"] = "Agg"
    return env


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    wheel = _build(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    for data in ("mtbench/suites/alma.yaml", "mtbench/suites/default.yaml", "mtbench/report/viewer.js",
                 "mtbench/report/viewer.css", "mtbench/models/vllm_worker.py"):
        assert data in names, data
    # pyproject lists packages by hand: a new subpackage left out of it is missing from the wheel
    packages = {str(d.relative_to(REPO)) for d in (REPO / "mtbench").rglob("__init__.py")}
    assert packages <= set(names), sorted(packages - set(names))

    other_repo = tmp_path / "someone-elses-repo"  # a venv inside a git repository that is not mtbench
    other_repo.mkdir()
    if shutil.which("git"):
        _sh(["git", "init", "-q"], other_repo)
        _sh(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"], other_repo)
    bindir = _venv(other_repo / "venv")
    env = _clean_env(tmp_path, bindir)
    done = _sh([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]

    work = tmp_path / "work"  # outside the checkout: nothing relative to the repository is found by accident
    work.mkdir()
    probe = _sh([str(bindir / "python"), "-c", "import importlib.util as u, mtbench, sys; "
                 "print(mtbench.__file__); print(u.find_spec('torch') is None); print(sys.flags.no_site)"], work, env)
    where, no_torch, _ = probe.stdout.split("\n", 2)
    assert Path(where).resolve().is_relative_to((other_repo / "venv").resolve()), where
    assert no_torch == "True", "torch must not come with the core install"

    synthetic_layout(work / "data", n=12)
    (work / "cfg.yaml").write_text("tasks: wmt22:de-en,wmt22:en-de\nmetrics: [bleu, chrf]\ndata_dir: data\n"
                                   "out: runs/wheel\n", encoding="utf-8")
    mtbench = str(bindir / "mtbench")

    ls = _sh([mtbench, "ls"], work, env)
    assert ls.returncode == 0, ls.stderr
    assert "alma" in ls.stdout and "wmt22" in ls.stdout and "bleu" in ls.stdout

    valid = _sh([mtbench, "validate", "cfg.yaml"], work, env)
    assert valid.returncode == 0, valid.stderr
    assert "valid" in valid.stdout and "wmt22:de-en" in valid.stdout

    run = _sh([mtbench, "run", "--config", "cfg.yaml", "--model", "files"], work, env)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((work / "runs/wheel/results.json").read_text(encoding="utf-8"))
    assert set(results["tasks"]) == {"wmt22:de-en", "wmt22:en-de"}
    assert {"best", "mid", "worst"} <= set(results["tasks"]["wmt22:de-en"]["scores"])
    manifest = json.loads((work / "runs/wheel/manifest.json").read_text(encoding="utf-8"))
    assert manifest["git_revision"] is None, "an installed mtbench recorded another repository's revision"

    report = _sh([mtbench, "report", "runs/wheel", "--out", "rep"], work, env)
    assert report.returncode == 0, report.stderr[-3000:]
    html = (work / "rep/index.html").read_text(encoding="utf-8")
    assert VIEWER_MARK in html and "mtbench-viewer-data" in html
    assert (work / "rep/leaderboard.md").is_file()
