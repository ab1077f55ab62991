"""What COMET and BLEURT share: finding a model offline, fingerprinting multi-GB weights,
length-sorted batches, device choice and keeping the libraries quiet.

Nothing here imports torch at module level: ``config(ctx)`` runs in the parent process
of ``mtbench run`` (for the cache key) and must stay cheap, and ``mtbench ls`` imports
the registry only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from mtbench.errors import MtbenchError
from mtbench.textio import cached_sha256

T = TypeVar("T")

MODEL_ROOT_ENVS = ("MTBENCH_MODELS",)  # every neural metric looks here; metrics add their own
GPUS_ENV = "MTBENCH_GPUS"
HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


# --- fingerprints -----------------------------------------------------------------------

def combined_sha256(paths: Sequence[Path]) -> str:
    """One fingerprint for weights split over several files (sharded checkpoints)."""
    if len(paths) == 1:
        return cached_sha256(paths[0])
    lines = "".join(f"{p.name}\t{cached_sha256(p)}\n" for p in sorted(paths, key=lambda p: p.name))
    return hashlib.sha256(lines.encode()).hexdigest()


def package_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not-installed"


# --- finding models offline -----------------------------------------------------------------

def is_offline() -> bool:
    """True when the Hugging Face stack is told not to touch the network."""
    flags = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    return any(os.environ.get(f, "").strip().lower() in ("1", "true", "yes", "on") for f in flags)


def looks_like_path(spec: str) -> bool:
    """A spec the user meant as a path: absolute, ./ ../ ~ or not a valid hub id."""
    return spec.startswith(("/", "./", "../", "~", ".\\")) or not HF_ID.match(spec)


def model_roots(extra_envs: Sequence[str] = ()) -> list[tuple[str, Path]]:
    """(env var, folder) for every configured models folder, in search order."""
    out = []
    for env in (*extra_envs, *MODEL_ROOT_ENVS):
        for part in (os.environ.get(env) or "").split(os.pathsep):
            if part.strip():
                out.append((env, Path(part.strip()).expanduser()))
    return out


def candidate_names(model_id: str) -> list[str]:
    """Folder names a copy of ``owner/name`` may have under a models folder."""
    names = [model_id, model_id.replace("/", "--"), model_id.replace("/", "_"), model_id.rsplit("/", 1)[-1]]
    return list(dict.fromkeys(names))


def preferred_local_name(model_id: str) -> str:
    return model_id.replace("/", "--")


def hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub always comes with transformers
        return "~/.cache/huggingface/hub"


def hf_cached_snapshot(model_id: str, allow_patterns: Sequence[str] | None = None) -> Path | None:
    """The cached snapshot folder of a hub model, without any network access."""
    if looks_like_path(model_id):
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=model_id, local_files_only=True, allow_patterns=allow_patterns))
    except Exception:
        return None


def hf_download(model_id: str) -> Path:
    """Download a hub model (only called when not offline). Short timeouts: a machine
    behind a firewall that drops packets must fail in seconds, not hang."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id=model_id, etag_timeout=10))


@dataclass
class Lookup:
    """A model located on disk, and the trail of where we looked (for error messages)."""

    spec: str
    path: Path | None = None
    looked: list[str] = field(default_factory=list)
    why: str = ""


def locate_model(spec: str, is_model_dir: Callable[[Path], bool], extra_envs: Sequence[str] = (),
                 download: bool = True) -> Lookup:
    """Find a model given as a local folder or a hub id.

    Order: the path itself; ``$<metric env>``/``$MTBENCH_MODELS`` under the names in
    ``candidate_names``; the Hugging Face cache; a download when online."""
    found = Lookup(spec)
    as_path = Path(spec).expanduser()
    if as_path.exists() or looks_like_path(spec):
        found.looked.append(str(as_path))
        if is_model_dir(as_path):
            found.path = as_path
        else:
            found.why = "not-a-model" if as_path.exists() else "missing-path"
        return found
    for env, root in model_roots(extra_envs):
        for name in candidate_names(spec):
            cand = root / name
            if is_model_dir(cand):
                found.path = cand
                return found
        found.looked.append(f"${env}={root}")
    if not found.looked:
        found.looked.append("$" + "/$".join((*extra_envs, *MODEL_ROOT_ENVS)) + " (unset)")
    snap = hf_cached_snapshot(spec)
    found.looked.append(f"the Hugging Face cache ({hf_cache_dir()})")
    if snap is not None and is_model_dir(snap):
        found.path = snap
        return found
    if not download:
        found.why = "not-found"
        return found
    if is_offline():
        found.why = "offline"
        return found
    try:
        snap = hf_download(spec)
    except Exception as exc:  # no network, unknown id, gated repo ...
        found.why = _download_failure(exc)
        return found
    if is_model_dir(snap):
        found.path = snap
    else:
        found.why = "downloaded snapshot lacks the expected files"
    return found


