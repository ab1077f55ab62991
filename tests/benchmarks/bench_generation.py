"""Benchmark: generation throughput of one sentence at a time (TIM's inference script:
a loop calling ``model.generate`` per sentence), HFBackend's static length-sorted
batches, HFBackend's continuous batching (transformers' ``generate_batch``), and, when
``.venv-vllm`` exists, the vLLM backend on the same prompts.

Every run uses the embedded SmolLM2-135M-Instruct (or --model PATH), ALMA's prompt,
greedy search and the same ``max_new_tokens``; tokens/s counts the new tokens before
EOS. Prints each throughput, its ratio to the loop, and the exact-match rate of its
outputs against the loop's. `make bench` builds nothing: `make vllm-env` first adds
the vLLM row (or --vllm-python PATH).

    python tests/benchmarks/bench_generation.py [--n 64] [--max-new-tokens 128] [--batches 32]
    # on a GPU:
    python tests/benchmarks/bench_generation.py --device cuda --dtype bfloat16 --batches 1,16,64 --n 256
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from mtbench.models.base import DecodingParams

REPO = Path(__file__).resolve().parents[2]
ALMA_PROMPT = "Translate this from German to English:\nGerman: {src}\nEnglish:"


def data_dir() -> Path:
    for c in (os.environ.get("MTBENCH_DATA"), str(REPO.parent / "shared" / "mtdata")):
        if c and (Path(c) / "wmt22" / "de-en" / "src.txt").is_file():
            return Path(c)
    sys.exit("shared test data not found: set MTBENCH_DATA to the mtdata folder")


def load_backend(args: argparse.Namespace) -> Any:
    from mtbench.models.hf import HFBackend
    from mtbench.models.smollm2 import smollm2_backend

    kwargs = dict(dtype=args.dtype, device=args.device, progress=False, batch_tokens=args.batch_tokens)
    if args.model == "smollm2-135m":
        return smollm2_backend(**kwargs)
    return HFBackend(args.model, **kwargs)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_at_a_time(backend: Any, prompts: list[str], max_new_tokens: int) -> tuple[list[str], int, float]:
    """TIM's loop: tokenize one prompt, ``generate`` it, decode the new tokens."""
    model, tok = backend.model, backend.tokenizer
    eos = model.generation_config.eos_token_id
    eos_ids = set(eos) if isinstance(eos, list) else {eos}
    outputs, tokens = [], 0
    sync(backend.device)
    start = time.perf_counter()
    for p in prompts:
        ids = tok(p, return_tensors="pt")["input_ids"].to(backend.device)
        with torch.inference_mode():
            seq = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, num_beams=1,
                                 max_new_tokens=max_new_tokens, pad_token_id=tok.pad_token_id)
        new = seq[0, ids.shape[1]:].tolist()
        n = next((k for k, t in enumerate(new) if t in eos_ids), len(new))
        tokens += n
        outputs.append(tok.decode(new[:n], skip_special_tokens=True))
    sync(backend.device)
    return outputs, tokens, time.perf_counter() - start


def batched(backend: Any, prompts: list[str], max_new_tokens: int, batch: int) -> tuple[list[str], int, float]:
    backend.max_batch = backend.row_cap = batch
    sync(backend.device)
    start = time.perf_counter()
    gens = backend.generate(prompts, DecodingParams(max_new_tokens=max_new_tokens))
    sync(backend.device)
    return [g.raw for g in gens], sum(g.n_tokens for g in gens), time.perf_counter() - start


def continuous(backend: Any, prompts: list[str], max_new_tokens: int) -> tuple[list[str], int, float]:
    backend.continuous = True
    try:
        backend.generate(prompts[:2], DecodingParams(max_new_tokens=4))  # warm-up, as the other runs had
        sync(backend.device)
        start = time.perf_counter()
        gens = backend.generate(prompts, DecodingParams(max_new_tokens=max_new_tokens))
        sync(backend.device)
    finally:
        backend.continuous = False
    return [g.raw for g in gens], sum(g.n_tokens for g in gens), time.perf_counter() - start


def with_vllm(args: argparse.Namespace, backend: Any, prompts: list[str]) -> tuple[list[str], int, float] | None:
    """The vLLM backend on the same model folder, or None (said in one line) without
    its interpreter."""
    from mtbench.errors import MtbenchError
    from mtbench.models.vllm_backend import VLLMBackend, resolve_python

    try:
        python = resolve_python(args.vllm_python)
    except MtbenchError as exc:
        print(f"vLLM           : skipped ({exc})")
        return None
    folder = backend.source.local or backend.source.ref
    # the HF backend's dtype, not vLLM's own "auto" (bf16 on this CPU): the same arithmetic,
    # so that the exact-match rate measures the engines, not the precision
    dtype = args.dtype if args.dtype != "auto" else str(backend.dtype).removeprefix("torch.")
    print(f"vLLM           : {dtype}, engine start not timed")
    vllm = VLLMBackend(folder, python=python, dtype=dtype, name="vllm")
    try:
        vllm.generate(prompts[:2], DecodingParams(max_new_tokens=4))  # warm-up: engine start and first step
        start = time.perf_counter()
        gens = vllm.generate(prompts, DecodingParams(max_new_tokens=args.max_new_tokens))
        return [g.raw for g in gens], sum(g.n_tokens for g in gens), time.perf_counter() - start
    finally:
        vllm.close()


def report(label: str, run: tuple[list[str], int, float], loop: tuple[list[str], int, float] | None) -> None:
    out, tokens, seconds = run
    line = f"{label:15s}: {tokens:6d} tokens in {seconds:7.1f} s = {tokens / seconds:8.1f} tokens/s"
    if loop is not None:
        same = sum(a == c for a, c in zip(out, loop[0]))
        ratio = (tokens / seconds) / (loop[1] / loop[2])
        line += f"  ratio {ratio:5.2f}x  identical outputs: {same == len(out)}  exact-match {100.0 * same / len(out):.1f}%"
    print(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=32, help="first N source lines of wmt22 de-en")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batches", default="32", help="comma-separated batch sizes for the batched runs")
    ap.add_argument("--batch-tokens", type=int, default=1 << 20, help="token budget per batch (large: rows decide)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    ap.add_argument("--model", default="smollm2-135m", help="smollm2-135m or a local model folder")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--skip-loop", action="store_true", help="only the batched runs")
    ap.add_argument("--vllm-python", help="interpreter of the vLLM environment (default .venv-vllm/bin/python)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    src = (data_dir() / "wmt22" / "de-en" / "src.txt").read_text(encoding="utf-8").splitlines()[: args.n]
    prompts = [ALMA_PROMPT.format(src=s) for s in src]
    t0 = time.perf_counter()
    backend = load_backend(args)
    print(f"model {backend.name} ({backend.dtype}, {backend.device}) loaded in {time.perf_counter() - t0:.1f} s; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(prompts)} segments, greedy, "
          f"max_new_tokens {args.max_new_tokens}")
    backend.generate(prompts[:2], DecodingParams(max_new_tokens=4))  # warm-up: first-call allocations

    loop = None
    if not args.skip_loop:
        loop = one_at_a_time(backend, prompts, args.max_new_tokens)
        report("one at a time", loop, None)
    for b in (int(x) for x in args.batches.split(",")):
        backend.continuous = False
        report(f"static (b={b})", batched(backend, prompts, args.max_new_tokens, b), loop)
    report("continuous", continuous(backend, prompts, args.max_new_tokens), loop)
    vllm = with_vllm(args, backend, prompts)
    if vllm is not None:
        report("vLLM", vllm, loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
