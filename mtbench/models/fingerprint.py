"""Model fingerprints: what identifies a checkpoint's outputs (config, weights,
tokenizer, generation defaults), computed without torch so that every backend, the
vLLM one included, gives the same fingerprint for the same folder."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "vocab.json", "merges.txt", "vocab.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
)
# Keys that record who wrote a config, not what the model computes.
VOLATILE_CONFIG_KEYS = ("transformers_version", "_name_or_path", "_commit_hash")

def weight_files(folder: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in WEIGHT_PATTERNS:
        found.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(found)


def canonical_json_sha256(data: dict[str, Any]) -> str:
    clean = {k: v for k, v in data.items() if k not in VOLATILE_CONFIG_KEYS}
    blob = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def hash_sidecar_path() -> Path:
    from mtbench.models.smollm2 import cache_root

    return cache_root() / "weight-hashes.json"


def cached_sha256(path: Path) -> str:
    """A weight file's sha256, remembered by (path, size, mtime) in a small JSON file in
    mtbench's cache: hashing gigabytes on every run would cost more than loading them."""
    st = path.stat()
    key = str(path.resolve())
    sidecar = hash_sidecar_path()
    try:
        table = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    entry = table.get(key)
    if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
        return str(entry["sha256"])
    digest = sha256_file(path)
    table[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    try:  # best effort: a read-only cache only costs speed
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=sidecar.parent, prefix=".weight-hashes-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(table, f, indent=0, sort_keys=True)
        os.replace(tmp, sidecar)
    except OSError:
        pass
    return digest


def files_sha256(folder: Path, names: Sequence[str]) -> str | None:
    h = hashlib.sha256()
    found = False
    for name in sorted(names):
        p = folder / name
        if p.is_file():
            found = True
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest() if found else None


def weights_sha256(folder: Path) -> str:
    h = hashlib.sha256()
    for f in weight_files(folder):
        h.update(f"{f.name}\0{cached_sha256(f)}\n".encode())
    return h.hexdigest()



def folder_fingerprint(folder: Path) -> dict[str, Any]:
    """Hashes of a local checkpoint folder (weights hashed once, then remembered)."""
    config = json.loads((folder / "config.json").read_text("utf-8"))
    return {
        "config_sha256": canonical_json_sha256(config),
        "weights_sha256": weights_sha256(folder),
        "tokenizer_sha256": files_sha256(folder, TOKENIZER_FILES),
        "generation_config_sha256": files_sha256(folder, ("generation_config.json",)),
    }
