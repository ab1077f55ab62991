"""`mtbench run --executor ray` on real Ray clusters of this machine: a head started with
`ray start` (2 CPUs: two generation actors) joined through --ray-address, and a local
instance the run starts itself. Expected values are the local executor's outputs and
scores on the same inputs; the generation log of a plugin backend (every chunk's start
and end, with the worker's pid) shows what each worker did, and which chunks ran twice."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("ray", reason="ray (mtbench[ray]) not installed")

from tests.integration.test_hf_backend import CORPUS  # noqa: E402

PAIRS = ("de-en", "en-de", "cs-en")
N_SEGMENTS = 6
CHUNK = "2"  # prompts per chunk: 9 chunks over the three directions
RAY = Path(sys.executable).with_name("ray")

# A backend that is the HF one, and logs each chunk's start and end with its pid, and
# waits between the two so that a test can kill a worker in the middle of a chunk.
PLUGIN = textwrap.dedent('''
    import json, os, time
    from mtbench.models import MODELS
    from mtbench.models.hf import HFBackend
    from mtbench.metrics import METRICS
    from mtbench.metrics.base import Metric, MetricResult

    class LoggedHF(HFBackend):
        def generate(self, prompts, params):
            def note(event):
                with open(os.environ["MTBENCH_TEST_GENLOG"], "a", encoding="utf-8") as f:
                    f.write(json.dumps({"event": event, "pid": os.getpid(), "prompts": list(prompts)}) + "\\n")
            note("start")
            time.sleep(float(os.environ.get("MTBENCH_TEST_GENSLEEP") or 0))
            out = super().generate(prompts, params)
            note("end")
            return out

    MODELS.register("loggedhf", LoggedHF)

    class CharCount(Metric):
        """A heavy metric (as COMET is) that says where it ran."""
        name = "charcount"
        higher_is_better = True
        heavy = True

        def config(self, ctx=None):
            return {}

        def score_systems(self, ctx, hypotheses):
            import ray
            actor = ray.is_initialized() and ray.get_runtime_context().get_actor_id()
            out = {}
            for name, lines in hypotheses.items():
                segs = [float(len(h)) for h in lines]
                out[name] = MetricResult(self.name, sum(segs) / len(segs), "charcount|v1", segs,
                                         details={"in_ray_actor": bool(actor)})
            return out

    METRICS.register("charcount", CharCount)

    class SelfDistributing:
        """A backend that places its own workers on the cluster (as vLLM does): it
        declares ray_address, so the ray executor builds it in the driver."""
        def __init__(self, arg=None, ray_address=None):
            self.name = "selfdist"
            with open(os.environ["MTBENCH_TEST_GENLOG"], "a", encoding="utf-8") as f:
                f.write(json.dumps({"event": "built", "pid": os.getpid(), "ray_address": ray_address}) + "\\n")

        def fingerprint(self):
            return {"backend": "selfdist"}

        def generate(self, prompts, params):
            from mtbench.models.base import Generation
            return [Generation(p.upper(), 1) for p in prompts]

    MODELS.register("selfdist", SelfDistributing)
''')


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    words = " ".join(CORPUS).split()
    for k, pair in enumerate(PAIRS):
        src = [" ".join(words[(i * 5 + k + j) % len(words)] for j in range(3 + i % 5)) + f" {i}" for i in range(N_SEGMENTS)]
        folder = root / "wmt22" / pair
        folder.mkdir(parents=True)
        for name in ("src.txt", "ref.txt"):
            (folder / name).write_text("".join(s + "\n" for s in src), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "logged_backend.py").write_text(PLUGIN, encoding="utf-8")
    return folder


def mtbench(args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mtbench", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


CLIENT_AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}  # the test cluster's


def base_env(tmp: Path, layout: Path, name: str) -> dict[str, str]:
    env = dict(os.environ, MTBENCH_DATA=str(layout), MTBENCH_CACHE=str(tmp / f"cache-{name}"), MTBENCH_CHUNK=CHUNK,
               MTBENCH_TEST_GENLOG=str(tmp / f"genlog-{name}.jsonl"))
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"):
        env.pop(name, None)
    return env


def run_args(model: Path, plugin: Path, out: Path, metrics: str = "bleu,chrf") -> list[str]:
    return ["run", "--model", f"loggedhf:{model}", "--tasks", ",".join(f"wmt22:{p}" for p in PAIRS),
            "--metrics", metrics, "--significance", "none", "--device", "cpu", "--include-path", str(plugin),
            "--out", str(out)]


def outputs(run: Path) -> dict[str, list[tuple[str, str, int]]]:
    """Every generated row's prompt, raw completion and token count (not its timing)."""
    found = {}
    for path in sorted((run / "generations").glob("*/*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        found[f"{path.parent.name}/{path.name}"] = [(r["prompt"], r["raw"], r["tokens"]) for r in rows]
    return found


def scores(run: Path) -> dict[str, dict[str, float]]:
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    return {task: {f"{model}/{metric}": s["score"] for model, ms in t["scores"].items() for metric, s in ms.items()}
            for task, t in results["tasks"].items()}


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.fixture(scope="module")
def local_run(tiny_llama_dir: Path, layout: Path, plugin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("local")
    proc = mtbench(run_args(tiny_llama_dir, plugin_dir, tmp / "run", "bleu,chrf,charcount"), base_env(tmp, layout, "local"))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return tmp / "run"


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory, layout: Path) -> tuple[str, Path, Path]:
    """A Ray head of 2 CPUs started with `ray start`, as a cluster is (its workers take
    their environment from it): (address, generation log, sleep switch)."""
    if not RAY.exists():
        pytest.skip(f"{RAY} not found")
    tmp = tmp_path_factory.mktemp("head")
    log = tmp / "genlog.jsonl"
    # Token authentication on the head and on every client, as Ray's security guide asks,
    # with a token of this test's own: a fresh machine has no ~/.ray/auth_token.
    env = dict(os.environ, MTBENCH_TEST_GENLOG=str(log), MTBENCH_TEST_GENSLEEP="1.5", RAY_USAGE_STATS_ENABLED="0",
               **CLIENT_AUTH)
    env.pop("RAY_ADDRESS", None)
    started = subprocess.run([str(RAY), "start", "--head", "--num-cpus", "2", "--num-gpus", "0", "--port", "0",
                              "--include-dashboard", "false", "--disable-usage-stats"],
                             env=env, capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr
    address = next(line.split("'")[1] for line in (started.stdout + started.stderr).splitlines()
                   if "ray start --address=" in line)
    yield address, log, tmp
    subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120)


def test_ray_cluster_gives_the_local_outputs_and_survives_a_killed_worker(
        ray_head: tuple[str, Path, Path], local_run: Path, tiny_llama_dir: Path, layout: Path, plugin_dir: Path) -> None:
    address, log, tmp = ray_head
    out = tmp / "run"
    env = dict(base_env(tmp, layout, "ray"), **CLIENT_AUTH)  # what the test cluster asks of its clients
    before = len(events(log))  # the cluster's log also holds what other tests ran on it

    def this_run() -> list[dict]:
        return events(log)[before:]

    proc = mtbench(run_args(tiny_llama_dir, plugin_dir, out, "bleu,chrf,charcount")
                   + ["--executor", "ray", "--ray-address", address], env)
    # Wait for a chunk in flight on a worker that has already finished one, and kill that worker.
    killed = None
    deadline = time.time() + 300
    while killed is None and time.time() < deadline and proc.poll() is None:
        seen = this_run()
        ended = {(e["pid"], tuple(e["prompts"])) for e in seen if e["event"] == "end"}
        open_ = [e for e in seen if e["event"] == "start" and (e["pid"], tuple(e["prompts"])) not in ended]
        if ended and open_:
            killed = open_[-1]
            os.kill(killed["pid"], signal.SIGKILL)
        time.sleep(0.1)
    _, err = proc.communicate(timeout=600)
    assert killed is not None, f"no chunk in flight to kill; stderr: {err[-2000:]}"
    assert proc.returncode == 0, err[-3000:]
    assert "ray: the Ray cluster at" in err and "2 CPU(s)" in err

    # The same outputs and scores as the local executor, byte for byte.
    assert outputs(out) == outputs(local_run)
    assert scores(out) == scores(local_run)
    # The heavy metric ran in a Ray actor, the local run's in the scoring process.
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    local = json.loads((local_run / "results.json").read_text(encoding="utf-8"))
    for task in results["tasks"]:
        model = next(iter(results["tasks"][task]["scores"]))
        assert results["tasks"][task]["scores"][model]["charcount"]["details"]["in_ray_actor"] is True
        assert local["tasks"][task]["scores"][model]["charcount"]["details"]["in_ray_actor"] is False

    seen = this_run()
    all_prompts = [p for rows in outputs(out).values() for p, _, _ in rows]
    ends = [p for e in seen if e["event"] == "end" for p in e["prompts"]]
    # Finished segments are never redone: each prompt finished exactly once ...
    assert sorted(ends) == sorted(all_prompts)
    # ... the killed chunk never finished on the killed worker and was finished by another one,
    assert not any(e["event"] == "end" and e["pid"] == killed["pid"] and e["prompts"] == killed["prompts"] for e in seen)
    redone = [e for e in seen if e["event"] == "end" and e["prompts"] == killed["prompts"]]
    assert len(redone) == 1 and redone[0]["pid"] != killed["pid"]
    # ... and two workers shared the work (the cluster has two CPUs, one per actor).
    assert len({e["pid"] for e in seen if e["event"] == "end"}) >= 2


def test_ray_run_reuses_the_run_directory_of_the_same_local_command(
        ray_head: tuple[str, Path, Path], tiny_llama_dir: Path, layout: Path, plugin_dir: Path, tmp_path: Path) -> None:
    """The executor is not part of what a run computes: a run finished on Ray and
    started again locally generates nothing and recomputes no score."""
    address, log, _ = ray_head
    env = dict(base_env(tmp_path, layout, "reuse"), **CLIENT_AUTH)
    out = tmp_path / "run"
    first = mtbench(run_args(tiny_llama_dir, plugin_dir, out) + ["--executor", "ray", "--ray-address", address], env)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    again = mtbench(run_args(tiny_llama_dir, plugin_dir, out), env)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert "generating" not in err
    assert "0 score file(s) computed, 6 reused" in err


def test_local_ray_instance_started_for_the_run(local_run: Path, tiny_llama_dir: Path, layout: Path, plugin_dir: Path,
                                                 tmp_path: Path) -> None:
    """Without --ray-address the run starts its own Ray instance (and stops it): the
    same outputs, and the heavy metric in an actor of that instance."""
    env = base_env(tmp_path, layout, "instance")
    proc = mtbench(run_args(tiny_llama_dir, plugin_dir, tmp_path / "run", "bleu,chrf,charcount")
                   + ["--executor", "ray"], env)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "ray: a local Ray instance" in err
    assert outputs(tmp_path / "run") == outputs(local_run)
    assert scores(tmp_path / "run") == scores(local_run)
    # The scoring stage (another process) joined the run's instance: the heavy metric ran in its actor.
    results = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert all(s["charcount"]["details"]["in_ray_actor"] is True
               for t in results["tasks"].values() for s in t["scores"].values())


def test_a_backend_that_distributes_itself_runs_in_the_driver_with_the_cluster_address(
        layout: Path, plugin_dir: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path, layout, "selfdist")
    args = run_args(Path("x"), plugin_dir, tmp_path / "run") + ["--executor", "ray"]
    args[args.index("loggedhf:x")] = "selfdist:x"
    proc = mtbench(args, env)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    built = [e for e in events(tmp_path / "genlog-selfdist.jsonl") if e["event"] == "built"]
    assert [e["pid"] for e in built] == [proc.pid]  # once, in `mtbench run` itself
    host, _, port = built[0]["ray_address"].rpartition(":")
    assert host and port.isdigit()
    rows = outputs(tmp_path / "run")["wmt22_de-en/selfdist_x+base.jsonl"]
    assert all(raw == prompt.upper() for prompt, raw, _ in rows) and len(rows) == N_SEGMENTS


@pytest.mark.parametrize("args, message", [
    (["--executor", "ray", "--ray-address", "127.0.0.1:9"], "--ray-address 127.0.0.1:9: no Ray cluster answers there"),
    (["--executor", "ray", "--ray-address", "head-node"], "--ray-address 'head-node': give HOST:PORT"),
    (["--ray-replicas", "2"], "ray_address and ray_replicas are options of the ray executor; add --executor ray"),
    (["--executor", "rya"], "unknown executor 'rya'"),
])
def test_bad_executor_options_fail_in_one_line_before_any_work(args: list[str], message: str, tiny_llama_dir: Path,
                                                               layout: Path, plugin_dir: Path, tmp_path: Path) -> None:
    proc = mtbench(run_args(tiny_llama_dir, plugin_dir, tmp_path / "run") + args, base_env(tmp_path, layout, "bad"))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    lines = [line for line in err.splitlines() if line.startswith("mtbench: error:")]
    assert len(lines) == 1 and message in lines[0], err[-2000:]
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)
