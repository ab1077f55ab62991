"""What flows between adapters, backends and the generation loop.

An adapter turns a segment into a prompt and a raw completion back into a
translation; a backend turns prompts into raw completions. Keeping the two apart is
what lets one backend run every method's prompt, and one prompt run on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

from mtbench.errors import MtbenchError


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
    """The contract of a generation backend: it runs prompts. ``fingerprint``
    identifies the weights (config + weights hash or revision): two backends with the
    same fingerprint give the same outputs. ``tokenizer`` is the model's tokenizer for
    chat-template adapters (None when there is none); ``close`` lets the weights and the
    accelerator go before scoring. ``BackendBase`` gives the last two their defaults."""

    name: str
    tokenizer: Any

    def fingerprint(self) -> dict[str, Any]: ...

    def generate(self, prompts: Sequence[str], params: DecodingParams) -> list[Generation]: ...

    def close(self) -> None: ...


class BackendBase:
    """Defaults for a backend's optional members: no tokenizer, nothing to close."""

    name = "backend"
    tokenizer: Any = None

    def close(self) -> None:
        pass


REQUIRED = ("fingerprint", "generate")


class _Completed(BackendBase):
    """A plugin backend that defines only ``generate`` and ``fingerprint``, with the
    contract's defaults for the rest."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self.tokenizer = getattr(inner, "tokenizer", None)
        closer = getattr(inner, "close", None)
        self._close = closer if callable(closer) else None

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def generate(self, prompts: Sequence[str], params: DecodingParams) -> list[Generation]:
        return self.inner.generate(prompts, params)

    def close(self) -> None:
        if self._close is not None:
            self._close()


def check_backend(obj: Any, what: str) -> Backend:
    """``obj`` as a ``Backend``: a missing required member is a one-line error, missing
    optional ones get their defaults."""
    missing = [m for m in REQUIRED if not callable(getattr(obj, m, None))]
    if missing:
        raise MtbenchError(f"model {what}: {type(obj).__name__} has no {' or '.join(m + '()' for m in missing)}; a backend "
                           f"implements mtbench.models.base.Backend (generate, fingerprint; tokenizer and close optional)")
    if hasattr(obj, "tokenizer") and callable(getattr(obj, "close", None)):
        return obj
    return _Completed(obj)


class OutputSource(ABC):
    """A model kind whose outputs already exist (``files``): it names each task's
    systems and their files, and says whether they are the user's own (under test) or
    reference systems of the data layout. Subclass it to read outputs from elsewhere."""

    under_test: bool = True

    @abstractmethod
    def systems(self, task: Any) -> list[Any]:
        """The ``SystemFile``s (name, path, kind) of ``task``, sorted by name."""

    def describe(self) -> str:
        """Where the outputs come from, for messages and run.yaml."""
        return type(self).__name__


class TranslatorModel:
    """A user's Python object with ``translate(list[Request]) -> list[str]`` (the API)."""

    tokenizer = None

    def __init__(self, name: str, obj: Any) -> None:
        self.name = name
        self.obj = obj
        self.spec = f"python:{type(obj).__name__}"

    def fingerprint(self) -> dict[str, Any]:
        return {"python": self.spec}

    def translate(self, requests: list[Request]) -> list[str]:
        return self.obj.translate(requests)

    def close(self) -> None:
        closer = getattr(self.obj, "close", None)
        if callable(closer):
            closer()


class Translator(Protocol):
    """The smallest model a user can plug in through the Python API."""

    def translate(self, requests: list[Request]) -> list[str]: ...
