"""Training data: parallel text -> prompt+target token rows, and the pieces the
methods' recipes (``trainers/``) build their extra rows from (LAT's conflicting
instructions, TIM's noisy outputs).

Design choices (why):

- The prompt comes from an mtbench adapter (ALMA's by default), so a model is trained
  on exactly the text ``mtbench run`` will later prompt it with.
- Prompt and target are tokenized *separately* and concatenated: the prompt ids are
  then exactly the ids ``HFBackend`` feeds at inference (``tokenizer(prompt)``, with the
  tokenizer's special tokens, e.g. BOS), and the mask boundary cannot move because a
  tokenizer merged across it. The target is ``separator + reference`` (default one space,
  the natural continuation after ``English:``) without special tokens, followed by EOS so
  the model learns to stop. Prompt positions get label -100. (ALMA joins ``prompt +
  target`` without a space and tokenizes the whole string, ALMA ``utils/utils.py``
  l.597; LAT tokenizes prompt and full text and masks the prompt's length.)
- LAT conflicting samples keep prompt layout and output but name a wrong target
  language, drawn with a seeded RNG from a list; TIM negatives are the reference with
  seeded word-level noise (the noise model of TIM's ``noisy-text``, see :func:`add_noise`)
  or lines from a file of model outputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from mtbench import textio
from mtbench.errors import MtbenchError
from mtbench.train.losses import IGNORE_INDEX


@dataclass(frozen=True)
class Pair:
    """One translation example in one direction."""

    source: str
    target: str
    src_lang: str
    tgt_lang: str


@dataclass
class Example:
    """A tokenized row: ``labels`` is ``input_ids`` with prompt positions at -100."""

    input_ids: list[int]
    labels: list[int]
    extra: dict[str, "Example"] = field(default_factory=dict)  # "negative" (LAT) / "rejected" (TIM)


# ---------------------------------------------------------------- reading


def read_lines(path: str | Path) -> list[str]:
    """A training file's lines, read as every other input is (textio.read_lines: strict
    UTF-8, "\\n" alone ends a line), then without a CR at the end of a line: a CRLF
    file trains as its LF copy does. (Test sets keep the CR, as sacrebleu scores it.)"""
    return [line.removesuffix("\r") for line in textio.read_lines(path, "training file")]


def read_parallel(
    src_file: str | Path, tgt_file: str | Path, src_lang: str, tgt_lang: str,
    both_directions: bool = True, limit: int | None = None,
) -> list[Pair]:
    """Line-aligned files -> pairs (src->tgt, and tgt->src when ``both_directions``, as
    ALMA trains each pair folder in both directions). Blank pairs are dropped;
    ``limit`` keeps the first N line pairs (before doubling)."""
    src, tgt = read_lines(src_file), read_lines(tgt_file)
    if len(src) != len(tgt):
        raise MtbenchError(f"{src_file} has {len(src)} lines but {tgt_file} has {len(tgt)}; parallel files must align line by line")
    rows = [(s.strip(), t.strip()) for s, t in zip(src, tgt) if s.strip() and t.strip()]
    if limit is not None:
        rows = rows[:limit]
    pairs = [Pair(s, t, src_lang, tgt_lang) for s, t in rows]
    if both_directions:
        pairs += [Pair(t, s, tgt_lang, src_lang) for s, t in rows]
    return pairs


def pair_files(folder: str | Path, pair: str) -> tuple[Path, Path, str, str]:
    """Files of ``pair`` ("de-en") in ALMA's layout ``<folder>/deen/train.de-en.{de,en}``
    (either order of the two codes)."""
    try:
        a, b = pair.split("-")
    except ValueError:
        raise MtbenchError(f"data.pairs entry {pair!r} is not of the form 'xx-yy' (e.g. de-en)") from None
    root = Path(folder)
    for sub in (f"{a}{b}", f"{b}{a}"):
        for x, y in ((a, b), (b, a)):
            fa, fb = root / sub / f"train.{x}-{y}.{a}", root / sub / f"train.{x}-{y}.{b}"
            if fa.is_file() and fb.is_file():
                return fa, fb, a, b
    raise MtbenchError(f"no training files for pair {pair!r} under {root} (expected e.g. {root}/{a}{b}/train.{a}-{b}.{a} and .{b})")


# ---------------------------------------------------------------- tokenizing


def encode(tokenizer: Any, prompt: str, target: str, separator: str = " ", max_length: int = 512) -> Example:
    """Prompt (tokenizer's special tokens included, as at inference) + separator+target +
    EOS; labels mask the prompt. Truncation keeps the whole prompt and cuts the target's
    tail, so the model never learns from a prompt it will not see; a prompt that alone
    reaches ``max_length`` is an error."""
    p = list(tokenizer(prompt)["input_ids"])
    t = list(tokenizer(separator + target, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is None:
        raise MtbenchError("the tokenizer has no EOS token; training needs one so the model learns to stop")
    t = t + [tokenizer.eos_token_id]
    if len(p) >= max_length:
        raise MtbenchError(f"a prompt is {len(p)} tokens, not below max_length={max_length}; raise max_length or drop long lines")
    t = t[: max_length - len(p)]
    return Example(p + t, [IGNORE_INDEX] * len(p) + t)


def conflicting_language(tgt: str, src: str, langs: Sequence[str], rng: random.Random) -> str:
    """A target language that is neither the right one nor the source."""
    choices = [lang for lang in langs if lang not in (tgt, src)]
    if not choices:
        raise MtbenchError(f"lat.conflict_langs {list(langs)} has no language other than {src!r} and {tgt!r}")
    return rng.choice(choices)


def _is_cjk(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff" or "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def add_noise(text: str, rng: random.Random, p_delete: float = 0.15, p_repeat: float = 0.15, swap_range: int = 1) -> str:
    """A dispreferred output for TIM: the reference with injected word errors.

    The noise model of TIM's ``noisy-text/noise_functions.py`` (@5876473) with the paper's
    setting from the README (``--delete_probability 0.15 --replace_probability 0.15
    --filler_token '' --permutation_range 1``), applied in the same order on
    whitespace-split words:

    1. delete: each word dropped with probability ``p_delete``;
    2. repeat: each word (of a line of 2+ words) replaced, with probability ``p_repeat``,
       by the word before it (the first word by the next one) - TIM's "replace" with an
       empty filler token;
    3. swap: word i gets key ``i + U(0, swap_range + 1)`` and words are sorted by key,
       so with range 1 only neighbours swap.

    If all that leaves the text unchanged (short lines), the last two words are swapped,
    or for a single word it is doubled, so every pair carries a ranking signal. Texts
    without spaces that hold CJK characters (zh, ja) are noised per character, as TIM's
    ``add_noise.py`` does for Chinese. Seeded by ``rng``; deterministic for a given seed."""
    spaced = " " in text.strip() or not any(_is_cjk(c) for c in text)
    words = text.split() if spaced else list(text.strip())
    if not words:
        return text
    words = [w for w in words if rng.random() >= p_delete] or words[:1]
    if len(words) >= 2:
        out = list(words)
        for i in range(len(words)):
            if rng.random() < p_repeat:
                out[i] = out[i - 1] if i > 0 else out[min(i + 1, len(words) - 1)]
        words = out
    keys = [i + rng.uniform(0, swap_range + 1) for i in range(len(words))]
    words = [w for _, w in sorted(zip(keys, words), key=lambda kw: kw[0])]
    joined = (" " if spaced else "").join(words)
    if joined == text.strip():
        words = words[:-2] + [words[-1], words[-2]] if len(words) >= 2 and words[-1] != words[-2] else words + words[-1:]
        joined = (" " if spaced else "").join(words)
    return joined


def monolingual_examples(lines: Sequence[str], tokenizer: Any, max_length: int = 512) -> list[Example]:
    """ALMA stage 1 rows: plain causal LM on every token of a line (BOS as the
    tokenizer adds it, then EOS); nothing masked except padding later."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        ids = list(tokenizer(line.strip())["input_ids"])[: max_length - 1] + [tokenizer.eos_token_id]
        out.append(Example(ids, list(ids)))
    return out


# ---------------------------------------------------------------- batching


def pad_rows(rows: Sequence[Example], pad_id: int, width: int | None = None) -> dict[str, torch.Tensor]:
    """Right padding (training has no generation step, so the simple side): pad id in
    ``input_ids``, -100 in ``labels``, 0 in ``attention_mask``."""
    w = width or max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), w), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), w), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(rows), w), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        labels[i, :n] = torch.tensor(r.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class Collator:
    """Batches rows; a row's ``extra`` rows become ``<name>_input_ids`` etc. TIM's
    chosen and rejected rows share one width, because its ranking loss compares the two
    position by position (TIM pads both to ``block_size``, run_clm.py l.650-677)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, rows: Sequence[Example]) -> dict[str, torch.Tensor]:
        names = sorted(rows[0].extra)
        width = max(len(r.input_ids) for r in rows)
        if "rejected" in names:
            width = max(width, max(len(r.extra["rejected"].input_ids) for r in rows))
        batch = pad_rows(rows, self.pad_id, width)
        for name in names:
            sub = [r.extra[name] for r in rows]
            w = width if name == "rejected" else None
            batch.update({f"{name}_{k}": v for k, v in pad_rows(sub, self.pad_id, w).items()})
        return batch
