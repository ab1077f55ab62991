"""The `make reproduce-*` targets are wired right before anyone spends 30 minutes on one:
each `mtbench train` names a shipped config of that method whose base model is a named
model or the output of an earlier step, `mtbench run` scores a shipped suite with models
trained by the target, and `mtbench report`'s --train-log folders, --expect names,
metrics and directions and --x setting all exist in what the run will produce. The long
runs themselves are not part of CI."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from mtbench.models.spec import parse_model_spec
from mtbench.report.claims import Expectation
from mtbench.tasks import load_suites
from mtbench.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["reproduce-alma", "reproduce-lat", "reproduce-lat-ablation", "reproduce-tim", "reproduce-mfti"]


def commands(target: str) -> list[list[str]]:
    """The target's mtbench command lines as make would run them (`make -n`, no setup)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-s", target, "STAMP="], cwd=ROOT, capture_output=True, text=True, check=True)
    text = out.stdout.replace("\\\n", " ")
    cmds = []
    for line in text.splitlines():
        for part in line.split("&&"):
            words = shlex.split(part)
            if words and words[0].endswith("bin/mtbench"):
                cmds.append(words[1:])
    return cmds


def options(words: list[str], flag: str) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words) if w == flag]


@pytest.mark.parametrize("target", TARGETS)
def test_target_is_wired(target: str) -> None:
    cmds = commands(target)
    trained: dict[str, dict] = {}  # out folder -> config
    runs: dict[str, list[str]] = {}  # run folder -> model names
    suites = load_suites()
    run_settings = {name: dict(s.run) for name, s in suites.items()}
    for words in cmds:
        if words[0] == "train":
            method, path = words[1], ROOT / words[2]
            cfg = load_yaml(path)
            assert cfg["method"] == method, f"{path.name}: method {cfg['method']} run as `train {method}`"
            base = cfg["base_model"]
            assert base in trained or "/" not in base, f"{path.name}: base_model {base} is not made by an earlier step"
            trained[cfg["out"]] = cfg
        elif words[0] == "run":
            (suite_name,) = options(words, "--tasks")
            suite = suites[suite_name]
            assert suite.tasks and suite.limit is not None and suite.limit >= 200, \
                f"suite {suite_name}: issue 18 asks for at least 200 segments per direction"
            names = []
            for spec_text in options(words, "--model"):
                spec = parse_model_spec(spec_text)
                if spec.arg is not None:
                    assert spec.arg in trained, f"{target}: --model {spec_text} is not trained by the target"
                names += [f"{spec.label}+{adapter}" for adapter in run_settings[suite_name]["adapters"]]
            runs[options(words, "--out")[0]] = names
            runs[options(words, "--out")[0] + "#suite"] = [suite_name]
        elif words[0] == "report":
            run = words[1]
            assert run in runs, f"{target}: report on {run}, which no step of the target writes"
            names, suite = runs[run], suites[runs[run + "#suite"][0]]
            for log in options(words, "--train-log"):
                assert log in trained, f"{target}: --train-log {log} is not trained by the target"
            expectations = [Expectation.parse(e) for e in options(words, "--expect")]
            assert expectations and options(words, "--claim"), f"{target}: the report tests no claim"
            for exp in expectations:
                assert exp.better in names and exp.worse in names, f"{exp.text}: the run has {names}"
                assert set(exp.metrics) <= set(run_settings[suite.name]["metrics"]), exp.text
                for d in exp.directions:
                    if d == "zero-shot":
                        assert suite.zero_shot, f"{exp.text}: suite {suite.name} marks no zero-shot direction"
                    elif d == "supervised":
                        assert set(suite.tasks) - set(suite.zero_shot), exp.text
                    else:
                        assert d in suite.tasks, exp.text
            for key in options(words, "--x"):
                if "=" not in key:  # a curve links the models whose configs differ in key alone
                    models = [c for out, c in trained.items() if any(n.startswith(Path(out).name + "+") for n in names)]
                    groups: dict[str, list] = {}
                    for cfg in models:
                        rest = {k: v for k, v in cfg.items() if k not in ("out", key.split(".")[0])}
                        node, sub = cfg, dict(cfg.get(key.split(".")[0]) or {}) if "." in key else {}
                        for part in key.split("."):
                            node = node.get(part) if isinstance(node, dict) else None
                        sub.pop(key.split(".", 1)[-1], None)
                        groups.setdefault(repr(sorted(rest.items())) + repr(sorted(sub.items())), []).append(node)
                    values = max(groups.values(), key=lambda v: len(set(v)))
                    assert None not in values and len(set(values)) == len(values) >= 2, \
                        f"--x {key}: the run's trained models, grouped by their other settings, give {groups}"
    assert any(w[0] == "report" for w in cmds), f"{target} writes no report"
