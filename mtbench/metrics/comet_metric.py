"""COMET (Rei et al.) through unbabel-comet, with the numbers of the official ``comet-score``.

Why mtbench does not just call ``model.predict``:
- ``predict`` builds a PyTorch Lightning Trainer per call (progress bars, "GPU available"
  banners, tips) and, for more than one GPU, switches to DDP, which re-launches the
  running command: that would re-run all of ``mtbench run`` in every rank.
- mtbench scores every system of a direction in one pass with the model loaded once.
  Batches are formed exactly as ``comet-score`` forms them for each system (source
  sorted by length with numpy's argsort, chunks of ``batch_size``), and a batch never
  mixes systems. A system's scores therefore do not depend on which other systems are
  scored with it (padding and batch shapes may change low-order bits, more so in fp16 on
  GPU kernels), cached scores stay valid when a system is added, and the numbers are
  bit-identical to ``comet-score -t sys1 sys2 ...`` (see tests/unit/test_neural_metrics.py).

What follows comet-score 2.2.x on purpose: lines are stripped; the model runs in fp16
(``model.half()``, also on CPU; ``precision="fp32"`` to opt out, recorded in the
signature); sentence embeddings of identical batches (the source and reference batches
shared by all systems) are computed once. comet's own cache keys tensors by their
printed (abbreviated) form and can confuse two batches; ours keys by their bytes.

Scores are raw (wmt22-comet-da is roughly 0-1): ``score`` is the mean of the segment
scores as comet computes it; the metric's ``display_scale = 100`` tells tables to show x100.

References: COMET is a single-reference metric. ``refs="first"`` (default) uses the
first selected reference (ref A, or the test set's primary one); ``refs="mean"`` scores
against every selected reference and averages per segment; ``refs="none"`` forces QE
mode for models that accept it (XCOMET). QE models (CometKiwi, referenceless
regression) never read references.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.metrics.base import Metric, MetricResult, ScoringContext
from mtbench.metrics.neural_common import (
    Lookup,
    candidate_names,
    device_list,
    gpu_count,
    hf_cache_dir,
    hf_cached_snapshot,
    is_offline,
    length_sorted_batches,
    locate_model,
    looks_like_path,
    model_roots,
    move_to,
    not_found_message,
    package_version,
    preferred_local_name,
    quiet_imports,
    run_batches,
    silence_loggers,
)
from mtbench.textio import cached_sha256

DEFAULT_MODEL = "Unbabel/wmt22-comet-da"
KIWI_MODEL = "Unbabel/wmt22-cometkiwi-da"
XCOMET_MODEL = "Unbabel/XCOMET-XL"
COMET_ENV = "COMET_MODELS"  # a folder of COMET model folders, searched before $MTBENCH_MODELS
PRECISION_ENV = "MTBENCH_COMET_PRECISION"
BATCH_ENV = "MTBENCH_COMET_BATCH_SIZE"
EXPECTED = "checkpoints/model.ckpt + hparams.yaml"
REF_MODES = ("first", "mean", "none")


def is_comet_dir(path: Path) -> bool:
    return (path / "checkpoints" / "model.ckpt").is_file() and (path / "hparams.yaml").is_file()


@dataclass(frozen=True)
class CometModelFiles:
    """A located COMET model: what identifies it and what is needed to load it."""

    model_id: str  # hub id, or the folder name of a local copy
    directory: Path
    checkpoint: Path
    hparams: dict[str, Any]

    @property
    def hparams_file(self) -> Path:
        return self.directory / "hparams.yaml"

    def uses_references(self) -> bool:
        kind = self.hparams.get("class_identifier")
        if kind == "referenceless_regression_metric":
            return False
        if kind in ("unified_metric", "xcomet_metric"):
            return "ref" in self.hparams.get("input_segments", ["mt", "src", "ref"])
        return True

    def requires_references(self) -> bool:
        kind = self.hparams.get("class_identifier")
        if kind in ("unified_metric", "xcomet_metric"):
            return list(self.hparams.get("input_segments", [])) == ["mt", "ref"]
        return self.uses_references()


def _read_hparams(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MtbenchError(f"COMET hparams file {path} cannot be read ({exc.__class__.__name__}); "
                           f"restore it from the model's original folder") from None
    if not isinstance(data, dict) or "class_identifier" not in data:
        raise MtbenchError(f"COMET hparams file {path} has no class_identifier; it is not a COMET hparams.yaml")
    return data


def locate_comet(spec: str, download: bool = True) -> CometModelFiles:
    """A model folder, a ``.../checkpoints/model.ckpt`` file (as comet-score accepts) or a
    hub id looked up in ``$COMET_MODELS``, ``$MTBENCH_MODELS``, the HF cache and, when
    online, downloaded. Raises MtbenchError with one actionable line."""
    as_path = Path(spec).expanduser()
    if spec.endswith(".ckpt") and as_path.is_file():
        directory = as_path.parents[1]
        if not (directory / "hparams.yaml").is_file():
            raise MtbenchError(f"COMET checkpoint {as_path} has no hparams.yaml in {directory}; a COMET model folder "
                               f"holds {EXPECTED}: pass --metrics comet:/path/to/model-folder")
        return CometModelFiles(directory.name, directory, as_path, _read_hparams(directory / "hparams.yaml"))
    found: Lookup = locate_model(spec, is_comet_dir, (COMET_ENV,), download=download)
    if found.path is None:
        raise MtbenchError(not_found_message("COMET", found, EXPECTED, "comet"))
    model_id = found.path.name if looks_like_path(spec) or as_path.exists() else spec
    return CometModelFiles(model_id, found.path, found.path / "checkpoints" / "model.ckpt",
                           _read_hparams(found.path / "hparams.yaml"))


def resolve_encoder(files: CometModelFiles) -> tuple[str | None, bool]:
    """Where comet will find the encoder named by ``pretrained_model`` in hparams.yaml.

    comet builds the encoder from that name (tokenizer + config.json; the weights come
    from the checkpoint), so offline it must be a local folder or in the HF cache.
    Returns (folder to pass as ``pretrained_model`` override or None, local_files_only)."""
    encoder = str(files.hparams.get("pretrained_model") or "")
    if not encoder:
        raise MtbenchError(f"COMET model {files.model_id}: {files.hparams_file} names no pretrained_model (encoder); "
                           f"restore the model's original hparams.yaml")
    enc_path = Path(encoder).expanduser()
    if (enc_path / "config.json").is_file():
        return str(enc_path), True
    looked = [str(enc_path)] if looks_like_path(encoder) else []
    base = encoder.rstrip("/\\").replace("\\", "/")
    names = candidate_names(base) if not looks_like_path(encoder) else [base.rsplit("/", 1)[-1]]
    for env, root in model_roots((COMET_ENV,)):
        for name in names:
            if (root / name / "config.json").is_file():
                return str(root / name), True
        looked.append(f"${env}={root}")
    if not looks_like_path(encoder):
        looked.append(f"the Hugging Face cache ({hf_cache_dir()})")
        if hf_cached_snapshot(encoder) is not None:
            return None, True
        if not is_offline():
            return None, False  # transformers downloads the tokenizer and config
    if enc_path.is_dir():
        what = f"folder {encoder} has no config.json"
    else:
        what = f"folder {encoder} does not exist" if looks_like_path(encoder) else "is not available offline"
    raise MtbenchError(
        f"COMET model {files.model_id}: its encoder {encoder!r} (pretrained_model in {files.hparams_file}; comet loads "
        f"its tokenizer and config.json, the weights come from the checkpoint) {what}: looked in {', '.join(looked)}; "
        f"put a folder with that encoder's tokenizer files and config.json at "
        f"$MTBENCH_MODELS/{preferred_local_name(base.rsplit('/', 1)[-1] if looks_like_path(encoder) else base)} "
        f"or set pretrained_model in hparams.yaml to such a folder")


_LOADED: dict[tuple[Any, ...], list[Any]] = {}  # one model (its replicas) per process


def _load_replicas(files: CometModelFiles, precision: str, devices: Sequence[str]) -> list[Any]:
    """The model on every device, loaded once per process and reused across directions."""
    from mtbench.threads import configure_torch

    configure_torch()
    st = files.checkpoint.stat()
    override, local_only = resolve_encoder(files)
    key = (str(files.checkpoint), st.st_size, st.st_mtime_ns, override, precision, tuple(devices))
    if key in _LOADED:
        return _LOADED[key]
    _LOADED.clear()  # free the previous model first: two XLM-R large copies do not fit everywhere
    with quiet_imports():
        try:
            import torch
            from comet.models import str2model
        except ImportError as exc:
            raise MtbenchError(f"comet needs unbabel-comet and torch ({exc.name or exc} missing): "
                               f"pip install 'mtbench[metrics]' (pin setuptools<81 for comet's pkg_resources)") from None
        silence_loggers(["comet", "pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric",
                         "transformers.modeling_utils"])
        kind = files.hparams["class_identifier"]
        if kind not in str2model:
            raise MtbenchError(f"COMET model {files.model_id}: class_identifier {kind!r} in {files.hparams_file} is "
                               f"unknown to unbabel-comet {package_version('unbabel-comet')}; upgrade unbabel-comet")
        kwargs: dict[str, Any] = {"load_pretrained_weights": False, "hparams_file": None,
                                  "map_location": torch.device("cpu"), "strict": False, "local_files_only": local_only}
        if override is not None:
            kwargs["pretrained_model"] = override
        # comet >= 2.2.4 loads "sparsemax_patch" checkpoints with softmax (its issue #244); as load_from_checkpoint does
        if files.hparams.get("layer_transformation") == "sparsemax_patch":
            kwargs["layer_transformation"] = "softmax"
        try:
            model = str2model[kind].load_from_checkpoint(files.checkpoint, **kwargs)
        except OSError as exc:  # transformers could not find the encoder's tokenizer/config
            raise MtbenchError(
                f"COMET model {files.model_id}: loading its encoder {files.hparams.get('pretrained_model')!r} failed "
                f"({str(exc).splitlines()[0][:160]}); put its tokenizer files and config.json in a local folder and set "
                f"pretrained_model in {files.hparams_file} to it") from None
    model.eval()
    if precision == "fp16":
        model.half()  # what comet-score 2.2.x does, on every device
    replicas = [model.to(devices[0])]
    replicas += [copy.deepcopy(model).to(d) for d in devices[1:]]
    _LOADED[key] = replicas
    return replicas


def _install_embedding_cache(model: Any, size: int = 16) -> None:
    """Reuse sentence embeddings of byte-identical batches (the source and reference
    batches every system shares). Results equal recomputation exactly: the same batch
    through the same model on the same device."""
    if not hasattr(model, "compute_sentence_embedding"):
        return
    store: OrderedDict[bytes, Any] = OrderedDict()
    compute = model.compute_sentence_embedding

    def retrieve(input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
        h = hashlib.blake2b(digest_size=16)
        for t in (input_ids, attention_mask, token_type_ids):
            if t is None:
                h.update(b"|none")
                continue
            h.update(repr((tuple(t.shape), str(t.dtype))).encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        key = h.digest()
        if key in store:
            store.move_to_end(key)
            return store[key]
        out = compute(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        store[key] = out
        if len(store) > size:
            store.popitem(last=False)
        return out

    model.retrieve_sentence_embedding = retrieve  # instance attribute shadows comet's lru-cached method
    model.caching = True


def _predict_batch(model: Any, samples: list[dict[str, str]]) -> list[float]:
    """One batch through the model as Lightning's predict loop runs it: the model's
    own collate (``prepare_for_inference``), the batch moved to the model's device,
    ``predict_step`` under inference mode."""
    import torch

    device = next(model.parameters()).device
    with torch.inference_mode():
        batch = move_to(model.prepare_for_inference(samples), device)
        pred = model.predict_step(batch)
    return pred["scores"].cpu().tolist()


class Comet(Metric):
    """COMET scores for every system of one direction (see the module docstring)."""

    higher_is_better = True
    display_scale = 100.0  # stored raw (roughly 0-1), shown x100 as papers print it
    heavy = True  # the scoring stage runs it in its own process, one model load for every task

    def __init__(self, model: str | None = None, *, name: str = "comet", batch_size: int | None = None,
                 gpus: int | None = None, precision: str | None = None, refs: str = "first",
                 length_batching: bool = True) -> None:
        self.model = model or DEFAULT_MODEL
        self.name = name
        self.batch_size = int(batch_size or os.environ.get(BATCH_ENV) or 16)
        if self.batch_size <= 0:
            raise MtbenchError(f"{name}: batch size must be positive, got {self.batch_size}")
        self.gpus = gpus
        self.precision = (precision or os.environ.get(PRECISION_ENV) or "fp16").lower()
        if self.precision not in ("fp16", "fp32"):
            raise MtbenchError(f"{name}: precision must be fp16 (as comet-score) or fp32, got {self.precision!r}")
        if refs not in REF_MODES:
            raise MtbenchError(f"{name}: refs must be one of {', '.join(REF_MODES)}, got {refs!r}")
        self.refs = refs
        self.length_batching = length_batching
        self._files: CometModelFiles | None = None

    def gpus_wanted(self) -> int:
        return 1 if self.gpus is None else self.gpus  # one when there is one, as gpu_count decides locally

    # --- identity -------------------------------------------------------------------------

    def files(self, download: bool = True) -> CometModelFiles:
        if self._files is None:
            self._files = locate_comet(self.model, download=download)
        return self._files

    def checkpoint_sha256(self) -> str:
        return cached_sha256(self.files().checkpoint)

    def _references(self, ctx: ScoringContext, files: CometModelFiles) -> list[tuple[str, list[str]]]:
        """(ref id, lines) the model reads: none for QE, else the first or all."""
        if not files.uses_references() or self.refs == "none":
            if self.refs == "none" and files.requires_references():
                raise MtbenchError(f"{self.name}: model {files.model_id} needs references; drop refs='none'")
            return []
        if not ctx.references:
            if files.requires_references():
                raise MtbenchError(f"{self.name}: model {files.model_id} needs a reference and this direction has none; "
                                   f"use a QE model such as cometkiwi")
            return []
        items = [(k, list(v)) for k, v in ctx.references.items()]
        return items if self.refs == "mean" else items[:1]

    def _ref_label(self, n_refs: int) -> str:
        if n_refs == 0:
            return "none"
        return "first" if self.refs == "first" else f"mean-of-{n_refs}"

    def signature(self, files: CometModelFiles, n_refs: int) -> str:
        order = "" if self.length_batching else "-unsorted"
        return (f"comet|model:{files.model_id}|ckpt:{cached_sha256(files.checkpoint)[:12]}"
                f"|unbabel-comet:{package_version('unbabel-comet')}|prec:{self.precision}"
                f"|batch:{self.batch_size}{order}|ref:{self._ref_label(n_refs)}")

    def config(self, ctx: ScoringContext | None = None) -> dict[str, Any]:
        """Everything that changes the numbers. Never downloads and never raises for a
        missing model: the run goes on and this metric fails alone when scoring."""
        base = {"model": self.model, "precision": self.precision, "batch_size": self.batch_size,
                "length_batching": self.length_batching, "refs": self.refs,
                "unbabel-comet": package_version("unbabel-comet")}
        try:
            files = self.files(download=False)
        except MtbenchError as exc:
            self._files = None  # scoring may still download it
            return {**base, "ckpt_sha256": None, "unavailable": str(exc)}
        out = {**base, "model_id": files.model_id, "ckpt_sha256": cached_sha256(files.checkpoint),
               "encoder": files.hparams.get("pretrained_model")}
        if ctx is not None:
            try:
                out["references"] = [k for k, _ in self._references(ctx, files)]
            except MtbenchError as exc:
                out["unavailable"] = str(exc)
        return out

    # --- scoring --------------------------------------------------------------------------
    def score_systems(self, ctx: ScoringContext, hypotheses: Mapping[str, Sequence[str]]) -> dict[str, MetricResult]:
        files = self.files()
        refs = self._references(ctx, files)
        n = len(ctx.sources)
        for sys_name, lines in hypotheses.items():
            if len(lines) != n:
                raise MtbenchError(f"{self.name}: system {sys_name!r} has {len(lines)} lines for {n} source segments")
        for ref_id, lines in refs:
            if len(lines) != n:
                raise MtbenchError(f"{self.name}: reference {ref_id!r} has {len(lines)} lines for {n} source segments")
        sha = cached_sha256(files.checkpoint)
        signature = self.signature(files, len(refs))
        names = list(hypotheses)
        if n == 0 or not names:
            return {s: MetricResult(self.name, 0.0, signature, []) for s in names}

        devices = device_list(gpu_count(self.gpus))
        replicas = _load_replicas(files, self.precision, devices)
        for r in replicas:
            _install_embedding_cache(r)

        src = [x.strip() for x in ctx.sources]
        mts = {s: [x.strip() for x in hypotheses[s]] for s in names}
        ref_lines = [[x.strip() for x in lines] for _, lines in refs]
        # comet-score's batches: the source sorted by length (numpy argsort), then chunked
        index_batches = length_sorted_batches([len(x) for x in src], self.batch_size, self.length_batching)
        jobs: list[tuple[str, int, list[int]]] = []  # (system, ref variant, segment ids)
        for ids in index_batches:  # batch-major: shared src/ref batches hit the embedding cache
            for r in range(max(1, len(ref_lines))):
                for s in names:
                    jobs.append((s, r, ids))

        def samples(job: tuple[str, int, list[int]]) -> list[dict[str, str]]:
            s, r, ids = job
            if ref_lines:
                return [{"src": src[i], "mt": mts[s][i], "ref": ref_lines[r][i]} for i in ids]
            return [{"src": src[i], "mt": mts[s][i]} for i in ids]

        outputs = run_batches(replicas, jobs, lambda model, job: _predict_batch(model, samples(job)))
        per: dict[tuple[str, int], list[float]] = {}
        for (s, r, ids), scores in zip(jobs, outputs):
            if len(scores) != len(ids):
                raise MtbenchError(f"{self.name}: model {files.model_id} returned {len(scores)} scores for a batch of "
                                   f"{len(ids)}; is it a COMET scoring model?")
            seg = per.setdefault((s, r), [0.0] * n)
            for i, v in zip(ids, scores):
                seg[i] = float(v)
        results = {}
        n_var = max(1, len(ref_lines))
        for s in names:
            if n_var == 1:
                segs = per[(s, 0)]
            else:
                segs = [sum(per[(s, r)][i] for r in range(n_var)) / n_var for i in range(n)]
            score = sum(segs) / len(segs)  # comet's system score: the plain mean
            results[s] = MetricResult(self.name, score, signature, segs, details={
                "model": files.model_id, "ckpt_sha256": sha,
                "references": [k for k, _ in refs], "precision": self.precision})
        return results


def make_comet(model: str | None = None, name: str | None = None, **options: Any) -> Comet:
    """COMET with any model: a hub id, a local folder (``checkpoints/model.ckpt`` +
    ``hparams.yaml``) or a checkpoint file; the registry maps ``comet:SPEC`` here."""
    return Comet(model, name=name or ("comet" if model is None else f"comet:{model}"), **options)


def comet() -> Comet:
    """Reference-based COMET-22 (Unbabel/wmt22-comet-da)."""
    return Comet(DEFAULT_MODEL, name="comet")


def cometkiwi() -> Comet:
    """Reference-free CometKiwi-22 (QE): reads source and output only."""
    return Comet(KIWI_MODEL, name="cometkiwi")


def xcomet() -> Comet:
    """XCOMET-XL with references (QE mode when a direction has none)."""
    return Comet(XCOMET_MODEL, name="xcomet")
