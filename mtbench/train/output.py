"""A training's output folder: a finished training is not redone, and a new one never
damages the folder it replaces.

- Identity: ``mtbench_train.json`` records the method, the settings (the out folder
  aside), the sha256 of every data file read and the base model's hashes (a local
  folder's config, weights and tokenizer, ``models.fingerprint``; a hub id by name).
  When all four equal this training's, ``mtbench train`` says so and trains nothing
  (``--retrain`` trains again), as ``mtbench run`` never regenerates what it has.
- Staging: a training writes into ``.<name>.partial`` beside the folder and replaces
  the folder only once its checkpoint, log and meta are saved. A training that fails
  or is stopped leaves the previous checkpoint as it was, with its own log and meta.
- A folder that holds files but no ``mtbench_train.json`` is not replaced: it may be
  the user's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Mapping

from mtbench.errors import MtbenchError

META = "mtbench_train.json"


def base_model_hashes(base_model: str) -> dict[str, Any]:
    """What identifies the base model: a local folder's hashes (weights hashed once,
    then remembered beside them), else the hub id."""
    folder = Path(base_model).expanduser()
    if (folder / "config.json").is_file():
        from mtbench.models.fingerprint import folder_fingerprint

        return folder_fingerprint(folder)
    return {"hub_id": base_model}


def identity(method: str, config: Mapping[str, Any], data_sha256: Mapping[str, str],
             base_hashes: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of ``mtbench_train.json`` that say which training made a folder."""
    settings = {k: v for k, v in config.items() if k != "out"}
    return {"method": method, "config": settings, "data_sha256": dict(data_sha256), "base_model_sha256": dict(base_hashes)}


def recorded(out: Path) -> dict[str, Any] | None:
    """The folder's ``mtbench_train.json``, or None (absent or unreadable)."""
    try:
        meta = json.loads((out / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def difference(meta: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    """None when ``meta`` records the training ``wanted`` names; else what differs."""
    if "base_model_sha256" not in meta:
        return "its mtbench_train.json has no base model hashes (an older mtbench trained it)"
    have = identity(meta.get("method", ""), meta.get("config") or {}, meta.get("data_sha256") or {},
                    meta["base_model_sha256"] or {})
    if have["config"] != wanted["config"]:
        keys = sorted(k for k in set(have["config"]) | set(wanted["config"])
                      if have["config"].get(k) != wanted["config"].get(k))
        return f"the settings differ ({', '.join(keys)})"
    for key, what in (("method", "the method differs"), ("data_sha256", "the data files differ"),
                      ("base_model_sha256", "the base model differs")):
        if have[key] != wanted[key]:
            return what
    return None


def check_replaceable(out: Path) -> None:
    """Before any work: ``out`` is absent, empty, or an earlier training's folder. An
    interrupted swap (the old folder moved aside, the new one not yet in place) is
    undone first."""
    aside = moved_aside(out)
    if not out.exists() and aside.is_dir():
        aside.rename(out)
    if out.exists() and not out.is_dir():
        raise MtbenchError(f"out {out} is a file; choose a folder for the trained checkpoint")
    if out.is_dir() and any(out.iterdir()) and not (out / META).is_file():
        raise MtbenchError(f"out {out} holds files but no {META}, so it is not an mtbench training's folder and a "
                           f"training would replace it; choose another out")


def staging(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


def moved_aside(out: Path) -> Path:
    return out.with_name(f".{out.name}.old")


def publish(work: Path, out: Path) -> None:
    """``work`` (a saved training) becomes ``out``; the folder it replaces is removed."""
    aside = moved_aside(out)
    shutil.rmtree(aside, ignore_errors=True)
    if out.exists():
        out.rename(aside)
    work.rename(out)
    shutil.rmtree(aside, ignore_errors=True)
