"""RunConfig: validation reads and runs nothing and happens once per run; the CLI's
help for each key is the key's own documentation."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mtbench import config as config_module
from mtbench.cli import build_parser, main
from mtbench.config import FIELD_NAMES, RunConfig, help_text
from mtbench.errors import MtbenchError

PLUGIN = """
from pathlib import Path
with open(Path(__file__).with_name("loaded.txt"), "a") as fh:
    fh.write("x")
"""

FLAG_OF = {"models": "--model", "adapters": "--adapter"}  # the flags named in the singular (repeatable)


def run_flags() -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {flag: action for action in sub.choices["run"]._actions for flag in action.option_strings}


def test_every_key_is_a_run_flag_whose_help_is_the_key_documentation() -> None:
    flags = run_flags()
    for name in FIELD_NAMES:
        flag = FLAG_OF.get(name, "--" + name.replace("_", "-"))
        assert flag in flags, f"RunConfig.{name} has no flag {flag}"
        assert flags[flag].help == help_text(name), name
        assert config_module._FIELDS[name].metadata["help"], f"RunConfig.{name} has no documentation"
    assert flags["--limit"].type is int and flags["--threads"].type is int and flags["--device"].type is None


def test_validate_runs_no_plugin_file(tmp_path: Path) -> None:
    (tmp_path / "plugin.py").write_text(PLUGIN)
    cfg = RunConfig(include_path=[str(tmp_path)], tasks="wmt22:de-en")
    cfg.validate()
    assert not (tmp_path / "loaded.txt").exists()
    assert cfg.is_checked()
    cfg.load_plugins()
    cfg.load_plugins()
    assert (tmp_path / "loaded.txt").read_text() == "x"  # each file once
    cfg.limit = 5
    assert not cfg.is_checked()  # a change after validate needs validating again


def test_a_run_validates_its_configuration_once(tiny_layout: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = RunConfig.validate

    def counting(self: RunConfig, where: str = "configuration", check_metrics: bool = True) -> None:
        calls.append(where)
        real(self, where, check_metrics)

    monkeypatch.setattr(RunConfig, "validate", counting)
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("metrics: bleu\nsignificance: none\n")
    assert main(["run", "--config", str(yaml_file), "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout),
                 "--out", str(tmp_path / "run")]) == 0
    assert calls == [f"{yaml_file} with the command line's flags"]


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("significance: maybe\n")
    assert main(["run", "--config", str(yaml_file), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mtbench: error: {yaml_file} with the command line's flags: significance must be bs, ar or none, got 'maybe'")
    with pytest.raises(MtbenchError, match=rf"^{yaml_file}: significance must be bs"):
        config_module.load_config(yaml_file)  # `mtbench validate FILE` and the API check the file alone
