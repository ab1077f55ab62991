"""The CLI over a tiny data layout: run, resume, score --format json, report, ls, validate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import sacrebleu

from mtbench.cli import main
from mtbench.store import RunDir
from mtbench.textio import read_json, read_jsonl
from tests.conftest import TINY_REF_A, TINY_REF_B, TINY_SYS, write_lines


def test_run_writes_run_directory_and_resumes(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,chrf,chrf++,ter", "--data-dir", str(tiny_layout), "--out", str(out)]
    assert main(argv) == 0
    for name in ("run.yaml", "manifest.json", "results.json", "report/leaderboard.md", "report/leaderboard.csv",
                 "report/leaderboard.json", "report/results.json"):
        assert (out / name).is_file(), name
    manifest = read_json(out / "manifest.json")
    assert manifest["work"]["scores_computed"] == 8 and manifest["versions"]["sacrebleu"] == sacrebleu.__version__
    # a system file is copied byte for byte, with its path and checksum in the meta
    meta = read_json(out / "generations" / "wmt22_de-en" / "good.meta.json")
    system_file = tiny_layout / "wmt22" / "de-en" / "systems" / "good.txt"
    assert meta["path"] == str(system_file)
    assert meta["file_sha256"] == hashlib.sha256(system_file.read_bytes()).hexdigest()
    assert (out / "generations" / "wmt22_de-en" / "good.txt").read_bytes() == system_file.read_bytes()
    assert RunDir(out).read_generation("wmt22:de-en", "good") == TINY_SYS["good"]
    seg = read_jsonl(out / "scores" / "wmt22_de-en" / "bad" / "bleu.jsonl")
    assert [set(s) for s in seg] == [{"id", "score"}] * 4
    stats = np.load(out / "scores" / "wmt22_de-en" / "bad" / "bleu.stats.npy")
    # BLEU's statistics, one row per segment: hyp_len, ref_len, 4 matches, 4 totals ("House small." vs 5 ref tokens)
    assert stats.shape == (4, 10) and stats[0].tolist() == [3, 5, 2, 1, 0, 0, 3, 2, 1, 0]
    results = read_json(out / "results.json")
    assert results["schema_version"] == 2
    bleu_good = results["tasks"]["wmt22:de-en"]["scores"]["good"]["bleu"]["score"]
    assert bleu_good == sacrebleu.corpus_bleu(TINY_SYS["good"], [TINY_REF_A]).score
    ter_bad = results["tasks"]["wmt22:de-en"]["scores"]["bad"]["ter"]["score"]
    assert ter_bad == sacrebleu.corpus_ter(TINY_SYS["bad"], [TINY_REF_A]).score
    assert results["metrics"]["ter"]["higher_is_better"] is False
    assert "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in (out / "report" / "leaderboard.md").read_text()

    mtimes = {p: p.stat().st_mtime_ns for p in (out / "scores").rglob("*.json*")}
    assert main(argv) == 0
    manifest = read_json(out / "manifest.json")
    assert manifest["work"] == {"generations_imported": 0, "scores_computed": 0, "scores_reused": 8}
    assert mtimes == {p: p.stat().st_mtime_ns for p in (out / "scores").rglob("*.json*")}

    # a changed system file is re-imported and re-scored, nothing else
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "bad.txt", ["House.", "Dog.", "", "Tea."])
    assert main(argv) == 0
    assert read_json(out / "manifest.json")["work"] == {"generations_imported": 1, "scores_computed": 4, "scores_reused": 4}


def test_multi_reference_all(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--refs", "all", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    res = read_json(out / "results.json")["tasks"]["wmt22:de-en"]
    assert res["refs"] == ["A", "B"]
    expected = sacrebleu.corpus_chrf(TINY_SYS["good"], [TINY_REF_A, TINY_REF_B]).score
    assert res["scores"]["good"]["chrf"]["score"] == expected
    assert "nrefs:2" in res["scores"]["good"]["chrf"]["signature"]
    assert "Scope: test set wmt22 · refs A+B · preset default" in (out / "report" / "leaderboard.md").read_text()


def test_score_json_has_signatures(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    hyp = write_lines(tmp_path / "sys.txt", TINY_SYS["good"])
    assert main(["score", "--task", "wmt22:de-en", "--hyp", str(hyp), "--metrics", "bleu,chrf",
                 "--data-dir", str(tiny_layout), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["file"] == str(hyp) and row["segments"] == 4 and row["refs"] == ["A"]
    bleu = sacrebleu.metrics.BLEU()
    expected = bleu.corpus_score(TINY_SYS["good"], [TINY_REF_A])
    assert row["scores"][0]["name"] == "bleu"
    assert row["scores"][0]["score"] == expected.score  # unrounded: a machine reads it
    assert row["scores"][0]["signature"] == bleu.get_signature().format()
    # sacrebleu's own JSON fields for the same score
    sb = json.loads(expected.format(signature=bleu.get_signature().format(), is_json=True))
    assert row["scores"][0]["verbose_score"] == sb["verbose_score"]
    for key in ("nrefs", "case", "eff", "tok", "smooth", "version"):
        assert row["scores"][0][key] == sb[key]


def test_report_regenerates_leaderboard(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    original = (out / "report" / "leaderboard.md").read_text()
    results = (out / "results.json").read_bytes()
    (out / "report" / "leaderboard.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report" / "leaderboard.md").read_text() == original
    assert (out / "results.json").read_bytes() == results  # a report never rewrites the run's files
    lines = original.splitlines()
    # best system first in each table
    first_rows = [lines[i + 2] for i, line in enumerate(lines) if line.startswith("| model")]
    assert all(r.startswith("| good |") for r in first_rows)


def test_ls_lists_everything(capsys) -> None:
    assert main(["ls"]) == 0
    out = capsys.readouterr().out
    for needle in ("wmt22", "wmt21", "iwslt17", "iwslt17-mltlng", "alma", "lat-iwslt", "chrf++", "ter", "files"):
        assert needle in out


def test_validate_reports_tasks(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"tasks: [wmt22:de-en]\nmetrics: [bleu]\nrefs: all\ndata_dir: {tiny_layout}\n", encoding="utf-8")
    assert main(["validate", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "wmt22:de-en" in out and "refs=A,B" in out and "valid" in out


def test_score_json_with_a_comet_model_that_is_not_there(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    hyp = write_lines(tmp_path / "sys.txt", TINY_SYS["good"])
    missing = tmp_path / "no" / "wmt22-comet-da"
    argv = ["score", "--task", "wmt22:de-en", "--hyp", str(hyp), "--data-dir", str(tiny_layout), "--format", "json"]
    assert main([*argv, "--metrics", f"bleu,comet:{missing},chrf"]) == 0
    captured = capsys.readouterr()
    (doc,) = json.loads(captured.out)
    assert [s["name"] for s in doc["scores"]] == ["bleu", "chrf"]
    assert doc["errors"][0]["name"] == f"comet:{missing}" and "does not exist" in doc["errors"][0]["error"]
    assert f"comet:{missing} unavailable" in captured.err
    # nothing could be computed: that is an error, not an empty document
    assert main([*argv, "--metrics", f"comet:{missing}"]) == 2
    assert "no metric could be computed" in capsys.readouterr().err
    assert main([*argv, "--metrics", "blue"]) == 2  # a typo stays an error, with did-you-mean
    assert "did you mean 'bleu'" in capsys.readouterr().err
