"""The scoring stage: `mtbench run` scores in a fresh process that reads only the run
directory when it loaded a model or a metric loads one, else in its own process (still
reading only the run directory); `mtbench score --run RUN_DIR` does the same on its
own and redoes only scores whose inputs changed or are missing."""

from __future__ import annotations

import os
from pathlib import Path

from mtbench.cli import main
from mtbench.config import RunConfig
from mtbench.runner import loads_a_model, run
from mtbench.textio import read_json


def _run(tiny_layout: Path, out: Path, metrics: str = "bleu,chrf") -> None:
    assert main(["run", "--tasks", "wmt22:de-en", "--metrics", metrics, "--data-dir", str(tiny_layout),
                 "--out", str(out)]) == 0


def test_a_run_of_files_scores_in_its_own_process(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(tiny_layout, out)
    manifest = read_json(out / "manifest.json")
    assert manifest["scoring_pid"] == os.getpid()  # no model was loaded: no second interpreter
    assert manifest["work"] == {"generations_imported": 2, "scores_computed": 4, "scores_reused": 0}
    assert {"load", "generate", "score", "report"} <= set(manifest["timings_s"])


def test_a_run_that_loaded_a_model_scores_in_a_fresh_process(tiny_layout: Path, tmp_path: Path) -> None:
    class Upper:
        def translate(self, requests):
            return [r.source.upper() for r in requests]

    cfg = RunConfig(tasks="wmt22:de-en", metrics=["bleu"], models=["files"], data_dir=str(tiny_layout),
                    out=str(tmp_path / "run"), cache=str(tmp_path / "cache.sqlite"))
    out = run(cfg, log=lambda _: None, isolate_scoring=True, translators={"upper": Upper()})
    manifest = read_json(out.path / "manifest.json")
    assert manifest["scoring_pid"] != os.getpid()
    assert manifest["work"]["scores_computed"] == 3  # the two systems and the translator


def test_which_metrics_load_a_model() -> None:
    assert not loads_a_model("bleu") and not loads_a_model("chrf") and not loads_a_model("off-target")
    assert loads_a_model("comet") and loads_a_model("bleurt")
    assert loads_a_model("comet:/no/such/folder")  # cannot be made here: the fresh process says why


def test_score_run_redoes_only_what_is_missing(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(tiny_layout, out)
    before = read_json(out / "results.json")
    (out / "scores" / "wmt22_de-en" / "good" / "chrf.json").unlink()
    assert main(["score", "--run", str(out)]) == 0
    assert read_json(out / "manifest.json")["work"]["scores_computed"] == 1
    assert read_json(out / "results.json") == before

    # a new metric on an existing run: only its scores are computed, and run.yaml records it
    assert main(["score", "--run", str(out), "--metrics", "bleu,chrf,ter"]) == 0
    work = read_json(out / "manifest.json")["work"]
    assert (work["scores_computed"], work["scores_reused"]) == (2, 4)
    assert "ter" in read_json(out / "results.json")["metrics"]
    assert "- ter" in (out / "run.yaml").read_text()


def test_a_score_file_cut_short_is_recomputed(tiny_layout: Path, tmp_path: Path) -> None:
    # score files are written without fsync; after a crash one may be shorter than the
    # size its corpus file records, and must not be reused
    out = tmp_path / "run"
    _run(tiny_layout, out)
    before = read_json(out / "results.json")
    seg = out / "scores" / "wmt22_de-en" / "good" / "bleu.jsonl"
    seg.write_bytes(seg.read_bytes()[:-1])
    stats = out / "scores" / "wmt22_de-en" / "bad" / "chrf.stats.npy"
    stats.write_bytes(b"")
    assert main(["score", "--run", str(out)]) == 0
    assert read_json(out / "manifest.json")["work"]["scores_computed"] == 2
    assert read_json(out / "results.json") == before


def test_changed_generation_is_rescored(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(tiny_layout, out)
    gen = out / "generations" / "wmt22_de-en" / "bad.txt"  # the run's copy of the system file
    gen.write_text(gen.read_text().replace("Dog.", "The dog barks loudly."), encoding="utf-8")
    assert main(["score", "--run", str(out)]) == 0
    assert read_json(out / "manifest.json")["work"]["scores_computed"] == 2  # bleu and chrf of "bad"


def test_score_run_on_a_folder_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    assert main(["score", "--run", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no run.yaml" in err and str(tmp_path) in err


def test_score_run_with_a_missing_generation(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    _run(tiny_layout, out)
    capsys.readouterr()
    results = (out / "results.json").read_bytes()
    (out / "generations" / "wmt22_de-en" / "good.meta.json").unlink()
    assert main(["score", "--run", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no finished generation of good" in err
    assert (out / "results.json").read_bytes() == results  # nothing written


def test_score_needs_run_or_task_and_hyp(capsys) -> None:
    assert main(["score"]) == 2
    assert "--run RUN_DIR, or --task TASK with --hyp FILE" in capsys.readouterr().err


def test_the_score_column_file_holds_sacrebleus_sentence_scores(tiny_layout: Path, tmp_path: Path) -> None:
    # <metric>.scores.npy is what tables, figures and the viewer read; its values are
    # sacrebleu's own sentence scores (BLEU with effective order, as mtbench's segment
    # BLEU is defined) and the rows' score column, float for float
    import numpy as np
    from sacrebleu.metrics import BLEU, CHRF

    from mtbench.textio import read_jsonl, read_lines

    out = tmp_path / "run"
    _run(tiny_layout, out)
    ref = read_json(out / "testdata" / "wmt22_de-en.json")["references"]
    (ref_lines,) = ref.values()
    for system in ("good", "bad"):
        hyps = read_lines(out / "generations" / "wmt22_de-en" / f"{system}.txt")[: len(ref_lines)]
        for metric, oracle in (("bleu", BLEU(effective_order=True)), ("chrf", CHRF())):
            base = out / "scores" / "wmt22_de-en" / system / metric
            column = np.load(base.with_suffix(".scores.npy"))
            assert column.dtype == np.float64 and column.shape == (len(ref_lines),)
            expected = [oracle.sentence_score(h, [r]).score for h, r in zip(hyps, ref_lines)]
            np.testing.assert_allclose(column, expected, rtol=4 * np.finfo(np.float64).eps, atol=0)
            assert column.tolist() == [row["score"] for row in read_jsonl(base.with_suffix(".jsonl"))]


def test_a_score_column_cut_short_is_recomputed(tiny_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(tiny_layout, out)
    before = read_json(out / "results.json")
    column = out / "scores" / "wmt22_de-en" / "good" / "chrf.scores.npy"
    column.write_bytes(column.read_bytes()[:-8])
    assert main(["score", "--run", str(out)]) == 0
    assert read_json(out / "manifest.json")["work"]["scores_computed"] == 1
    assert read_json(out / "results.json") == before


def test_a_report_of_scores_without_a_column_file_reads_the_rows(tiny_layout: Path, tmp_path: Path) -> None:
    # runs scored before the column file existed still report, from their rows: the
    # same page (worst segments, viewer payload with every segment score) either way
    out = tmp_path / "run"
    _run(tiny_layout, out)
    assert main(["report", str(out), "--out", str(tmp_path / "with")]) == 0
    columns = list((out / "scores").rglob("*.scores.npy"))
    assert len(columns) == 4
    for column in columns:
        column.unlink()
    assert main(["report", str(out), "--out", str(tmp_path / "without")]) == 0
    page = (tmp_path / "without" / "index.html").read_text(encoding="utf-8")
    assert page == (tmp_path / "with" / "index.html").read_text(encoding="utf-8")
    assert "worst" in page.lower()
