"""One file per new thing, run through the CLI as a user runs it: a backend with its own
typed options, an output source, a plot and a training method, each a Python file in
a temporary folder given with --include-path. (Metrics and adapters from such a file:
test_plugins.py; test sets and suites: test_user_testsets.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mtbench.textio import read_json
from tests.conftest import TINY_REF_A, TINY_SRC

BACKEND = textwrap.dedent('''
    """A backend with options of its own: it repeats the source's last word `times` times."""
    from dataclasses import dataclass

    from mtbench.errors import MtbenchError
    from mtbench.models import MODELS
    from mtbench.models.base import BackendBase, Generation


    class Repeat(BackendBase):
        @dataclass(frozen=True)
        class Options:
            times: int = 1
            upper: bool = False

            def __post_init__(self):
                if self.times < 1:
                    raise MtbenchError(f"times must be at least 1, got {self.times}")

        def __init__(self, arg, times=1, upper=False):
            self.name, self.times, self.upper = "repeat", times, upper

        def fingerprint(self):
            return {"repeat": self.times, "upper": self.upper}

        def generate(self, prompts, params):
            out = []
            for p in prompts:
                words = p.split()
                word = words[-1] if words else ""
                word = word.upper() if self.upper else word
                out.append(Generation(" ".join([word] * self.times), self.times))
            return out


    MODELS.register("repeat", Repeat)
''')

SOURCE = textwrap.dedent('''
    """Released outputs in a flat folder: DIR/<testset>.<pair>.<system>.txt."""
    from pathlib import Path

    from mtbench.models import MODELS
    from mtbench.models.base import OutputSource
    from mtbench.models.precomputed import SystemFile


    class FlatFolder(OutputSource):
        def __init__(self, folder):
            self.root = Path(folder)

        def systems(self, task):
            found = sorted(self.root.glob(f"{task.testset}.{task.pair}.*.txt"))
            return [SystemFile(f.name.split(".")[2], f, "file") for f in found]


    MODELS.register("flat", FlatFolder)
''')

PLOT = textwrap.dedent('''
    """A plot of one's own: each system's first metric, one bar per direction."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mtbench.report.extra_plots import PLOTS


    def first_metric_bars(ctx):
        tab = ctx.tables[0]
        fig, ax = plt.subplots(figsize=(5, 3))
        names = [r.model for r in tab.rows]
        values = [r.value(tab.columns[0]) for r in tab.rows]
        ax.bar([ctx.label(n) for n in names], values, color=[ctx.colours[n] for n in names])
        ax.set_ylabel(tab.metric.name)
        return ctx.save(fig, ax, "first-metric", f"{tab.metric.name} on {tab.columns[0]}")


    PLOTS.register("first-metric", first_metric_bars)
''')

RECIPE = textwrap.dedent('''
    """A training method of one's own: label-smoothed NLL (section `smoothing:`)."""
    from dataclasses import dataclass

    from mtbench.errors import MtbenchError
    from mtbench.train.recipes import RECIPES, Recipe


    @dataclass
    class SmoothingOptions:
        epsilon: float = 0.1

        def __post_init__(self):
            if not 0 <= self.epsilon < 1:
                raise MtbenchError(f"smoothing.epsilon must be in [0, 1), got {self.epsilon}")


    class LabelSmoothed(Recipe):
        name = "smoothed-mle"
        summary = "NLL with label smoothing (section smoothing:)"
        section = "smoothing"
        Options = SmoothingOptions

        def loss(self, policy, batch, cfg):
            import torch.nn.functional as F

            logits, _ = policy(batch["input_ids"], batch["attention_mask"])
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                                   batch["labels"][:, 1:].reshape(-1), ignore_index=-100,
                                   label_smoothing=cfg.options.epsilon)
            return loss, {"smoothed": loss.item()}


    RECIPES.register("smoothed-mle", LabelSmoothed)
