"""`mtbench report RUN --x lat.alpha`: each model's x is the setting its `mtbench train`
checkpoint records, each point is the score the leaderboard shows (recomputed here with
sacrebleu from the run's outputs), a curve links only models trained alike in every other
setting, and a model without the setting or trained otherwise is said in one line."""

from __future__ import annotations

import html as html_lib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.conftest import synthetic_layout  # noqa: E402

ALPHAS = (0.1, 0.7)
ARMS = [(0.1, 1e-3), (0.7, 1e-3), (0.1, 5e-4)]  # (alpha, lr): an alpha ablation at lr 1e-3, an lr one at alpha 0.1


def mtbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def ablation(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> dict[str, Any]:
    """Three LAT models (alpha 0.1 and 0.7 at lr 1e-3, alpha 0.1 at lr 5e-4; 2 steps each)
    and the untrained base, scored together on 12 segments of one direction."""
    from mtbench.train.config import parse_config
    from mtbench.train.trainer import train

    root = tmp_path_factory.mktemp("ablation")
    data = synthetic_layout(root / "data", pairs=("de-en",), n=12, systems=(), seed=3)
    pair = data / "wmt22" / "de-en"
    src, tgt = (pair / "src.txt"), (pair / "refs" / "ref.A.txt")
    models = []
    for alpha, lr in ARMS:
        out = root / (f"lat-a{alpha}" if lr == 1e-3 else f"lat-a{alpha}-lr{lr:g}")
        cfg = parse_config({"base_model": str(tiny_llama_dir), "out": str(out), "steps": 2, "lr": lr, "batch_size": 4,
                            "max_length": 512, "seed": 0, "adapter": "alma",
                            "data": {"src": str(src), "tgt": str(tgt), "src_lang": "de", "tgt_lang": "en"},
                            "lat": {"alpha": alpha, "conflict_langs": ["cs"]}}, "lat")
        train(cfg)
        models.append(out)
    run = root / "run"
    proc = mtbench("run", "--tasks", "wmt22:de-en", "--data-dir", str(data), "--model", f"hf:{tiny_llama_dir}",
                   *(a for m in models for a in ("--model", f"hf:{m}")), "--adapter", "alma", "--max-new-tokens", "8",
                   "--num-beams", "1", "--device", "cpu", "--metrics", "bleu,chrf", "--significance", "none",
                   "--out", str(run), "--cache", str(root / "cache.sqlite"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"run": run, "models": models, "base": tiny_llama_dir, "refs": tgt}


def test_points_are_the_checkpoints_settings_and_the_runs_scores(ablation: dict[str, Any], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sacrebleu.metrics import CHRF

    from mtbench.report import plots
    from mtbench.report.setting_curves import setting_curves, setting_values
    from mtbench.results import Results

    results = Results.load(ablation["run"])
    setting = setting_values(ablation["run"], results, "lat.alpha")
    assert setting.values == {f"lat-a{a}+alma": a for a in ALPHAS}
    assert setting.missing == [f"{ablation['base'].name}+alma (not a `mtbench train` checkpoint)",
                               "lat-a0.1-lr0.0005+alma (trained unlike the curve's models in lr)"]
    drawn: dict[str, Any] = {}
    def capture(series: dict, colours: Any, out_base: Path, *args: Any, **kw: Any) -> list[Path]:  # the drawn points
        drawn[out_base.name] = dict(series)
        return []

    monkeypatch.setattr(plots, "curves", capture)
    assert setting_curves(results, setting, tmp_path) == ([], [])
    refs = ablation["refs"].read_text(encoding="utf-8").splitlines()
    expected = []
    for alpha in ALPHAS:
        outputs = [json.loads(line)["output"] for line in
                   (ablation["run"] / "generations" / "wmt22_de-en" / f"lat-a{alpha}+alma.jsonl").read_text().splitlines()]
        expected.append((alpha, CHRF().corpus_score(outputs, [refs]).score))
    assert sorted(drawn) == ["curve-bleu", "curve-chrf"] and list(drawn["curve-chrf"]) == ["wmt22:de-en"]
    assert all(y > 0 for _, y in expected)  # the tiny models' outputs share characters with the references
    got = sorted(drawn["curve-chrf"]["wmt22:de-en"])
    assert [x for x, _ in got] == [x for x, _ in expected]
    for (_, y), (_, want) in zip(got, expected):
        assert y == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_report_draws_the_curve_and_names_who_is_left_out(ablation: dict[str, Any], tmp_path: Path) -> None:
    res = mtbench("report", str(ablation["run"]), "--out", str(tmp_path / "r"), "--x", "lat.alpha")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r" / "curve-bleu.png").is_file()
    assert 'alt="curve-bleu"' in (tmp_path / "r" / "index.html").read_text(encoding="utf-8")  # embedded
    line = [x for x in res.stderr.splitlines() if "--x lat.alpha: not on the curve" in x]
    assert line == [f"mtbench: --x lat.alpha: not on the curve: {ablation['base'].name}+alma (not a `mtbench train` "
                    f"checkpoint), lat-a0.1-lr0.0005+alma (trained unlike the curve's models in lr)"]


def test_two_settings_draw_two_curves_each_of_the_models_that_differ_in_it_alone(ablation: dict[str, Any],
                                                                               tmp_path: Path) -> None:
    """lr: the two alpha-0.1 models (lr 5e-4 and 1e-3); the alpha-0.7 model differs in
    lat.alpha as well and is left out of it, as the lr-5e-4 one is of the alpha curve."""
    from mtbench.report.setting_curves import setting_values
    from mtbench.results import Results

    lr = setting_values(ablation["run"], Results.load(ablation["run"]), "lr")
    assert lr.values == {"lat-a0.1+alma": 1e-3, "lat-a0.1-lr0.0005+alma": 5e-4}
    assert lr.missing[1:] == ["lat-a0.7+alma (trained unlike the curve's models in lat.alpha)"]
    res = mtbench("report", str(ablation["run"]), "--out", str(tmp_path / "r"), "--x", "lat.alpha", "--x", "lr")
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    for name in ("curve-chrf-lat_alpha", "curve-chrf-lr", "curve-bleu-lat_alpha", "curve-bleu-lr"):
        assert (tmp_path / "r" / f"{name}.png").is_file() and f'alt="{name}"' in html, name
    assert not (tmp_path / "r" / "curve-chrf.png").exists()
    assert "lat-a0.7+alma (trained unlike the curve's models in lat.alpha)" in html_lib.unescape(html)  # said there too


def test_one_label_per_report(ablation: dict[str, Any], tmp_path: Path) -> None:
    res = mtbench("report", str(ablation["run"]), "--out", str(tmp_path / "r"), "--x", "a=1", "--x", "b=2")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "--x b=2: one LABEL=V1,V2,... per report" in res.stderr
    assert not (tmp_path / "r").exists()


def test_the_curve_marks_what_the_report_s_own_pairwise_test_finds(ablation: dict[str, Any], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """° on the line's best point; † exactly where the significance matrix's p < alpha."""
    from mtbench.report import plots
    from mtbench.report.setting_curves import setting_curves, setting_values
    from mtbench.results import Pairwise, Results

    results = Results.load(ablation["run"])
    results.significance.test, results.significance.signature = "bs", "bs:1000|seed:12345"
    a, b = "lat-a0.1+alma", "lat-a0.7+alma"
    better = a if results.tasks["wmt22:de-en"].score(a, "chrf").score > results.tasks["wmt22:de-en"].score(b, "chrf").score else b
    worse = b if better == a else a
    assert results.tasks["wmt22:de-en"].score(a, "chrf").score != results.tasks["wmt22:de-en"].score(b, "chrf").score
    labels: dict[str, Any] = {}
    def capture(series: dict, colours: Any, out_base: Path, *args: Any, point_labels: Any = None, **kw: Any) -> list[Path]:
        labels[out_base.name] = point_labels
        return []

    monkeypatch.setattr(plots, "curves", capture)
    setting = setting_values(ablation["run"], results, "lat.alpha")
    for p_value, mark in ((0.01, "†"), (0.2, "")):  # p_values[i][j]: systems[i] against systems[j]; the
        # other cell is set to the opposite answer so that reading it instead would fail
        results.significance.pairwise = {"wmt22:de-en": {"chrf": Pairwise(
            [better, worse], [[None, 0.2 if mark else 0.01], [p_value, None]], [[None, 1.0], [-1.0, None]])}}
        setting_curves(results, setting, tmp_path)
        got = labels["curve-chrf"]["wmt22:de-en"]
        assert got[setting.values[better]].endswith("°"), got
        assert got[setting.values[worse]].endswith("†") if mark else got[setting.values[worse]][-1].isdigit(), got
        assert all(t[-1].isdigit() for t in labels["curve-bleu"]["wmt22:de-en"].values())  # no matrix: no marks
    results.tasks["wmt22:de-en"].scores[worse]["chrf"].score = results.tasks["wmt22:de-en"].score(better, "chrf").score
    setting_curves(results, setting, tmp_path)
    assert all(t.endswith("°") for t in labels["curve-chrf"]["wmt22:de-en"].values())  # a tie: both are the best


@pytest.mark.parametrize("key, needle", [
    ("steps", "a curve needs models trained with at least two values of the training setting steps"),
    ("lat.alhpa", "(models with it: none;"),
])
def test_a_setting_without_two_values_is_one_line_and_writes_nothing(ablation: dict[str, Any], tmp_path: Path,
                                                                     key: str, needle: str) -> None:
    res = mtbench("report", str(ablation["run"]), "--out", str(tmp_path / "r"), "--x", key)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and needle in res.stderr, res.stderr
    assert not (tmp_path / "r").exists()


def test_a_checkpoint_retrained_since_the_run_is_not_put_on_the_curve(ablation: dict[str, Any]) -> None:
    """Its mtbench_train.json describes other weights than the ones the run scored."""
    from mtbench.report.setting_curves import setting_values
    from mtbench.results import Results

    weights = ablation["models"][1] / "model.safetensors"
    original = weights.read_bytes()
    try:
        weights.write_bytes(original + b" ")
        with pytest.raises(Exception, match="lat.alpha: a curve needs models trained with at least two values"):
            setting_values(ablation["run"], Results.load(ablation["run"]), "lat.alpha")
        res = mtbench("report", str(ablation["run"]), "--out", "/nonexistent/never", "--x", "lat.alpha")
        assert res.returncode == 2 and "weights are not the ones the run loaded" in res.stderr, res.stderr
    finally:
        weights.write_bytes(original)


def test_train_log_folders_with_one_name_are_refused(ablation: dict[str, Any], tmp_path: Path) -> None:
    a, b = tmp_path / "x" / "final", tmp_path / "y" / "final"
    for d in (a, b):
        d.mkdir(parents=True)
        (d / "train_log.jsonl").write_text('{"step": 1, "loss": 1.0}\n', encoding="utf-8")
    res = mtbench("report", str(ablation["run"]), "--out", str(tmp_path / "r"), "--x", "lat.alpha",
                  "--train-log", str(a), "--train-log", str(b))
    assert res.returncode == 2 and "several --train-log folders are named final" in res.stderr, res.stderr
    assert not (tmp_path / "r").exists()
