"""Reports: significance marks, scope on every table and figure, the user's models in
every figure, figures that agree with the tables, comparisons, LaTeX, reproducibility,
and the HTML page rendered by a real headless Chromium (screenshot, DOM and console).

What a figure shows is read back from the PNG itself (the ``mtbench-figure`` text
chunk that ``mtbench.report.plots`` fills from the drawn artists)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtbench.cli import main
from mtbench.report.plots import figure_text
from mtbench.textio import read_json
from tests.conftest import synthetic_layout, write_lines

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def run_dir(tiny_layout: Path, tmp_path: Path, capsys) -> Path:
    # a third system so that significance has something to decide
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "same.txt",
                ["The house is small.", "The dog barks loud.", "", "I drink coffee, 3-4 cups."])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_results_carry_significance(run_dir: Path) -> None:
    res = read_json(run_dir / "results.json")
    assert res["significance"]["signature"] == "bs:1000|seed:12345"
    scores = res["tasks"]["wmt22:de-en"]["scores"]
    bleu = {m: v["bleu"] for m, v in scores.items()}
    base = max(bleu, key=lambda m: bleu[m]["score"])
    assert bleu[base]["comparison"]["verdict"] == "baseline" and bleu[base]["comparison"]["p_value"] is None
    # an identical system is never significantly different
    assert bleu["same"]["comparison"]["verdict"] in ("same", "baseline")
    assert all(v["comparison"]["ci_low"] <= v["comparison"]["ci_high"] for v in bleu.values())


def test_report_files_and_latex(run_dir: Path) -> None:
    report = run_dir / "report"
    for name in ("index.html", "leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.tex", "summary.md",
                 "results.json", "bars-bleu.png", "bars-bleu.pdf", "heatmap-chrf.png",
                 "significance-bleu-wmt22_de_en.png", "segments-bleu-wmt22_de_en.png", "segments-chrf-wmt22_de_en.pdf"):
        assert (report / name).is_file(), name
    tex = (report / "leaderboard.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\textbf{" in tex
    assert tex.count("\\begin{tabular}") == 2 and "4 segments" in tex
    md = (report / "leaderboard.md").read_text()
    assert "**" in md and "bs:1000|seed:12345" in md
    assert not (run_dir / "leaderboard.md").exists()  # the run's top level holds stage data only


def test_report_regenerates_identically(run_dir: Path, tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    before = snapshot(run_dir)
    for out in (a, b):
        assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert snapshot(a) == snapshot(b)
    assert snapshot(run_dir) == before  # a report writes its own folder only


# --- plugin metrics: the metric owns its direction and aggregation ---------------------------

PLUGIN_METRICS = '''
import numpy as np

from mtbench.metrics import METRICS
from mtbench.metrics.base import Metric, MetricResult


class LengthGap(Metric):
    """Mean absolute word-count difference to the reference: lower is better."""
    name = "length-gap"
    higher_is_better = False

    def config(self, ctx=None):
        return {"v": 1}

    def score_systems(self, ctx, hypotheses):
        ref = next(iter(ctx.references.values()))
        out = {}
        for s, lines in hypotheses.items():
            segs = [float(abs(len(h.split()) - len(r.split()))) for h, r in zip(lines, ref)]
            out[s] = MetricResult(self.name, sum(segs) / len(segs), "length-gap|v1", segs)
        return out


class CorpusWer(Metric):
    """Corpus word error rate, 100 * summed errors / summed reference words, from
    per-segment [errors, words]: its own corpus statistics; lower is better."""
    name = "corpus-wer"
    higher_is_better = False

    def config(self, ctx=None):
        return {"v": 1}

    def aggregate(self, stats):
        stats = np.asarray(stats, dtype=float)
        return 100.0 * stats[..., 0] / stats[..., 1]

    def score_systems(self, ctx, hypotheses):
        ref = next(iter(ctx.references.values()))
        out = {}
        for s, lines in hypotheses.items():
            stats = [[sum(a != b for a, b in zip(h.split(), r.split())) + abs(len(h.split()) - len(r.split())),
                      len(r.split())] for h, r in zip(lines, ref)]
            segs = [100.0 * e / w for e, w in stats]
            out[s] = MetricResult(self.name, 100.0 * sum(e for e, _ in stats) / sum(w for _, w in stats),
                                  "corpus-wer|v1", segs, stats)
        return out


METRICS.register("length-gap", LengthGap)
METRICS.register("corpus-wer", CorpusWer)
'''


def hand_layout(root: Path) -> Path:
    """Two directions of 8 segments. good = the reference, twin = good, bad:
    de-en: word 1 replaced everywhere, last word dropped in segments 0-3
           (4-word refs: 2 errors each; 8-word refs: 1 error each) -> WER 100*12/48 = 25.0
           (the mean of segment WERs would be (4*50 + 4*12.5)/8 = 31.25); length gap 4/8 = 0.5
    en-de: words 1-2 replaced everywhere, last word dropped in segments 0-3
           (5-word refs: 3 and 2 errors) -> WER 100*20/40 = 50.0; length gap 0.5"""
    refs = {"de-en": [f"a{i} b c d" for i in range(4)] + [f"a{i} b c d e f g h" for i in range(4, 8)],
            "en-de": [f"x{i} y z u v" for i in range(8)]}
    for pair, lines in refs.items():
        folder = root / "wmt22" / pair
        write_lines(folder / "src.txt", [f"source {i}" for i in range(8)])
        write_lines(folder / "refs" / "ref.A.txt", lines)
        write_lines(folder / "systems" / "good.txt", lines)
        write_lines(folder / "systems" / "twin.txt", lines)
        n_sub = 1 if pair == "de-en" else 2
        bad = []
        for i, line in enumerate(lines):
            words = line.split()
            words[:n_sub] = ["WRONG"] * n_sub
            bad.append(" ".join(words[:-1] if i < 4 else words))
        write_lines(folder / "systems" / "bad.txt", bad)
    return root


def _row(md: str, title: str, model: str) -> list[str]:
    section = md.split(f"## {title}")[1].split("\n## ")[0]
    line = next(line for line in section.splitlines() if line.startswith(f"| {model} |"))
    return [c.strip() for c in line.strip("|").split("|")][1:]


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One include folder per process: a plugin registers its names once."""
    inc = tmp_path_factory.mktemp("inc")
    (inc / "my_metrics.py").write_text(PLUGIN_METRICS, encoding="utf-8")
    return inc


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_plugin_metrics_lower_is_better_and_corpus_statistics(tmp_path: Path, plugin_dir: Path, capsys,
                                                              test: str) -> None:
    data = hand_layout(tmp_path / "data")
    inc = plugin_dir
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--metrics", "corpus-wer,length-gap",
                 "--include-path", str(inc), "--data-dir", str(data), "--out", str(out), "--workers", "1"]) == 0
    report = tmp_path / "report"
    assert main(["report", str(out), "--out", str(report), "--significance", test]) == 0
    capsys.readouterr()
    for folder in (out / "report", report):
        md = (folder / "leaderboard.md").read_text(encoding="utf-8")
        wer = "corpus-wer (lower is better) — 8 segments per direction"
        gap = "length-gap (lower is better) — 8 segments per direction"
        # hand-computed corpus WER (not the mean of segment WERs) and its average over the two directions
        assert _row(md, wer, "bad") == ["25.00†", "50.00†", "25.00", "50.00", "37.50"]
        assert _row(md, gap, "bad") == ["0.50†", "0.50†", "0.50", "0.50", "0.50"]
        # lower is better: the zeros are bold, good is the baseline, its identical twin is not different
        assert _row(md, wer, "good") == ["**0.00°**", "**0.00°**", "**0.00**", "**0.00**", "**0.00**"]
        assert _row(md, wer, "twin") == ["**0.00**"] * 5
        section = md.split(f"## {wer}")[1].split("\n## ")[0]
        rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ") and "---" not in line]
        assert rows[1:] == ["good", "twin", "bad"]  # best (lowest) first
        res = read_json(folder / "results.json")
        verdicts = {m: res["tasks"]["wmt22:de-en"]["scores"][m]["corpus-wer"]["comparison"]["verdict"]
                    for m in ("good", "twin", "bad")}
        assert verdicts == {"good": "baseline", "twin": "same", "bad": "worse"}
        assert res["metrics"]["corpus-wer"]["aggregation"] == "corpus statistics"
        assert res["metrics"]["length-gap"]["aggregation"] == "mean of segment scores"
    assert read_json(report / "results.json")["significance"]["test"] == test


