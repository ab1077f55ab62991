"""Benchmark: COMET throughput with length-sorted batches vs batches in file order.

A tiny COMET (2-layer BERT, hidden 32, character vocabulary: the same one the unit tests
build) scores the first ``--lines`` segments of several WMT22 de-en systems through
mtbench's COMET metric, once with comet-score's length batching (source sorted by
length, then chunked) and once in file order. Prints segments/s for both, the ratio,
and how far the two orders' scores are apart (padding changes low-order bits in fp16).

The tiny model's cost is dominated by sequence length (character tokens), so the ratio
shows the padding saved; with XLM-R large on a GPU the saving is of the same kind.

    python tests/benchmarks/bench_comet.py [--lines 300] [--systems 3] [--batch-size 16] [--repeat 2]
                                          [--precision fp16|fp32] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.conftest import shared_data_dir  # noqa: E402
from tests.unit.test_neural_metrics import build_encoder, save_comet  # noqa: E402


def build_tiny_comet(root: Path) -> Path:
    import torch
    from comet.models import RegressionMetric

    encoder = build_encoder(root / "encoder")
    torch.manual_seed(1)
    model = RegressionMetric(encoder_model="BERT", pretrained_model=str(encoder), hidden_sizes=[16],
                             layer="mix", pool="avg", nr_frozen_epochs=0)
    return save_comet(model, root / "tiny-comet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--systems", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--precision", default="fp16", choices=["fp16", "fp32"])
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings per mode")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: on a shared, loaded machine OpenMP threads that wait "
                             "for each other make tiny matmuls 50x slower and the timings noise)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)

    from mtbench.metrics.base import ScoringContext
    from mtbench.metrics.comet_metric import make_comet

    data = shared_data_dir()
    if data is None:
        print("shared test data not found: set MTBENCH_DATA", file=sys.stderr)
        return 2
    pair = data / "wmt22" / "de-en"

    def head(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").split("\n")[: args.lines]

    systems = {p.stem: head(p) for p in sorted((pair / "systems").glob("*.txt"))[: args.systems]}
    ctx = ScoringContext("de", "en", head(pair / "src.txt"), {"A": head(pair / "ref.txt")})
    n_segments = sum(len(v) for v in systems.values())

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_comet(Path(tmp))
        # load once (not timed): both modes then reuse the process's loaded model
        warm = ScoringContext("de", "en", ctx.sources[:16], {"A": list(ctx.references["A"])[:16]})
        make_comet(str(model_dir), precision=args.precision).score_systems(
            warm, {name: lines[:16] for name, lines in list(systems.items())[:1]})
        timings: dict[str, float] = {}
        scores: dict[str, dict[str, list[float]]] = {}
        for mode, sort in (("sorted", True), ("unsorted", False)):
            best = float("inf")
            for _ in range(args.repeat):
                metric = make_comet(str(model_dir), batch_size=args.batch_size, precision=args.precision,
                                    length_batching=sort)
                t0 = time.perf_counter()
                res = metric.score_systems(ctx, systems)
                best = min(best, time.perf_counter() - t0)
            timings[mode] = best
            scores[mode] = {k: r.segment_scores for k, r in res.items()}

    from mtbench.metrics.neural_common import device_list, gpu_count

    diff = max(abs(a - b) for s in systems for a, b in zip(scores["sorted"][s], scores["unsorted"][s]))
    device = device_list(gpu_count(None))[0]  # what make_comet used: one GPU when present
    print(f"tiny COMET, {len(systems)} systems x {args.lines} lines = {n_segments} segments, "
          f"batch {args.batch_size}, {args.precision}, {device}, {args.threads} CPU thread(s)")
    for mode in ("sorted", "unsorted"):
        print(f"  {mode:9s} {timings[mode]:7.2f} s  {n_segments / timings[mode]:8.1f} segments/s")
    print(f"  speed-up of length sorting: {timings['unsorted'] / timings['sorted']:.2f}x")
    print(f"  max |score difference| between the two orders: {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
