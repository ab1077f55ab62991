"""The failure-profile metrics on hand-built segments: each case is written so that
the expected flag follows from the documented rule by reading it, not from the code."""

from __future__ import annotations

import pytest
from sacrebleu.metrics.chrf import CHRF

from mtbench.errors import MtbenchError
from mtbench.metrics import GROUPS, expand_metric_names, make_metric
from mtbench.metrics.base import GenerationRecord, ScoringContext
from mtbench.metrics.failures.copied import COPY_CHRF, REFERENCE_NEAR_SOURCE, sentence_chrf
from mtbench.metrics.failures.echo import scaffolding
from mtbench.metrics.failures.repetition import repeated_share
from mtbench.prompts import make_adapter

SRC = ["Das Haus ist sehr alt und steht am Fluss.", "Ich liebe dich.", "Guten Morgen, Welt!", "Er kam spät nach Hause."]
REF = ["The house is very old and stands by the river.", "I love you.", "Good morning, world!", "He came home late."]


def ctx(generations: dict[str, GenerationRecord] | None = None, sources: list[str] = SRC,
        refs: list[str] = REF, src: str = "de", tgt: str = "en") -> ScoringContext:
    return ScoringContext(src, tgt, sources, {"A": refs}, generations=generations or {})


def flags(metric: str, lines: list[str], context: ScoringContext | None = None, system: str = "s") -> list[float]:
    res = make_metric(metric).score_systems(context or ctx(), {system: lines})[system]
    return res.segment_scores


def test_every_profile_metric_declares_a_lower_is_better_rate() -> None:
    for name in GROUPS["failures"]:
        info = make_metric(name).info()
        assert info.failure_profile and not info.higher_is_better and info.unit == "% of lines", name


def test_failures_group_expands_in_place_once() -> None:
    assert expand_metric_names(["bleu", "failures", "off-target"]) == ["bleu", *GROUPS["failures"]]


def test_empty_flags_blank_and_whitespace_lines() -> None:
    assert flags("empty", ["", " \t", "ok", "Home late."]) == [100.0, 100.0, 0.0, 0.0]
    res = make_metric("empty").score_systems(ctx(), {"s": ["", " \t", "ok", "x"]})["s"]
    assert res.score == 50.0  # 2 of 4 lines
    assert res.details["flagged"] == 2


def test_copy_flags_a_copied_source_not_a_translation() -> None:
    lines = [SRC[0], "I love you.", "GUTEN  morgen, Welt!", "He came home late."]
    assert flags("copy", lines) == [100.0, 0.0, 100.0, 0.0]  # case and spacing do not hide a copy


def test_copy_flags_a_partly_translated_source_by_chrf() -> None:
    partial = "Das Haus ist sehr alt und steht am river."
    to_src = CHRF().sentence_score(partial, [SRC[0]]).score
    to_ref = CHRF().sentence_score(partial, [REF[0]]).score
    assert to_src >= COPY_CHRF and to_src > to_ref  # the rule's premise, checked with sacrebleu itself
    assert flags("copy", [partial] + REF[1:]) == [100.0, 0.0, 0.0, 0.0]


def test_copy_does_not_judge_lines_whose_reference_is_the_source() -> None:
    # names-only segment: the reference differs from the source by one abbreviation
    src, ref = ["Vojtěch versus Hamáček."], ["Vojtěch vs. Hamáček."]
    assert CHRF().sentence_score(ref[0], [src[0]]).score >= REFERENCE_NEAR_SOURCE
    assert flags("copy", src, ctx(sources=src, refs=ref, src="cs")) == [0.0]


def test_sentence_chrf_is_sacrebleus() -> None:
    hyps, refs = ["The house is old.", "Hello", ""], ["The house is very old.", "Hello world", "x"]
    ours = sentence_chrf(hyps, refs)
    for h, r, v in zip(hyps, refs, ours):
        assert v == CHRF().sentence_score(h, [r]).score


def test_echo_flags_alma_prompt_scaffolding_in_an_output() -> None:
    # ALMA's prompt is "Translate this from German to English:\nGerman: {src}\nEnglish:"
    lines = ["Translate this from German to English: The house is very old.",
             "English: I love you.",
             "Good morning, world!",
             "He came home late."]
    assert flags("echo", lines) == [100.0, 100.0, 0.0, 0.0]


def test_echo_counts_a_label_only_where_a_model_writes_it() -> None:
    src = ["美丽英文 那些书信", "Die kommt dann aber viel später an"]
    ref = ["Beautiful English, the letters", "However, they don't get back till much later"]
    lines = ["Beautiful English: Those letters", "### English:She arrives much later then."]  # GPT-4's outputs
    assert flags("echo", lines, ctx(sources=src, refs=ref, src="zh")) == [0.0, 100.0]


