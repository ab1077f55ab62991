"""The model's own chat template around another adapter's prompt.

Instruction-tuned models expect their chat markup; ALMA's ``--chat_style`` does the same
(``run_llmmt.py``: the prompt becomes one user message rendered with
``apply_chat_template(..., tokenize=False, add_generation_prompt=True)``). The inner
prompt is ``base`` unless ``inner=`` names another adapter, so ``inner="alma"`` is ALMA's
chat style. Decoding and post-processing are the inner adapter's, applied after an echo
of the whole chat prompt is removed. The rendered template is hashed into ``describe()``
so a tokenizer with a different template never shares cached generations.
"""

from __future__ import annotations

from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.prompts.core import Adapter, digest, drop_echo


class ChatAdapter:
    name = "chat"

    def __init__(self, tokenizer: Any, inner: Adapter) -> None:
        self.tokenizer = tokenizer
        self.inner = inner
        self.decoding = inner.decoding
        self._probe = self._render("{probe}")

    def _render(self, content: str) -> str:
        try:
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                                       tokenize=False, add_generation_prompt=True)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MtbenchError(
                f"adapter 'chat': tokenizer {_tokenizer_name(self.tokenizer)} cannot apply a chat template ({first}); "
                f"use a tokenizer that has one or an adapter without chat markup, e.g. 'base'"
            ) from None
        if not isinstance(text, str):
            raise MtbenchError("adapter 'chat': apply_chat_template(..., tokenize=False) must return a string; "
                               "pass a text tokenizer")
        return text

    def prompt(self, source: str, src_lang: str, tgt_lang: str) -> str:
        return self._render(self.inner.prompt(source, src_lang, tgt_lang))

    def postprocess(self, raw: str, source: str, src_lang: str, tgt_lang: str) -> str:
        completion = drop_echo(raw, self.prompt(source, src_lang, tgt_lang))
        return self.inner.postprocess(completion, source, src_lang, tgt_lang)

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.name, "tokenizer": _tokenizer_name(self.tokenizer),
                "chat_template": digest(self._probe), "inner": self.inner.describe()}


def _tokenizer_name(tokenizer: Any) -> str:
    return str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__)


def chat(tokenizer: Any = None, inner: str = "base", inner_options: Mapping[str, Any] | None = None,
         shots: int | None = None) -> ChatAdapter:
    """``shots`` is passed on to the inner adapter, so a run-wide ``shots`` setting reaches it."""
    if tokenizer is None:
        raise MtbenchError("adapter 'chat' needs the model's tokenizer (option tokenizer=...) for its chat template; "
                           "pass it or use adapter 'base'")
    if not callable(getattr(tokenizer, "apply_chat_template", None)):
        raise MtbenchError(f"adapter 'chat': {_tokenizer_name(tokenizer)} has no apply_chat_template; "
                           f"pass a Hugging Face tokenizer with a chat template or use adapter 'base'")
    if getattr(tokenizer, "chat_template", "") is None:
        raise MtbenchError(f"adapter 'chat': tokenizer {_tokenizer_name(tokenizer)} has no chat template; "
                           f"use the instruct model's tokenizer or an adapter without chat markup, e.g. 'base'")
    if inner == "chat":
        raise MtbenchError("adapter 'chat' cannot wrap itself; choose inner='base', 'alma' or another prompt adapter")
    from mtbench.prompts import make_adapter

    options = dict(inner_options or {})
    if shots is not None:
        options["shots"] = shots
    return ChatAdapter(tokenizer, make_adapter(inner, **options))
