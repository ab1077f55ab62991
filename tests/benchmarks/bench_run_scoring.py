"""Benchmark: the whole `mtbench run` over every WMT22/21 system and LLM output file,
BLEU + chrF, against sacrebleu's Python API and its CLI on the same files.

    mtbench run --tasks 'wmt22:*,wmt21:*' --model files --metrics bleu,chrf \\
                --significance none --preset wmt --out TMP

is timed from the shell's point of view (a subprocess: interpreter start, loading,
importing the outputs, scoring, statistics, the report). sacrebleu's API scores the
same files in one process with its references cached per direction; its CLI runs
once per file. Prints the wall times, the ratios, the run's stage timings (manifest),
and whether every corpus score is identical (API: bit for bit; CLI: at its 4 decimals).

    python tests/benchmarks/bench_run_scoring.py [--skip-cli]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import data_dir  # noqa: E402
from bench_scoring import bench_api as sacrebleu_api  # noqa: E402  (the same baselines as the metric-only bench)
from bench_scoring import bench_cli as sacrebleu_cli  # noqa: E402
from bench_scoring import collect  # noqa: E402

TASKS = "wmt22:*,wmt21:*"


def mtbench_run(root: Path, out: Path) -> tuple[float, dict, dict]:
    cmd = [sys.executable, "-m", "mtbench", "run", "--tasks", TASKS, "--model", "files", "--metrics", "bleu,chrf",
           "--significance", "none", "--preset", "wmt", "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MTBENCH_DATA": str(root)})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"mtbench run failed: {proc.stderr.strip().splitlines()[-1:]}")
    results = json.loads((out / "results.json").read_text())
    scores = {(task, model): (s["bleu"]["score"], s["chrf"]["score"])
              for task, t in results["tasks"].items() for model, s in t["scores"].items()}
    return wall, scores, json.loads((out / "manifest.json").read_text())["timings_s"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-cli", action="store_true", help="skip the CLI baseline (a few minutes)")
    args = ap.parse_args()
    root = data_dir()
    work = collect(root, kinds=("systems", "llm_outputs"))  # what `--model files` scores
    n_files = sum(len(f) for *_, f in work)
    n_segments = sum(len(f) * len(d.source) for _, d, f in work)
    print(f"{n_files} system and LLM output files, {n_segments} segments, {len(work)} directions, "
          f"{len(os.sched_getaffinity(0))} usable cores")
    t_api, s_api = sacrebleu_api(work)  # first: it also warms the page cache for the run
    with tempfile.TemporaryDirectory() as tmp:
        t_run, s_run, stages = mtbench_run(root, Path(tmp) / "run")
    print(f"whole `mtbench run`            {t_run:7.2f} s  (stages: {stages})")
    print(f"sacrebleu API, cached refs     {t_api:7.2f} s  mtbench run is {t_api / t_run:5.1f}x faster")
    ok = s_api == s_run
    print(f"  identical corpus scores, {len(s_api)} files x 2 metrics: {ok}"
          + ("" if set(s_api) == set(s_run) else f" (file sets differ: {len(set(s_api) ^ set(s_run))})"))
    if not args.skip_cli:
        t_cli, s_cli = sacrebleu_cli(work)
        agree = all(abs(round(s_run[k][i], 4) - s_cli[k][i]) < 5e-5 for k in s_cli for i in (0, 1))
        print(f"sacrebleu CLI, one call/file   {t_cli:7.2f} s  mtbench run is {t_cli / t_run:5.1f}x faster")
        print(f"  agrees at the CLI's 4 decimals: {agree}")
        ok = ok and agree
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
