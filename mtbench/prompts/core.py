"""What every prompt adapter shares: the protocol the generation loop relies on, and
the few text rules that are the same for every method.

An adapter owns both ends of one method's contract with a model: the exact prompt the
method's paper code built, and the exact clean-up its evaluation applied to the raw
completion. Keeping the two together is what makes a score comparable with the paper.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, runtime_checkable

from mtbench.errors import MtbenchError
from mtbench.langs import LANGUAGES, language_name
from mtbench.models.base import DecodingParams
from mtbench.registry import did_you_mean


@runtime_checkable
class Adapter(Protocol):
    """Builds the prompt for one segment and turns the raw completion into a translation.

    ``describe()`` returns every option that changes a prompt (few-shot examples
    included); it goes into the run manifest and the generation cache key, so two
    adapters with equal descriptions must build equal prompts."""

    name: str
    decoding: DecodingParams

    def prompt(self, source: str, src_lang: str, tgt_lang: str) -> str: ...

    def postprocess(self, raw: str, source: str, src_lang: str, tgt_lang: str) -> str: ...

    def describe(self) -> dict[str, Any]: ...


def name_for(adapter: str, code: str, style: str = "") -> str:
    """The English name a prompt family writes for ``code``; the error names the adapter
    because that is what the user chose, not the language table."""
    if code not in LANGUAGES:
        raise MtbenchError(
            f"adapter {adapter!r} cannot name language {code!r} ({did_you_mean(code, list(LANGUAGES))}); "
            f"add it to mtbench/langs.py or use a registered language code"
        )
    return language_name(code, style)


def digest(data: Any) -> str:
    """Short content hash of template data, so that editing a template string changes
    every cache key that depends on it."""
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def drop_echo(raw: str, prompt: str) -> str:
    """The completion without the prompt, when a backend returned prompt + completion.

    Seeds decode either the completion alone (TIM, LAT, vLLM) or the whole sequence and
    cut the prompt off themselves (ALMA, MFTI); accepting both keeps every backend usable.
    Leading whitespace and a whitespace-only difference at the prompt's ends are ignored,
    because tokenizers do not always round-trip them."""
    head = prompt.strip()
    text = raw.lstrip()
    if head and text.startswith(head):
        return text[len(head):]
    return raw


def cut_at_first(text: str, markers: tuple[str, ...]) -> str:
    """``text`` up to the earliest of ``markers`` (a run-on into a new prompt section or
    example); leading whitespace is dropped first so a marker at the very start of the
    completion does not erase the answer that follows it."""
    text = text.lstrip()
    cut = len(text)
    for marker in markers:
        if marker:
            idx = text.find(marker)
            if 0 <= idx < cut:
                cut = idx
    return text[:cut]


def check_shots(adapter: str, shots: int | None) -> int:
    """``shots`` as a count; ``None`` (a config that left it unset) means zero-shot."""
    if shots is None:
        return 0
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 0:
        raise MtbenchError(f"adapter {adapter!r}: shots must be a whole number >= 0, got {shots!r}")
    return shots