def test_echo_uses_the_systems_own_prompt_with_its_few_shot_demonstration() -> None:
    # ALMA's one-shot layout, written out by hand (utils.py get_prompt_few_shot)
    shot = "\nGerman: Wie spät ist es?\nEnglish: What time is it?"
    prompts = [f"Translate this from German to English:{shot}\nGerman: {s}\nEnglish:" for s in SRC]
    lines = ["What time is it?", "I love you.", "Good morning, world!", "He came home late."]
    record = GenerationRecord("generated", "alma", prompts, [5] * 4, 256)
    assert flags("echo", lines, ctx({"s": record})) == [100.0, 0.0, 0.0, 0.0]
    # a precomputed system is checked against the registered adapters' zero-shot prompts,
    # which have no demonstration
    assert flags("echo", lines) == [0.0, 0.0, 0.0, 0.0]


def test_echo_ignores_scaffolding_words_that_the_segment_itself_contains() -> None:
    src = ["Response: wir haben keine."]
    ref = ["### Response: we have none."]
    prompt = "### Instruction:\nTranslate.\n\n### Input:\nResponse: wir haben keine.\n\n### Response:"
    record = GenerationRecord("generated", "lat", [prompt], [4], 512)
    assert flags("echo", ["### Response: we have none."], ctx({"s": record}, src, ref)) == [0.0]


def test_scaffolding_takes_the_source_out_and_splits_labels() -> None:
    prompt = make_adapter("alma").prompt("Hallo Welt", "de", "en")
    assert scaffolding(prompt, "Hallo Welt") == ["translate this from german to english:", "german:", "english:"]


def test_truncated_flags_generations_that_hit_the_limit() -> None:
    record = GenerationRecord("generated", "alma", None, [64, 12, 63, 64], 64)
    assert flags("truncated", REF, ctx({"s": record})) == [100.0, 0.0, 0.0, 100.0]


def test_truncated_cannot_judge_precomputed_outputs() -> None:
    metric = make_metric("truncated")
    assert metric.not_applicable(GenerationRecord("files")) is not None
    with pytest.raises(MtbenchError, match="no token counts"):
        metric.score_systems(ctx(), {"s": REF})


def test_overlong_flags_a_continuation_not_a_short_reference() -> None:
    run_on = REF[0] + " The river is long. It flows to the sea. Tourists come."
    lines = [run_on, "I love you so much.", "Good morning, world!", "He came home late."]
    # "I love you so much." is 15 non-space characters against 9: over 2x would need 19 and 10 more.
    assert flags("overlong", lines) == [100.0, 0.0, 0.0, 0.0]
    assert flags("overlong", ["Ja, genau das stimmt so.", "x", "x", "x"],
                 ctx(refs=["Yes.", "y", "y", "y"])) == [100.0, 0.0, 0.0, 0.0]  # 20 chars vs 4: > 2x and 16 more


def test_repeated_share_by_hand() -> None:
    assert repeated_share("a b c d a b c d".split(), 4) == pytest.approx(1 / 5, rel=1e-15)  # said twice
    assert repeated_share("a b c d a b c d a b c d".split(), 4) == pytest.approx(5 / 9, rel=1e-15)  # three times
    assert repeated_share("a b c".split(), 4) == 0.0


def test_repetition_flags_a_decoding_loop() -> None:
    loop = "I love you, I love you, I love you, I love you"
    assert flags("repetition", [REF[0], loop, "I love you, I love you.", REF[3]]) == [0.0, 100.0, 0.0, 0.0]


def test_repetition_counts_characters_for_chinese() -> None:
    # zh tokenizer: one token per character; 我爱你 four times -> 12 tokens, 9 4-grams, 6 repeat
    assert flags("repetition", ["我爱你我爱你我爱你我爱你"], ctx(sources=["x"], refs=["我爱你"], tgt="zh")) == [100.0]


def test_reference_floors() -> None:
    refs = ["", "I love you.", "Good morning, world!", "He came home late."]
    assert make_metric("empty").reference_floor(ctx(refs=refs)) == 25.0
    assert make_metric("repetition").reference_floor(ctx()) == 0.0
    assert make_metric("overlong").reference_floor(ctx()) is None  # the reference is the yardstick
    assert make_metric("copy").reference_floor(ctx()) is None


def test_thresholds_are_in_the_signature() -> None:
    sig = make_metric("copy").score_systems(ctx(), {"s": REF})["s"].signature
    assert f"chrf_vs_source_min:{COPY_CHRF}" in sig
    assert "len_ratio_max:2.0" in make_metric("overlong").score_systems(ctx(), {"s": REF})["s"].signature
