"""Model fingerprints: what identifies a checkpoint's outputs (config, weights,
tokenizer, generation defaults), computed without torch so that every backend, the
vLLM one included, gives the same fingerprint for the same folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from mtbench.textio import cached_sha256

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
