"""Languages: codes, names as the seed prompts spell them, fastText labels and the
BLEU tokenizer each scoring preset uses for a target language.

A language missing here can still be evaluated (13a tokenization, no LID label);
only a prompt that must *name* it fails, with a one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean

# Scoring presets decide the BLEU tokenizer of a target language.
#   default: sacrebleu's own choice for a known target language, which is also what
#            ALMA's evaluation used (13a, zh for Chinese, ja-mecab for Japanese).
#   wmt:     the settings that reproduce WMT's official automatic scores
#            (13a, zh for Chinese, char for Japanese).
PRESETS: tuple[str, ...] = ("default", "wmt")
DEFAULT_PRESET = "default"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    # Spellings that differ from `name` in a given prompt family (e.g. ALMA vs TIM).
    prompt_names: Mapping[str, str] = field(default_factory=dict)
    # fastText lid.176 label without the "__label__" prefix; None if lid.176 lacks it.
    fasttext: str | None = None
    # Why lid.176 mislabels well-formed text in this language, where it does: the
    # off-target report prints it, and the reference floor measures it.
    lid_caveat: str | None = None
    # BLEU tokenizer per preset; presets not listed use "13a".
    bleu_tokenizers: Mapping[str, str] = field(default_factory=dict)

    def prompt_name(self, style: str) -> str:
        return self.prompt_names.get(style, self.name)

    def bleu_tokenizer(self, preset: str = DEFAULT_PRESET) -> str:
        if preset not in PRESETS:
            raise MtbenchError(f"unknown scoring preset {preset!r}: {did_you_mean(preset, list(PRESETS))}")
        return self.bleu_tokenizers.get(preset, "13a")


_ZH = {"default": "zh", "wmt": "zh"}
_JA = {"default": "ja-mecab", "wmt": "char"}
_KO = {"default": "ko-mecab"}


def _lang(code: str, name: str, fasttext: str | None = "", bleu: Mapping[str, str] | None = None,
          lid_caveat: str | None = None,
          **prompt_names: str) -> Language:
    return Language(
        code=code,
        name=name,
        prompt_names=MappingProxyType(dict(prompt_names)),
        fasttext=code if fasttext == "" else fasttext,
        lid_caveat=lid_caveat,
        bleu_tokenizers=MappingProxyType(dict(bleu or {})),
    )


_LANGUAGES = [
    _lang("en", "English"),
    _lang("de", "German"),
    _lang("cs", "Czech"),
    _lang("ru", "Russian"),
    _lang("zh", "Chinese", bleu=_ZH, lid_caveat="lid.176 labels some Han-only lines (no kana) as ja, and Wu/Cantonese as wuu/yue"),
    _lang("ja", "Japanese", bleu=_JA),
    _lang("ko", "Korean", bleu=_KO),
    _lang("uk", "Ukrainian"),
    _lang("fr", "French"),
    _lang("it", "Italian"),
    _lang("nl", "Dutch"),
    _lang("ro", "Romanian"),
    _lang("is", "Icelandic"),
    _lang("ha", "Hausa", fasttext=None),  # lid.176 has no Hausa label
    _lang("hr", "Croatian", lid_caveat="lid.176 splits Serbo-Croatian into hr, sr, sh and bs; about half of Croatian lines get one of the others"),
    _lang("liv", "Livonian", fasttext=None),
    _lang("sah", "Yakut", fasttext="sah", lid_caveat="lid.176 saw little Yakut; Cyrillic Yakut lines are often labelled ru"),
    _lang("ar", "Arabic"),
    _lang("es", "Spanish"),
    _lang("pt", "Portuguese"),
    _lang("pl", "Polish"),
    _lang("ta", "Tamil"),
    _lang("hi", "Hindi"),
    _lang("bn", "Bengali"),
    _lang("xh", "Xhosa", fasttext=None),
    _lang("zu", "Zulu", fasttext=None),
]

LANGUAGES: Mapping[str, Language] = MappingProxyType({lang.code: lang for lang in _LANGUAGES})


def get_language(code: str) -> Language:
    """The registered language, or a bare one (13a, no name, no LID label)."""
    lang = LANGUAGES.get(code)
    if lang is not None:
        return lang
    return Language(code=code, name="", fasttext=None)


def language_name(code: str, style: str = "") -> str:
    """The name a prompt family uses; a one-line error if mtbench cannot name it."""
    lang = LANGUAGES.get(code)
    if lang is None:
        raise MtbenchError(
            f"language {code!r} has no name in mtbench.langs ({did_you_mean(code, list(LANGUAGES))}); "
            f"add it to mtbench/langs.py or use a registered code"
        )
    return lang.prompt_name(style)


def bleu_tokenizer(target: str, preset: str = DEFAULT_PRESET) -> str:
    return get_language(target).bleu_tokenizer(preset)
