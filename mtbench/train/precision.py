"""Which mixed precision a training run uses.

bf16 autocast is fast on GPUs and on CPUs with bf16 instructions (AVX512-BF16, AMX);
elsewhere torch emulates it: measured on this 2-core AVX2 machine, one SmolLM2-135M step
(batch 8, ~700 tokens) took 387 s under bf16 autocast and 17-27 s in fp32. ``auto``
therefore means bf16 on a GPU or such a CPU, and fp32 otherwise; an explicit ``bf16`` on a
CPU without them is kept (it is still correct) but said in one line.
"""

from __future__ import annotations

from pathlib import Path

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has bf16 instructions (Linux /proc/cpuinfo flags)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    return any(f in flags for f in CPU_BF16_FLAGS)


def resolve(mixed_precision: str, on_gpu: bool, cpuinfo: str | None = None) -> tuple[str, str | None]:
    """(the mixed precision to use, a one-line note or None)."""
    fast_bf16 = on_gpu or cpu_has_bf16(cpuinfo)
    if mixed_precision == "auto":
        chosen = "bf16" if fast_bf16 else "no"
        why = "a GPU" if on_gpu else ("a CPU with bf16 instructions" if fast_bf16 else "a CPU without AVX512-BF16/AMX")
        return chosen, f"mixed_precision auto: {'bf16' if chosen == 'bf16' else 'fp32'} on {why}"
    if mixed_precision == "bf16" and not fast_bf16:
        return "bf16", ("mixed_precision bf16 on a CPU without AVX512-BF16/AMX: torch emulates it, about 15-20x slower "
                        "than fp32 here; mixed_precision: auto (or no) trains in fp32")
    return mixed_precision, None
