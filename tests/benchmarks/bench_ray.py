"""Benchmark: the whole `mtbench run` on the Ray executor against the local one.

The same command a user types (a model, three WMT22 directions, BLEU and chrF, no
significance), each run with its own empty generation cache and run directory, the
two executors alternating ``--rounds`` times so that drift of this machine's speed
falls on both. Prints each wall time, the medians, the ratio and whether the outputs
are identical. The Ray runs start their own local instance (``--executor ray``), so
the figure includes Ray's start-up; ``--ray-address`` measures a running cluster.

    python tests/benchmarks/bench_ray.py [--model hf:PATH] [--limit 16] [--rounds 2]

Without --model it builds the tiny random Llama of the tests (no download).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TASKS = "wmt22:de-en,wmt22:en-de,wmt22:cs-en"


def data_dir() -> Path:
    for c in (os.environ.get("MTBENCH_DATA"), str(REPO.parent / "shared" / "mtdata")):
        if c and (Path(c) / "wmt22" / "de-en" / "src.txt").is_file():
            return Path(c)
    sys.exit("shared test data not found: set MTBENCH_DATA to the mtdata folder")


def tiny_model(folder: Path) -> str:
    sys.path.insert(0, str(REPO))
    from tests.integration.test_hf_backend import build_model, build_tokenizer

    tok = build_tokenizer()
    build_model(tok).save_pretrained(folder)
    tok.save_pretrained(folder)
    return f"hf:{folder}"


def one_run(model: str, limit: int, tmp: Path, name: str, extra: list[str]) -> tuple[float, Path]:
    out = tmp / name
    env = dict(os.environ, MTBENCH_DATA=str(data_dir()), MTBENCH_CACHE=str(tmp / f"cache-{name}"))
    cmd = [sys.executable, "-m", "mtbench", "run", "--model", model, "--tasks", TASKS, "--limit", str(limit),
           "--metrics", "bleu,chrf", "--significance", "none", "--device", "cpu", "--out", str(out), *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return seconds, out


def outputs(run: Path) -> dict[str, list[str]]:
    return {p.name + p.parent.name: [json.loads(x)["raw"] for x in p.read_text(encoding="utf-8").splitlines()]
            for p in sorted((run / "generations").glob("*/*.jsonl"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model spec (default: a tiny random Llama built here)")
    ap.add_argument("--limit", type=int, default=16, help="segments per direction")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ray-address", help="a running cluster instead of a local instance per run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = args.model or tiny_model(tmp / "tiny-llama")
        ray_args = ["--executor", "ray"] + (["--ray-address", args.ray_address] if args.ray_address else [])
        times: dict[str, list[float]] = {"local": [], "ray": []}
        same = True
        for r in range(args.rounds):
            t_local, local = one_run(model, args.limit, tmp, f"local{r}", [])
            t_ray, on_ray = one_run(model, args.limit, tmp, f"ray{r}", ray_args)
            times["local"].append(t_local)
            times["ray"].append(t_ray)
            same &= outputs(local) == outputs(on_ray)
            print(f"round {r + 1}: local {t_local:.1f} s, ray {t_ray:.1f} s")
        m_local, m_ray = statistics.median(times["local"]), statistics.median(times["ray"])
        print(f"mtbench run, {model.split('/')[-1]}, 3 directions x {args.limit} segments, {os.cpu_count()} CPU(s): "
              f"local {m_local:.1f} s, ray {m_ray:.1f} s (median of {args.rounds}); ray/local {m_ray / m_local:.2f}x, "
              f"overhead {m_ray - m_local:+.1f} s; outputs identical: {same}")


if __name__ == "__main__":
    main()
