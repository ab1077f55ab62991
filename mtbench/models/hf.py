"""Generation with Hugging Face transformers (decoder-only models).

Why it looks the way it does:

- Prompts are tokenized once, sorted longest first and packed into batches under a
  token budget, so padding is small and one long prompt never forces a huge batch;
  results go back in input order.
- Padding is on the left and ``generate`` is called exactly as a paper's script calls
  it one sentence at a time (same generation config, greedy or beam search), so a
  batched run gives the same outputs as the unbatched loop, only faster.
- Stop strings cut the decoded completion at their first occurrence. Greedy search
  also stops a row as soon as its new text holds a stop string (this cannot change the
  text before it); beam search does not, because a stopping rule changes which beams
  survive and the papers' scripts cut afterwards.
- Greedy search without stop strings can use transformers' continuous batching
  (``generate_batch``, paged KV cache; on a GPU by default): a row that ends leaves the
  batch and a waiting prompt takes its place, instead of the batch waiting for its
  longest member. Outputs are the static path's (tests compare them in fp32); beam
  search, stop strings and models transformers cannot page keep the static path.
- A CUDA out-of-memory error halves the batch and retries it, and later batches keep
  the smaller size: a long test set finishes instead of crashing at segment 1,900.
- Works with transformers 4.45+ and 5.x: only APIs present in both are used, and the
  ``torch_dtype`` -> ``dtype`` rename is handled.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

import torch
import transformers
from packaging.version import Version
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList

from mtbench.errors import MtbenchError
from mtbench.models.base import DecodingParams, Generation
from mtbench.models.devices import check_device
from mtbench.threads import configure_torch
from mtbench.models.fingerprint import (  # noqa: F401 - re-exported for callers of hf
    TOKENIZER_FILES,
    VOLATILE_CONFIG_KEYS,
    WEIGHT_PATTERNS,
    canonical_json_sha256,
    files_sha256,
    weight_files,
    weights_sha256,
)

CB_BLOCK_SIZE = 32  # tokens per page of the continuous-batching KV cache
CB_STEP_TOKENS = 1024  # most tokens one continuous-batching step processes (prefill chunks and decodes)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
OOM_ERRORS: tuple[type[BaseException], ...] = (torch.cuda.OutOfMemoryError,)

T = TypeVar("T")


# ---------------------------------------------------------------- batching


def plan_batches(
    lengths: Sequence[int], max_new_tokens: int, num_beams: int, batch_tokens: int, max_batch: int
) -> list[list[int]]:
    """Indices grouped into batches, longest prompt first.

    A batch costs ``rows * (longest prompt + max_new_tokens) * num_beams`` tokens of
    activations and cache; it is closed when the next row would pass ``batch_tokens``
    or ``max_batch``. Longest first means the first batch is the most expensive, so an
    out-of-memory error shows at once, and each batch's first row fixes its width."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # stable: ties keep input order
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        cost = (len(current) + 1) * (width + max_new_tokens) * max(1, num_beams)
        if current and (cost > batch_tokens or len(current) + 1 > max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def chunks(rows: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(rows), max(1, size)):
        yield rows[start : start + max(1, size)]


def run_halving_on_oom(
    rows: list[T],
    run: Callable[[list[T]], list[Any]],
    on_oom: Callable[[int], None] | None = None,
    describe: Callable[[list[T]], str] = lambda rows: "",
) -> list[Any]:
    """``run`` over ``rows`` in one piece; on an out-of-memory error the piece size
    halves and stays halved for the rest of ``rows`` (what failed once fails again).

    ``on_oom(n)`` hears each size that failed, so the caller can shrink later batches.
    One row that still does not fit is a user error: the message says what to change."""
    out: list[Any] = []
    size = max(1, len(rows))
    start = 0
    while start < len(rows):
        part = rows[start : start + size]
        try:
            out.extend(run(part))
            start += len(part)
            continue
        except OOM_ERRORS:
            pass  # leave the except block first, so the failed batch's tensors can be freed
        if len(part) == 1:
            raise MtbenchError(
                f"out of GPU memory on a single prompt{describe(part)}; lower max_new_tokens or num_beams, "
                "use dtype bfloat16, or use a GPU with more memory"
            )
        if on_oom is not None:
            on_oom(len(part))
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        size = len(part) // 2
    return out


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and attention mask, padded on the left (decoder-only models continue
    from the last position, so real tokens must end at the right edge)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, row in enumerate(rows):
        if row:
            ids[k, width - len(row) :] = torch.tensor(list(row), dtype=torch.long)
            mask[k, width - len(row) :] = 1
    return ids, mask


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """The text before the first occurrence of any stop string."""
    cut = len(text)
    for s in stops:
        if s:
            at = text.find(s)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def count_new_tokens(new_ids: Sequence[int], eos_ids: set[int], pad_id: int | None) -> int:
    """Tokens generated before the first EOS; without EOS, before the trailing padding
    that ``generate`` puts after a row that stopped early (e.g. on a stop string)."""
    for k, tok in enumerate(new_ids):
        if tok in eos_ids:
            return k
    n = len(new_ids)
    while n > 0 and pad_id is not None and new_ids[n - 1] == pad_id:
        n -= 1
    return n


class StopOnStrings(StoppingCriteria):
    """Marks a row finished once its *new* text contains a stop string.

    transformers' own ``stop_strings`` also matches strings that straddle the end of
    the prompt, which would stop a row the cut would not have cut; this looks at the
    completion alone, so stopping early never changes the returned text."""

    def __init__(self, decode: Callable[[list[int]], str], stops: Sequence[str], prompt_width: int) -> None:
        self.decode = decode
        self.stops = [s for s in stops if s]
        self.prompt_width = prompt_width
        self.done: list[bool] | None = None

    def __call__(self, input_ids: torch.Tensor, scores: Any = None, **kwargs: Any) -> torch.Tensor:
        if self.done is None or len(self.done) != input_ids.shape[0]:
            self.done = [False] * input_ids.shape[0]
        new = input_ids[:, self.prompt_width :].tolist()
        for k, row in enumerate(new):
            if not self.done[k]:
                text = self.decode(row)
                self.done[k] = any(s in text for s in self.stops)
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


@contextmanager
def _host_memory_for_paged_cache(device: torch.device) -> Iterator[None]:
    """transformers 4.57 sizes the paged cache from the GPU's free memory even on the
    CPU, where it finds none and fails (``None - int``); on the CPU it gets the host's
    available memory instead, for the duration of the call."""
    if device.type != "cpu":
        yield
        return
    import psutil

    try:
        from transformers.generation.continuous_batching import cache as paged

        handler = paged.PagedAttentionMemoryHandler
    except (ImportError, AttributeError):  # another layout: nothing to correct
        yield
        return
    original = handler.__dict__["get_available_memory"]
    handler.get_available_memory = staticmethod(lambda fraction=1.0: int(psutil.virtual_memory().available * fraction))
    try:
        yield
    finally:
        handler.get_available_memory = original


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: a local folder or a hub id."""

    ref: str
    local: Path | None


def looks_like_hub_id(ref: str) -> bool:
    parts = ref.split("/")
    return len(parts) == 2 and all(parts) and not ref.startswith((".", "~")) and "\\" not in ref


def resolve_source(path: str | os.PathLike[str]) -> ModelSource:
    """Check a local model folder before transformers does, so a wrong path gives one
    line that says what is missing instead of a stack of hub-download errors."""
    ref = str(path)
    p = Path(ref).expanduser()
    if p.exists():
        if not p.is_dir():
            hint = " (a GGUF file must be converted first: see mtbench.models.smollm2)" if p.suffix == ".gguf" else ""
            raise MtbenchError(f"model path {p} is a file, not a model folder{hint}; pass the folder that "
                               "save_pretrained wrote (config.json, *.safetensors, tokenizer files)")
        missing = []
        if not (p / "config.json").is_file():
            missing.append("config.json")
        if not weight_files(p):
            missing.append("weights (*.safetensors or pytorch_model*.bin)")
        if not any((p / f).is_file() for f in TOKENIZER_FILES):
            missing.append("tokenizer files (tokenizer.json or tokenizer_config.json)")
        if missing:
            raise MtbenchError(f"model folder {p} holds no model: missing {', '.join(missing)}; point it at a "
                               "folder written by model.save_pretrained() and tokenizer.save_pretrained()")
        return ModelSource(str(p.resolve()), p.resolve())
    if looks_like_hub_id(ref):
        return ModelSource(ref, None)
    raise MtbenchError(f"model path {ref!r} does not exist and is not a hub id (owner/name); "
                       "pass a local model folder")


def pick_device(device: str) -> torch.device:
    check_device(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MtbenchError(f"device {device!r} was asked for but torch {torch.__version__} sees no CUDA GPU; "
                           "use device cpu (or auto), or install a CUDA build of torch")
    if device.startswith("cuda:") and int(device[5:]) >= torch.cuda.device_count():
        raise MtbenchError(f"device {device!r}: torch sees {torch.cuda.device_count()} GPU(s), numbered from 0; "
                           f"choose one of them or set CUDA_VISIBLE_DEVICES")
    return torch.device(device)


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype | str:
    """``auto`` is the checkpoint's own dtype on a GPU and float32 on the CPU, where
    half-precision matmuls are slow (no AVX512-BF16 here) and some ops are missing."""
    if dtype == "auto":
        return "auto" if device.type == "cuda" else torch.float32
    if dtype not in DTYPES:
        raise MtbenchError(f"dtype {dtype!r} is not supported; choose one of: auto, {', '.join(DTYPES)}")
    return DTYPES[dtype]


def dtype_kwargs(dtype: torch.dtype | str) -> dict[str, Any]:
    """transformers 4.56 renamed ``torch_dtype`` to ``dtype``; 5.x drops the old name."""
    key = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
    return {key: dtype}


def load_config(source: ModelSource) -> Any:
    try:
        config = AutoConfig.from_pretrained(source.ref)
    except (OSError, ValueError) as exc:
        raise MtbenchError(f"cannot read the model config of {source.ref!r} ({first_line(exc)}); "
                           "pass a local folder with config.json, or download the hub model while online") from None
    if getattr(config, "is_encoder_decoder", False):
        raise MtbenchError(f"model {source.ref!r} is an encoder-decoder ({config.model_type}); the hf backend runs "
                           "decoder-only (causal LM) models only")
    return config


def load_model(source: ModelSource, config: Any, dtype: torch.dtype | str, device: torch.device) -> Any:
    try:
        model = AutoModelForCausalLM.from_pretrained(source.ref, config=config, **dtype_kwargs(dtype))
    except ValueError as exc:
        if "Unrecognized configuration class" in str(exc):
            raise MtbenchError(f"model {source.ref!r} ({config.model_type}) is not a decoder-only causal LM; "
                               "the hf backend runs decoder-only models only") from None
        raise MtbenchError(f"cannot load model {source.ref!r}: {first_line(exc)}") from None
    except OSError as exc:
        raise MtbenchError(f"cannot load the weights of {source.ref!r} ({first_line(exc)}); check the folder "
                           "or download the hub model while online") from None
    return model.to(device).eval()


def load_tokenizer(source: ModelSource) -> Any:
    try:
        tok = AutoTokenizer.from_pretrained(source.ref)
    except (OSError, ValueError, TypeError) as exc:
        raise MtbenchError(f"cannot load the tokenizer of {source.ref!r} ({first_line(exc)}); the folder needs "
                           "the files tokenizer.save_pretrained() writes") from None
    tok.padding_side = "left"
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise MtbenchError(f"the tokenizer of {source.ref!r} has neither a pad nor an eos token; "
                               "set one with tokenizer.pad_token = ... and save it again")
        tok.pad_token = tok.eos_token
    return tok


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------- backend


class HFBackend:
    """A decoder-only transformers model behind the Backend protocol."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        dtype: str = "auto",
        device: str = "cpu",
        batch_tokens: int = 16384,
        max_batch: int = 64,
        name: str | None = None,
        progress: bool = True,
        continuous: bool | None = None,
    ) -> None:
        if batch_tokens < 1 or max_batch < 1:
            raise MtbenchError(f"batch_tokens ({batch_tokens}) and max_batch ({max_batch}) must be positive")
        configure_torch()  # the run's thread decision (mtbench.threads), before the first op
        self.device = pick_device(device)
        torch_dtype = pick_dtype(dtype, self.device)
        self.source = resolve_source(path)
        self.name = name or (self.source.local.name if self.source.local else self.source.ref)
        config = load_config(self.source)
        self.tokenizer = load_tokenizer(self.source)
        self.model = load_model(self.source, config, torch_dtype, self.device)
        self.batch_tokens = batch_tokens
        self.max_batch = max_batch
        self.progress = progress
        self.row_cap = max_batch  # lowered for good after an out-of-memory error
        # Continuous batching for greedy search without stop strings; by default on a GPU only:
        # on this 2-core CPU its paged attention made SmolLM2 slower than the static path
        # (tests/benchmarks/bench_generation.py, 32 prompts x 64 tokens: 34.5 against 63.6
        # tokens/s; 0.9x in a run of its own).
        self.continuous = self.device.type == "cuda" if continuous is None else continuous
        self._fingerprint: dict[str, Any] | None = None

    # -- public

    @property
    def dtype(self) -> str:
        return str(self.model.dtype).removeprefix("torch.")

    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return dict(self._fingerprint)

    def generate(self, prompts: Sequence[str], params: DecodingParams) -> list[Generation]:
        if not prompts:
            return []
        self._check_params(params)
        encoded = self._encode(prompts)
        if self._use_continuous(params):
            return self._generate_continuous(encoded, params)
        lengths = [len(e) for e in encoded]
        batches = plan_batches(lengths, params.max_new_tokens, params.num_beams, self.batch_tokens, self.max_batch)
        results: list[Generation | None] = [None] * len(prompts)
        bar = self._progress_bar(len(prompts))
        new_tokens = 0
        started = time.perf_counter()
        try:
            for batch in batches:
                for part in chunks(batch, self.row_cap):
                    t0 = time.perf_counter()
                    outs = run_halving_on_oom(
                        part,
                        lambda rows: self._generate_rows([encoded[i] for i in rows], params),
                        on_oom=self._shrink,
                        describe=lambda rows: f" of {lengths[rows[0]]} tokens (segment {rows[0]})",
                    )
                    seconds = (time.perf_counter() - t0) / len(part)
                    for i, gen in zip(part, outs):
                        gen.meta["seconds"] = round(seconds, 6)
                        results[i] = gen
                        new_tokens += gen.n_tokens
                    if bar is not None:
                        bar.update(len(part))
                        elapsed = max(time.perf_counter() - started, 1e-9)
                        bar.set_postfix(tok_s=f"{new_tokens / elapsed:.1f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        return [r for r in results if r is not None]

    # -- internals

    def _check_params(self, params: DecodingParams) -> None:
        if params.num_beams < 1 or params.max_new_tokens < 1 or params.no_repeat_ngram_size < 0:
            raise MtbenchError(f"bad decoding parameters {params.to_dict()}: num_beams and max_new_tokens must be "
                               ">= 1 and no_repeat_ngram_size >= 0")

    def _encode(self, prompts: Sequence[str]) -> list[list[int]]:
        """All prompts at once (the fast tokenizer runs them in parallel), unpadded."""
        encoded = [list(ids) for ids in self.tokenizer(list(prompts))["input_ids"]]
        for i, ids in enumerate(encoded):
            if not ids:
                raise MtbenchError(f"prompt {i} is empty after tokenization ({prompts[i]!r}); "
                                   "the model needs at least one token to continue from")
        return encoded

    def _shrink(self, failed_rows: int) -> None:
        self.row_cap = max(1, min(self.row_cap, failed_rows // 2))
        print(f"mtbench: out of GPU memory with {failed_rows} rows; retrying with {self.row_cap} rows per batch",
              file=sys.stderr)

    def _generation_config(self, params: DecodingParams) -> Any:
        """The model's own generation config with the run's settings on top: this is
        what ``model.generate(**settings)`` does in the papers' scripts."""
        gc = copy.deepcopy(self.model.generation_config)
        gc.do_sample = False
        for attr in ("temperature", "top_p", "top_k", "typical_p", "min_p"):
            if hasattr(gc, attr):
                setattr(gc, attr, None)  # unused without sampling; avoids "flag ignored" warnings
        gc.num_beams = params.num_beams
        gc.num_return_sequences = 1
        gc.max_new_tokens = params.max_new_tokens
        gc.no_repeat_ngram_size = params.no_repeat_ngram_size
        gc.pad_token_id = self.tokenizer.pad_token_id
        if gc.eos_token_id is None:
            gc.eos_token_id = self.tokenizer.eos_token_id
        return gc

    def _eos_ids(self, gc: Any) -> set[int]:
        eos = gc.eos_token_id
        return set(eos) if isinstance(eos, (list, tuple)) else ({eos} if eos is not None else set())

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _generate_rows(self, rows: list[list[int]], params: DecodingParams) -> list[Generation]:
        gc = self._generation_config(params)
        ids, mask = left_pad(rows, self.tokenizer.pad_token_id)
        width = ids.shape[1]
        criteria = StoppingCriteriaList()
        if params.stop and params.num_beams == 1:
            criteria.append(StopOnStrings(self._decode, params.stop, width))
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                generation_config=gc,
                stopping_criteria=criteria,
            )
        sequences = out.sequences if hasattr(out, "sequences") else out
        eos_ids = self._eos_ids(gc)
        gens = []
        for row in sequences[:, width:].tolist():
            n = count_new_tokens(row, eos_ids, gc.pad_token_id)
            text = cut_at_stop(self._decode(row[:n]), params.stop)
            gens.append(Generation(raw=text, n_tokens=n))
        return gens

    def _use_continuous(self, params: DecodingParams) -> bool:
        """Continuous batching decodes greedily and cannot stop on a string (the static
        path stops such rows early, which changes their token counts), so beam search
        and stop strings keep the static path; so do models transformers cannot page."""
        return (self.continuous and params.num_beams == 1 and not params.stop
                and hasattr(self.model, "generate_batch") and hasattr(self.model, "set_attn_implementation"))

    def _generate_continuous(self, encoded: list[list[int]], params: DecodingParams) -> list[Generation]:
        """transformers' continuous batching (``generate_batch``): a row leaves the batch
        when it ends and a waiting prompt takes its place, so no step computes rows that
        are done. Prompts go in longest first (as in the static path); each step processes
        at most ``batch_tokens`` (and 1024) tokens."""
        gc = self._generation_config(params)
        gc.block_size = CB_BLOCK_SIZE
        # transformers 4.57 admits requests while pages are free but cannot take pages back
        # from a running one ("No more free blocks" ends the call), so the cache holds every
        # request of the call at once (a request of T tokens: ceil(T / block) + 1 pages).
        # The token budget bounds each step instead (prefill chunks plus one token per row).
        pages = [math.ceil((len(e) + params.max_new_tokens) / CB_BLOCK_SIZE) + 1 for e in encoded]
        gc.num_blocks = sum(pages)
        gc.max_batch_tokens = max(min(self.batch_tokens, CB_STEP_TOKENS), 1)
        gc.scheduler = "fifo"
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        started = time.perf_counter()
        previous = self.model.config._attn_implementation
        try:
            self.model.set_attn_implementation("sdpa_paged")
            with _host_memory_for_paged_cache(self.device):
                found = self.model.generate_batch(inputs=[encoded[i] for i in order], generation_config=gc,
                                                  progress_bar=False)
        finally:
            self.model.set_attn_implementation(previous)
        by_position = {int(str(k).rsplit("_", 1)[-1]): v for k, v in found.items()}
        if len(by_position) != len(encoded):
            raise MtbenchError(f"continuous batching of {self.name} returned {len(by_position)} of {len(encoded)} "
                               f"completions (transformers logged why above); pass continuous=False to HFBackend")
        eos_ids = self._eos_ids(gc)
        seconds = round((time.perf_counter() - started) / len(encoded), 6)
        results: list[Generation | None] = [None] * len(encoded)
        for position, i in enumerate(order):
            new = list(by_position[position].generated_tokens)
            n = count_new_tokens(new, eos_ids, None)
            gen = Generation(raw=cut_at_stop(self._decode(new[:n]), params.stop), n_tokens=n)
            gen.meta["seconds"] = seconds
            results[i] = gen
        return [r for r in results if r is not None]

    def _progress_bar(self, total: int) -> Any:
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="seg", file=sys.stderr, desc=self.name, dynamic_ncols=True, mininterval=1.0)

    def _compute_fingerprint(self) -> dict[str, Any]:
        fp: dict[str, Any] = {
            "backend": "hf",
            "model": self.source.ref,
            "dtype": self.dtype,
            "transformers": transformers.__version__,
            "torch": torch.__version__.split("+")[0],
        }
        folder = self.source.local
        if folder is not None:
            fp["config_sha256"] = canonical_json_sha256(json.loads((folder / "config.json").read_text("utf-8")))
            fp["weights_sha256"] = weights_sha256(folder)
            fp["tokenizer_sha256"] = files_sha256(folder, TOKENIZER_FILES)
            fp["generation_config_sha256"] = files_sha256(folder, ("generation_config.json",))
        else:
            fp["config_sha256"] = canonical_json_sha256(self.model.config.to_dict())
            fp["revision"] = getattr(self.model.config, "_commit_hash", None)
        return fp
