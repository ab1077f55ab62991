"""The Alpaca prompt family: a header, ``### Section:`` blocks, ``### Response:`` left open.

``tim``: github.com/lemon0830/TIM, commit 58764732da83, ``inference/infer_llama.py``
(``func`` and the ``__main__`` loop)::

    Write a response that appropriately completes the request.\\n\\n### Request:\\n
    Translate from {Src} to {Tgt}.\\n{src}\\n\\n### Response:

``note=True`` appends ``\\n\\n###Note: A translation with no errors could be`` to the
request (``--ifhint``; infer_bloom.py spells the label ``###Hint``: ``note_label="Hint"``).
Decoding: beam 4, no_repeat_ngram_size 15, 256 new tokens (infer_llama.py).

``lat``, ``lat-post-ins``, ``lat-ptl``: github.com/alphadl/LanguageAware_Tuning, commit
b69a120a497b, ``evaluate/inference_w_vllm.py`` (``multilingual_PROMPT_DICT["en"]``,
``POST_INS_PROMPT_DICT``, ``read_instruct``, ``create_prompt`` with the default
``--template 1``; the same strings are in ``train.py`` and the README)::

    Below is an instruction that describes a task, paired with an input that provides
    further context. Write a response that appropriately completes the request.\\n\\n
    ### Instruction:\\nTranslate the following sentences from {Src} to {Tgt}.\\n\\n
    ### Input:\\n{src}\\n\\n### Response:

post-ins swaps the Input and Instruction blocks; PTL writes template, instruction and
language names in the target language (data in :mod:`mtbench.prompts.lat_ptl`).
Decoding: vLLM beam search with 4 beams, 512 new tokens. Few-shot (``shots=k``) prepends
examples the way LAT's ``{1,5}_shot_samples.json`` are built: each example is its full
prompt, the reference right after ``### Response:`` and a newline.

Both seeds strip the source line, and both clean the completion the same way: TIM
joins its lines with no separator (``"".join(hyp.split("\\n"))``), LAT deletes every
``\\n`` before writing the hypothesis file (``text.replace("\\n", "")``). mtbench applies
that rule after two guards the seeds did not need because their models stop with EOS:
an echoed prompt is removed, and the completion is cut where a new ``###`` section or a
new prompt header begins (a model running on into another example). Output is stripped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.models.base import DecodingParams
from mtbench.prompts import lat_ptl
from mtbench.prompts.core import check_shots, cut_at_first, digest, drop_echo, name_for
from mtbench.prompts.shots import ShotSelector


@dataclass(frozen=True)
class AlpacaTemplate:
    """``text`` has ``{instruction}``, ``{input}`` and optionally ``{note}``;
    ``instruction`` has ``{src}`` and ``{tgt}``. ``names`` spells languages in the
    instruction's language; ``None`` takes English names from :mod:`mtbench.langs`."""

    text: str
    instruction: str
    style: str
    names: Mapping[str, str] | None = None
    lang: str = "en"  # language the template is written in

    def name(self, adapter: str, code: str) -> str:
        if self.names is None:
            return name_for(adapter, code, self.style)
        if code not in self.names:
            raise MtbenchError(
                f"adapter {adapter!r} cannot name language {code!r} in its {self.lang!r} prompt "
                f"(it names {', '.join(sorted(self.names))}); add the name to mtbench/prompts/lat_ptl.py NAMES[{self.lang!r}]"
            )
        return self.names[code]

    def render(self, adapter: str, source: str, src_lang: str, tgt_lang: str, note: str = "") -> str:
        ins = self.instruction.format(src=self.name(adapter, src_lang), tgt=self.name(adapter, tgt_lang))
        return self.text.format_map({"instruction": ins, "input": source.strip(), "note": note})

    def stop_markers(self) -> tuple[str, ...]:
        """Where a run-on completion starts a new section or a new prompt."""
        return ("\n###", "\n" + self.text.split("\n", 1)[0])

    def data(self) -> dict[str, Any]:
        return {"text": self.text, "instruction": self.instruction,
                "names": dict(self.names) if self.names is not None else self.style}


TIM = AlpacaTemplate(
    "Write a response that appropriately completes the request.\n\n### Request:\n{instruction}\n{input}{note}\n\n### Response:",
    "Translate from {src} to {tgt}.",
    style="tim",
)
_LAT_HEADER = ("Below is an instruction that describes a task, paired with an input that provides further context. "
               "Write a response that appropriately completes the request.\n\n")
