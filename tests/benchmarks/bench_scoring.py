"""Benchmark: BLEU + chrF for every WMT system file in the shared data (106 files).

Compares wall time of
  (a) one `sacrebleu` CLI call per system file (what a shell loop does),
  (b) sacrebleu's Python API in one process with cached references,
  (c) mtbench's scoring stage (vectorized statistics, one process per core),
and checks that (b) and (c) give bit-identical corpus scores and that (a) agrees to
the CLI's printed precision. WMT preset tokenizers (13a, zh, char for ja).

    python tests/benchmarks/bench_scoring.py [--skip-cli] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sacrebleu.metrics import BLEU, CHRF

from mtbench.data.loaders import load_testdata
from mtbench.data.testsets import get_testset
from mtbench.langs import bleu_tokenizer
from mtbench.metrics.base import ScoringContext
from mtbench.models.precomputed import discover_systems
from mtbench.scoring import ScoreJob, run_score_jobs
from mtbench.tasks import Task
from mtbench.textio import read_lines

REPO = Path(__file__).resolve().parents[2]


def collect(data_dir: Path, kinds: tuple[str, ...] = ("systems",)) -> list[tuple[Task, object, dict[str, Path]]]:
    """(task, test data, name -> file) of every WMT22/21 direction with outputs of ``kinds``
    (``systems``: WMT submissions; ``llm_outputs``: released LLM outputs)."""
    out = []
    for testset in ("wmt22", "wmt21"):
        ts = get_testset(testset)
        for pair in ts.pairs:
            task = Task(testset, pair)
            files = {s.name: s.path for s in discover_systems(task, data_dir) if s.kind in kinds}
            if files:
                out.append((task, load_testdata(ts, pair, data_dir), files))
    return out


def bench_api(work) -> tuple[float, dict]:
    scores = {}
    t0 = time.perf_counter()
    for task, data, files in work:
        ref = [data.refs()[data.primary_ref]]
        bleu = BLEU(tokenize=bleu_tokenizer(task.tgt, "wmt"), references=ref)
        chrf = CHRF(references=ref)
        for name, path in files.items():
            hyp = read_lines(path)
            scores[(task.name, name)] = (bleu.corpus_score(hyp, None).score, chrf.corpus_score(hyp, None).score)
    return time.perf_counter() - t0, scores


def bench_mtbench(work, workers: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    jobs = []
    for task, data, files in work:
        ctx = ScoringContext(task.src, task.tgt, data.source, data.refs(), "wmt")
        hyps = {name: read_lines(path) for name, path in files.items()}
        for metric in ("bleu", "chrf"):
            jobs.append(ScoreJob(task.name, metric, ctx, hyps, {}, list(ctx.references)))
    scores: dict = {}
    for job, results in run_score_jobs(jobs, workers, log=lambda m: None):
        for name, res in results.items():
            scores.setdefault((job.task, name), {})[job.metric] = res.score
    elapsed = time.perf_counter() - t0
    return elapsed, {k: (v["bleu"], v["chrf"]) for k, v in scores.items()}


def bench_cli(work) -> tuple[float, dict]:
    sacrebleu_cli = Path(sys.executable).with_name("sacrebleu")
    scores = {}
    t0 = time.perf_counter()
    for task, data, files in work:
        ref_file = data.pair_dir / "refs" / f"ref.{data.primary_ref}.txt"
        for name, path in files.items():
            cmd = [str(sacrebleu_cli), str(ref_file), "-i", str(path), "-m", "bleu", "chrf", "-b", "-w", "4",
                   "-tok", bleu_tokenizer(task.tgt, "wmt"), "-l", task.pair]
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            scores[(task.name, name)] = (float(out[0]), float(out[1]))  # `-b` with two metrics: a JSON list
    return time.perf_counter() - t0, scores


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("MTBENCH_DATA", str(REPO.parent / "shared" / "mtdata")))
    ap.add_argument("--skip-cli", action="store_true", help="skip (a), the slowest baseline (~2-3 min)")
    ap.add_argument("--workers", type=int, default=0, help="mtbench scoring processes (0 = one per core)")
    args = ap.parse_args()
    work = collect(Path(args.data_dir))
    n_files = sum(len(f) for _, _, f in work)
    n_lines = sum(len(f) * len(d.source) for _, d, f in work)
    print(f"{n_files} system files, {n_lines} segments, {len(work)} directions, {os.cpu_count()} CPU cores")

    t_mt, s_mt = bench_mtbench(work, args.workers)
    print(f"(c) mtbench scoring stage          {t_mt:8.2f} s")
    t_api, s_api = bench_api(work)
    print(f"(b) sacrebleu API, cached refs     {t_api:8.2f} s   mtbench is {t_api / t_mt:5.1f}x faster")
    identical = s_api == s_mt
    print(f"    (b) == (c) bit-identical for all {len(s_api)} files x 2 metrics: {identical}")
    ok = identical
    if not args.skip_cli:
        t_cli, s_cli = bench_cli(work)
        print(f"(a) sacrebleu CLI, one call/file   {t_cli:8.2f} s   mtbench is {t_cli / t_mt:5.1f}x faster")
        agree = all(abs(round(s_mt[k][i], 4) - s_cli[k][i]) < 1e-9 for k in s_cli for i in (0, 1))
        print(f"    (a) agrees with (c) at the CLI's 4 decimals: {agree}")
        ok = ok and agree
    json.dump({"files": n_files, "mtbench_s": t_mt, "api_s": t_api}, sys.stderr)
    print(file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