def _download_failure(exc: Exception) -> str:
    kind = type(exc).__name__
    if kind == "GatedRepoError":
        return "download refused: the model is gated (accept its licence on the hub and run `huggingface-cli login`)"
    if kind == "RepositoryNotFoundError":
        return "no such model on the Hugging Face hub (check the id)"
    if kind in ("LocalEntryNotFoundError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "OfflineModeIsEnabled"):
        return "download failed: no network"
    return f"download failed ({kind})"


def not_found_message(metric: str, lookup: Lookup, expected: str, flag_base: str) -> str:
    """One actionable line: which model, where we looked, how to point at a local copy."""
    name = lookup.spec.rsplit("/", 1)[-1] or lookup.spec
    if lookup.why == "missing-path":
        head = f"{metric} model folder {lookup.spec} does not exist"
    elif lookup.why == "not-a-model":
        head = f"{metric} model folder {lookup.spec} lacks {expected}"
    else:
        reason = {"offline": "offline (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE set), no download tried",
                  "not-found": "not downloaded"}.get(lookup.why, lookup.why)
        head = f"{metric} model {lookup.spec!r} not found: looked in {', '.join(lookup.looked)}; {reason}"
    local = "" if looks_like_path(lookup.spec) else (
        f", or put it at $MTBENCH_MODELS/{preferred_local_name(lookup.spec)}")
    return (f"{head}; copy the model folder ({expected}) to this machine and pass "
            f"--metrics {flag_base}:/path/to/{name}{local}")


# --- batching and devices ---------------------------------------------------------------

def length_sorted_batches(lengths: Sequence[int], batch_size: int, sort: bool = True) -> list[list[int]]:
    """Indices in batches of ``batch_size``; sorted by length so each batch pads to
    similar lengths (the speed-up of COMET's ``length_batching``). numpy's default
    argsort, as comet's ``predict`` uses, so batches are the ones ``comet-score`` forms."""
    import numpy as np

    order = np.argsort(np.asarray(lengths, dtype=np.int64)).tolist() if sort else list(range(len(lengths)))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def gpu_count(option: int | None) -> int:
    """GPUs to use: the option, else ``$MTBENCH_GPUS``, else 1 when CUDA is available."""
    import torch

    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    wanted = option
    if wanted is None and os.environ.get(GPUS_ENV, "").strip():
        try:
            wanted = int(os.environ[GPUS_ENV])
        except ValueError:
            raise MtbenchError(f"${GPUS_ENV}={os.environ[GPUS_ENV]!r} is not a number; set it to 0 (CPU) or a GPU count") from None
    if wanted is None:
        wanted = min(1, available)
    if wanted < 0:
        raise MtbenchError(f"GPU count must be 0 (CPU) or more, got {wanted}")
    return min(wanted, available)


def device_list(gpus: int) -> list[str]:
    return [f"cuda:{i}" for i in range(gpus)] if gpus > 0 else ["cpu"]


def move_to(batch: Any, device: Any) -> Any:
    """Tensors inside nested dicts/lists/tuples moved to ``device``; other values kept
    (COMET's XCOMET batches carry offsets lists)."""
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


def run_batches(replicas: Sequence[Any], batches: Sequence[T], step: Callable[[Any, T], list[float]]) -> list[list[float]]:
    """``step(replica, batch)`` for every batch, in order of the result list.

    One replica: a plain loop. Several (one model per GPU): one thread per GPU pulling
    batches from a shared queue; CUDA kernels release the GIL so GPUs overlap, and each
    batch is the same batch a single GPU would see, so the numbers do not depend on the
    GPU count (unlike DDP, which would also re-launch the whole mtbench command)."""
    if len(replicas) <= 1:
        return [step(replicas[0], b) for b in batches]
    import queue
    import threading

    results: list[list[float] | None] = [None] * len(batches)
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(batches)):
        todo.put(i)
    errors: list[BaseException] = []

    def worker(replica: Any) -> None:
        while not errors:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = step(replica, batches[i])
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(r,), daemon=True) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


# --- quiet libraries -----------------------------------------------------------------------

NOISY_WARNINGS = (
    r"pkg_resources is deprecated",  # torchmetrics / comet import pkg_resources
    r".*Consider increasing the value of the `num_workers` argument.*",
    r".*`isinstance\(treespec, LeafSpec\)` is deprecated.*",
)


@contextlib.contextmanager
def quiet_imports() -> Iterator[None]:
    """Import heavy libraries without their side effects on the host program.

    ``import comet`` calls ``logging.basicConfig(level=INFO)``, which would install a
    root handler and turn on INFO messages of every library for the rest of the run;
    the root logger is restored afterwards. Deprecation noise from pkg_resources is
    not ours to fix and only hides real warnings."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():
        for pattern in NOISY_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        try:
            yield
        finally:
            for h in list(root.handlers):
                if h not in handlers:
                    root.removeHandler(h)
            root.setLevel(level)


def silence_loggers(names: Sequence[str], level: int = logging.WARNING) -> None:
    for name in names:
        logging.getLogger(name).setLevel(level)
