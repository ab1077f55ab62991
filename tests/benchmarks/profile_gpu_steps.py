"""Profile HFBackend's decode steps on a GPU: where the fixed per-step time goes.

For each batch size (default 1, 16, 64, 256 rows) it generates greedily in bf16 with
the static path (and with continuous batching), times every step with CUDA events,
and runs one batch under ``torch.profiler`` to list the ops that take the most time
(host and device) and the host-device syncs. It prints, per batch size, ms per step,
tokens/s, and the memory-bandwidth bound of the card for this model (every step reads
all weights once: bound = bandwidth / weight bytes steps/s, times the rows).

    python tests/benchmarks/profile_gpu_steps.py --model FOLDER [--batches 1,16,64,256]
        [--new-tokens 64] [--bandwidth-gbs 4800] [--out DIR]

`scripts/gpu_check.sh` runs it. On a CPU it runs too (``--device cpu``), for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mtbench.models.base import DecodingParams
from mtbench.models.hf import HFBackend

PROMPT = "Translate this from German to English:\nGerman: {src}\nEnglish:"
SOURCES = ["Das Haus ist klein.", "Der Hund bellt laut, wenn der Briefträger kommt.",
           "Ich trinke jeden Morgen zwei Tassen Kaffee, bevor ich zur Arbeit fahre.", "Danke!"]


class StepTimer:
    """A logits processor that records a timestamp per decode step (CUDA events on a GPU)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.marks: list = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())
        return scores

    def step_ms(self) -> list[float]:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            return [a.elapsed_time(b) for a, b in zip(self.marks, self.marks[1:])]
        return [(b - a) * 1000 for a, b in zip(self.marks, self.marks[1:])]


def weight_bytes(model: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def static_steps(backend: HFBackend, prompts: list[str], new_tokens: int) -> tuple[list[float], int, float]:
    """ms per decode step, new tokens, wall seconds of one static batch."""
    from transformers import LogitsProcessorList

    timer = StepTimer(backend.device)
    encoded = [backend.tokenizer(p)["input_ids"] for p in prompts]
    from mtbench.models.hf import left_pad

    ids, mask = left_pad(encoded, backend.tokenizer.pad_token_id)
    gc = backend._generation_config(DecodingParams(max_new_tokens=new_tokens))
    gc.eos_token_id = None  # every row runs all steps: the same work at every batch size
    if backend.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode():
        out = backend.model.generate(input_ids=ids.to(backend.device), attention_mask=mask.to(backend.device),
                                     generation_config=gc, logits_processor=LogitsProcessorList([timer]))
    if backend.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return timer.step_ms(), (out.shape[1] - ids.shape[1]) * len(prompts), seconds


def profile_once(backend: HFBackend, prompts: list[str], new_tokens: int, out: Path) -> str:
    activities = [torch.profiler.ProfilerActivity.CPU]
    if backend.device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities, record_shapes=False) as prof:
        static_steps(backend, prompts, new_tokens)
    out.mkdir(parents=True, exist_ok=True)
    prof.export_chrome_trace(str(out / f"trace-{len(prompts)}.json"))
    key = "self_cuda_time_total" if backend.device.type == "cuda" else "self_cpu_time_total"
    table = prof.key_averages().table(sort_by=key, row_limit=15)
    syncs = sum(e.count for e in prof.key_averages() if e.key in ("aten::item", "aten::_local_scalar_dense",
                                                                   "cudaStreamSynchronize", "cudaDeviceSynchronize"))
    return f"{table}\nhost-device syncs (item / synchronize calls): {syncs}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a local model folder")
    ap.add_argument("--batches", default="1,16,64,256")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--bandwidth-gbs", type=float, default=4800.0, help="the card's memory bandwidth (H200: 4800)")
    ap.add_argument("--out", default="profile-gpu", help="folder for the traces and summary.json")
    args = ap.parse_args()
    backend = HFBackend(args.model, dtype=args.dtype, device=args.device, progress=False, continuous=False)
    wbytes = weight_bytes(backend.model)
    bound_steps = args.bandwidth_gbs * 1e9 / wbytes
    print(f"{args.model}: {wbytes / 1e6:.1f} MB of {backend.dtype} weights; bandwidth bound "
          f"{bound_steps:.0f} steps/s at {args.bandwidth_gbs:g} GB/s")
    static_steps(backend, [PROMPT.format(src=SOURCES[0])] * 2, 4)  # warm-up
    summary = []
    out = Path(args.out)
    for rows in (int(b) for b in args.batches.split(",")):
        prompts = [PROMPT.format(src=SOURCES[i % len(SOURCES)]) for i in range(rows)]
        steps, tokens, seconds = static_steps(backend, prompts, args.new_tokens)
        decode = sorted(steps[1:]) or [float("nan")]  # the first interval holds the prefill
        median = decode[len(decode) // 2]
        bound = bound_steps * rows
        backend.continuous = True
        t0 = time.perf_counter()
        backend.generate(prompts, DecodingParams(max_new_tokens=args.new_tokens))
        if backend.device.type == "cuda":
            torch.cuda.synchronize()
        continuous_s = time.perf_counter() - t0
        backend.continuous = False
        row = {"rows": rows, "median_step_ms": median, "tokens_per_s": tokens / seconds,
               "bandwidth_bound_tokens_per_s": bound, "fraction_of_bound": tokens / seconds / bound,
               "continuous_s": continuous_s}
        summary.append(row)
        print(f"rows {rows:4d}: step {median:7.2f} ms  {tokens / seconds:9.0f} tokens/s  "
              f"({100 * row['fraction_of_bound']:5.1f}% of the bandwidth bound {bound:9.0f})  "
              f"continuous batching {continuous_s:6.2f} s for the same prompts")
    for rows in sorted({1, max(int(b) for b in args.batches.split(","))}):
        prompts = [PROMPT.format(src=SOURCES[i % len(SOURCES)]) for i in range(rows)]
        print(f"--- profile, {rows} row(s), {args.new_tokens} new tokens")
        print(profile_once(backend, prompts, min(args.new_tokens, 16), out))
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
