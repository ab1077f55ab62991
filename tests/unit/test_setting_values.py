"""Which models a `--x SETTING` curve links: those whose `mtbench train` records agree on
every other setting (``out`` aside). Checkpoints here are folders holding only the record
(the run's manifest names no weights checksum, so none is compared); the expected groups
and reasons are worked out by hand from the configs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mtbench.errors import MtbenchError
from mtbench.report.setting_curves import setting_values

CENTRE = {"method": "lat", "steps": 20, "lr": 5e-5, "lat": {"alpha": 0.05, "conflict_langs": ["cs"]}}


def run_with(tmp_path: Path, configs: dict[str, dict[str, Any]]) -> tuple[Path, Any]:
    run = tmp_path / "run"
    run.mkdir()
    models = {}
    for name, config in configs.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "mtbench_train.json").write_text(json.dumps({"config": {"out": str(folder), **config}}))
        models[f"{name}+lat"] = {"fingerprint": {"model": str(folder)}}
    (run / "manifest.json").write_text(json.dumps({"models": models}))
    return run, SimpleNamespace(models=list(models))


def test_an_lr_and_steps_ablation_scored_together_gives_each_curve_its_own_arms(tmp_path: Path) -> None:
    run, results = run_with(tmp_path, {
        "mle": {"method": "mle", "steps": 40, "lr": 5e-5},
        "centre": CENTRE,
        "lr2e-6": {**CENTRE, "lr": 2e-6},
        "s5": {**CENTRE, "steps": 5},
        "s10": {**CENTRE, "steps": 10},
    })
    lr = setting_values(run, results, "lr")
    assert lr.values == {"centre+lat": 5e-5, "lr2e-6+lat": 2e-6}
    assert lr.missing == ["mle+lat (trained unlike the curve's models in lat.alpha, lat.conflict_langs, method, steps)",
                          "s5+lat (trained unlike the curve's models in steps)",
                          "s10+lat (trained unlike the curve's models in steps)"]
    steps = setting_values(run, results, "steps")
    assert steps.values == {"centre+lat": 20, "s5+lat": 5, "s10+lat": 10}
    assert steps.missing[1] == "lr2e-6+lat (trained unlike the curve's models in lr)"
    with pytest.raises(MtbenchError, match="at least two values of the training setting lat.alpha and alike"):
        setting_values(run, results, "lat.alpha")


def test_a_setting_missing_from_one_record_is_a_difference(tmp_path: Path) -> None:
    """An older record without a key is not trained "alike" with one that sets it."""
    run, results = run_with(tmp_path, {"a": {"lr": 1, "warmup": None}, "b": {"lr": 2, "warmup": None}, "c": {"lr": 3}})
    got = setting_values(run, results, "lr")
    assert got.values == {"a+lat": 1, "b+lat": 2}
    assert got.missing == ["c+lat (trained unlike the curve's models in warmup)"]


def test_two_ablations_of_one_size_are_refused(tmp_path: Path) -> None:
    run, results = run_with(tmp_path, {"a": {"lr": 1, "steps": 1}, "b": {"lr": 2, "steps": 1},
                                       "c": {"lr": 1, "steps": 2}, "d": {"lr": 2, "steps": 2}})
    with pytest.raises(MtbenchError, match=r"several ablations of lr of the same size \(a\+lat, b\+lat; c\+lat, d\+lat\)"):
        setting_values(run, results, "lr")


def test_two_identical_trainings_on_one_curve_are_refused(tmp_path: Path) -> None:
    run, results = run_with(tmp_path, {"a": {"lr": 1}, "b": {"lr": 1}, "c": {"lr": 2}})
    with pytest.raises(MtbenchError, match=r"a\+lat, b\+lat share a value of lr and every other setting"):
        setting_values(run, results, "lr")
