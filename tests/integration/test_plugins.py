"""Plugging in without editing mtbench: an installed package's entry points, a Python
file on --include-path, and the Python API with any object that has `translate`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mtbench.textio import read_json

PLUGIN = textwrap.dedent('''
    """A tiny mtbench plugin: a backend, an adapter and a metric."""
    from mtbench.metrics.base import Metric, MetricResult
    from mtbench.models.base import DecodingParams, Generation


    class EchoBackend:
        """'Translates' by returning the prompt's last line in upper case."""
        name = "echo"

        def __init__(self, arg=None, device="cpu"):
            self.arg = arg

        def fingerprint(self):
            return {"echo": self.arg}

        def generate(self, prompts, params):
            return [Generation(p.splitlines()[-1].upper(), 1) for p in prompts]


    class PlainAdapter:
        name = "plain"
        decoding = DecodingParams(max_new_tokens=8)

        def prompt(self, source, src_lang, tgt_lang):
            return f"{src_lang}->{tgt_lang}\\n{source}"

        def postprocess(self, raw, source, src_lang, tgt_lang):
            return raw.strip()

        def describe(self):
            return {"name": "plain"}


    def plain():
        return PlainAdapter()


    class LengthRatio(Metric):
        name = "length-ratio"
        higher_is_better = True

        def config(self, ctx=None):
            return {}

        def score_systems(self, ctx, hypotheses):
            ref = next(iter(ctx.references.values()))
            out = {}
            for sysname, lines in hypotheses.items():
                segs = [len(h) / max(len(r), 1) for h, r in zip(lines, ref)]
                out[sysname] = MetricResult(self.name, sum(segs) / len(segs), "length-ratio|v1", segs)
            return out