''')


def _mtbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True,
                          env={**os.environ}, cwd=cwd)


def _one_line_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    inc = tmp_path / "inc"
    inc.mkdir()
    for name, text in (("repeat.py", BACKEND), ("flat.py", SOURCE), ("first_metric.py", PLOT),
                       ("smoothed.py", RECIPE)):
        (inc / name).write_text(text, encoding="utf-8")
    return inc


def _run(tiny_layout: Path, plugins: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return _mtbench("run", "--tasks", "wmt22:de-en", "--data-dir", str(tiny_layout), "--include-path", str(plugins),
                    "--metrics", "bleu", "--significance", "none", "--out", str(out),
                    "--cache", str(out.parent / f"{out.name}-cache.sqlite"), *args)


def _raw(out: Path, model: str) -> list[str]:
    """The backend's completions (before the adapter's clean-up)."""
    rows = (out / "generations" / "wmt22_de-en" / f"{model}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(r)["raw"] for r in rows]


def test_a_backend_takes_its_own_options_per_model_and_for_the_run(tiny_layout: Path, plugins: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "run"
    # --model-args sets every model that has the option; a model's own ?k=v wins over it.
    res = _run(tiny_layout, plugins, out, "--model", "repeat:a?times=2,upper=true", "--model", "repeat:b",
               "--model-args", "times=3")
    assert res.returncode == 0, res.stderr
    # the base prompt ends with "English:", the word each copy repeats
    assert _raw(out, "repeat_a+base")[0] == "ENGLISH: ENGLISH:"
    assert _raw(out, "repeat_b+base")[0] == "English: English: English:"
    log = read_json(out / "manifest.json")["models"]
    assert log["repeat:a+base"]["fingerprint"] == {"repeat": 2, "upper": True}
    assert log["repeat:a+base"]["spec"] == "repeat:a?times=2,upper=true"
    listed = _mtbench("ls", "models", "--include-path", str(plugins))
    assert "  repeat\n      options: times: int = 1, upper: bool = False\n" in listed.stdout, listed.stdout


@pytest.mark.parametrize("args, needles", [
    (("--model", "repeat:a?tims=2"), ("repeat has no option 'tims'", "did you mean 'times'")),
    (("--model", "repeat:a?times=two"), ("option times must be an integer, got 'two'",)),
    (("--model", "repeat:a?times=0"), ("times must be at least 1, got 0",)),
    (("--model", "repeat:a", "--model-args", "temperature=0"), ("no model of this run (repeat:a) has an option "
                                                                "'temperature'",)),
    (("--model", "repeat:a", "--model-args", "times"), ("'times' is not KEY=VALUE",)),
])
def test_a_bad_backend_option_is_one_line_before_any_work(tiny_layout: Path, plugins: Path, tmp_path: Path,
                                                          args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    out = tmp_path / "run"
    _one_line_error(_run(tiny_layout, plugins, out, *args), *needles)
    assert not out.exists()


def test_an_output_source_is_a_model_kind_like_files(tiny_layout: Path, plugins: Path, tmp_path: Path) -> None:
    flat = tmp_path / "released"
    flat.mkdir()
    (flat / "wmt22.de-en.mine.txt").write_text("".join(r + "\n" for r in TINY_REF_A), encoding="utf-8")
    (flat / "wmt22.de-en.copy.txt").write_text("".join(s + "\n" for s in TINY_SRC), encoding="utf-8")
    out = tmp_path / "run"
    res = _run(tiny_layout, plugins, out, "--model", "files", "--model", f"flat:{flat}")
    assert res.returncode == 0, res.stderr
    results = read_json(out / "results.json")
    scores = results["tasks"]["wmt22:de-en"]["scores"]
    assert set(scores) == {"good", "bad", "mine", "copy"}
    assert scores["mine"]["bleu"]["score"] == pytest.approx(100.0)  # the reference itself
    import sacrebleu

    assert scores["copy"]["bleu"]["score"] == pytest.approx(sacrebleu.corpus_bleu(TINY_SRC, [TINY_REF_A]).score)
    assert results["models"]["mine"]["under_test"] and not results["models"]["good"]["under_test"]


def test_a_plot_from_a_plugin_is_in_the_report_with_scope_and_the_model_under_test(
        tiny_layout: Path, plugins: Path, tmp_path: Path) -> None:
    from mtbench.report.plots import figure_text

    out = tmp_path / "run"
    res = _run(tiny_layout, plugins, out, "--model", "files", "--model", "repeat:a")
    assert res.returncode == 0, res.stderr
    png = out / "report" / "first-metric.png"
    assert png.is_file() and (out / "report" / "first-metric.pdf").is_file()
    assert '<img alt="first-metric"' in (out / "report" / "index.html").read_text(encoding="utf-8")  # embedded
    shown = figure_text(png)
    assert "bleu on wmt22:de-en" in shown["suptitle"] and "4 segments" in shown["suptitle"], shown
    ticks = shown["axes"][0]["xticklabels"]
    assert "repeat:a+base [under test]" in ticks and "good" in ticks, shown
    listed = _mtbench("ls", "plots", "--include-path", str(plugins))
    assert "  first-metric\n" in listed.stdout


def test_a_plot_that_fails_leaves_the_previous_report_whole(tiny_layout: Path, plugins: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run(tiny_layout, plugins, out, "--model", "files").returncode == 0
    report = out / "report"
    before = {p.name: p.read_bytes() for p in report.iterdir()}
    assert "first-metric.png" in before and "index.html" in before
    (plugins / "first_metric.py").write_text(PLOT.replace("tab = ctx.tables[0]", "raise ValueError('no bars today')"),
                                            encoding="utf-8")
    res = _mtbench("report", str(out), "--include-path", str(plugins), "--significance", "none")
    _one_line_error(res, "plot 'first-metric' failed: ValueError: no bars today")
    assert {p.name: p.read_bytes() for p in report.iterdir()} == before  # not one file of it changed
    assert not list(out.glob(".report.*"))  # no staging folder left
    # A report that succeeds replaces the older one's files and keeps another command's subfolder.
    (report / "analysis-x").mkdir()
    (report / "analysis-x" / "index.html").write_text("analysis", encoding="utf-8")
    (report / "stale-figure.png").write_bytes(b"old")
    (plugins / "first_metric.py").write_text(PLOT, encoding="utf-8")
    assert _mtbench("report", str(out), "--include-path", str(plugins)).returncode == 0
    assert (report / "analysis-x" / "index.html").read_text(encoding="utf-8") == "analysis"
    assert not (report / "stale-figure.png").exists() and (report / "first-metric.png").is_file()
    # A folder that is not a report is never replaced by one.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    _one_line_error(_mtbench("report", str(out), "--out", str(mine)), f"--out {mine} holds files but no report")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_train_help_lists_a_plugins_training_method(plugins: Path) -> None:
    for flags in (["--include-path", str(plugins)], [f"--include-path={plugins}"]):
        shown = _mtbench("train", "--help", *flags)
        assert shown.returncode == 0, shown.stderr
        methods = shown.stdout.split("training methods:")[1]
        assert "\n  smoothed-mle " in methods and "\n  mle " in methods, methods
    assert "smoothed-mle" not in _mtbench("train", "--help").stdout
    bad = _mtbench("train", "--include-path", str(plugins / "missing"), "--help")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "is not a folder" in bad.stderr


@pytest.mark.slow
def test_a_training_method_from_a_plugin_trains_through_the_cli(plugins: Path, tmp_path: Path) -> None:
    pytest.importorskip("accelerate")
    from tests.integration.test_hf_backend import build_model, build_tokenizer

    tok = build_tokenizer()
    base = tmp_path / "base"
    build_model(tok).save_pretrained(base)
    tok.save_pretrained(base)
    de, en = tmp_path / "train.de", tmp_path / "train.en"
    de.write_text("".join(s + "\n" for s in TINY_SRC if s), encoding="utf-8")
    en.write_text("".join(r + "\n" for r in TINY_REF_A if r), encoding="utf-8")

    def config(name: str, method: str, section: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"method: {method}\nbase_model: {base}\nout: {tmp_path / name}\nsteps: 1\nbatch_size: 6\n"
                        f"lr: 0.0\nseed: 0\ndata: {{src: {de}, tgt: {en}, src_lang: de, tgt_lang: en}}\n{section}",
                        encoding="utf-8")
        return path

    inc = ("--include-path", str(plugins))
    plain = _mtbench("train", "smoothed-mle", str(config("eps0", "smoothed-mle", "smoothing: {epsilon: 0.0}\n")), *inc)
    assert plain.returncode == 0, plain.stderr
    assert "trained smoothed-mle for 1 steps" in plain.stdout
    smoothed = _mtbench("train", "smoothed-mle", str(config("eps5", "smoothed-mle", "smoothing: {epsilon: 0.5}\n")), *inc)
    assert smoothed.returncode == 0, smoothed.stderr
    mle = _mtbench("train", "mle", str(config("mle", "mle", "")))
    assert mle.returncode == 0, mle.stderr

    def first_loss(name: str) -> float:
        return json.loads((tmp_path / name / "train_log.jsonl").read_text().splitlines()[0])["loss"]

    # With epsilon 0 the plugin's loss is the bundled mle loss on the same first batch.
    assert first_loss("eps0") == pytest.approx(first_loss("mle"), rel=1e-5)
    # Epsilon reaches the loss: on a random model (near-uniform predictions) smoothing moves
    # it by ~0.04, far beyond fp32 noise at this magnitude (~1e-6 relative).
    assert abs(first_loss("eps5") - first_loss("mle")) > 1e3 * 1e-6 * first_loss("mle")
    meta = read_json(tmp_path / "eps5" / "mtbench_train.json")
    assert meta["method"] == "smoothed-mle" and meta["config"]["smoothing"] == {"epsilon": 0.5}
    # its section is checked like any other; the method is listed where methods are
    bad = _mtbench("train", "smoothed-mle", str(config("bad", "smoothed-mle", "smoothing: {epsilom: 0.5}\n")), *inc)
    _one_line_error(bad, "unknown key smoothing.epsilom", "epsilon")
    listed = _mtbench("ls", "trainers", "--include-path", str(plugins))
    assert "smoothed-mle" in listed.stdout and "tim " in listed.stdout