def test_plugin_metric_that_breaks_the_contract_fails_alone(tiny_layout: Path, tmp_path: Path, capfd) -> None:
    """A plugin whose aggregate() does not give its own score (hand layout), or that
    raises (tiny layout: an empty reference line divides by zero), fails alone."""
    inc = tmp_path / "inc"
    inc.mkdir()
    liar = PLUGIN_METRICS.replace("return 100.0 * stats[..., 0] / stats[..., 1]", "return stats[..., 0]")
    liar = liar.replace('"length-gap"', '"liar-gap"').replace('"corpus-wer"', '"liar-wer"')
    (inc / "liar.py").write_text(liar, encoding="utf-8")
    for data, reason in ((hand_layout(tmp_path / "hand"), "aggregate()"), (tiny_layout, "ZeroDivisionError")):
        out = tmp_path / f"run-{reason}"
        assert main(["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,liar-wer", "--include-path", str(inc),
                     "--data-dir", str(data), "--out", str(out)]) == 0
        err = capfd.readouterr().err
        assert "liar-wer unavailable for wmt22:de-en" in err and reason in err and "Traceback" not in err
        res = read_json(out / "results.json")
        assert "bleu" in res["tasks"]["wmt22:de-en"]["scores"]["good"]
        assert reason in res["unavailable"]["liar-wer"]["wmt22:de-en"]


