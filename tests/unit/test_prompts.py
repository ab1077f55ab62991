"""Prompt adapters: golden prompts written out from the seed repositories' templates,
post-processing of messy completions, seeded few-shot selection, errors, registry.

Every golden string below is typed from the seed's source, not produced by mtbench:
the comment above each names the file and commit it comes from.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mtbench.errors import MtbenchError
from mtbench.models.base import DecodingParams
from mtbench.prompts import ADAPTERS, Adapter, make_adapter

DE = "Das Haus ist klein."
EN = "The house is small."

ALMA_URL = "https://github.com/fe1ixxu/ALMA/blob/10360c33dc875c747315dcf0a5be0d48472c7a4c/utils/utils.py"
TIM_URL = "https://github.com/lemon0830/TIM/blob/58764732da8348a734011375d1caa2d87cad49ef/inference/infer_llama.py"
LAT_URL = ("https://github.com/alphadl/LanguageAware_Tuning/blob/b69a120a497bde9d1e90acf831eaaf0615a2e224/"
           "evaluate/inference_w_vllm.py")
MFTI_URL = "https://github.com/NJUNLP/MFTI/blob/a25f1ab8f8dabcd79f34c293cb5abc3626507e37/instruct_mt/evaluate.py"

LAT_HEAD = ("Below is an instruction that describes a task, paired with an input that provides further context. "
            "Write a response that appropriately completes the request.\n\n")

GOLDEN: list[tuple[str, dict[str, Any], str, str, str, str]] = [
    # (adapter, options, src, tgt, source, expected prompt)
    # base: mtbench's own plain instruction (no seed; documented in mtbench/prompts/labelled.py)
    ("base", {}, "de", "en", DE, "Translate the following text from German to English.\nGerman: Das Haus ist klein.\nEnglish:"),
    ("base", {}, "en", "zh", EN, "Translate the following text from English to Chinese.\nEnglish: The house is small.\nChinese:"),
    # alma: ALMA_URL, get_prompt (prefix "Translate this from {src} to {tgt}:\n{src}: ", suffix "\n{tgt}:")
    ("alma", {}, "de", "en", DE, "Translate this from German to English:\nGerman: Das Haus ist klein.\nEnglish:"),
    ("alma", {}, "en", "zh", EN, "Translate this from English to Chinese:\nEnglish: The house is small.\nChinese:"),
    # tim: TIM_URL, func() + __main__ ("Translate from {src} to {tgt}.\n{line}")
    ("tim", {}, "de", "en", DE,
     "Write a response that appropriately completes the request.\n\n### Request:\n"
     "Translate from German to English.\nDas Haus ist klein.\n\n### Response:"),
    ("tim", {}, "en", "zh", EN,
     "Write a response that appropriately completes the request.\n\n### Request:\n"
     "Translate from English to Chinese.\nThe house is small.\n\n### Response:"),
    # tim --ifhint: TIM_URL line 178 ("\n\n###Note: A translation with no errors could be")
    ("tim", {"note": True}, "de", "en", DE,
     "Write a response that appropriately completes the request.\n\n### Request:\n"
     "Translate from German to English.\nDas Haus ist klein.\n\n###Note: A translation with no errors could be"
     "\n\n### Response:"),
    ("tim", {"note": True}, "en", "zh", EN,
     "Write a response that appropriately completes the request.\n\n### Request:\n"
     "Translate from English to Chinese.\nThe house is small.\n\n###Note: A translation with no errors could be"
     "\n\n### Response:"),
    # lat: LAT_URL, multilingual_PROMPT_DICT["en"]["prompt_input"] + Multilingul_instruction["en"]
    ("lat", {}, "de", "en", DE,
     LAT_HEAD + "### Instruction:\nTranslate the following sentences from German to English.\n\n"
     "### Input:\nDas Haus ist klein.\n\n### Response:"),
    ("lat", {}, "en", "zh", EN,
     LAT_HEAD + "### Instruction:\nTranslate the following sentences from English to Chinese.\n\n"
     "### Input:\nThe house is small.\n\n### Response:"),
    # lat-post-ins: LAT_URL, POST_INS_PROMPT_DICT["prompt_input"]
    ("lat-post-ins", {}, "de", "en", DE,
     LAT_HEAD + "### Input:\nDas Haus ist klein.\n\n### Instruction:\n"
     "Translate the following sentences from German to English.\n\n### Response:"),
    ("lat-post-ins", {}, "en", "zh", EN,
     LAT_HEAD + "### Input:\nThe house is small.\n\n### Instruction:\n"
     "Translate the following sentences from English to Chinese.\n\n### Response:"),
    # lat-ptl: LAT_URL, multilingual_PROMPT_DICT[tgt], Multilingul_instruction[tgt], lang_instruction[tgt]
    # (into English the PTL prompt is the English one)
    ("lat-ptl", {}, "de", "en", DE,
     LAT_HEAD + "### Instruction:\nTranslate the following sentences from German to English.\n\n"
     "### Input:\nDas Haus ist klein.\n\n### Response:"),
    ("lat-ptl", {}, "en", "zh", EN,
     "下面是描述任务的指令，并与提供进一步上下文的输入配对。 编写适当完成请求的响应。\n\n"
     "### 指令:\n将以下句子从 英语 翻译为 中文。\n\n### 输入:\nThe house is small.\n\n### 回复:"),
    # quirks kept byte for byte: the stray "B" of the Japanese header ...
    ("lat-ptl", {}, "en", "ja", EN,
     "B以下は、タスクを説明する指示と、さらなるコンテキストを提供する入力との組み合わせです。 "
     "リクエストを適切に完了するレスポンスを作成します。\n\n"
     "### 命令:\n次の文を 英語 から 日本語 に翻訳してください。\n\n### 入力:\nThe house is small.\n\n### 応答:"),
    # ... the missing space between the two Ukrainian header sentences ...
    ("lat-ptl", {}, "en", "uk", EN,
     "Нижче наведено інструкцію, яка описує завдання в поєднанні з введенням, що надає додатковий контекст."
     "Напишіть відповідь, яка відповідним чином доповнює запит.\n\n"
     "### Інструкція:\nПерекладіть наступні речення з англійська на українська.\n\n"
     "### Введення:\nThe house is small.\n\n### Відповідь:"),
    # ... and the German header, an IWSLT zero-shot direction into Romanian, French into German
    ("lat-ptl", {}, "en", "de", EN,
     "Nachfolgend finden Sie eine Anweisung, die eine Aufgabe beschreibt, gepaart mit einer Eingabe, die weiteren "
     "Kontext bereitstellt. Schreiben Sie eine Antwort, die die Anfrage angemessen vervollständigt.\n\n"
     "### Anweisung:\nÜbersetzen Sie die folgenden Sätze von Englisch in Deutsch.\n\n"
     "### Eingang:\nThe house is small.\n\n### Antwort:"),
    ("lat-ptl", {}, "it", "ro", "La casa è piccola.",
     "Mai jos este o instrucțiune care descrie o sarcină, asociată cu o intrare care oferă context suplimentar. "
     "Scrieți un răspuns care completează în mod corespunzător solicitarea.\n\n"
     "### Instruire:\nTraduceți următoarele propoziții din Italiană în Română.\n\n"
     "### Intrare:\nLa casa è piccola.\n\n### Raspuns:"),
    ("lat-ptl", {}, "fr", "de", "La maison est petite.",
     "Nachfolgend finden Sie eine Anweisung, die eine Aufgabe beschreibt, gepaart mit einer Eingabe, die weiteren "
     "Kontext bereitstellt. Schreiben Sie eine Antwort, die die Anfrage angemessen vervollständigt.\n\n"
     "### Anweisung:\nÜbersetzen Sie die folgenden Sätze von Französisch in Deutsch.\n\n"
     "### Eingang:\nLa maison est petite.\n\n### Antwort:"),
    # xglm: MFTI_URL, --template-str "1" = "Translation: [<srclang>]: <input> [<tgtlang>]:"
    ("xglm", {}, "de", "en", DE, "Translation: [German]: Das Haus ist klein. [English]:"),
    ("xglm", {}, "en", "zh", EN, "Translation: [English]: The house is small. [Chinese]:"),
    # xglm template "3": MFTI_URL, "<input> Translate from [<srclang>] to [<tgtlang>]:"
    ("xglm", {"template": "3"}, "de", "en", DE, "Das Haus ist klein. Translate from [German] to [English]:"),
    ("xglm", {"template": "3"}, "en", "zh", EN, "The house is small. Translate from [English] to [Chinese]:"),
]


def _golden_id(case: tuple[str, dict[str, Any], str, str, str, str]) -> str:
    name, options, src, tgt = case[:4]
    opts = ",".join(f"{k}={v}" for k, v in options.items())
    return f"{name}({opts}):{src}-{tgt}" if opts else f"{name}:{src}-{tgt}"


@pytest.mark.parametrize("name,options,src,tgt,source,expected", GOLDEN, ids=[_golden_id(g) for g in GOLDEN])
def test_golden_prompt(name: str, options: dict[str, Any], src: str, tgt: str, source: str, expected: str) -> None:
    assert make_adapter(name, **options).prompt(source, src, tgt) == expected


def test_seeds_strip_the_source_where_their_code_does() -> None:
    # TIM, LAT and MFTI strip each input line; ALMA passes the JSON string through unchanged.
    assert make_adapter("tim").prompt(DE + " \n", "de", "en") == make_adapter("tim").prompt(DE, "de", "en")
    assert make_adapter("lat").prompt(" " + DE, "de", "en") == make_adapter("lat").prompt(DE, "de", "en")
    assert make_adapter("xglm").prompt(DE + "\n", "de", "en") == make_adapter("xglm").prompt(DE, "de", "en")
    assert make_adapter("alma").prompt(DE + " ", "de", "en").endswith("German: Das Haus ist klein. \nEnglish:")


def test_seed_decoding_defaults() -> None:
    assert make_adapter("alma").decoding == DecodingParams(num_beams=5, max_new_tokens=256)
    assert make_adapter("tim").decoding == DecodingParams(num_beams=4, max_new_tokens=256, no_repeat_ngram_size=15)
    assert make_adapter("lat").decoding == DecodingParams(num_beams=4, max_new_tokens=512)
    assert make_adapter("lat-ptl").decoding == make_adapter("lat-post-ins").decoding == make_adapter("lat").decoding
    assert make_adapter("xglm").decoding == DecodingParams(num_beams=4, max_new_tokens=150)
    assert make_adapter("base").decoding.num_beams == 1


# ---------------------------------------------------------------- few-shot goldens


def _pool(tmp_path: Path, pair: str, shots: list[tuple[str, str]]) -> Path:
    folder = tmp_path / "pool"
    folder.mkdir(exist_ok=True)
    items = [{"source": s, "target": t} for s, t in shots]
    (folder / f"shots.{pair}.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return folder


def test_alma_few_shot_golden(tmp_path: Path) -> None:
    # ALMA_URL, get_prompt_few_shot: prefix, then "\n{src}: " + shot_src + "\n{tgt}: " + shot_tgt per shot,
    # then "\n{src}: " + source + "\n{tgt}:"; the whole pool file in file order (run_llmmt.py).
    pool = _pool(tmp_path, "de-en", [("Ja.", "Yes."), ("Nein.", "No.")])
    adapter = make_adapter("alma", shots=2, shot_pool=str(pool))
    assert adapter.prompt(DE, "de", "en") == (
        "Translate this from German to English:\nGerman: Ja.\nEnglish: Yes.\nGerman: Nein.\nEnglish: No."
        "\nGerman: Das Haus ist klein.\nEnglish:"
    )


def test_lat_few_shot_golden(tmp_path: Path) -> None:
    # LAT evaluate/1_shot_samples.json (same commit as LAT_URL): each example is the full prompt,
    # the reference right after "### Response:" and "\n"; the query prompt follows.
    pool = _pool(tmp_path, "en-de", [("Yes.", "Ja.")])
    adapter = make_adapter("lat", shots=1, shot_pool=str(pool))
    assert adapter.prompt(EN, "en", "de") == (
        LAT_HEAD + "### Instruction:\nTranslate the following sentences from English to German.\n\n"
        "### Input:\nYes.\n\n### Response:Ja.\n"
        + LAT_HEAD + "### Instruction:\nTranslate the following sentences from English to German.\n\n"
        "### Input:\nThe house is small.\n\n### Response:"
    )


def test_xglm_few_shot_golden(tmp_path: Path) -> None:
    # MFTI instruct_mt/templates/mt_template.py (commit of MFTI_URL), construct_prefix:
    # ' '.join(prefix(x) + ' ' + y for each example) + " " + prefix(source)
    pool = _pool(tmp_path, "de-en", [("Ja.", "Yes."), ("Nein.", "No.")])
    adapter = make_adapter("xglm", shots=2, shot_pool=str(pool), seed=None)
    assert adapter.prompt(DE, "de", "en") == (
        "Translation: [German]: Ja. [English]: Yes. Translation: [German]: Nein. [English]: No. "
        "Translation: [German]: Das Haus ist klein. [English]:"
    )


@pytest.mark.data
def test_alma_five_shot_uses_the_whole_hw_pool_in_order(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTBENCH_DATA", str(data_dir))
    pool = json.loads((data_dir / "train/alma-shots/HW-5-shot/shots.de-en.json").read_text(encoding="utf-8"))
    expected = "Translate this from German to English:" + "".join(
        "\nGerman: " + s["source"] + "\nEnglish: " + s["target"] for s in pool) + "\nGerman: " + DE + "\nEnglish:"
    adapter = make_adapter("alma", shots=5)
    assert adapter.prompt(DE, "de", "en") == expected
    assert adapter.describe()["examples"]["de-en"] == pool
    assert adapter.describe()["shot_pool"] == "alma:HW-5-shot"


# ---------------------------------------------------------------- post-processing


def _post(name: str, raw: str, src: str = "de", tgt: str = "en", source: str = DE, **options: Any) -> str:
    return make_adapter(name, **options).postprocess(raw, source, src, tgt)


@pytest.mark.parametrize("raw,expected", [
    (" The house is small.", EN),
    (" The house is small.\nGerman: Der Hund bellt.\nEnglish: The dog barks.", EN),  # run-on: cut at "\nEnglish:"
    ("\n The house is small.\n", EN),  # blank line after the label is skipped
    ("\n\n The house is small.", EN),  # ... and a second one
    ("\n\n\nThe house is small.", ""),  # ALMA looks at three lines only: the third is blank -> ""
    ("\nEnglish: The house is small.", EN),  # empty answer: ALMA's fallback reads the next piece
    ("", ""),
    ("   \n  ", ""),
])
def test_alma_postprocess_follows_clean_outputstring(raw: str, expected: str) -> None:
    assert _post("alma", raw) == expected


def test_alma_postprocess_handles_an_echoed_prompt() -> None:
    adapter = make_adapter("alma")
    prompt = adapter.prompt(DE, "de", "en")
    assert adapter.postprocess(prompt + " The house is small.\nGerman: x", DE, "de", "en") == EN


def test_alma_few_shot_empty_output_is_empty_not_an_example(tmp_path: Path) -> None:
    # ALMA's fallback reads piece 2 of prompt+output, which in a few-shot prompt is the second
    # example's target; mtbench reads the piece after the answer instead.
    pool = _pool(tmp_path, "de-en", [("Ja.", "Yes."), ("Nein.", "No.")])
    adapter = make_adapter("alma", shots=2, shot_pool=str(pool))
    assert adapter.postprocess("", DE, "de", "en") == ""
    assert adapter.postprocess(" The house is small.\nGerman: Ja.", DE, "de", "en") == EN


@pytest.mark.parametrize("name", ["tim", "lat", "lat-post-ins", "lat-ptl"])
@pytest.mark.parametrize("raw,expected", [
    (" The house is small.", EN),
    ("The house\nis small.", "The houseis small."),  # the seeds join lines with no separator
    ("\nThe house is small.\n", EN),
    ("The house is small.\n\n### Request:\nTranslate from German to English.\nDer Hund.\n\n### Response: The dog.", EN),
    ("The house is small.\n\n### Input:\nDer Hund.", EN),
    ("", ""),
    ("\n\n", ""),
])
def test_alpaca_postprocess(name: str, raw: str, expected: str) -> None:
    assert _post(name, raw) == expected


def test_alpaca_postprocess_cuts_a_new_prompt_and_an_echo() -> None:
    lat = make_adapter("lat")
    prompt = lat.prompt(DE, "de", "en")
    assert lat.postprocess(prompt + " The house is small.", DE, "de", "en") == EN
    assert lat.postprocess("The house is small.\n" + prompt, DE, "de", "en") == EN
    tim = make_adapter("tim", note=True)
    assert tim.postprocess(tim.prompt(DE, "de", "en") + "The house is small.", DE, "de", "en") == EN
    assert tim.postprocess("The house is small.\nWrite a response that appropriately completes the request.",
                           DE, "de", "en") == EN
    ptl = make_adapter("lat-ptl")
    assert ptl.postprocess("房子很小。\n\n### 输入:\n狗。", EN, "en", "zh") == "房子很小。"


@pytest.mark.parametrize("raw,expected", [
    (" The house is small.", EN),
    (" The house is small. Translation: [German]: Der Hund. [English]: The dog.", EN),  # next example
    ("\nThe house is small.\nDer Hund.", EN),  # first non-empty line
    ("", ""),
])
def test_xglm_postprocess(raw: str, expected: str) -> None:
    assert _post("xglm", raw) == expected


def test_xglm_postprocess_echo() -> None:
    adapter = make_adapter("xglm")
    assert adapter.postprocess(adapter.prompt(DE, "de", "en") + " The house is small.", DE, "de", "en") == EN


@pytest.mark.parametrize("raw,expected", [
    (" The house is small.", EN),
    (" The house is small.\nGerman: Der Hund.\nEnglish: The dog.", EN),
    ("\nEnglish: The house is small.", EN),  # repeated target label
    ("German: Das Haus ist klein.\nEnglish: The house is small.", EN),  # echoed source line
    ("", ""),
    ("\n \n", ""),
])
def test_base_postprocess(raw: str, expected: str) -> None:
    assert _post("base", raw) == expected


def test_base_postprocess_echo() -> None:
    adapter = make_adapter("base")
    assert adapter.postprocess(adapter.prompt(DE, "de", "en") + " The house is small.\n", DE, "de", "en") == EN


# ---------------------------------------------------------------- few-shot selection


def _five(tmp_path: Path) -> Path:
    return _pool(tmp_path, "de-en", [(f"Satz {i}.", f"Sentence {i}.") for i in range(5)])


def test_seeded_selection_is_reproducible_and_recorded(tmp_path: Path) -> None:
    pool = _five(tmp_path)
    a = make_adapter("base", shots=2, shot_pool=str(pool), seed=1)
    b = make_adapter("base", shots=2, shot_pool=str(pool), seed=1)
    assert a.prompt(DE, "de", "en") == b.prompt(DE, "de", "en")
    assert a.describe() == b.describe()
    chosen = a.describe()["examples"]["de-en"]
    assert len(chosen) == 2 and a.describe()["seed"] == 1 and a.describe()["shots"] == 2
    idx = random.Random(1).sample(range(5), 2)
    assert chosen == [{"source": f"Satz {i}.", "target": f"Sentence {i}."} for i in idx]
    prompt = a.prompt(DE, "de", "en")
    for ex in chosen:
        assert f"\nGerman: {ex['source']}\nEnglish: {ex['target']}\n" in prompt
    json.dumps(a.describe())  # goes into a manifest


def test_different_seeds_choose_different_examples(tmp_path: Path) -> None:
    pool = _five(tmp_path)
    assert random.Random(1).sample(range(5), 2) != random.Random(2).sample(range(5), 2)
    a = make_adapter("base", shots=2, shot_pool=str(pool), seed=1)
    b = make_adapter("base", shots=2, shot_pool=str(pool), seed=2)
    assert a.prompt(DE, "de", "en") != b.prompt(DE, "de", "en")
    assert a.describe() != b.describe()


def test_describe_changes_with_every_prompt_option() -> None:
    descs = [make_adapter("tim").describe(), make_adapter("tim", note=True).describe(),
             make_adapter("tim", note=True, note_label="Hint").describe()]
    assert len({json.dumps(d, sort_keys=True) for d in descs}) == 3
    assert make_adapter("xglm").describe() != make_adapter("xglm", template="2").describe()
    assert make_adapter("lat").describe() != make_adapter("lat-post-ins").describe()


@pytest.mark.data
def test_default_pool_is_almas(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTBENCH_DATA", str(data_dir))
    adapter = make_adapter("base", shots=3, seed=7)
    desc = adapter.describe()
    assert desc["shot_pool"] == "alma:HW-5-shot" and "de-en" in desc["examples"] and len(desc["examples"]["de-en"]) == 3
    assert adapter.prompt(DE, "de", "en").count("\nEnglish:") == 4
    filtered = make_adapter("base", shots=1, shot_pool="Filtered-5-shot")
    assert "en-ja" in filtered.describe()["examples"]
    with pytest.raises(MtbenchError, match=r"HW-5-shot/shots\.en-ja\.json"):
        adapter.prompt(EN, "en", "ja")  # HW-5-shot has no en-ja


def test_missing_pool_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(MtbenchError, match="nowhere") as err:
        make_adapter("base", shots=2, shot_pool=str(missing))
    assert "\n" not in str(err.value)
    pool = _five(tmp_path)  # has de-en only
    adapter = make_adapter("base", shots=2, shot_pool=str(pool))
    with pytest.raises(MtbenchError, match=r"shots\.en-de\.json") as err:
        adapter.prompt(EN, "en", "de")
    assert str(pool) in str(err.value) and "\n" not in str(err.value)
    monkeypatch.delenv("MTBENCH_DATA", raising=False)
    with pytest.raises(MtbenchError, match="MTBENCH_DATA"):
        make_adapter("alma", shots=5)
    with pytest.raises(MtbenchError, match="holds only 5"):
        make_adapter("base", shots=6, shot_pool=str(pool)).prompt(DE, "de", "en")


def test_pool_file_with_parallel_items(tmp_path: Path) -> None:
    path = tmp_path / "valid.json"
    path.write_text(json.dumps([{"translation": {"de": "Ja.", "en": "Yes."}}]), encoding="utf-8")
    adapter = make_adapter("alma", shots=1, shot_pool=str(path))
    assert "\nGerman: Ja.\nEnglish: Yes.\n" in adapter.prompt(DE, "de", "en")
    assert "\nEnglish: Yes.\nGerman: Ja.\n" in adapter.prompt(EN, "en", "de")
    assert adapter.describe()["examples"] == {"*": [{"translation": {"de": "Ja.", "en": "Yes."}}]}
    with pytest.raises(MtbenchError, match="item 0"):
        adapter.prompt(EN, "en", "zh")


# ---------------------------------------------------------------- errors and registry


def test_unknown_adapter_and_option_say_did_you_mean() -> None:
    with pytest.raises(MtbenchError, match="unknown adapter 'almaa': did you mean 'alma'"):
        make_adapter("almaa")
    with pytest.raises(MtbenchError, match="no option 'shot'.*did you mean 'shots'"):
        make_adapter("base", shot=2)
    with pytest.raises(MtbenchError, match="no template '7': choose one of: 1, 2"):
        make_adapter("xglm", template="7")
    with pytest.raises(MtbenchError, match="shots must be"):
        make_adapter("lat", shots=-1)
    assert make_adapter("lat", shots=None).describe()["shots"] == 0  # a config that left shots unset


@pytest.mark.parametrize("name", ["base", "alma", "tim", "lat", "lat-post-ins", "xglm"])
def test_unnameable_language_is_a_one_line_error(name: str) -> None:
    with pytest.raises(MtbenchError) as err:
        make_adapter(name).prompt(DE, "de", "xx")
    msg = str(err.value)
    assert f"adapter {name!r}" in msg and "'xx'" in msg and "mtbench/langs.py" in msg and "\n" not in msg


def test_ptl_errors_name_the_gap() -> None:
    with pytest.raises(MtbenchError, match="no prompt written in the target language 'is'.*lat_ptl.py"):
        make_adapter("lat-ptl").prompt(EN, "en", "is")
    with pytest.raises(MtbenchError, match=r"cannot name language 'is' in its 'de' prompt.*NAMES\['de'\]"):
        make_adapter("lat-ptl").prompt("Húsið er lítið.", "is", "de")


@pytest.mark.parametrize("tgt", ["de", "cs", "ru", "zh", "ja", "uk", "fr", "it", "nl", "ro"])
def test_ptl_covers_every_direction_among_the_lat_languages(tgt: str) -> None:
    adapter = make_adapter("lat-ptl")
    for src in ["en", "de", "cs", "ru", "zh", "ja", "uk", "fr", "it", "nl", "ro"]:
        if src != tgt:
            prompt = adapter.prompt("x", src, tgt)
            assert "Below is an instruction" not in prompt and prompt.endswith(":")


def test_registry_lists_every_adapter_and_all_satisfy_the_protocol() -> None:
    names = ADAPTERS.names()
    assert {"base", "alma", "tim", "lat", "lat-post-ins", "lat-ptl", "xglm", "chat"} <= set(names)
    for name in names:
        if name != "chat":
            adapter = make_adapter(name)
            assert isinstance(adapter, Adapter) and adapter.name == name
            assert isinstance(adapter.decoding, DecodingParams)
            json.dumps(adapter.describe())


def test_entry_point_plugins_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    import mtbench.registry as registry_module

    def fake_entry_points(group: str) -> list[Any]:
        assert group == "mtbench.adapters"
        return [SimpleNamespace(name="mine", value="mtbench.prompts.labelled:alma")]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    monkeypatch.setattr(ADAPTERS, "_items", dict(ADAPTERS._items))
    monkeypatch.setattr(ADAPTERS, "_plugins_loaded", False)
    assert "mine" in ADAPTERS.names()
    assert make_adapter("mine").prompt(DE, "de", "en") == make_adapter("alma").prompt(DE, "de", "en")


# ---------------------------------------------------------------- chat


class FakeChatTokenizer:
    """Renders one user turn the way a typical instruct template does."""

    name_or_path = "fake/chat"
    chat_template = "<|user|>...<|assistant|>"

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = False,
                            add_generation_prompt: bool = False) -> str:
        assert tokenize is False and add_generation_prompt is True
        return "".join(f"<|{m['role']}|>\n{m['content']}<|end|>\n" for m in messages) + "<|assistant|>\n"


def test_chat_wraps_the_inner_prompt() -> None:
    # the call is ALMA's chat_style (run_llmmt.py / utils.py at ALMA_URL's commit): one user message,
    # apply_chat_template(tokenize=False, add_generation_prompt=True); the markup is the fake tokenizer's
    adapter = make_adapter("chat", tokenizer=FakeChatTokenizer())
    assert adapter.prompt(DE, "de", "en") == (
        "<|user|>\nTranslate the following text from German to English.\nGerman: Das Haus ist klein.\nEnglish:"
        "<|end|>\n<|assistant|>\n"
    )
    alma = make_adapter("chat", tokenizer=FakeChatTokenizer(), inner="alma")
    assert alma.prompt(EN, "en", "zh") == (
        "<|user|>\nTranslate this from English to Chinese:\nEnglish: The house is small.\nChinese:<|end|>\n<|assistant|>\n"
    )
    assert alma.decoding == make_adapter("alma").decoding
    desc = alma.describe()
    assert desc["tokenizer"] == "fake/chat" and desc["inner"]["adapter"] == "alma" and desc["chat_template"]


def test_chat_passes_shots_to_the_inner_adapter(tmp_path: Path) -> None:
    pool = _pool(tmp_path, "de-en", [("Ja.", "Yes.")])
    adapter = make_adapter("chat", tokenizer=FakeChatTokenizer(), inner="alma", shots=1,
                           inner_options={"shot_pool": str(pool)})
    assert "\nGerman: Ja.\nEnglish: Yes.\n" in adapter.prompt(DE, "de", "en")
    assert adapter.describe()["inner"]["shots"] == 1


def test_chat_postprocess() -> None:
    adapter = make_adapter("chat", tokenizer=FakeChatTokenizer())
    prompt = adapter.prompt(DE, "de", "en")
    assert adapter.postprocess("English: The house is small.\nGerman: x", DE, "de", "en") == EN
    assert adapter.postprocess(prompt + "The house is small.", DE, "de", "en") == EN
    assert adapter.postprocess("", DE, "de", "en") == ""


def test_chat_without_tokenizer_or_template_is_a_one_line_error() -> None:
    with pytest.raises(MtbenchError, match="needs the model's tokenizer") as err:
        make_adapter("chat")
    assert "\n" not in str(err.value)
    no_template = FakeChatTokenizer()
    no_template.chat_template = None  # type: ignore[assignment]
    with pytest.raises(MtbenchError, match="has no chat template"):
        make_adapter("chat", tokenizer=no_template)
    with pytest.raises(MtbenchError, match="no apply_chat_template"):
        make_adapter("chat", tokenizer=object())
    with pytest.raises(MtbenchError, match="cannot wrap itself"):
        make_adapter("chat", tokenizer=FakeChatTokenizer(), inner="chat")


def test_chat_with_a_real_hugging_face_tokenizer() -> None:
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="</s>")
    with pytest.raises(MtbenchError) as err:
        make_adapter("chat", tokenizer=tok)
    assert "chat template" in str(err.value) and "\n" not in str(err.value)
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    adapter = make_adapter("chat", tokenizer=tok, inner="tim")
    assert adapter.prompt(DE, "de", "en") == "<|user|>" + make_adapter("tim").prompt(DE, "de", "en") + "<|assistant|>"
