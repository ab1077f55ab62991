"""mixed_precision auto: bf16 only where the hardware runs it (a GPU, a CPU with
AVX512-BF16 or AMX), fp32 elsewhere; an explicit bf16 on a CPU without them is said."""

from __future__ import annotations

from mtbench.train.precision import cpu_has_bf16, resolve

AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"


def test_cpu_flags() -> None:
    assert not cpu_has_bf16(AVX2) and cpu_has_bf16(SAPPHIRE) and not cpu_has_bf16("")


def test_auto_and_explicit_choices() -> None:
    assert resolve("auto", on_gpu=False, cpuinfo=AVX2) == ("no", "mixed_precision auto: fp32 on a CPU without "
                                                                "AVX512-BF16/AMX")
    assert resolve("auto", on_gpu=False, cpuinfo=SAPPHIRE)[0] == "bf16"
    assert resolve("auto", on_gpu=True, cpuinfo=AVX2)[0] == "bf16"
    chosen, note = resolve("bf16", on_gpu=False, cpuinfo=AVX2)
    assert chosen == "bf16" and "emulates it" in note
    assert resolve("no", on_gpu=False, cpuinfo=AVX2) == ("no", None)
    assert resolve("fp16", on_gpu=True, cpuinfo=AVX2) == ("fp16", None)