def test_a_metric_must_implement_the_contract(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "duck.py").write_text("from mtbench.metrics import METRICS\n"
                                 "class Duck:\n    name = 'duck'\n    higher_is_better = True\n"
                                 "METRICS.register('duck', Duck)\n", encoding="utf-8")
    assert main(["score", "--task", "wmt22:de-en", "--hyp", str(tiny_layout / "wmt22/de-en/systems/good.txt"),
                 "--metrics", "duck", "--include-path", str(inc), "--data-dir", str(tiny_layout)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "subclass mtbench.metrics.base.Metric" in err


# --- the user's models in every figure; scope on every number -----------------------------

@pytest.fixture
def user_run(tmp_path: Path, capsys) -> tuple[Path, Path]:
    """The data layout's systems (best, mid, worst) and the user's own outputs
    (files:DIR) that score below all of them, with --limit 30 of 40 segments."""
    data = synthetic_layout(tmp_path / "data")
    mine = synthetic_layout(tmp_path / "mine", systems=(("my-model", 0.9),), seed=0)
    # the user's outputs must be for the same references: corrupt the data layout's refs
    for pair in ("de-en", "en-de"):
        refs = (data / "wmt22" / pair / "refs" / "ref.A.txt").read_text(encoding="utf-8").splitlines()
        write_lines(mine / "wmt22" / pair / "systems" / "my-model.txt", [r.split()[0] for r in refs])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--metrics", "bleu,chrf", "--data-dir", str(data),
                 "--model", "files", "--model", f"files:{mine}", "--systems-shown", "1", "--figure-tasks", "all",
                 "--limit", "30", "--out", str(out)]) == 0
    capsys.readouterr()
    return out, data


def _all_figure_texts(report: Path) -> dict[str, dict]:
    pngs = sorted(report.glob("*.png"))
    assert pngs
    return {p.name: figure_text(p) for p in pngs}


