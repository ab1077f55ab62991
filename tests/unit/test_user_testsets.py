"""A user's own test set and suite: YAML files in an --include-path folder, run through
the CLI; and the bundled test sets read from tasks/testset-*.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

from mtbench.cli import main
from mtbench.data.testsets import TESTSETS, yaml_testsets
from mtbench.paths import bundled_tasks_folder
from mtbench.textio import read_json
from tests.conftest import TINY_REF_A, TINY_REF_B, TINY_SRC, TINY_SYS, write_lines

TESTSET = """\
testset: mytest
description: a test set of my own
pairs: [de-en, en-de]
primary_ref: {en-de: B}
local_dirs: [mytest]
"""
SUITE = """\
suite: mine
description: both directions of my test set
tasks: [mytest:de-en, mytest:en-de]
"""


def layout(root: Path) -> Path:
    for pair in ("de-en", "en-de"):
        d = root / "mytest" / pair
        write_lines(d / "src.txt", TINY_SRC)
        write_lines(d / "refs" / "ref.A.txt", TINY_REF_A)
        write_lines(d / "refs" / "ref.B.txt", TINY_REF_B)
        write_lines(d / "systems" / "good.txt", TINY_SYS["good"])
    return root


def test_a_test_set_and_a_suite_from_an_include_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "mytest.yaml").write_text(TESTSET)
    (plugins / "mine.yaml").write_text(SUITE)
    out = tmp_path / "run"
    assert main(["run", "--include-path", str(plugins), "--tasks", "mine", "--data-dir", str(layout(tmp_path / "data")),
                 "--metrics", "bleu", "--significance", "none", "--out", str(out)]) == 0
    results = read_json(out / "results.json")
    assert list(results["tasks"]) == ["mytest:de-en", "mytest:en-de"]
    de_en = results["tasks"]["mytest:de-en"]["scores"]["good"]["bleu"]["score"]
    en_de = results["tasks"]["mytest:en-de"]["scores"]["good"]["bleu"]["score"]
    assert de_en == sacrebleu.corpus_bleu(TINY_SYS["good"], [TINY_REF_A]).score  # ref A: the default
    assert en_de == sacrebleu.corpus_bleu(TINY_SYS["good"], [TINY_REF_B], tokenize="13a").score  # primary_ref B
    assert de_en != en_de


@pytest.mark.parametrize("text, needle", [
    (TESTSET.replace("pairs:", "pair:"), "unknown key 'pair': did you mean 'pairs'"),
    (TESTSET.replace("{en-de: B}", "{en-fr: B}"), "`primary_ref:` names 'en-fr', which is not in `pairs:`"),
    (TESTSET.replace("[de-en, en-de]", "[de-en, deen]"), "`pairs:` must be distinct src-tgt language pairs"),
    (TESTSET.replace("testset: mytest", "testset: wmt22"), "test set 'wmt22' is already defined in"),
    (TESTSET.replace("local_dirs: [mytest]\n", ""), "test set needs `local_dirs:`"),
])
def test_a_bad_test_set_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                         needle: str) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "bad.yaml").write_text(text)
    assert main(["run", "--include-path", str(plugins), "--tasks", "wmt22:de-en", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and str(plugins / "bad.yaml") in err, err
    assert not (tmp_path / "run").exists()


def test_the_bundled_test_sets_are_the_registry() -> None:
    """The facts the seed papers fix, read back from tasks/testset-*.yaml."""
    bundled = sorted(data["testset"] for _, data in yaml_testsets(bundled_tasks_folder()))
    assert bundled == ["iwslt17", "iwslt17-mltlng", "iwslt17-mltlng-tst2010", "iwslt17-tst2016", "wmt21", "wmt22"]
    assert set(bundled) <= set(TESTSETS.names())  # (the process may hold a test's own test sets too)
    wmt22 = TESTSETS.get("wmt22")
    assert len(wmt22.pairs) == 21 and {k for k, p in wmt22.pairs.items() if p.ref != "A"} == {"cs-en", "en-cs"}
    assert wmt22.pair("cs-en").ref == "B" and wmt22.sacrebleu == "wmt22" and wmt22.local_dirs == ("wmt22",)
    mltlng = TESTSETS.get("iwslt17-mltlng")
    assert {k for k, p in mltlng.pairs.items() if p.zero_shot} == {"it-nl", "nl-it", "it-ro", "ro-it", "nl-ro", "ro-nl"}
    tst2010 = TESTSETS.get("iwslt17-mltlng-tst2010")
    assert tst2010.hf is not None and (tst2010.hf.path, tst2010.hf.config, tst2010.hf.split) == (
        "IWSLT/iwslt2017", "iwslt2017-{src}-{tgt}", "test")
    assert "de-en" not in tst2010.pairs and len(TESTSETS.get("iwslt17").pairs) == 12
