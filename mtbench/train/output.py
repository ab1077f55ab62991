"""A training's output folder: a finished training is not redone, and a new one never
damages the folder it replaces.

- Identity: ``mtbench_train.json`` records the method, the settings (the out folder
  aside), the sha256 of every data file read, the base model's hashes (a local
  folder's config, weights and tokenizer, ``models.fingerprint``; a hub id by name),
  the number of processes and the training code's sha256, and the hashes of the
  checkpoint it saved (a LoRA training's ``adapter/`` too). When all of them equal this training's and the folder still
  holds that checkpoint, ``mtbench train`` says so and trains nothing (``--retrain``
  trains again), as ``mtbench run`` never regenerates what it has. The main process
  decides, for every rank.
- Staging (``mtbench.folders``): a training writes into ``.<name>.partial`` beside the
  folder and replaces the folder only once its checkpoint, log and meta are saved. A
  training that fails or is stopped leaves the previous checkpoint as it was, with its
  own log and meta.
- A folder that holds files but no ``mtbench_train.json`` is not replaced: it may be
  the user's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mtbench import folders
from mtbench.errors import MtbenchError

META = "mtbench_train.json"
#: A LoRA training's adapter alone, beside the merged checkpoint in the out folder.
LORA_ADAPTER = "adapter"


def base_model_hashes(base_model: str) -> dict[str, Any]:
    """What identifies the base model: a local folder's hashes (weights hashed once,
    then remembered beside them), else the hub id."""
    folder = Path(base_model).expanduser()
    if (folder / "config.json").is_file():
        from mtbench.models.fingerprint import folder_fingerprint

        return folder_fingerprint(folder)
    return {"hub_id": base_model}


#: The identity's parts, in the order a difference is named.
_PARTS = (("method", "the method differs"), ("data_sha256", "the data files differ"),
          ("base_model_sha256", "the base model differs"), ("processes", "the number of processes differs"),
          ("code_sha256", "mtbench's training code changed"))


def identity(method: str, config: Mapping[str, Any], data_sha256: Mapping[str, str], base_hashes: Mapping[str, Any],
             processes: int, code: str) -> dict[str, Any]:
    """The parts of ``mtbench_train.json`` that say which training made a folder: the
    number of processes is part of it (each adds a batch per step), and so is the code
    that trains (a fixed loss must not leave an old checkpoint standing)."""
    settings = {k: v for k, v in config.items() if k != "out"}
    return {"method": method, "config": settings, "data_sha256": dict(data_sha256),
            "base_model_sha256": dict(base_hashes), "processes": processes, "code_sha256": code}


def code_sha256(recipe: Any) -> str:
    """sha256 of the training loop's modules and the recipe's own file."""
    import hashlib
    import inspect

    files = sorted(Path(__file__).parent.glob("*.py"))
    own = inspect.getsourcefile(type(recipe))
    if own and Path(own) not in files:
        files.append(Path(own))
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def checkpoint_hashes(out: Path) -> dict[str, Any]:
    """The saved checkpoint's own hashes (recorded, then checked before it is reused),
    a LoRA training's adapter folder included."""
    from mtbench.models.fingerprint import files_sha256, folder_fingerprint

    hashes = folder_fingerprint(out)
    adapter = out / LORA_ADAPTER
    if adapter.is_dir():
        hashes["lora_adapter_sha256"] = files_sha256(adapter, sorted(p.name for p in adapter.iterdir() if p.is_file()))
    return hashes


def recorded(out: Path) -> dict[str, Any] | None:
    """The folder's ``mtbench_train.json``, or None (absent or unreadable)."""
    try:
        meta = json.loads((out / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def difference(meta: Mapping[str, Any], wanted: Mapping[str, Any], out: Path) -> str | None:
    """None when ``meta`` records the training ``wanted`` names and ``out`` still holds
    the checkpoint it saved; else what differs."""
    if any(key not in meta for key, _ in _PARTS) or "checkpoint_sha256" not in meta:
        return f"its {META} does not record all that identifies a training (an older mtbench trained it)"
    have = {k: v for k, v in (meta.get("config") or {}).items() if k != "out"}  # the folder may have moved
    if have != wanted["config"]:
        keys = sorted(k for k in set(have) | set(wanted["config"]) if have.get(k) != wanted["config"].get(k))
        return f"the settings differ ({', '.join(keys)})"
    for key, what in _PARTS:
        if meta[key] != wanted[key]:
            return what
    try:
        if checkpoint_hashes(out) != meta["checkpoint_sha256"]:
            return "its checkpoint files changed since it was saved"
    except (OSError, ValueError):
        return "its checkpoint files are missing or unreadable"
    return None


@dataclass(frozen=True)
class Decision:
    """What one process decides for all (each rank would look at its own disk)."""

    out: Path | None = None  # the folder, resolved; None with an error
    error: str | None = None  # out cannot be replaced (one line)
    reuse: dict[str, Any] | None = None  # the meta of the finished training out holds
    why: str | None = None  # why out is trained again (None: it held no training)


def decide(out: str, wanted: Mapping[str, Any], retrain: bool) -> Decision:
    try:
        path = folders.replaceable(out, "out")
        check_replaceable(path)
    except MtbenchError as exc:
        return Decision(error=str(exc))
    meta = recorded(path)
    if meta is None:
        return Decision(path)
    why = difference(meta, wanted, path)
    if why is None and not retrain:
        return Decision(path, reuse=meta)
    return Decision(path, why=why or "--retrain")


def check_replaceable(out: Path) -> None:
    """Before any work: ``out`` is absent, empty, or an earlier training's folder (an
    interrupted swap is undone first)."""
    folders.restore_interrupted(out)
    if out.exists() and not out.is_dir():
        raise MtbenchError(f"out {out} is a file; choose a folder for the trained checkpoint")
    if out.is_dir() and any(out.iterdir()) and not (out / META).is_file():
        raise MtbenchError(f"out {out} holds files but no {META}, so it is not an mtbench training's folder and a "
                           f"training would replace it; choose another out")
