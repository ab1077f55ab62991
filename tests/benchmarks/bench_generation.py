"""Benchmark: batched, length-sorted generation (HFBackend) against one sentence at a
time (what TIM's inference script does: a loop calling ``model.generate`` per sentence).

Both runs use the embedded SmolLM2-135M-Instruct (or --model PATH), ALMA's prompt,
greedy search and the same ``max_new_tokens``; tokens/s counts the new tokens before
EOS. Prints both throughputs, their ratio, and whether the outputs are identical
(exact-match rate of the batched outputs against the loop's).

    python tests/benchmarks/bench_generation.py [--n 32] [--max-new-tokens 64] [--batches 32]
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
        print(f"one at a time : {loop[1]:6d} tokens in {loop[2]:7.1f} s = {loop[1] / loop[2]:8.1f} tokens/s")
    for b in (int(x) for x in args.batches.split(",")):
        out, tokens, seconds = batched(backend, prompts, args.max_new_tokens, b)
        line = f"batched (b={b:3d}): {tokens:6d} tokens in {seconds:7.1f} s = {tokens / seconds:8.1f} tokens/s"
        if loop is not None:
            same = sum(a == c for a, c in zip(out, loop[0]))
            ratio = (tokens / seconds) / (loop[1] / loop[2])
            line += (f"  ratio {ratio:5.2f}x  identical outputs: {same == len(out)}  "
                     f"exact-match {100.0 * same / len(out):.1f}%")
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
