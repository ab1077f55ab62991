"""mtbench.load_run / load_runs: the DataFrames hold the run's own numbers, checked
against values computed here from the same files (sacrebleu, hand counts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

import mtbench
from mtbench.cli import main
from mtbench.errors import MtbenchError
from tests.conftest import synthetic_layout, write_lines

pytest.importorskip("pandas")

PAIRS = ("de-en", "en-de")
N = 20
EMPTY_EVERY = 4  # the "gappy" system leaves every 4th line empty: 5 of 20, 25 %
METRICS = "bleu,chrf,empty"


def _layout(root: Path) -> Path:
    data = synthetic_layout(root, pairs=PAIRS, n=N)
    for pair in PAIRS:
        folder = data / "wmt22" / pair
        best = (folder / "systems" / "best.txt").read_text(encoding="utf-8").splitlines()
        write_lines(folder / "systems" / "gappy.txt", ["" if i % EMPTY_EVERY == 0 else s for i, s in enumerate(best)])
    return data


def _run(data: Path, out: Path, *extra: str) -> Path:
    assert main(["run", "--tasks", ",".join(f"wmt22:{p}" for p in PAIRS), "--metrics", METRICS,
                 "--data-dir", str(data), "--out", str(out), "--significance", "bs", "--n-resamples", "200",
                 *extra]) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("frames")
    data = _layout(root / "data")
    return data, _run(data, root / "a"), _run(data, root / "b")


@pytest.fixture(autouse=True)
def _quiet(capsys) -> None:  # the CLI prints leaderboards
    yield


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_corpus_bleu_equals_sacrebleu_on_the_same_files(runs) -> None:
    data, run_a, _ = runs
    scores = mtbench.load_run(run_a).scores
    for pair in PAIRS:
        folder = data / "wmt22" / pair
        bleu = sacrebleu.BLEU(trg_lang=pair.split("-")[1])
        expected = bleu.corpus_score(_lines(folder / "systems" / "mid.txt"), [_lines(folder / "refs" / "ref.A.txt")])
        assert expected.score == pytest.approx(sacrebleu.corpus_bleu(
            _lines(folder / "systems" / "mid.txt"), [_lines(folder / "refs" / "ref.A.txt")]).score)
        row = scores[(scores.task == f"wmt22:{pair}") & (scores.model == "mid") & (scores.metric == "bleu")]
        assert len(row) == 1
        assert row.score.item() == pytest.approx(expected.score, abs=1e-9)
        assert row.signature.item() == str(bleu.get_signature())
        assert bool(row.higher_is_better.item()) and row.refs.item() == "A" and row.preset.item() == "default"
        assert row.segments.item() == N == row.segments_in_test_set.item()
        assert row.run.item() == "a" and row.kind.item() == "files" and not row.under_test.item()
        assert row.verdict.item() == "worse" and row.baseline.item() == "best"  # significantly below the best


def test_one_row_per_score_and_per_segment(runs) -> None:
    _, run_a, _ = runs
    frames = mtbench.load_run(run_a)
    systems, metrics = 4, len(METRICS.split(","))  # best, mid, worst, gappy
    assert len(frames.scores) == len(PAIRS) * systems * metrics
    assert len(frames.segments) == N * len(PAIRS) * systems * metrics
    assert sorted(frames.segments.segment.unique()) == list(range(N))


def test_mean_of_empty_flags_is_the_corpus_rate(runs) -> None:
    _, run_a, _ = runs
    frames = mtbench.load_run(run_a)
    seg = frames.segments
    gappy = seg[(seg.task == "wmt22:de-en") & (seg.model == "gappy") & (seg.metric == "empty")]
    assert gappy.score.mean() == pytest.approx(100.0 * len(range(0, N, EMPTY_EVERY)) / N)  # 25.0, by hand
    corpus = frames.scores.set_index(["task", "model", "metric"]).score
    assert corpus[("wmt22:de-en", "gappy", "empty")] == pytest.approx(25.0)
    means = seg[seg.metric == "empty"].groupby(["task", "model"]).score.mean()
    for (task, model), mean in means.items():
        assert corpus[(task, model, "empty")] == pytest.approx(mean)


def test_significance_rows_are_the_pairwise_matrix(runs) -> None:
    _, run_a, _ = runs
    frames = mtbench.load_run(run_a)
    sig, scores = frames.significance, frames.scores.set_index(["task", "model", "metric"]).score
    row = sig[(sig.metric == "bleu") & (sig.system_a == "best") & (sig.system_b == "worst")]
    assert len(row) == 1
    task = row.task.item()
    assert row.delta.item() == pytest.approx(scores[(task, "best", "bleu")] - scores[(task, "worst", "bleu")])
    assert 0 < row.p_value.item() < 0.05
    back = sig[(sig.task == task) & (sig.metric == "bleu") & (sig.system_a == "worst") & (sig.system_b == "best")]
    assert back.delta.item() == pytest.approx(-row.delta.item())


def test_load_runs_concatenates_with_a_run_column(runs) -> None:
    _, run_a, run_b = runs
    one = mtbench.load_run(run_a)
    both = mtbench.load_runs([run_a, run_b])
    assert sorted(both.scores.run.unique()) == ["a", "b"]
    assert len(both.scores) == 2 * len(one.scores) and len(both.segments) == 2 * len(one.segments)
    a = both.scores[both.scores.run == "a"].reset_index(drop=True)
    assert a.score.tolist() == one.scores.score.tolist()


def test_load_runs_refuses_runs_with_other_settings(runs, tmp_path: Path) -> None:
    data, run_a, _ = runs
    limited = _run(data, tmp_path / "limited", "--limit", "10")
    with pytest.raises(MtbenchError, match="--limit"):
        mtbench.load_runs([run_a, limited])


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(MtbenchError, match="results.json"):
        mtbench.load_run(tmp_path)
