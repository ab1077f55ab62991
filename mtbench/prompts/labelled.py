"""The "labelled lines" prompt family: an instruction line, then ``Src: text`` /
``Tgt: text`` lines, the last target label left open for the model.

``alma``: byte-exact to ALMA (github.com/fe1ixxu/ALMA, commit 10360c33dc87,
``utils/utils.py``: ``get_prompt`` and ``get_prompt_few_shot``)::

    Translate this from {Src} to {Tgt}:\\n{Src}: {src}\\n{Tgt}:

with k shots inserted as ``\\n{Src}: {shot_src}\\n{Tgt}: {shot_tgt}`` between the
instruction and the query, and the source used as given (ALMA does not strip it).
Decoding as ALMA's evaluation scripts (``evals/*.sh``, ``utils/arguments.py``): beam 5,
256 new tokens. Few-shot examples default to the whole pool file in file order, as
``run_llmmt.py`` loads them; ``seed=N`` draws them instead.

``base``: mtbench's own plain instruction, chosen to be a clear, widely used wording
with the same layout (language-named labels keep the target language in view of the
model right where it starts writing)::

    Translate the following text from {Src} to {Tgt}.\\n{Src}: {src}\\n{Tgt}:

k-shot (``shots=k``) puts k examples in the same labelled lines; they are drawn with
``seed`` (default 0) from a pool (default ALMA's HW-5-shot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mtbench.models.base import DecodingParams
from mtbench.prompts.core import check_shots, digest, drop_echo, name_for
from mtbench.prompts.shots import Shot, ShotSelector

Cleaner = Callable[[str, str, str, str], str]  # (raw, prompt, src name, tgt name) -> output


@dataclass(frozen=True)
class LabelledTemplate:
    instruction: str  # with {src} and {tgt}
    style: str  # langs.language_name style
    cleaner: Cleaner

    def render(self, source: str, src: str, tgt: str, shots: list[Shot]) -> str:
        examples = "".join(f"\n{src}: {s.source}\n{tgt}: {s.target}" for s in shots)
        return self.instruction.format(src=src, tgt=tgt) + examples + f"\n{src}: {source}\n{tgt}:"

    def data(self) -> dict[str, str]:
        return {"instruction": self.instruction, "layout": "\\n{src}: {text}\\n{tgt}: {text}", "cleanup": self.cleaner.__name__}


def alma_clean(raw: str, prompt: str, src: str, tgt: str) -> str:
    """ALMA's ``clean_outputstring`` applied as ``run_llmmt.py`` applies it.

    ALMA decodes prompt + completion, strips it, splits at ``\\n{Tgt}:`` and takes piece
    number k+1 (k = shots, i.e. the text after the prompt's own last label). Of that piece
    it returns the first of its first *three* lines that is not blank, else the third
    line (even when blank); if the piece has too few lines it falls back to the first line
    of the next piece, else "". So three blank lines before the answer yield "" — ALMA's
    behaviour, kept. One deliberate difference: ALMA's fallback always reads piece 2,
    which in a few-shot prompt is the second example's target; mtbench reads the piece
    after the answer's (the same piece in zero-shot)."""
    key = f"\n{tgt}:"
    completion = drop_echo(raw, prompt)
    full = (prompt + completion).strip()
    split_idx = prompt.count(key)
    pieces = full.split(key)
    try:
        lines = pieces[split_idx].split("\n")
        if lines[0].strip():
            return lines[0].strip()
        if lines[1].strip():
            return lines[1].strip()
        return lines[2].strip()
    except IndexError:
        pass
    try:
        return pieces[split_idx + 1].split("\n")[0].strip()
    except IndexError:
        return ""


def line_clean(raw: str, prompt: str, src: str, tgt: str) -> str:
    """mtbench's rule for the plain prompt: drop an echoed prompt, skip blank lines and an
    echoed ``{Src}: ...`` line, take the next line and drop a repeated ``{Tgt}:`` label.
    One line only, so a run-on into another example never reaches the output."""
    lines = [line.strip() for line in drop_echo(raw, prompt).split("\n") if line.strip()]
    if lines and lines[0].startswith(f"{src}:"):
        lines = lines[1:]
    if not lines:
        return ""
    answer = lines[0]
    if answer.startswith(f"{tgt}:"):
        answer = answer[len(tgt) + 1:].strip()
    return answer


ALMA = LabelledTemplate("Translate this from {src} to {tgt}:", "alma", alma_clean)
BASE = LabelledTemplate("Translate the following text from {src} to {tgt}.", "base", line_clean)


class LabelledAdapter:
    def __init__(self, name: str, template: LabelledTemplate, decoding: DecodingParams, shots: ShotSelector) -> None:
        self.name = name
        self.template = template
        self.decoding = decoding
        self.shots = shots

    def _names(self, src_lang: str, tgt_lang: str) -> tuple[str, str]:
        return name_for(self.name, src_lang, self.template.style), name_for(self.name, tgt_lang, self.template.style)

    def prompt(self, source: str, src_lang: str, tgt_lang: str) -> str:
        src, tgt = self._names(src_lang, tgt_lang)
        return self.template.render(source, src, tgt, self.shots.select(src_lang, tgt_lang))

    def postprocess(self, raw: str, source: str, src_lang: str, tgt_lang: str) -> str:
        src, tgt = self._names(src_lang, tgt_lang)
        return self.template.cleaner(raw, self.prompt(source, src_lang, tgt_lang), src, tgt)

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.name, "template": digest(self.template.data()), **self.shots.describe()}


def alma(shots: int | None = 0, shot_pool: str | None = None, seed: int | None = None) -> LabelledAdapter:
    """ALMA's prompt; ``shots=5`` with the default pool is ALMA's 5-shot evaluation."""
    shots = check_shots("alma", shots)
    return LabelledAdapter("alma", ALMA, DecodingParams(num_beams=5, max_new_tokens=256),
                           ShotSelector("alma", shots, shot_pool, seed))


def base(shots: int | None = 0, shot_pool: str | None = None, seed: int = 0) -> LabelledAdapter:
    """A plain instruction, zero-shot or k-shot; greedy, 256 new tokens."""
    shots = check_shots("base", shots)
    return LabelledAdapter("base", BASE, DecodingParams(num_beams=1, max_new_tokens=256),
                           ShotSelector("base", shots, shot_pool, seed))
