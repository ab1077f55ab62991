"""The translation-instruction format of "Eliciting the Translation Ability of Large
Language Models via Multilingual Finetuning with Translation Instructions" (Li et al.,
2023, mFTI: XGLM-7.5B finetuned on translation instructions).

Source: github.com/NJUNLP/MFTI, commit a25f1ab8f8da, ``instruct_mt/evaluate.py``
(``--template-str`` presets "1".."6"; ``shell_scripts/run.sh`` evaluates with the
default ``template=1``) and ``instruct_mt/templates/mt_template.py`` (``PromptTemplate``).
Template 1, the default::

    Translation: [{Src}]: {src} [{Tgt}]:

Language names are ``langcodes.Language.get(code).display_name()`` in the seed, i.e. the
English names mtbench.langs holds. The source is stripped (the seed strips each line).
Few-shot (``shots=k``) as ``PromptTemplate.construct_prefix``: each example is the filled
template, a space and its target; examples and the query are joined by single spaces.
The seed draws examples at random with replacement for every segment; mtbench draws
them once per direction, seeded and recorded.

The seed's ``template=train`` preset is ``dataset_scripts/prepare_dataset.py``'s default
(``[{Src}]: {src} [{Tgt}]:``), the format its training data was written in.

Decoding as ``evaluate.py``: beam 4, 150 new tokens. Post-processing: the seed removes
the prompt from the decoded sequence and keeps the rest (XGLM ends the answer with EOS).
mtbench also drops an echoed prompt, cuts where a new example begins (the template text
before the source, e.g. ``Translation: [German]:``), keeps the first non-empty line and
strips it.
"""

from __future__ import annotations

from typing import Any, Mapping

from mtbench.errors import MtbenchError
from mtbench.models.base import DecodingParams
from mtbench.prompts.core import check_shots, cut_at_first, digest, drop_echo, name_for
from mtbench.prompts.shots import ShotSelector
from mtbench.registry import did_you_mean

TEMPLATES: Mapping[str, str] = {
    "1": "Translation: [{src}]: {input} [{tgt}]:",
    "2": "Translation: {input} [{tgt}]:",
    "3": "{input} Translate from [{src}] to [{tgt}]:",
    "4": "{input} Translate to [{tgt}]:",
    "5": "The {tgt} translation of {src} sentence '{input}' is:",
    "6": "The {tgt} translation of the sentence '{input}' is:",
    "train": "[{src}]: {input} [{tgt}]:",
}


class XglmAdapter:
    name = "xglm"

    def __init__(self, template: str, shots: ShotSelector) -> None:
        self.template_id = template
        self.text = TEMPLATES[template]
        self.shots = shots
        self.decoding = DecodingParams(num_beams=4, max_new_tokens=150)

    def _fill(self, text: str, src: str, tgt: str) -> str:
        return self.text.format_map({"src": src, "tgt": tgt, "input": text.strip()})

    def prompt(self, source: str, src_lang: str, tgt_lang: str) -> str:
        src, tgt = name_for(self.name, src_lang, "xglm"), name_for(self.name, tgt_lang, "xglm")
        parts = [self._fill(s.source, src, tgt) + " " + s.target for s in self.shots.select(src_lang, tgt_lang)]
        return " ".join(parts + [self._fill(source, src, tgt)])

    def postprocess(self, raw: str, source: str, src_lang: str, tgt_lang: str) -> str:
        src, tgt = name_for(self.name, src_lang, "xglm"), name_for(self.name, tgt_lang, "xglm")
        lead = self.text.split("{input}", 1)[0].format_map({"src": src, "tgt": tgt}).strip()
        text = cut_at_first(drop_echo(raw, self.prompt(source, src_lang, tgt_lang)), (lead,))
        return next((line.strip() for line in text.split("\n") if line.strip()), "")

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.name, "template_id": self.template_id, "template": digest(self.text),
                **self.shots.describe()}


def xglm(template: str = "1", shots: int | None = 0, shot_pool: str | None = None, seed: int = 0) -> XglmAdapter:
    shots = check_shots("xglm", shots)
    template = str(template)
    if template not in TEMPLATES:
        raise MtbenchError(f"adapter 'xglm' has no template {template!r}: {did_you_mean(template, list(TEMPLATES))}")
    return XglmAdapter(template, ShotSelector("xglm", shots, shot_pool, seed))
