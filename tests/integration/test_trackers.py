"""``--log-to mlflow`` / ``--log-to wandb``, offline and real: a tiny run on a synthetic
layout logged to a local MLflow file store and to an offline W&B run, read back with
each tracker's own reader; a tiny `mtbench train` logs its losses step by step. Ground
truth for a logged BLEU is results.json and sacrebleu.corpus_bleu on the same files."""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mtbench.cli import main
from mtbench.textio import read_lines
from tests.conftest import synthetic_layout

TASK = "wmt22:de-en"


@pytest.fixture()
def layout(tmp_path: Path) -> Path:
    return synthetic_layout(tmp_path / "data", pairs=("de-en",), n=30)


def run_argv(layout: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--tasks", TASK, "--data-dir", str(layout), "--out", str(out), "--metrics", "bleu,chrf",
            "--n-resamples", "100", *extra]


def expected_bleu(layout: Path, out: Path, system: str = "best") -> float:
    """The run's own number, checked against sacrebleu on the layout's files."""
    import sacrebleu

    recorded = json.loads((out / "results.json").read_text())["tasks"][TASK]["scores"][system]["bleu"]["score"]
    folder = layout / "wmt22" / "de-en"
    direct = sacrebleu.corpus_bleu(read_lines(folder / "systems" / f"{system}.txt"),
                                   [read_lines(folder / "refs" / "ref.A.txt")]).score
    assert recorded == pytest.approx(direct, abs=1e-9)
    return recorded


def mlflow_client(uri: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # this test's reader; mtbench sets it for itself
    return MlflowClient(tracking_uri=uri)


def mlflow_runs(client: Any) -> list[Any]:
    experiment = client.get_experiment_by_name("mtbench")
    assert experiment is not None
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def test_run_and_score_log_to_mlflow(layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # mtbench must allow its file store itself
    out = tmp_path / "run"
    assert main(run_argv(layout, out, "--log-to", "mlflow")) == 0
    assert capsys.readouterr().out.startswith("## bleu")  # stdout is still the leaderboard alone
    client = mlflow_client(uri, monkeypatch)
    (run,) = mlflow_runs(client)
    assert run.info.run_name == "run" and run.info.status == "FINISHED"
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["tasks"] == TASK and params["metrics"] == "bleu,chrf" and params["log_to"] == "mlflow"
    assert json.loads(params["models_resolved"]) == {TASK: ["best", "mid", "worst"]}
    assert metrics["bleu/wmt22_de-en/best"] == expected_bleu(layout, out)
    assert {k.split("/")[0] for k in metrics} == {"bleu", "chrf"} and len(metrics) == 6
    assert tags["signature/bleu/wmt22_de-en"].startswith("nrefs:1|case:mixed") and tags["mtbench.command"] == "run"
    report = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    assert {"report/leaderboard.md", "report/leaderboard.csv", "report/summary.md"} <= report
    assert any(p.endswith(".png") for p in report) and "report/index.html" not in report
    rows = json.loads(Path(client.download_artifacts(run.info.run_id, "mtbench/scores.json", str(tmp_path))).read_text())
    verdicts = {(r["model"], r["metric"]): r["verdict"] for r in rows}
    assert verdicts[("best", "bleu")] == "baseline" and verdicts[("worst", "bleu")] == "worse"

    # `score --run` logs the same things from the same run directory (run.yaml's log_to)
    assert main(["score", "--run", str(out)]) == 0
    first, second = mlflow_runs(client)
    assert second.data.metrics == first.data.metrics and second.data.tags["mtbench.command"] == "score"


def wandb_offline_summary(wandb_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, config) of the one offline run under ``wandb_dir``, read from its
    ``run-*.wandb`` records with wandb's own datastore reader (offline runs write no
    wandb-summary.json)."""
    from wandb.proto import wandb_internal_pb2 as pb
    from wandb.sdk.internal.datastore import DataStore

    (path,) = glob.glob(str(wandb_dir / "wandb" / "offline-run-*" / "run-*.wandb"))
    store = DataStore()
    store.open_for_scan(path)
    summary: dict[str, Any] = {}
    config: dict[str, Any] = {}
    while (data := store.scan_data()) is not None:
        record = pb.Record()
        record.ParseFromString(data)
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            summary.update({it.key or "/".join(it.nested_key): json.loads(it.value_json) for it in record.summary.update})
        elif kind in ("run", "config"):  # the run record carries the config given to wandb.init
            items = record.run.config.update if kind == "run" else record.config.update
            config.update({it.key: json.loads(it.value_json) for it in items})
    return summary, config


def test_run_logs_to_wandb_offline(layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pytest.importorskip("wandb", reason="needs wandb (pip install 'mtbench[trackers]')")
    wandb_dir = tmp_path / "wandb-dir"
    wandb_dir.mkdir()
    for name, value in {"WANDB_MODE": "offline", "WANDB_DIR": str(wandb_dir), "WANDB_PROJECT": "mtbench-test",
                        "WANDB_SILENT": "true"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "run"
    assert main(run_argv(layout, out, "--log-to", "wandb")) == 0
    assert capsys.readouterr().out.startswith("## bleu")
    summary, config = wandb_offline_summary(wandb_dir)
    assert summary["bleu/wmt22_de-en/best"] == expected_bleu(layout, out)
    assert summary["signature/bleu/wmt22_de-en"].startswith("nrefs:1|")
    assert config["tasks"] == TASK and config["metrics"] == ["bleu", "chrf"]
    assert any(k.startswith("figures/") for k in summary)  # the report's figures, as images


def test_config_key_and_comma_list(layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``log_to:`` in a run configuration, and ``--log-to a,b`` / repeated flags."""
    from mtbench.config import load_config
    from mtbench.trackers import split_names

    cfg = tmp_path / "run.yaml"
    cfg.write_text("tasks: wmt22:de-en\nlog_to: mlflow, wandb\n")
    assert load_config(cfg).log_to == ["mlflow", "wandb"]
    assert split_names(["mlflow,wandb", "mlflow"]) == ["mlflow", "wandb"]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_unknown_tracker_and_missing_package_are_one_line(layout: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    out = tmp_path / "run"
    assert main(run_argv(layout, out, "--log-to", "mlfow")) == 2
    assert one_error_line(capsys) == "mtbench: error: --log-to: unknown tracker 'mlfow': did you mean 'mlflow'?"
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("tasks: wmt22:de-en\nlog_to: [wandbb]\n")
    assert main(["run", "--config", str(cfg), "--data-dir", str(layout), "--out", str(out)]) == 2
    assert "log_to: unknown tracker 'wandbb': did you mean 'wandb'?" in one_error_line(capsys)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    assert main(run_argv(layout, out, "--log-to", "wandb,mlflow")) == 2
    assert one_error_line(capsys) == "mtbench: error: --log-to mlflow needs the mlflow package: pip install mlflow"
    assert not out.exists()  # failed before any work
    assert main(["train", "mle", str(cfg), "--log-to", "mlfow"]) == 2
    assert "unknown tracker 'mlfow'" in one_error_line(capsys)


def test_tracker_failure_keeps_the_run_and_exits_3(layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capfd) -> None:
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "mlruns").as_uri())  # cannot be created
    out = tmp_path / "run"
    assert main(run_argv(layout, out, "--log-to", "mlflow")) == 3
    captured = capfd.readouterr()  # the warning comes from the scoring stage's process
    assert "## bleu" in captured.out  # the leaderboard is still printed
    warning = [line for line in captured.err.splitlines() if "--log-to mlflow failed" in line]
    assert len(warning) == 1 and "the run directory is complete" in warning[0]
    assert (out / "results.json").is_file() and (out / "report" / "leaderboard.md").is_file()


