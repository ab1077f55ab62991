"""Bad model input: unknown model or adapter, a path with no model, a language the
adapter cannot name, --device cuda without a GPU, a vLLM interpreter that is missing
or lacks vllm. Each: one line, exit != 0, the existing run directory unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mtbench.cli import main
from tests.conftest import write_lines
from tests.unit.test_bad_input import _error, _snapshot

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture
def finished_run(tiny_layout: Path, tmp_path: Path, capsys) -> Path:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


@pytest.fixture(scope="module")
def tiny_model(tiny_llama_dir: Path) -> Path:
    return tiny_llama_dir


def _run(layout: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--tasks", "wmt22:de-en", "--data-dir", str(layout), "--out", str(out), *extra]


def test_unknown_model_kind(tiny_layout: Path, finished_run: Path, capsys) -> None:
    before = _snapshot(finished_run)
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", "hff:/x"))
    assert "unknown model backend 'hff'" in err and "did you mean 'hf'" in err
    assert _snapshot(finished_run) == before


def test_unknown_adapter(tiny_layout: Path, finished_run: Path, capsys) -> None:
    before = _snapshot(finished_run)
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", "hf:/x", "--adapter", "almaa"))
    assert "unknown adapter 'almaa'" in err and "did you mean 'alma'" in err
    assert _snapshot(finished_run) == before


def test_path_with_no_model(tiny_layout: Path, finished_run: Path, tmp_path: Path, capsys) -> None:
    before = _snapshot(finished_run)
    empty = tmp_path / "empty-ckpt"
    empty.mkdir()
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", f"hf:{empty}"))
    assert str(empty) in err and "config.json" in err
    assert _snapshot(finished_run) == before


def test_language_the_adapter_cannot_name(tiny_layout: Path, tiny_model: Path, tmp_path: Path, capsys) -> None:
    # Livonian has an English name, but LAT's target-language templates cover 11 languages
    pair = tiny_layout / "wmt22" / "en-liv"
    write_lines(pair / "src.txt", ["Hello."])
    write_lines(pair / "ref.txt", ["Tervõ."])
    out = tmp_path / "run"
    err = _error(capsys, ["run", "--tasks", "wmt22:en-liv", "--data-dir", str(tiny_layout), "--out", str(out),
                          "--model", f"hf:{tiny_model}", "--adapter", "lat-ptl", "--cache", str(tmp_path / "c.sqlite")])
    assert "'liv'" in err and "lat-ptl" in err
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_device_cuda_without_gpu(tiny_layout: Path, finished_run: Path, tiny_model: Path, capsys) -> None:
    before = _snapshot(finished_run)
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", f"hf:{tiny_model}", "--device", "cuda"))
    assert "cuda" in err.lower() and "device cpu" in err
    assert _snapshot(finished_run) == before


def test_vllm_interpreter_missing_or_without_vllm(tiny_layout: Path, finished_run: Path, tiny_model: Path,
                                                  tmp_path: Path, capsys) -> None:
    before = _snapshot(finished_run)
    missing = tmp_path / "no-such-python"
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", f"vllm:{tiny_model}", "--vllm-python", str(missing)))
    assert str(missing) in err and "vllm" in err.lower()
    err = _error(capsys, _run(tiny_layout, finished_run, "--model", f"vllm:{tiny_model}", "--vllm-python", sys.executable))
    assert sys.executable in err and "vllm" in err.lower()
    assert _snapshot(finished_run) == before
