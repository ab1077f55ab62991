"""Reports: significance marks, LaTeX, figures, series curves, reproducibility, and the
HTML page rendered by a real headless Chromium (screenshot, DOM and console)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mtbench.cli import main
from mtbench.textio import read_json
from tests.conftest import write_lines

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def run_dir(tiny_layout: Path, tmp_path: Path, capsys) -> Path:
    # a third system so that significance has something to decide
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "same.txt",
                ["The house is small.", "The dog barks loud.", "", "I drink coffee, 3-4 cups."])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_results_carry_significance(run_dir: Path) -> None:
    res = read_json(run_dir / "results.json")
    assert res["significance"]["signature"] == "bs:1000|seed:12345"
    models = res["tasks"]["wmt22:de-en"]["models"]
    bleu = {m: v["bleu"] for m, v in models.items()}
    base = max(bleu, key=lambda m: bleu[m]["score"])
    assert bleu[base]["verdict"] == "baseline" and bleu[base]["p_value"] is None
    # an identical system is never significantly different
    assert bleu["same"]["verdict"] in ("same", "baseline")
    assert all(v["ci_low"] <= v["ci_high"] for v in bleu.values())


def test_report_files_and_latex(run_dir: Path) -> None:
    report = run_dir / "report"
    for name in ("index.html", "leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.tex",
                 "bars-bleu.png", "bars-bleu.pdf", "heatmap-chrf.png", "significance-bleu.png", "segments-bleu.png"):
        assert (report / name).is_file(), name
    tex = (report / "leaderboard.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\textbf{" in tex
    assert tex.count("\\begin{tabular}") == 2
    md = (run_dir / "leaderboard.md").read_text()
    assert "**" in md and "bs:1000|seed:12345" in md


def test_report_regenerates_identically(run_dir: Path, tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["report", str(run_dir), "--out", str(out)]) == 0
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_compare_two_runs_and_curves(tiny_layout: Path, run_dir: Path, tmp_path: Path, capsys) -> None:
    second = tmp_path / "run2"
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "good.txt",
                ["The house is small.", "The dog barks loudly.", "", "I drink coffee, 3-4 cups."])
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(second)]) == 0
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(second), "--out", str(out), "--x", "step=100,200"]) == 0
    res = read_json(out / "results.json")
    names = set(res["tasks"]["wmt22:de-en"]["models"])
    assert {"good", "run2/good"} <= names
    assert (out / "curve-bleu.png").is_file()
    assert main(["compare", str(run_dir), "--out", str(out)]) != 0


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs Debian's chromium)")
def test_html_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    page = (run_dir / "report" / "index.html").as_uri()
    shot = tmp_path / "shot.png"
    common = CHROMIUM_FLAGS + ["--virtual-time-budget=5000", f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([CHROMIUM, *common, "--enable-logging=stderr", "--v=0", "--window-size=1280,1600",
                           f"--screenshot={shot}", page], capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    assert shot.is_file()
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and np.std(pixels) > 0.05  # not a blank page
    dom = subprocess.run([CHROMIUM, *common, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert 'data-images-ok="true"' in dom  # every embedded figure decoded
    assert 'data-tables="6"' in dom  # 3 systems x 2 metrics in the leaderboards
    assert "<table class=\"board\">" in dom
