"""``echo``: the prompt or its scaffolding leaks into the output -- the instruction
line, a section header such as ``### Response:``, a language label such as
``English:``, or a few-shot demonstration.

Scaffolding is read off the prompt itself: the prompt with the segment's source taken
out, cut into lines, and each ``Label: text`` line also into its label and its text
(a demonstration's source or target). A piece counts when it has at least
``ECHO_MIN_LETTERS`` letters and occurs neither in the source nor in the reference
(text the segment itself contains is no leak). An output echoes when, normalised
(NFKC, case-folded, whitespace collapsed), it contains a piece -- a one-word label
(``english:``) only at its start, after any ``#`` and spaces, where a model writes it
("### English: She arrives ..."), not inside a sentence ("Beautiful English: Those
letters ...").

Generated systems are checked against the exact prompt of each segment (the
generation rows record it). For precomputed outputs the prompt is unknown, so they
are checked against the scaffolding of every registered adapter, with its default
options, that can write a prompt for the direction (an adapter that needs a
tokenizer, such as ``chat``, cannot and is left out; the signature names those used).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from mtbench.errors import MtbenchError
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.failures.flag import FlagMetric, direction_key, normalise

ECHO_MIN_LETTERS = 4


def letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def scaffolding(prompt: str, source: str, min_letters: int = ECHO_MIN_LETTERS) -> list[str]:
    """The normalised pieces of ``prompt`` that are not the source."""
    text = prompt
    for form in dict.fromkeys((source, source.strip())):
        if form.strip():
            text = text.replace(form, "\n")
    pieces: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        label, sep, rest = line.partition(": ")
        candidates = [line] + ([label + ":", rest] if sep and rest.strip() else [])
        pieces += [normalise(c) for c in candidates if letters(c) >= min_letters]
    return list(dict.fromkeys(pieces))


def is_label(piece: str) -> bool:
    """A one-word label such as ``english:`` (``### response:`` is a header, not a label)."""
    return piece.endswith(":") and len(piece.split()) == 1


def leaks(piece: str, output: str) -> bool:
    """``piece`` of scaffolding is in the (normalised) output. A label counts only where
    the model would write it, at the start (after ``#`` or spaces): "Beautiful English:
    Those letters ..." is a title, "### English: She arrives ..." an echo."""
    if is_label(piece):
        return output.lstrip("# ").startswith(piece)
    return piece in output


@lru_cache(maxsize=1)
def registered_adapters() -> tuple[Any, ...]:
    """Every registered adapter that can be built with its default options."""
    from mtbench.prompts import ADAPTERS, make_adapter

    out = []
    for name in ADAPTERS.names():
        try:
            out.append(make_adapter(name))
        except (MtbenchError, TypeError, ValueError):
            continue  # needs options (chat: a tokenizer) -- it cannot have written a prompt here
    return tuple(out)


def adapter_prompts(source: str, src_lang: str, tgt_lang: str) -> tuple[list[str], list[str]]:
    """The prompt every registered adapter writes for one segment, and their names."""
    prompts, names = [], []
    for adapter in registered_adapters():
        try:
            prompts.append(adapter.prompt(source, src_lang, tgt_lang))
            names.append(adapter.name)
        except MtbenchError:
            continue  # an adapter that cannot name one of the languages (lat-ptl's few)
    return prompts, names


class Echo(FlagMetric):
    name = "echo"
    what = "echoing the prompt"
    reads_generation = ("prompts",)
    summarise_found = True
    version = 2  # 2: labels only at the start of the output

    def __init__(self, min_letters: int = ECHO_MIN_LETTERS) -> None:
        self.min_letters = int(min_letters)

    def settings(self) -> dict[str, Any]:
        return {"min_letters": self.min_letters,
                "prompt": "own|" + "+".join(a.name for a in registered_adapters())}

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        # Editing an adapter's template changes what precomputed outputs are checked against.
        from mtbench.prompts.core import digest

        return {**super().config(ctx), "adapters": digest([a.describe() for a in registered_adapters()])}

    def _pieces(self, prompts: Sequence[str], source: str, content: str) -> list[str]:
        pieces = dict.fromkeys(p for prompt in prompts for p in scaffolding(prompt, source, self.min_letters))
        return [p for p in pieces if p not in content]

    def flags(self, ctx: ScoringContext, system: str, lines: Sequence[str]) -> tuple[list[bool], list[str]]:
        own = ctx.generation(system).prompts
        ref = ctx.primary_reference
        shared = self._shared_pieces(ctx) if own is None else None
        flagged, notes = [], []
        for i, (line, src) in enumerate(zip(lines, ctx.sources)):
            out = normalise(line)
            if shared is not None:
                pieces = shared[i]
            else:
                pieces = self._pieces([own[i]], src, normalise(src) + "\n" + normalise(ref[i]))
            hit = next((p for p in pieces if leaks(p, out)), "") if out else ""
            flagged.append(bool(hit))
            notes.append(hit)
        return flagged, notes

    def _shared_pieces(self, ctx: ScoringContext) -> list[list[str]]:
        """Registered adapters' scaffolding per segment, built once per direction (every
        precomputed system of it is checked against the same pieces)."""
        key = direction_key(ctx)
        if getattr(self, "_cache_key", None) != key:
            ref = ctx.primary_reference
            self._cache = [self._pieces(adapter_prompts(src, ctx.src_lang, ctx.tgt_lang)[0], src,
                                        normalise(src) + "\n" + normalise(r)) for src, r in zip(ctx.sources, ref)]
            self._cache_key = key
        return self._cache
