"""What flows between adapters, backends and the generation loop.

An adapter turns a segment into a prompt and a raw completion back into a
translation; a backend turns prompts into raw completions. Keeping the two apart is
what lets one backend run every method's prompt, and one prompt run on every backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence


@dataclass(frozen=True)
class Request:
    """One segment to translate, with the prompt the adapter built for it."""

    source: str
    src_lang: str
    tgt_lang: str
    prompt: str
    id: int = 0  # segment index within its task
    task: str = ""


@dataclass(frozen=True)
class DecodingParams:
    """Every decoding setting that changes an output (all of it is part of the cache key).

    Greedy search is ``num_beams=1``; sampling is deliberately absent: an evaluation
    harness must give the same output for the same input."""

    num_beams: int = 1
    max_new_tokens: int = 256
    no_repeat_ngram_size: int = 0
    stop: tuple[str, ...] = ()  # cut the completion at the first of these strings

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d

    def replace(self, **changes: Any) -> "DecodingParams":
        from dataclasses import replace

        clean = {k: v for k, v in changes.items() if v is not None}
        if "stop" in clean:
            clean["stop"] = tuple(clean["stop"])
        return replace(self, **clean)


@dataclass
class Generation:
    """A backend's answer to one prompt: the completion text (prompt removed) and the
    number of new tokens it took."""

    raw: str
    n_tokens: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """Runs prompts. ``fingerprint`` identifies the weights (config + weights hash or
    revision): two backends with the same fingerprint give the same outputs."""

    name: str

    def fingerprint(self) -> dict[str, Any]: ...

    def generate(self, prompts: Sequence[str], params: DecodingParams) -> list[Generation]: ...


class Translator(Protocol):
    """The smallest model a user can plug in through the Python API."""

    def translate(self, requests: list[Request]) -> list[str]: ...
