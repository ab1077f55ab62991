"""Bad input: one line naming the file/value and the fix, exit code != 0, and nothing
already in the run directory changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mtbench.cli import main
from tests.conftest import TINY_SYS, write_lines


def _snapshot(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def finished_run(tiny_layout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_line_count_mismatch_names_both_counts(tiny_layout: Path, finished_run: Path, capsys) -> None:
    before = _snapshot(finished_run)
    bad = write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "short.txt", ["only one line"])
    err = _error(capsys, ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(finished_run)])
    assert str(bad) in err and "1 lines" in err and "4 source segments" in err
    assert _snapshot(finished_run) == before


def test_score_line_count_mismatch(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    hyp = write_lines(tmp_path / "h.txt", ["a", "b", "c", "d", "e"])
    err = _error(capsys, ["score", "--task", "wmt22:de-en", "--hyp", str(hyp), "--data-dir", str(tiny_layout)])
    assert "5 lines" in err and "4 source segments" in err and str(hyp) in err


def test_missing_hypothesis_file(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["score", "--task", "wmt22:de-en", "--hyp", str(tmp_path / "nope.txt"), "--data-dir", str(tiny_layout)])
    assert "nope.txt" in err and "not found" in err


@pytest.mark.parametrize("task,needle", [
    ("wmt23:de-en", "did you mean 'wmt22'"),
    ("wmt22:de-xx", "'de-en'"),
    ("almma", "did you mean 'alma'"),
])
def test_unknown_testset_pair_suite(tiny_layout: Path, capsys, task: str, needle: str) -> None:
    err = _error(capsys, ["run", "--tasks", task, "--data-dir", str(tiny_layout)])
    assert needle in err


def test_unknown_metric_before_any_work(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    err = _error(capsys, ["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,chrff", "--data-dir", str(tiny_layout), "--out", str(out)])
    assert "unknown metric 'chrff'" in err and "did you mean 'chrf'" in err
    assert not out.exists()


def test_non_utf8_hypothesis(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    hyp = tmp_path / "latin1.txt"
    hyp.write_bytes("Das Haus\nGr\xfc\xdfe\nc\nd\n".encode("latin-1"))
    err = _error(capsys, ["score", "--task", "wmt22:de-en", "--hyp", str(hyp), "--data-dir", str(tiny_layout)])
    assert "not valid UTF-8" in err and str(hyp) in err and "line 2" in err


def test_malformed_yaml_names_line(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("tasks: wmt22:de-en\nmetrics: [bleu, chrf\npreset: wmt\n", encoding="utf-8")
    err = _error(capsys, ["validate", str(cfg)])
    assert str(cfg) in err and "line" in err


def test_a_key_given_twice_is_an_error_not_the_last_one_winning(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("tasks: wmt22:de-en\nlimit: 20\nmetrics: [bleu]\nlimit: 200\n", encoding="utf-8")
    err = _error(capsys, ["validate", str(cfg)])
    assert f"{cfg} line 4" in err and "key 'limit' is given twice (lines 2 and 4), keep one" in err
    from mtbench.yamlio import load_yaml  # a YAML merge key may still be overridden

    (tmp_path / "m.yaml").write_text("a: &d {x: 1, y: 2}\nb:\n  <<: *d\n  x: 3\n", encoding="utf-8")
    assert load_yaml(tmp_path / "m.yaml") == {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 2}}


def test_unknown_config_key(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("tasks: wmt22:de-en\nmetric: [bleu]\n", encoding="utf-8")
    err = _error(capsys, ["validate", str(cfg)])
    assert "unknown key 'metric'" in err and "did you mean 'metrics'" in err


def test_unwritable_output_dir(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    err = _error(capsys, ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(blocker / "run")])
    assert "cannot write to output directory" in err and "--out" in err


def test_missing_data_dir(tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["run", "--tasks", "wmt22:de-en", "--data-dir", str(tmp_path / "nowhere")])
    assert "nowhere" in err and "does not exist" in err


def test_bom_and_empty_lines_are_fine(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    plain = write_lines(tmp_path / "plain.txt", TINY_SYS["good"])
    bom = write_lines(tmp_path / "bom.txt", TINY_SYS["good"], bom=True)
    assert main(["score", "--task", "wmt22:de-en", "--hyp", str(plain), "--hyp", str(bom),
                 "--data-dir", str(tiny_layout), "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and rows[0]["scores"] == rows[1]["scores"]
