"""Every system file in the shared data, scored with the WMT preset, against WMT's own
published BLEU and chrF (scores/*/automatic-scores.tsv) for every reference variant."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from mtbench.data.loaders import load_testdata
from mtbench.data.testsets import get_testset
from mtbench.metrics.base import ScoringContext
from mtbench.metrics.sacrebleu_metrics import Bleu, Chrf
from mtbench.models.precomputed import discover_systems
from mtbench.tasks import Task
from mtbench.textio import read_lines

pytestmark = [pytest.mark.data, pytest.mark.slow]


def official_scores(data_dir: Path, testset: str) -> dict[tuple[str, str, str], float]:
    """(pair, system, metric) -> score, e.g. ("de-en", "Online-A", "bleu-A")."""
    out = {}
    with open(data_dir / "scores" / testset / "automatic-scores.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out[(row["pair"], row["system"], row["metric"])] = float(row["score"])
    return out


@pytest.mark.parametrize("testset", ["wmt22", "wmt21"])
def test_all_system_files_match_official_bleu_and_chrf(data_dir: Path, testset: str) -> None:
    official = official_scores(data_dir, testset)
    ts = get_testset(testset)
    compared = defaultdict(int)
    mismatches = []
    for pair in ts.pairs:
        systems = discover_systems(Task(testset, pair), data_dir)
        systems = [s for s in systems if s.kind == "systems"]
        if not systems:
            continue
        data = load_testdata(ts, pair, data_dir)
        hyps = {s.name: read_lines(s.path) for s in systems}
        variants = {rid: [rid] for rid in data.references} | {"all": list(data.references)}
        for variant, ref_ids in variants.items():
            wanted = [n for n in hyps if (pair, n, f"bleu-{variant}") in official]
            if not wanted:
                continue
            ctx = ScoringContext(pair.split("-")[0], pair.split("-")[1], data.source,
                                 {r: data.references[r] for r in ref_ids}, preset="wmt")
            sub = {n: hyps[n] for n in wanted}
            for metric_name, metric in (("bleu", Bleu()), ("chrf", Chrf())):
                for name, res in metric.score_systems(ctx, sub).items():
                    expected = official[(pair, name, f"{metric_name}-{variant}")]
                    compared[metric_name] += 1
                    if abs(res.score - expected) > 0.01:
                        mismatches.append(f"{pair} {name} {metric_name}-{variant}: {res.score:.4f} vs {expected:.4f}")
    print(f"{testset}: compared {dict(compared)}")
    assert not mismatches, "\n".join(mismatches)
    # every system file must have been compared at least against its primary reference
    n_files = sum(len([s for s in discover_systems(Task(testset, p), data_dir) if s.kind == "systems"]) for p in ts.pairs)
    assert compared["bleu"] >= n_files > 0