def test_user_model_with_the_worst_scores_is_in_every_figure(user_run: tuple[Path, Path]) -> None:
    out, _ = user_run
    res = read_json(out / "results.json")
    assert res["models"]["my-model"]["under_test"] is True and res["models"]["best"]["under_test"] is False
    bleu = res["tasks"]["wmt22:de-en"]["scores"]
    assert min(bleu, key=lambda m: bleu[m]["bleu"]["score"]) == "my-model"  # really the worst
    texts = _all_figure_texts(out / "report")
    assert len(texts) == 2 + 2 + 2 * 2 * 2  # bars, heatmaps; significance and segments per metric and direction
    for name, shown in texts.items():
        words = [w for ax in shown["axes"] for key in ("xticklabels", "yticklabels", "legend") for w in ax.get(key, [])]
        assert "my-model [under test]" in words, name
        assert "my-model [under test]" in [w for ax in shown["axes"] for w in ax["bold"]], name
        assert "best" in words, name  # the best reference system (--systems-shown 1)
        assert "worst" not in words and "mid" not in words, name  # the other reference systems are left out


def test_show_adds_a_system_and_unknown_names_are_errors(user_run: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    out, _ = user_run
    report = tmp_path / "rep"
    assert main(["report", str(out), "--out", str(report), "--show", "worst"]) == 0
    shown = figure_text(report / "bars-bleu.png")["axes"][0]["legend"]
    assert shown == ["best", "worst", "my-model [under test]"]
    capsys.readouterr()
    for flags, needle in ((["--show", "wrst"], "--show 'wrst' is not a system of this run: did you mean 'worst'"),
                          (["--baseline", "Online-Z"], "--baseline 'Online-Z' is not a system of this run"),
                          (["--figure-tasks", "wmt22:de-fr"], "--figure-tasks 'wmt22:de-fr' is not a direction")):
        before = snapshot(out)
        assert main(["report", str(out), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
        assert snapshot(out) == before


def test_limit_run_says_so_in_every_table_and_figure(user_run: tuple[Path, Path]) -> None:
    out, _ = user_run
    report = out / "report"
    scope = "first 30 of 40 segments per direction (--limit 30)"
    md = (report / "leaderboard.md").read_text(encoding="utf-8")
    titles = [line for line in md.splitlines() if line.startswith("## ")]
    assert len(titles) == 2 and all(scope in t for t in titles)
    assert scope in (report / "summary.md").read_text(encoding="utf-8").splitlines()[0]
    tex = (report / "leaderboard.tex").read_text(encoding="utf-8")
    assert tex.count("first 30 of 40 segments per direction (--limit 30)") == 2
    csv_lines = (report / "leaderboard.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0].endswith("segments,segments_in_test_set,refs,preset")
    assert all(",30,40,A,default" in line for line in csv_lines[1:] if ",wmt22:" in line)
    html = (report / "index.html").read_text(encoding="utf-8")
    assert html.count(scope) >= 3  # provenance and both tables
    for name, shown in _all_figure_texts(report).items():
        assert ("first 30 of 40 segments" in shown["suptitle"]) and "(--limit 30)" in shown["suptitle"], name
        assert "ref A · preset default" in shown["axes"][0]["title"], name


def test_every_figure_names_its_test_set_and_mixed_test_sets_label_each_column(tmp_path: Path, capsys) -> None:
    """One test set: short column labels, the scope line names it. Two: each column
    keeps its test set (wmt21:en-de beside wmt22:de-en), and the scope line names both."""
    data = synthetic_layout(tmp_path / "data", pairs=("de-en", "en-de"))
    synthetic_layout(tmp_path / "data", pairs=("en-de",), testset="wmt21")
    for tasks, labels, scope in (("wmt22:de-en,wmt22:en-de", ["de-en", "en-de"], "test set wmt22 · ref A · preset default"),
                                 ("wmt22:de-en,wmt21:en-de", ["wmt22:de-en", "wmt21:en-de"],
                                  "test sets wmt22, wmt21 · ref A · preset default")):
        out = tmp_path / tasks.replace(":", "_").replace(",", "+")
        assert main(["run", "--tasks", tasks, "--data-dir", str(data), "--significance", "none", "--out", str(out)]) == 0
        capsys.readouterr()
        shown = _all_figure_texts(out / "report")
        heatmaps = [v for k, v in shown.items() if k.startswith("heatmap-")]
        assert len(heatmaps) == 2 and all(h["axes"][0]["xticklabels"] == labels for h in heatmaps)
        bars = [v for k, v in shown.items() if k.startswith("bars-")]  # directions, then the averages
        assert len(bars) == 2 and all(b["axes"][0]["xticklabels"][:len(labels)] == labels for b in bars), bars
        for name, fig in shown.items():  # a per-direction figure names its own test set
            own = "test set wmt22 · ref A · preset default" if name.startswith(("segments-", "significance-")) else scope
            assert own in fig["axes"][0]["title"], (name, fig["axes"][0]["title"])
        assert f"Scope: {scope}" in (out / "report" / "leaderboard.md").read_text(encoding="utf-8")


def test_significance_figure_agrees_with_the_table_under_ar_seed_7(tmp_path: Path, capsys) -> None:
    data = synthetic_layout(tmp_path / "data", n=60,
                            systems=(("a", 0.10), ("b", 0.12), ("c", 0.30), ("d", 0.31), ("e", 0.6)))
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--data-dir", str(data), "--significance", "ar",
                 "--seed", "7", "--figure-tasks", "all", "--out", str(out)]) == 0
    capsys.readouterr()
    res = read_json(out / "results.json")
    assert res["significance"]["signature"] == "ar:10000|bs:1000|seed:7"
    verdicts = set()
    for task in ("wmt22:de-en", "wmt22:en-de"):
        for metric in ("bleu", "chrf"):
            scores = res["tasks"][task]["scores"]
            pw = res["significance"]["pairwise"][task][metric]
            base = next(m for m, s in scores.items() if s[metric]["comparison"]["verdict"] == "baseline")
            j = pw["systems"].index(base)
            shown = figure_text(out / "report" / f"significance-{metric}-{task.replace(':', '_').replace('-', '_')}.png")
            assert "approximate randomization, 10000 trials, seed 7" in shown["axes"][0]["title"]
            cells = iter(shown["axes"][0]["texts"])  # row-major, diagonal left out
            marked = {}
            for i, row in enumerate(pw["systems"]):
                for k in range(len(pw["systems"])):
                    if k != i:
                        marked[(row, pw["systems"][k])] = next(cells).endswith("*")
            for i, system in enumerate(pw["systems"]):
                if system == base:
                    continue
                comparison = scores[system][metric]["comparison"]
                assert pw["p_values"][i][j] == comparison["p_value"]  # the same test, resamples and seed
                assert marked[(system, base)] == (comparison["verdict"] in ("better", "worse"))
                verdicts.add(comparison["verdict"])
    assert {"same", "worse"} <= verdicts  # the check covers both outcomes


# --- no silent outcomes ----------------------------------------------------------------------

def test_directions_without_outputs_are_named_once_and_left_out(tiny_layout: Path, tmp_path: Path, capfd) -> None:
    pair = tiny_layout / "wmt22" / "en-de"
    write_lines(pair / "src.txt", ["Hello.", "Thanks."])
    write_lines(pair / "ref.txt", ["Hallo.", "Danke."])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--data-dir", str(tiny_layout), "--out", str(out)]) == 0
    err = capfd.readouterr().err
    note = "1 direction(s) have no outputs and are left out of tables and averages: wmt22:en-de"
    assert err.count(note) == 1
    md = (out / "report" / "leaderboard.md").read_text(encoding="utf-8")
    assert "| model | wmt22:de-en | avg |" in md and "en-de |" not in md.split("Note:")[0]
    assert note in md and note in (out / "report" / "summary.md").read_text(encoding="utf-8")
    good = next(line for line in md.splitlines() if line.startswith("| good |"))
    assert "-" not in good.split("|")[3]  # the average exists: over the direction that has outputs


def test_unknown_baseline_and_empty_tasks_are_errors(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    for argv, needle in ((["--baseline", "goood"], "--baseline 'goood' is not a system of this run: did you mean 'good'"),
                         (["--tasks", ""], "tasks is empty"),
                         (["--figure-tasks", "wmt22:en-de"], "--figure-tasks 'wmt22:en-de' is not a direction")):
        args = ["run", "--data-dir", str(tiny_layout), "--out", str(out)]
        args += argv if argv[0] == "--tasks" else ["--tasks", "wmt22:de-en", *argv]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
        assert not out.exists()  # nothing written


def test_compare_labels_every_copy_and_curves(tiny_layout: Path, run_dir: Path, tmp_path: Path, capsys) -> None:
    second = tmp_path / "run2"
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "better.txt",
                ["The house is small.", "The dog barks loudly.", "", "I drink coffee, 3-4 cups."])
    write_lines(tiny_layout / "wmt22" / "de-en" / "systems" / "good.txt",  # good has new outputs in run2
                ["The house is small.", "The dog barks.", "", "I drink coffee."])
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--out", str(second)]) == 0
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(second), "--out", str(out), "--x", "step=100,200"]) == 0
    err = capsys.readouterr().err
    res = read_json(out / "results.json")
    names = set(res["tasks"]["wmt22:de-en"]["scores"])
    # good differs between the runs: both copies carry their run; bad and same are the very same
    # reference systems in both runs: shown once; better is only in run2
    assert names == {"run/good", "run2/good", "bad", "same", "better"}
    assert res["models"]["run2/good"]["name_in_run"] == "good"
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert md.count("| run/good |") == 2 and md.count("| run2/good |") == 2 and md.count("| bad |") == 2
    assert (out / "curve-bleu.png").is_file()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'alt="curve-bleu"' in page and "better only in run run2: no curve" in page  # on the page, and said
    assert "better only in run run2: no curve" in err
    legend = figure_text(out / "curve-bleu.png")["axes"][0]["legend"]
    assert set(legend) == {"good", "bad", "same"}
    assert main(["compare", str(run_dir), "--out", str(out)]) != 0
    assert main(["compare", str(run_dir), str(second), "--out", str(second)]) == 2  # never into a run directory
    assert "is a run directory: a report never writes into one" in capsys.readouterr().err


