"""The report reads the trainers' logs directly: `mtbench report RUN --train-log DIR`
draws loss-by-step curves (and the loss parts of LAT/TIM); a bad log is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtbench.cli import main
from mtbench.report.training import read_train_log


def _write_log(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_report_with_training_curves(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(run)]) == 0
    # rows as mtbench.train writes them (step, loss, lr and the method's parts)
    mle = _write_log(tmp_path / "mle-ckpt", [{"step": s, "loss": 3.0 / s, "lr": 1e-4, "nll": 3.0 / s} for s in (1, 2, 3)])
    lat = _write_log(tmp_path / "lat-ckpt", [{"step": s, "loss": 2.0 / s + 0.05, "lr": 2e-6, "nll": 2.0 / s, "ul": 1.0}
                                            for s in (1, 2, 3)])
    out = tmp_path / "report"
    assert main(["report", str(run), "--out", str(out), "--train-log", str(mle), "--train-log", str(lat / "train_log.jsonl")]) == 0
    assert (out / "training-loss.png").stat().st_size > 1000 and (out / "training-loss.pdf").is_file()
    assert (out / "training-parts-lat-ckpt.png").is_file()  # LAT logs nll and ul
    assert not (out / "training-parts-mle-ckpt.png").exists()  # plain MLE has no second part
    assert 'alt="training-loss"' in (out / "index.html").read_text(encoding="utf-8")  # embedded in the page


def test_bad_training_log_is_one_line(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(run)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train_log.jsonl").write_text('{"step": 1}\n', encoding="utf-8")
    assert main(["report", str(run), "--out", str(tmp_path / "r"), "--train-log", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "train_log.jsonl:1" in err
    assert not (tmp_path / "r").exists()  # checked before anything is written
    assert main(["report", str(run), "--out", str(tmp_path / "r"), "--train-log", str(tmp_path / "nothing")]) == 2
    assert "no train_log.jsonl" in capsys.readouterr().err


def test_read_train_log_names_series_by_folder(tmp_path: Path) -> None:
    folder = _write_log(tmp_path / "ckpt-a", [{"step": 1, "loss": 2.5, "lr": 0.1}])
    name, rows = read_train_log(folder)
    assert name == "ckpt-a" and rows[0]["loss"] == pytest.approx(2.5)


def test_checkpoints_named_like_numbers_get_a_figure_each(tmp_path: Path) -> None:
    """lat-a0, lat-a0.05, lat-a0.5: a name's ".05" is not a file suffix to replace (it
    once was, and the a0.5 figure overwrote the a0 and a0.05 ones)."""
    from mtbench.report.plots import figure_text
    from mtbench.report.training import training_curves

    logs = [_write_log(tmp_path / f"lat-a{a}", [{"step": s, "loss": 1.0, "nll": 0.9, "ul": float(a) + s} for s in (1, 2)])
            for a in ("0", "0.05", "0.5")]
    out = tmp_path / "report"
    training_curves([str(p) for p in logs], out)
    for a in ("0", "0.05", "0.5"):
        png = out / f"training-parts-lat-a{a}.png"
        assert png.is_file() and f"lat-a{a}: loss parts" in json.dumps(figure_text(png), ensure_ascii=False), a
