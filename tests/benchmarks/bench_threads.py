"""Benchmark: `mtbench run` with SmolLM2 on an idle machine and beside a busy process.

The busy process spins on one core (pinned there with its affinity). Three whole
`mtbench run` commands, each with a fresh generation cache and run directory:

- idle, threads chosen by mtbench;
- loaded, threads chosen by mtbench (it sees the busy core and leaves it);
- loaded, ``--threads`` = every usable core (what torch does by itself).

Prints tokens/s of the generation stage (the manifest's new tokens / seconds), the
whole command's wall time, and loaded/idle ratios (target: loaded >= 40% of idle).

    python tests/benchmarks/bench_threads.py [--limit 16] [--max-new-tokens 64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "benchmarks"))

from bench_generation import data_dir  # noqa: E402

from mtbench.threads import usable_cores  # noqa: E402


def busy_process(core: int) -> subprocess.Popen:
    code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True: pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def mtbench_run(tmp: Path, tag: str, args: argparse.Namespace, extra: list[str]) -> tuple[float, float, int]:
    """(tokens/s of generation, wall seconds of the whole command, threads used)."""
    out = tmp / f"run-{tag}"
    cmd = [sys.executable, "-m", "mtbench", "run", "--model", "smollm2-135m", "--tasks", "wmt22:de-en",
           "--limit", str(args.limit), "--max-new-tokens", str(args.max_new_tokens), "--metrics", "bleu,chrf",
           "--significance", "none", "--cache", str(tmp / f"cache-{tag}.sqlite"), "--out", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MTBENCH_DATA": str(data_dir())})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"mtbench run failed ({tag}): {proc.stderr.strip().splitlines()[-1:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    info = next(iter(manifest["models"].values()))["tasks"]["wmt22:de-en"]
    return info["new_tokens"] / info["seconds"], wall, manifest["threads"]["threads"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    args = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        print(f"bench_threads: skipped, this process may use {len(cores)} core (the busy process needs another)")
        return 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        mtbench_run(tmp, "warm", args, ["--limit", "2"])  # converts SmolLM2 once, if it is not cached
        idle = mtbench_run(tmp, "idle", args, [])
        busy = busy_process(cores[0])
        try:
            time.sleep(0.5)
            loaded = mtbench_run(tmp, "loaded", args, [])
            loaded_all = mtbench_run(tmp, "loaded-all", args, ["--threads", str(usable_cores())])
        finally:
            busy.kill()
            busy.wait()
    print(f"SmolLM2-135M, wmt22:de-en, {args.limit} segments, greedy, max_new_tokens {args.max_new_tokens}; "
          f"{usable_cores()} usable cores, busy process on core {cores[0]}")
    for label, (tok_s, wall, n) in (("idle, threads chosen", idle), ("loaded, threads chosen", loaded),
                                    (f"loaded, --threads {usable_cores()}", loaded_all)):
        print(f"{label:24s}: {n} thread(s) {tok_s:7.1f} tokens/s  whole command {wall:6.1f} s  "
              f"{100 * tok_s / idle[0]:5.1f}% of idle")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
