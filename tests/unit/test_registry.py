"""Test-set descriptors, suites, languages and the generic registry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mtbench.data.testsets import TESTSETS, PairSpec, get_testset, make_testset
from mtbench.errors import MtbenchError
from mtbench.langs import LANGUAGES, bleu_tokenizer, get_language, language_name
from mtbench.registry import Registry
from mtbench.tasks import load_suites, resolve_tasks


def test_wmt22_has_21_pairs_and_ref_b_for_czech() -> None:
    wmt22 = get_testset("wmt22")
    assert len(wmt22.pairs) == 21
    assert wmt22.pair("cs-en").ref == "B" and wmt22.pair("en-cs").ref == "B"
    assert {s.ref for k, s in wmt22.pairs.items() if "cs" not in k.split("-")[0:1] + k.split("-")[1:]} <= {"A"}
    assert wmt22.pair("cs-uk").ref == "A"


def test_descriptors_are_frozen_and_validated() -> None:
    spec = get_testset("wmt22").pair("de-en")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.ref = "B"  # type: ignore[misc]
    with pytest.raises(ValueError):
        PairSpec("en", "en")
    with pytest.raises(ValueError):
        make_testset("x", "x", ["de-en"], ("x",), overrides={"fr-en": {"ref": "B"}})


def test_iwslt_sets() -> None:
    ml = get_testset("iwslt17-mltlng")
    zero = {k for k, s in ml.pairs.items() if s.zero_shot}
    assert zero == {"it-nl", "nl-it", "it-ro", "ro-it", "nl-ro", "ro-nl"}
    assert {"en-it", "it-en", "en-nl", "nl-en", "en-ro", "ro-en"} <= set(ml.pairs) - zero
    assert get_testset("iwslt17").pair("en-de").key == "en-de"
    # Hugging Face's copy is tst2010 and must not stand in for tst2017
    assert ml.hf is None and get_testset("iwslt17-mltlng-tst2010").hf is not None


@pytest.mark.parametrize("suite,count", [("alma", 10), ("tim", 4), ("lat-wmt", 10), ("lat-iwslt", 6), ("wmt22-all", 21)])
def test_suites(suite: str, count: int) -> None:
    tasks = resolve_tasks(suite)
    assert len(tasks) == count
    assert len({t.name for t in tasks}) == count


def test_alma_suite_directions() -> None:
    names = {t.name for t in resolve_tasks("alma")}
    assert names == {f"wmt22:{p}" for p in ("de-en", "en-de", "cs-en", "en-cs", "zh-en", "en-zh", "ru-en", "en-ru")} | {
        "wmt21:is-en", "wmt21:en-is"}


def test_lat_iwslt_suite_is_zero_shot() -> None:
    assert all(t.spec.zero_shot for t in resolve_tasks("lat-iwslt"))


def test_task_specs_mix_and_dedupe() -> None:
    tasks = resolve_tasks("wmt22:de-en,tim,wmt21:*")
    names = [t.name for t in tasks]
    assert names[0] == "wmt22:de-en" and names.count("wmt22:de-en") == 1
    assert len([n for n in names if n.startswith("wmt21:")]) == 16


def test_user_suite_from_include_path(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("suite: mine\ndescription: two\ntasks: [wmt22:de-en, lat-iwslt]\nlimit: 5\n")
    assert "mine" in load_suites([tmp_path])
    assert len(resolve_tasks("mine", [tmp_path])) == 7
    with pytest.raises(MtbenchError, match="did you mean 'mine'"):
        resolve_tasks("mien", [tmp_path])


def test_suite_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("suite: a\ntasks: [b]\n")
    (tmp_path / "b.yaml").write_text("suite: b\ntasks: [a]\n")
    with pytest.raises(MtbenchError, match="includes itself"):
        resolve_tasks("a", [tmp_path])


def test_bleu_tokenizer_presets() -> None:
    assert bleu_tokenizer("zh") == "zh" and bleu_tokenizer("zh", "wmt") == "zh"
    assert bleu_tokenizer("ja") == "ja-mecab" and bleu_tokenizer("ja", "wmt") == "char"
    assert bleu_tokenizer("de") == "13a" and bleu_tokenizer("liv", "wmt") == "13a"
    with pytest.raises(MtbenchError, match="unknown scoring preset"):
        bleu_tokenizer("de", "wmt23")


def test_language_names_and_lid_labels() -> None:
    # names as ALMA (utils/utils.py LANG_TABLE), TIM and LAT spell them
    assert [language_name(c) for c in ("de", "cs", "is", "zh", "ru", "ja", "uk", "nl")] == [
        "German", "Czech", "Icelandic", "Chinese", "Russian", "Japanese", "Ukrainian", "Dutch"]
    assert get_language("zh").fasttext == "zh" and get_language("ha").fasttext is None
    with pytest.raises(MtbenchError, match="no name"):
        language_name("xx")
    # every language of every registered test set is known
    for name in TESTSETS.names():
        for spec in get_testset(name).pairs.values():
            assert spec.src in LANGUAGES and spec.tgt in LANGUAGES, (name, spec.key)


def test_registry_lazy_and_did_you_mean() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("json-dumps", "json:dumps")
    import json

    assert reg.get("json-dumps") is json.dumps
    reg.register("broken", "no_such_module_xyz:thing")
    with pytest.raises(MtbenchError, match="not installed"):
        reg.get("broken")
    with pytest.raises(MtbenchError, match="did you mean 'json-dumps'"):
        reg.get("json-dump")
    with pytest.raises(MtbenchError, match="registered twice"):
        reg.register("json-dumps", "json:loads")


def test_suites_from_a_checkout_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an install there is no ``mtbench.suites`` package (pyproject maps
    ``tasks/`` to it); the suites then come from ``tasks/`` beside the package, the
    same ones an install ships."""
    from importlib import resources

    import yaml

    import mtbench.tasks as tasks_module

    installed = load_suites()
    repo_tasks = Path(tasks_module.__file__).resolve().parent.parent / "tasks"
    if not repo_tasks.is_dir():
        pytest.skip("not a checkout (no tasks/ beside the package)")
    real_files = resources.files

    def no_suites_package(name: str) -> object:
        if name == "mtbench.suites":
            raise ModuleNotFoundError("No module named 'mtbench.suites'")
        return real_files(name)

    monkeypatch.setattr(resources, "files", no_suites_package)
    from_checkout = load_suites()
    files = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in repo_tasks.glob("*.yaml")]
    assert set(from_checkout) == set(installed) == {d["suite"] for d in files if "suite" in d}
    assert from_checkout["alma"].tasks == installed["alma"].tasks
