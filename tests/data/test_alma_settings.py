"""ALMA-13B-LoRA's released outputs on the 10 ALMA directions, scored by `mtbench run`
with the default preset, must equal BLEU computed by hand with sacrebleu's API using
ALMA's settings (13a; zh for Chinese targets; reference B for Czech)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

from mtbench.config import RunConfig
from mtbench.runner import run
from mtbench.textio import read_json

pytestmark = pytest.mark.data

ALMA_DIRECTIONS = ["wmt22:de-en", "wmt22:cs-en", "wmt21:is-en", "wmt22:zh-en", "wmt22:ru-en",
                   "wmt22:en-de", "wmt22:en-cs", "wmt21:en-is", "wmt22:en-zh", "wmt22:en-ru"]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").split("\n")[:-1]


@pytest.fixture(scope="module")
def alma_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    # Only the ALMA LLM outputs: a systems root holding just that file per direction.
    root = tmp_path_factory.mktemp("alma-systems")
    for task in ALMA_DIRECTIONS:
        testset, pair = task.split(":")
        src = data_dir / testset / pair / "llm_outputs" / "ALMA-13B-LoRA.txt"
        dst = root / testset / pair / "llm_outputs" / "ALMA-13B-LoRA.txt"
        dst.parent.mkdir(parents=True)
        dst.write_bytes(src.read_bytes())
    out = tmp_path_factory.mktemp("run")
    run(RunConfig(tasks="alma", metrics=["bleu"], data_dir=str(data_dir), systems=str(root), out=str(out)),
        log=lambda m: None)
    return read_json(out / "results.json")


def test_alma_suite_is_the_ten_directions(alma_run: dict) -> None:
    assert list(alma_run["tasks"]) == ALMA_DIRECTIONS


@pytest.mark.parametrize("task,ref_file,tokenize", [
    ("wmt22:cs-en", "refs/ref.B.txt", "13a"),
    ("wmt22:en-cs", "refs/ref.B.txt", "13a"),
    ("wmt22:en-zh", "refs/ref.A.txt", "zh"),
    ("wmt22:de-en", "refs/ref.A.txt", "13a"),
    ("wmt21:en-is", "refs/ref.A.txt", "13a"),
])
def test_bleu_matches_sacrebleu_by_hand(alma_run: dict, data_dir: Path, task: str, ref_file: str, tokenize: str) -> None:
    testset, pair = task.split(":")
    folder = data_dir / testset / pair
    hyp = _lines(folder / "llm_outputs" / "ALMA-13B-LoRA.txt")
    ref = _lines(folder / ref_file)
    expected = sacrebleu.corpus_bleu(hyp, [ref], tokenize=tokenize)
    got = alma_run["tasks"][task]["scores"]["ALMA-13B-LoRA"]["bleu"]
    assert got["score"] == pytest.approx(expected.score, abs=1e-9)
    assert f"tok:{tokenize}" in got["signature"]
    assert alma_run["tasks"][task]["refs"] == [ref_file.split(".")[1]]