def test_x_without_common_models_is_an_error(tmp_path: Path, capsys) -> None:
    runs = []
    for name, system in (("r1", "alpha"), ("r2", "beta")):
        data = synthetic_layout(tmp_path / f"data-{name}", pairs=("de-en",), n=10, systems=((system, 0.2),))
        runs.append(tmp_path / name)
        assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(data), "--out", str(runs[-1])]) == 0
    capsys.readouterr()
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "cmp"), "--x", "step=1,2"]) == 2
    err = capsys.readouterr().err
    assert "no model has an average in more than one run" in err and "r1: alpha; r2: beta" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "cmp").exists()  # no report without its curve
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "cmp"), "--x", "step=1"]) == 2
    assert "--x 'step=1': needs a label and 2 values, one per run directory" in capsys.readouterr().err
    assert not (tmp_path / "cmp").exists()


def test_old_flag_spellings_still_work_with_a_note(run_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["report", str(run_dir), "--out", str(tmp_path / "rep"), "--test", "ar", "--n", "500"]) == 0
    err = capsys.readouterr().err
    assert "--test is now --significance" in err and "--n is now --n-resamples" in err
    assert read_json(tmp_path / "rep" / "results.json")["significance"]["signature"] == "ar:500|bs:1000|seed:12345"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs Debian's chromium)")