LAT = AlpacaTemplate(
    _LAT_HEADER + "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:",
    "Translate the following sentences from {src} to {tgt}.",
    style="lat",
)
LAT_POST_INS = AlpacaTemplate(
    _LAT_HEADER + "### Input:\n{input}\n\n### Instruction:\n{instruction}\n\n### Response:",
    LAT.instruction,
    style="lat",
)
LAT_PTL: Mapping[str, AlpacaTemplate] = {
    "en": LAT,
    **{lang: AlpacaTemplate(text, lat_ptl.INSTRUCTIONS[lang], style="lat-ptl", names=lat_ptl.NAMES[lang], lang=lang)
       for lang, text in lat_ptl.TEMPLATES.items()},
}

TIM_NOTE = "\n\n###{label}: A translation with no errors could be"
TIM_NOTE_LABELS = ("Note", "Hint")


def clean(raw: str, prompt: str, template: AlpacaTemplate) -> str:
    text = cut_at_first(drop_echo(raw, prompt), template.stop_markers())
    return text.replace("\n", "").strip()


class AlpacaAdapter:
    def __init__(self, name: str, templates: Mapping[str, AlpacaTemplate], decoding: DecodingParams,
                 shots: ShotSelector, note: str = "", by_target: bool = False, extra: dict[str, Any] | None = None) -> None:
        self.name = name
        self.templates = templates
        self.decoding = decoding
        self.shots = shots
        self.note = note
        self.by_target = by_target  # PTL: the template is chosen by the target language
        self.extra = extra or {}

    def template(self, tgt_lang: str) -> AlpacaTemplate:
        key = tgt_lang if self.by_target else "en"
        if key not in self.templates:
            raise MtbenchError(
                f"adapter {self.name!r} has no prompt written in the target language {tgt_lang!r} "
                f"(it has {', '.join(sorted(self.templates))}); add one to mtbench/prompts/lat_ptl.py or use adapter 'lat'"
            )
        return self.templates[key]

    def prompt(self, source: str, src_lang: str, tgt_lang: str) -> str:
        t = self.template(tgt_lang)
        examples = "".join(t.render(self.name, s.source, src_lang, tgt_lang, self.note) + s.target + "\n"
                           for s in self.shots.select(src_lang, tgt_lang))
        return examples + t.render(self.name, source, src_lang, tgt_lang, self.note)

    def postprocess(self, raw: str, source: str, src_lang: str, tgt_lang: str) -> str:
        return clean(raw, self.prompt(source, src_lang, tgt_lang), self.template(tgt_lang))

    def describe(self) -> dict[str, Any]:
        data = {k: t.data() for k, t in sorted(self.templates.items())}
        return {"adapter": self.name, "template": digest(data), **self.extra, **self.shots.describe()}


def tim(note: bool = False, note_label: str = "Note", shots: int | None = 0, shot_pool: str | None = None,
        seed: int = 0) -> AlpacaAdapter:
    shots = check_shots("tim", shots)
    if note_label not in TIM_NOTE_LABELS:
        raise MtbenchError(f"adapter 'tim': note_label must be one of {', '.join(TIM_NOTE_LABELS)}, got {note_label!r}")
    return AlpacaAdapter(
        "tim", {"en": TIM}, DecodingParams(num_beams=4, max_new_tokens=256, no_repeat_ngram_size=15),
        ShotSelector("tim", shots, shot_pool, seed),
        note=TIM_NOTE.format(label=note_label) if note else "",
        extra={"note": TIM_NOTE.format(label=note_label) if note else None},
    )


def _lat(name: str, templates: Mapping[str, AlpacaTemplate], by_target: bool, shots: int | None,
         shot_pool: str | None, seed: int) -> AlpacaAdapter:
    shots = check_shots(name, shots)
    return AlpacaAdapter(name, templates, DecodingParams(num_beams=4, max_new_tokens=512),
                         ShotSelector(name, shots, shot_pool, seed), by_target=by_target)


def lat(shots: int | None = 0, shot_pool: str | None = None, seed: int = 0) -> AlpacaAdapter:
    return _lat("lat", {"en": LAT}, False, shots, shot_pool, seed)


def lat_post_ins(shots: int | None = 0, shot_pool: str | None = None, seed: int = 0) -> AlpacaAdapter:
    return _lat("lat-post-ins", {"en": LAT_POST_INS}, False, shots, shot_pool, seed)


def lat_ptl_adapter(shots: int | None = 0, shot_pool: str | None = None, seed: int = 0) -> AlpacaAdapter:
    return _lat("lat-ptl", LAT_PTL, True, shots, shot_pool, seed)