def test_keys_are_valid_for_mlflow_everywhere() -> None:
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    import re

    from mtbench.trackers.base import MAX_KEY, score_key

    windows = re.compile(r"^[/\w.\- ]*$")  # mlflow.utils.validation on Windows (POSIX adds ':')
    for parts in (("bleu", "wmt22:de-en", "smollm2-135m+alma"), ("comet:wmt22-comet-da", "t", "../x"),
                  ("bleu", "wmt22:de-en", "é" * 400)):
        k = score_key(*parts)
        assert windows.match(k) and len(k) <= MAX_KEY and ".." not in k.split("/")
    assert score_key("bleu", "wmt22:de-en", "A+B") == "bleu/wmt22_de-en/A_B"


@pytest.mark.slow
def test_train_logs_losses_to_mlflow(tmp_path: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("accelerate")
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    words = "the cat sat on mat and looked at dog a barks".split()
    en = [" ".join(words[(i * 3 + k) % len(words)] for k in range(3 + i % 3)) for i in range(8)]
    (tmp_path / "train.en").write_text("\n".join(en) + "\n")
    (tmp_path / "train.de").write_text("\n".join(" ".join(reversed(s.split())) for s in en) + "\n")
    cfg = tmp_path / "mle.yaml"
    cfg.write_text(f"base_model: {tiny_llama_dir}\nout: {tmp_path}/trained\nsteps: 3\nbatch_size: 4\nmax_length: 200\n"
                   f"data: {{src: {tmp_path}/train.de, tgt: {tmp_path}/train.en, src_lang: de, tgt_lang: en}}\n")
    assert main(["train", "mle", str(cfg), "--log-to", "mlflow"]) == 0
    logged = [json.loads(line) for line in (tmp_path / "trained" / "train_log.jsonl").read_text().splitlines()]
    client = mlflow_client(uri, monkeypatch)
    (run,) = mlflow_runs(client)
    history = sorted(client.get_metric_history(run.info.run_id, "loss"), key=lambda m: m.step)
    assert [(m.step, m.value) for m in history] == [(r["step"], pytest.approx(r["loss"])) for r in logged]
    assert run.data.params["method"] == "mle" and run.data.params["steps"] == "3" and run.info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(run.info.run_id, "trained")} >= {"trained/train_log.jsonl"}


def test_python_api_logs_to_mlflow(layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate(log_to=[...]) scores in its own process: it logs there, the same values."""
    pytest.importorskip("mlflow", reason="needs mlflow (pip install 'mtbench[trackers]')")
    import mtbench

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MTBENCH_DATA", str(layout))

    class Upper:
        def translate(self, requests):
            return [r.source.upper() for r in requests]

    results = mtbench.evaluate(model=Upper(), tasks=TASK, metrics="bleu", out=tmp_path / "run", log_to=["mlflow"],
                               significance="none")
    (run,) = mlflow_runs(mlflow_client(uri, monkeypatch))
    assert run.data.tags["mtbench.command"] == "evaluate"
    assert run.data.metrics["bleu/wmt22_de-en/Upper_base"] == results.tasks[TASK].scores["Upper+base"]["bleu"].score
    import sacrebleu

    folder = layout / "wmt22" / "de-en"
    direct = sacrebleu.corpus_bleu([s.upper() for s in read_lines(folder / "src.txt")],
                                   [read_lines(folder / "refs" / "ref.A.txt")]).score
    assert run.data.metrics["bleu/wmt22_de-en/Upper_base"] == pytest.approx(direct, abs=1e-9)