def test_html_renders_in_headless_chromium(user_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = user_run
    page = (run / "report" / "index.html").as_uri()
    shot = tmp_path / "shot.png"
    common = CHROMIUM_FLAGS + ["--virtual-time-budget=5000", f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([CHROMIUM, *common, "--enable-logging=stderr", "--v=0", "--window-size=1280,1600",
                           f"--screenshot={shot}", page], capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    assert shot.is_file()
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and np.std(pixels) > 0.05  # not a blank page
    dom = subprocess.run([CHROMIUM, *common, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert 'data-images-ok="true"' in dom  # every embedded figure decoded
    assert 'data-tables="8"' in dom  # 4 systems x 2 metrics in the leaderboards
    assert 'data-under-test="2"' in dom  # the user's model is marked in both tables
    assert "first 30 of 40 segments per direction (--limit 30)" in dom


# --- what a user review found ------------------------------------------------------------------

def test_a_metric_failing_now_shows_no_older_scores(tiny_layout: Path, tmp_path: Path, capfd) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "moody.py").write_text('''
import os
from mtbench.errors import MtbenchError
from mtbench.metrics import METRICS
from mtbench.metrics.base import Metric, MetricResult

class Moody(Metric):
    name = "moody"
    higher_is_better = True
    def config(self, ctx=None):
        return {"mood": os.environ.get("MOOD", "fine")}
    def score_systems(self, ctx, hypotheses):
        if os.environ.get("MOOD") == "broken":
            raise MtbenchError("moody: its model is gone")
        return {s: MetricResult(self.name, 1.0, "moody|v1", [1.0] * len(h)) for s, h in hypotheses.items()}

METRICS.register("moody", Moody)
''', encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,moody", "--include-path", str(inc),
            "--data-dir", str(tiny_layout), "--out", str(out)]
    assert main(args) == 0
    assert "moody" in read_json(out / "results.json")["tasks"]["wmt22:de-en"]["scores"]["good"]
    os.environ["MOOD"] = "broken"  # the scoring stage is a child process: it reads the environment
    try:
        assert main(args) == 0
    finally:
        del os.environ["MOOD"]
    capfd.readouterr()
    res = read_json(out / "results.json")
    assert "moody" not in res["tasks"]["wmt22:de-en"]["scores"]["good"]  # not the old score of another config
    assert "its model is gone" in res["unavailable"]["moody"]["wmt22:de-en"]
    section = (out / "report" / "leaderboard.md").read_text(encoding="utf-8").split("## moody")[1]
    assert "| good |" not in section and "Unavailable for wmt22:de-en: moody: its model is gone" in section


def test_own_file_named_like_a_reference_system_is_an_error(tiny_layout: Path, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine"
    write_lines(mine / "wmt22" / "de-en" / "systems" / "good.txt", ["A", "B", "", "C"])
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--model", "files",
                 "--model", f"files:{mine}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "system 'good'" in err and "rename" in err
    assert not out.exists()


def test_bad_statistics_flags_are_one_line_errors(run_dir: Path, capsys) -> None:
    before = snapshot(run_dir)
    for flags, needle in ((["--seed", "-1"], "--seed must be a non-negative integer"),
                          (["--n-resamples", "0"], "--n-resamples must be a positive integer"),
                          (["--figure-tasks", ""], "names no direction"),
                          (["--systems-shown", "-2"], "--systems-shown must be 0 or a positive integer")):
        assert main(["report", str(run_dir), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
    assert snapshot(run_dir) == before
    assert main(["run", "--tasks", "wmt22:de-en", "--seed", "-3", "--out", str(run_dir)]) == 2
    assert "seed must be a non-negative integer" in capsys.readouterr().err


def test_two_test_sets_with_one_pair_keep_their_names_and_partial_rows_fill_figures(tmp_path: Path, capsys) -> None:
    data = synthetic_layout(tmp_path / "data", pairs=("de-en",), n=12, systems=(("a", 0.1), ("b", 0.3)))
    synthetic_layout(tmp_path / "data", pairs=("de-en",), n=12, seed=1, systems=(("c", 0.2),), testset="wmt21")
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt21:de-en,wmt22:de-en", "--data-dir", str(data), "--out", str(out)]) == 0
    capsys.readouterr()
    shown = figure_text(out / "report" / "bars-bleu.png")
    assert shown["axes"][0]["xticklabels"][:2] == ["wmt21:de-en", "wmt22:de-en"]  # not "de-en" twice
    assert set(shown["axes"][0]["legend"]) == {"a", "b", "c"}  # no system covers both: the best partial ones
    assert "all 3 systems" in shown["axes"][0]["title"]
    assert "wmt21:de-en & wmt22:de-en" in (out / "report" / "leaderboard.tex").read_text(encoding="utf-8")


def test_report_of_a_run_whose_mean_plugin_is_gone(tmp_path: Path, capsys) -> None:
    data = hand_layout(tmp_path / "data")
    inc = tmp_path / "inc-gone"
    inc.mkdir()
    (inc / "gone_metric.py").write_text(PLUGIN_METRICS.replace('"length-gap"', '"gone-gap"').replace(
        'METRICS.register("corpus-wer", CorpusWer)', ""), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", "--tasks", "wmt22:de-en", "--metrics", "bleu,gone-gap", "--include-path", str(inc),
                 "--data-dir", str(data), "--out", str(out)]) == 0
    shutil.rmtree(inc)  # the plugin is not there any more: its recorded declaration is enough for a mean metric
    proc = subprocess.run([sys.executable, "-m", "mtbench", "report", str(out), "--out", str(tmp_path / "rep"),
                           "--significance", "ar", "--systems-shown", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # a fresh process: the plugin is not registered there
    res = read_json(tmp_path / "rep" / "results.json")
    assert res["tasks"]["wmt22:de-en"]["scores"]["bad"]["gone-gap"]["comparison"]["verdict"] == "worse"


def test_each_figure_passes_one_checkpoint_drawn_here_or_in_the_pool(tmp_path: Path, monkeypatch) -> None:
    """Fault injection kills at a label of a clean run: labels must be the same, and
    unique, whether the figures are drawn in this process (one thread) or in the pool."""
    data = synthetic_layout(tmp_path / "data")
    seen = {}
    for threads in ("1", "2"):
        log = tmp_path / f"labels-{threads}.txt"
        monkeypatch.setenv("MTBENCH_FAULT_LOG", str(log))
        assert main(["run", "--tasks", "wmt22:de-en,wmt22:en-de", "--data-dir", str(data), "--threads", threads,
                     "--significance", "none", "--out", str(tmp_path / f"run-{threads}")]) == 0
        labels = [x for x in log.read_text(encoding="utf-8").splitlines() if x.startswith("report:")]
        assert len(labels) == len(set(labels)) and "report:heatmap-bleu" in labels, labels
        seen[threads] = set(labels)
    assert seen["1"] == seen["2"]


@pytest.mark.parametrize("n_series", [3, 13])
def test_a_curves_legend_covers_no_line(tmp_path: Path, n_series: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # many models: the legend goes beside the axes (it sat on the lines of a 13-model
    # compare --x); a few: inside, where matplotlib finds room. Geometry from matplotlib.
    from mtbench.report import plots

    boxes = []
    real_save = plots._save

    def measure_then_save(fig, out_base):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes.append((fig.axes[0].get_window_extent(renderer), fig.axes[0].get_legend().get_window_extent(renderer)))
        return real_save(fig, out_base)

    monkeypatch.setattr(plots, "_save", measure_then_save)
    series = {f"system-{i}": [(1.0, 30.0 + i), (2.0, 30.0 + i)] for i in range(n_series)}
    plots.curves(series, {}, tmp_path / "curve", "step", "bleu")
    (axes, legend), = boxes
    if n_series > 4:
        assert legend.x0 >= axes.x1  # entirely right of the plotting area
    else:
        assert axes.x0 <= legend.x0 and legend.x1 <= axes.x1