''')

PYPROJECT = textwrap.dedent('''
    [build-system]
    requires = ["setuptools"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "mtbench-echo-plugin"
    version = "0.0.1"

    [project.entry-points."mtbench.models"]
    echo = "mtbench_echo_plugin:EchoBackend"

    [project.entry-points."mtbench.adapters"]
    plain = "mtbench_echo_plugin:plain"

    [project.entry-points."mtbench.metrics"]
    length-ratio = "mtbench_echo_plugin:LengthRatio"

    [tool.setuptools]
    py-modules = ["mtbench_echo_plugin"]
''')


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The example package, installed with pip into its own target folder: the test
    environment is extended through PYTHONPATH, not modified."""
    root = tmp_path_factory.mktemp("plugin")
    src = root / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "mtbench_echo_plugin.py").write_text(PLUGIN)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(src)], check=True)
    assert list(site.glob("mtbench_echo_plugin-*.dist-info"))
    return site


def _mtbench(args: list[str], site: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    if site is not None:
        full_env["PYTHONPATH"] = os.pathsep.join([str(site), full_env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "mtbench", *args], capture_output=True, text=True, env=full_env)


def test_installed_plugin_is_listed_and_runs(plugin_site: Path, tiny_layout: Path, tmp_path: Path) -> None:
    ls = _mtbench(["ls"], plugin_site)
    assert ls.returncode == 0, ls.stderr
    for name in ("echo", "plain", "length-ratio"):
        assert f"  {name}\n" in ls.stdout
    out = tmp_path / "run"
    res = _mtbench(["run", "--tasks", "wmt22:de-en", "--model", "echo:x", "--adapter", "plain",
                    "--metrics", "bleu,length-ratio", "--data-dir", str(tiny_layout), "--out", str(out),
                    "--cache", str(tmp_path / "cache.sqlite")], plugin_site)
    assert res.returncode == 0, res.stderr
    rows = [line for line in (out / "generations" / "wmt22_de-en" / "echo_x+plain.jsonl").read_text().splitlines()]
    first = read_json(out / "results.json")["tasks"]["wmt22:de-en"]["scores"]["echo:x+plain"]
    assert '"output": "DAS HAUS IST KLEIN."' in rows[0]
    assert '"prompt": "de->en\\nDas Haus ist klein."' in rows[0]
    # length ratio by hand: 19/19, 20/21, the empty source's prompt echoes "DE->EN" (6/1), 30/25
    expected = (19 / 19 + 20 / 21 + 6 / 1 + 30 / 25) / 4
    assert first["length-ratio"]["score"] == pytest.approx(expected)

    # without the package, the same names are unknown: did-you-mean, one line, exit 2
    bad = _mtbench(["run", "--tasks", "wmt22:de-en", "--model", "echo:x", "--data-dir", str(tiny_layout),
                    "--out", str(tmp_path / "run2")])
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown model backend 'echo'" in bad.stderr


def test_include_path_python_file_registers_an_adapter(tiny_layout: Path, tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "my_adapter.py").write_text(PLUGIN + textwrap.dedent('''
        from mtbench.prompts import ADAPTERS
        from mtbench.models import MODELS
        from mtbench.metrics import METRICS
        ADAPTERS.register("plain-inc", plain)
        MODELS.register("echo-inc", EchoBackend)
        METRICS.register("length-ratio-inc", LengthRatio)
    '''))
    out = tmp_path / "run"
    res = _mtbench(["run", "--tasks", "wmt22:de-en", "--model", "echo-inc:y", "--adapter", "plain-inc",
                    "--metrics", "bleu,length-ratio-inc", "--include-path", str(inc), "--data-dir", str(tiny_layout),
                    "--out", str(out), "--cache", str(tmp_path / "cache.sqlite")])
    assert res.returncode == 0, res.stderr
    assert "length-ratio-inc" in read_json(out / "results.json")["tasks"]["wmt22:de-en"]["scores"]["echo-inc:y+plain-inc"]


def test_python_api_with_a_translate_object(tiny_layout: Path, tmp_path: Path) -> None:
    import mtbench
    from mtbench.models.base import Request

    seen: list[Request] = []

    class Copy:
        def translate(self, requests: list[Request]) -> list[str]:
            seen.extend(requests)
            return [r.source for r in requests]

    results = mtbench.evaluate(model=Copy(), tasks="wmt22:de-en", metrics="bleu,chrf", data_dir=str(tiny_layout),
                               out=tmp_path / "api", include_systems=True)
    assert [r.src_lang + r.tgt_lang for r in seen] == ["deen"] * 4
    assert seen[0].prompt == "Translate the following text from German to English.\nGerman: Das Haus ist klein.\nEnglish:"
    models = results.tasks["wmt22:de-en"].scores
    assert set(models) == {"Copy+base", "good", "bad"} and set(models["good"]) == {"bleu", "chrf"}
    assert results.models["Copy+base"].under_test and not results.models["good"].under_test
    # the API returns exactly what the run wrote, and names its run directory
    assert results.run_dir == tmp_path / "api"
    assert results.to_dict() == read_json(tmp_path / "api" / "results.json")
    import sacrebleu

    src = ["Das Haus ist klein.", "Der Hund bellt laut.", "", "Ich trinke Kaffee, 3-4 Tassen."]
    ref = ["The house is small.", "The dog barks loudly.", "", "I drink coffee, 3-4 cups."]
    assert models["Copy+base"]["bleu"].score == pytest.approx(sacrebleu.corpus_bleu(src, [ref]).score)


def test_python_api_takes_a_metric_string_and_names_its_temporary_run(tiny_layout: Path) -> None:
    import mtbench

    class Upper:
        def translate(self, requests):
            return [r.source.upper() for r in requests]

    results = mtbench.evaluate(model=Upper(), tasks="wmt22:de-en", metrics="bleu, chrf", data_dir=str(tiny_layout))
    assert list(results.metrics) == ["bleu", "chrf"]
    assert results.run_dir is not None and (results.run_dir / "results.json").is_file()
    assert results.run_dir.name.startswith("mtbench-")
