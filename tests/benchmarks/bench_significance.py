"""Benchmark: paired significance tests for every system of one WMT22 direction
(default en-de, reference A, baseline = first system in name order), BLEU + chrF.

Times
  (a) sacrebleu's Python API: ``PairedTest(..., test_type="bs", n_samples=1000)``
      end to end, and its resampling alone (the same call with the metrics'
      statistics extraction answered from a cache),
  (b) mtbench: statistics (``Bleu``/``Chrf.segment_statistics``) plus
      ``mtbench.stats.paired_bootstrap`` for both metrics, and the resampling alone
      (best of --repeat runs),
  (c) optionally the sacrebleu CLI ``sacrebleu REF -i SYS1 SYS2 ... -m bleu chrf
      --paired-bs`` (skip with --skip-cli),
  (d) with --ar, the same for approximate randomization (10000 trials),
and checks that both give the same p-values. Prints wall times and ratios (one
process, sacrebleu's default n_jobs=1; numpy's BLAS may use every core).

    python tests/benchmarks/bench_significance.py [--pair en-de] [--skip-cli] [--ar]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from mtbench import stats as S
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf
from mtbench.textio import read_lines

REPO = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    env = os.environ.get("MTBENCH_DATA")
    return Path(env) if env else REPO.parent / "shared" / "mtdata"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    runs = [timed(fn) for _ in range(n)]
    return min(t for t, _ in runs), runs[-1][1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default="en-de")
    ap.add_argument("--skip-cli", action="store_true", help="do not time the sacrebleu command line")
    ap.add_argument("--ar", action="store_true", help="also time approximate randomization (sacrebleu: ~1 min)")
    ap.add_argument("--repeat", type=int, default=3, help="mtbench runs (best time is reported)")
    args = ap.parse_args()
    os.environ["SACREBLEU_SEED"] = str(S.DEFAULT_SEED)

    pair_dir = data_root() / "wmt22" / args.pair
    if not (pair_dir / "systems").is_dir():
        sys.exit(f"no systems under {pair_dir}: set MTBENCH_DATA to the mtdata folder")
    ref_path = pair_dir / "refs" / "ref.A.txt"
    sys_paths = sorted((pair_dir / "systems").glob("*.txt"))
    refs = read_lines(ref_path)
    systems = {p.stem: read_lines(p) for p in sys_paths}
    src_lang, tgt_lang = args.pair.split("-")
    print(f"wmt22/{args.pair}: {len(systems)} systems x {len(refs)} segments, baseline {next(iter(systems))}, "
          f"BLEU + chrF, {os.cpu_count()} CPUs")

    report: dict[str, float] = {}
    tests = [("bs", S.DEFAULT_BOOTSTRAP_RESAMPLES)] + ([("ar", S.DEFAULT_AR_TRIALS)] if args.ar else [])

    def sb_metrics() -> dict[str, Any]:
        return {"BLEU": BLEU(references=[refs]), "chrF": CHRF(references=[refs])}

    # sacrebleu: statistics extraction alone (the references included, as in PairedTest)
    def sb_extract() -> dict[str, dict[int, Any]]:
        return {key: {id(hyps): metric._extract_corpus_statistics(hyps, None) for hyps in systems.values()}
                for key, metric in sb_metrics().items()}

    report["sacrebleu_stats_s"], sb_cache = timed(sb_extract)

    def sb_metrics_cached() -> dict[str, Any]:
        """sacrebleu metrics that return the statistics extracted above: PairedTest
        then times its resampling alone."""
        metrics = sb_metrics()
        for key, metric in metrics.items():
            metric._extract_corpus_statistics = lambda hyps, refs, _c=sb_cache[key]: _c[id(hyps)]
        return metrics

    # mtbench: statistics
    ctx = ScoringContext(src_lang, tgt_lang, read_lines(pair_dir / "src.txt"), {"A": refs})

    metric_objects = {"bleu": Bleu(tokenize="13a"), "chrf": Chrf()}

    def mt_extract() -> dict[str, Any]:
        return {name: m.segment_statistics(ctx, systems) for name, m in metric_objects.items()}

    report["mtbench_stats_s"], stats = best_of(args.repeat, mt_extract)
    per_metric = {m: {n: arr[i] for i, n in enumerate(systems)} for m, arr in stats.items()}

    for test, n in tests:
        def sb_run(metrics: dict[str, Any]) -> dict[str, list[Any]]:
            return PairedTest(list(systems.items()), metrics, None, test_type=test, n_samples=n)()[1]

        def mt_run() -> dict[str, dict[str, S.PairedTestResult]]:
            if test == "bs":
                return {m: S.paired_bootstrap(d, metric_objects[m], n_resamples=n) for m, d in per_metric.items()}
            return {m: S.paired_approximate_randomization(d, metric_objects[m], n_trials=n, n_confidence=0)
                    for m, d in per_metric.items()}

        report[f"sacrebleu_{test}_total_s"], sb_scores = timed(lambda: sb_run(sb_metrics()))
        report[f"sacrebleu_{test}_resampling_s"], _ = timed(lambda: sb_run(sb_metrics_cached()))
        report[f"mtbench_{test}_resampling_s"], mt = best_of(args.repeat, mt_run)
        report[f"mtbench_{test}_total_s"] = report["mtbench_stats_s"] + report[f"mtbench_{test}_resampling_s"]

        max_dp, same_decisions = 0.0, True
        for key, m in (("BLEU", "bleu"), ("chrF2", "chrf")):
            for name, r in zip(sb_scores["System"][1:], sb_scores[key][1:]):
                ours = mt[m][name]
                max_dp = max(max_dp, abs(ours.p_value - r.p_value))
                same_decisions &= ours.significant() == (r.p_value < 0.05)
        print(f"\n[{test}] {n} {'resamples' if test == 'bs' else 'trials'}: max |p diff| {max_dp:.2e}, "
              f"same decisions at 0.05: {same_decisions}")
        print(f"  sacrebleu API   end to end {report[f'sacrebleu_{test}_total_s']:8.2f} s"
              f"   resampling alone {report[f'sacrebleu_{test}_resampling_s']:7.3f} s"
              f"   (statistics alone {report['sacrebleu_stats_s']:.2f} s)")
        print(f"  mtbench         end to end {report[f'mtbench_{test}_total_s']:8.2f} s"
              f"   resampling alone {report[f'mtbench_{test}_resampling_s']:7.3f} s"
              f"   (statistics alone {report['mtbench_stats_s']:.2f} s)")
        report[f"speedup_{test}_total"] = report[f"sacrebleu_{test}_total_s"] / report[f"mtbench_{test}_total_s"]
        report[f"speedup_{test}_resampling"] = (report[f"sacrebleu_{test}_resampling_s"]
                                                / report[f"mtbench_{test}_resampling_s"])
        print(f"  speed-up        end to end {report[f'speedup_{test}_total']:7.1f}x   resampling alone "
              f"{report[f'speedup_{test}_resampling']:7.1f}x   (target >= 10x)")

    if not args.skip_cli:
        exe = Path(sys.executable).with_name("sacrebleu")
        cmd = [str(exe), str(ref_path), "-i", *map(str, sys_paths), "-m", "bleu", "chrf", "--paired-bs",
               "-f", "text", "-q"]
        report["sacrebleu_cli_bs_s"], proc = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
        if proc.returncode != 0:
            print(f"\nsacrebleu CLI failed ({proc.returncode}): {proc.stderr[-500:]}")
        else:
            report["speedup_bs_vs_cli"] = report["sacrebleu_cli_bs_s"] / report["mtbench_bs_total_s"]
            print(f"\n[bs] sacrebleu CLI   {report['sacrebleu_cli_bs_s']:8.2f} s   "
                  f"-> mtbench end to end is {report['speedup_bs_vs_cli']:.1f}x faster")

    print("\n" + json.dumps({k: round(v, 4) for k, v in report.items()}))


if __name__ == "__main__":
    main()
