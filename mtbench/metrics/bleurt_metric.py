"""BLEURT (Sellam et al.) through bleurt-pytorch, the PyTorch port of BLEURT-20.

The scoring call is the one bleurt-pytorch documents,
``model(**tokenizer(references, candidates, padding, truncation)).logits.flatten()``,
done in length-sorted batches: every (reference, candidate) pair is tokenized once,
pairs are sorted by token count so each batch pads little, and the scores are put
back in segment order. Truncation is longest-first to the model's position limit
(512 for BLEURT-20), as the original BLEURT truncates.

Scores are raw (BLEURT-20 is roughly 0-1; ``display_scale = 100`` for tables); the
system score is the mean of the segment scores. BLEURT is single-reference: ``refs``
"first" (default) or "mean" (score against every selected reference, average per
segment), like COMET.

bleurt-pytorch 0.0.1 works with transformers 4.x and breaks with 5.x; that failure is
reported as one line, not a traceback.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.metrics.base import Metric, MetricResult, ScoringContext
from mtbench.metrics.neural_common import (
    combined_sha256,
    device_list,
    gpu_count,
    length_sorted_batches,
    locate_model,
    looks_like_path,
    not_found_message,
    package_version,
    quiet_imports,
    run_batches,
    silence_loggers,
)

DEFAULT_MODEL = "lucadiliello/BLEURT-20"
BLEURT_ENV = "BLEURT_MODELS"
BATCH_ENV = "MTBENCH_BLEURT_BATCH_SIZE"
EXPECTED = "config.json + model.safetensors or pytorch_model.bin + tokenizer files"
WEIGHT_PATTERNS = ("model.safetensors", "pytorch_model.bin", "model-*-of-*.safetensors", "pytorch_model-*-of-*.bin")
REF_MODES = ("first", "mean")


def weight_files(path: Path) -> list[Path]:
    found: list[Path] = []
    for pattern in WEIGHT_PATTERNS:
        found += sorted(p for p in path.glob(pattern) if p.is_file())
    return found


def is_bleurt_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and bool(weight_files(path))


@dataclass(frozen=True)
class BleurtModelFiles:
    model_id: str
    directory: Path

    def weights_sha256(self) -> str:
        return combined_sha256(weight_files(self.directory))


def locate_bleurt(spec: str, download: bool = True) -> BleurtModelFiles:
    found = locate_model(spec, is_bleurt_dir, (BLEURT_ENV,), download=download)
    if found.path is None:
        raise MtbenchError(not_found_message("BLEURT", found, EXPECTED, "bleurt"))
    model_id = found.path.name if looks_like_path(spec) or Path(spec).expanduser().exists() else spec
    return BleurtModelFiles(model_id, found.path)


_LOADED: dict[tuple[Any, ...], tuple[Any, list[Any]]] = {}


def _load(files: BleurtModelFiles, precision: str, devices: Sequence[str]) -> tuple[Any, list[Any]]:
    """(tokenizer, one model per device), loaded once per process."""
    from mtbench.threads import configure_torch

    configure_torch()
    weights = weight_files(files.directory)
    key = (str(files.directory), tuple((w.name, w.stat().st_size, w.stat().st_mtime_ns) for w in weights),
           precision, tuple(devices))
    if key in _LOADED:
        return _LOADED[key]
    _LOADED.clear()
    with quiet_imports():
        try:
            import torch  # noqa: F401  (fail here, with the install hint, when torch is missing)
            from bleurt_pytorch import BleurtForSequenceClassification, BleurtTokenizer
        except ImportError as exc:
            raise MtbenchError(f"bleurt needs bleurt-pytorch and torch ({exc.name or exc} missing): pip install "
                               f"'mtbench[metrics]' (bleurt-pytorch 0.0.1 needs transformers<5)") from None
        silence_loggers(["transformers.modeling_utils", "transformers.tokenization_utils_base"])
        try:
            tokenizer = BleurtTokenizer.from_pretrained(str(files.directory))
            model = BleurtForSequenceClassification.from_pretrained(str(files.directory))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise MtbenchError(
                f"BLEURT model {files.model_id} in {files.directory} cannot be loaded with bleurt-pytorch "
                f"{package_version('bleurt-pytorch')} and transformers {package_version('transformers')} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}); the folder needs "
                f"{EXPECTED}, and bleurt-pytorch needs transformers<5") from None
    model.eval()
    if precision == "fp16":
        model.half()
    replicas = [model.to(devices[0])] + [copy.deepcopy(model).to(d) for d in devices[1:]]
    _LOADED[key] = (tokenizer, replicas)
    return _LOADED[key]


class Bleurt(Metric):
    """BLEURT scores for every system of one direction (see the module docstring)."""

    higher_is_better = True
    display_scale = 100.0  # stored raw (roughly 0-1), shown x100 as papers print it
    heavy = True  # the scoring stage runs it in its own process, one model load for every task

    def __init__(self, model: str | None = None, *, name: str = "bleurt", batch_size: int | None = None,
                 gpus: int | None = None, precision: str = "fp32", refs: str = "first",
                 length_batching: bool = True) -> None:
        self.model = model or DEFAULT_MODEL
        self.name = name
        self.batch_size = int(batch_size or os.environ.get(BATCH_ENV) or 32)
        if self.batch_size <= 0:
            raise MtbenchError(f"{name}: batch size must be positive, got {self.batch_size}")
        self.gpus = gpus
        if precision not in ("fp32", "fp16"):
            raise MtbenchError(f"{name}: precision must be fp32 (as BLEURT was trained) or fp16, got {precision!r}")
        self.precision = precision
        if refs not in REF_MODES:
            raise MtbenchError(f"{name}: refs must be one of {', '.join(REF_MODES)}, got {refs!r}")
        self.refs = refs
        self.length_batching = length_batching
        self._files: BleurtModelFiles | None = None

    def gpus_wanted(self) -> int:
        return 1 if self.gpus is None else self.gpus  # one when there is one, as gpu_count decides locally

    def files(self, download: bool = True) -> BleurtModelFiles:
        if self._files is None:
            self._files = locate_bleurt(self.model, download=download)
        return self._files

    def _references(self, ctx: ScoringContext) -> list[tuple[str, list[str]]]:
        if not ctx.references:
            raise MtbenchError(f"{self.name}: BLEURT needs a reference and this direction has none; drop the metric "
                               f"here or use a QE metric such as cometkiwi")
        items = [(k, list(v)) for k, v in ctx.references.items()]
        return items if self.refs == "mean" else items[:1]

    def signature(self, files: BleurtModelFiles, n_refs: int) -> str:
        order = "" if self.length_batching else "-unsorted"
        ref = "first" if self.refs == "first" else f"mean-of-{n_refs}"
        return (f"bleurt|model:{files.model_id}|weights:{files.weights_sha256()[:12]}"
                f"|bleurt-pytorch:{package_version('bleurt-pytorch')}|transformers:{package_version('transformers')}"
                f"|prec:{self.precision}|batch:{self.batch_size}{order}|ref:{ref}")

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        """Everything that changes the numbers; never downloads, never raises."""
        base = {"model": self.model, "precision": self.precision, "batch_size": self.batch_size,
                "length_batching": self.length_batching, "refs": self.refs,
                "bleurt-pytorch": package_version("bleurt-pytorch"), "transformers": package_version("transformers")}
        try:
            files = self.files(download=False)
        except MtbenchError as exc:
            self._files = None
            return {**base, "weights_sha256": None, "unavailable": str(exc)}
        out = {**base, "model_id": files.model_id, "weights_sha256": files.weights_sha256()}
        if ctx is not None:
            out["references"] = [k for k in ctx.references][: None if self.refs == "mean" else 1]
        return out

    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        files = self.files()
        refs = self._references(ctx)
        n = len(ctx.sources)
        for label, lines in [*hypotheses.items(), *refs]:
            if len(lines) != n:
                raise MtbenchError(f"{self.name}: {label!r} has {len(lines)} lines for {n} source segments")
        names = list(hypotheses)
        signature = self.signature(files, len(refs))
        if n == 0 or not names:
            return {s: MetricResult(self.name, 0.0, signature, []) for s in names}
        tokenizer, replicas = _load(files, self.precision, device_list(gpu_count(self.gpus)))
        max_len = min(int(tokenizer.model_max_length), int(replicas[0].config.max_position_embeddings))

        # every (system, reference) pair tokenized once; batches sorted by token count
        pairs: list[tuple[str, int, int]] = [(s, r, i) for s in names for r in range(len(refs)) for i in range(n)]
        enc = tokenizer([refs[r][1][i] for _, r, i in pairs], [hypotheses[s][i] for s, _, i in pairs],
                        truncation=True, max_length=max_len)
        features = [{k: enc[k][j] for k in enc.keys()} for j in range(len(pairs))]
        batches = length_sorted_batches([len(f["input_ids"]) for f in features], self.batch_size, self.length_batching)

        def step(model: Any, ids: list[int]) -> list[float]:
            import torch

            batch = tokenizer.pad([features[j] for j in ids], padding="longest", return_tensors="pt")
            device = next(model.parameters()).device
            with torch.inference_mode():
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
            return logits.flatten().float().cpu().tolist()

        outputs = run_batches(replicas, batches, step)
        flat = [0.0] * len(pairs)
        for ids, scores in zip(batches, outputs):
            for j, v in zip(ids, scores):
                flat[j] = float(v)
        per: dict[tuple[str, int], list[float]] = {}
        for (s, r, i), v in zip(pairs, flat):
            per.setdefault((s, r), [0.0] * n)[i] = v
        sha = files.weights_sha256()
        results = {}
        for s in names:
            segs = [sum(per[(s, r)][i] for r in range(len(refs))) / len(refs) for i in range(n)] \
                if len(refs) > 1 else per[(s, 0)]
            results[s] = MetricResult(self.name, sum(segs) / len(segs), signature, segs, details={
                "model": files.model_id, "weights_sha256": sha, "references": [k for k, _ in refs],
                "precision": self.precision})
        return results


def make_bleurt(model: str | None = None, name: str | None = None, **options: Any) -> Bleurt:
    """BLEURT with any model: a hub id or a local folder; the registry maps ``bleurt:SPEC`` here."""
    return Bleurt(model, name=name or ("bleurt" if model is None else f"bleurt:{model}"), **options)


def bleurt() -> Bleurt:
    """BLEURT-20 (lucadiliello/BLEURT-20, the PyTorch port of Google's checkpoint)."""
    return Bleurt(DEFAULT_MODEL, name="bleurt")
