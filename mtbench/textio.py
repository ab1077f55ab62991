"""Reading and writing text and JSON the way every stage expects.

Reads are strict (UTF-8, a BOM stripped, one segment per line); writes are atomic
(temporary file + rename) so an interrupted run never leaves a half-written result.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from mtbench.errors import MtbenchError

_encode_string = json.encoder.encode_basestring  # what json.dumps(s, ensure_ascii=False) calls (C when available)


def read_lines(path: str | os.PathLike[str], what: str = "file") -> list[str]:
    """Return the lines of a UTF-8 text file: BOM removed, no line terminators.

    Only ``\\n`` separates segments (a stray ``\\r`` or U+2028 inside a segment is
    text, as sacrebleu reads it). A missing final newline is accepted.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise MtbenchError(f"{what} not found: {p} (check the path)") from None
    except IsADirectoryError:
        raise MtbenchError(f"{what} is a directory, not a text file: {p}") from None
    except PermissionError:
        raise MtbenchError(f"{what} is not readable: {p} (check its permissions)") from None
    binary = binary_reason(data)
    if binary:
        raise MtbenchError(f"{what} looks binary, not text: {p} ({binary}); give a UTF-8 text file with one "
                           f"segment per line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MtbenchError(
            f"{what} is not valid UTF-8: {p} (line {line}, byte {exc.start}); "
            f"convert it, e.g. iconv -f LATIN1 -t UTF-8"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if text == "":
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    # Windows line endings: drop the CR that ends every line, nothing else.
    if lines and all(line.endswith("\r") for line in lines):
        lines = [line[:-1] for line in lines]
    return lines


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"  # bytes text files do not hold


def binary_reason(data: bytes, sample: int = 1 << 16) -> str | None:
    """Why ``data`` is not a text file, or None. A text file may hold a stray NUL or
    control character (LLM output can); a file of which more than 10% of the first
    64 KiB are NUL or control bytes (2% when it is not UTF-8 either) is binary: an
    image, an archive, a NUL-filled file."""
    head = data[:sample]
    if not head:
        return None
    nul = head.count(0)
    control = len(head) - len(head.translate(None, _CONTROL))
    try:
        head.decode("utf-8")
        limit = 0.10
    except UnicodeDecodeError as exc:
        limit = 0.10 if exc.start >= len(head) - 3 else 0.02  # a character cut at the sample's end is still text
    if control / len(head) > limit:
        what = f"{100 * nul / len(head):.0f}% NUL bytes" if nul > control / 2 else \
            f"{100 * control / len(head):.0f}% control bytes"
        return f"{what} in its first {len(head):,} bytes"
    return None


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sidecars(path: Path) -> list[Path]:
    """Where the checksum of ``path`` may be remembered: beside the file (travels with a
    copied model folder), else in mtbench's cache (model folders are often read-only,
    e.g. a shared models directory)."""
    from mtbench.paths import cache_root

    key = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:32]
    return [path.with_name(path.name + ".sha256.json"), cache_root() / "checksums" / f"{key}.json"]


def cached_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a (multi-GB) file, remembered in a sidecar keyed by size and mtime.

    Hashing a 2.3 GB COMET checkpoint or a model's weights takes seconds, and the hash
    is in every cache key of every run; size+mtime change whenever the file is
    replaced, so a stale sidecar is never trusted."""
    p = Path(path)
    st = p.stat()  # follows symlinks (the HF cache links snapshots to blobs)
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    sidecars = _sidecars(p)
    for side in sidecars:
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and {k: data.get(k) for k in stamp} == stamp and isinstance(data.get("sha256"), str):
            return data["sha256"]
    digest = sha256_file(p)
    record = json.dumps({**stamp, "sha256": digest, "file": p.name})
    for side in sidecars:
        try:
            side.parent.mkdir(parents=True, exist_ok=True)
            tmp = side.with_name(side.name + f".tmp{os.getpid()}")
            tmp.write_text(record, encoding="utf-8")
            os.replace(tmp, side)
            break
        except OSError:
            continue  # read-only folder: try the next place; no sidecar at all is fine
    return digest


def sha256_lines(lines: Iterable[str]) -> str:
    """sha256 of the lines, each ended by a newline (one encode of the joined text)."""
    lines = list(lines)
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8") if lines else b"").hexdigest()


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()  # read once, at import: os.umask is process-wide, not thread-safe


def atomic_write_text(path: str | os.PathLike[str], text: str, durable: bool = True) -> None:
    """Write ``text`` to ``path`` so readers see either the old or the new file."""
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see either the old or the new file.
    The file gets the permissions a plain ``open`` would give it (mkstemp's are 0600).
    A full disk or a read-only folder is one line naming the file; the old file, if
    any, is left as it was and no temporary file stays behind.

    ``durable``: on disk before the rename (fsync, ~2 ms). Files that are cheap to
    rebuild and whose reader checks them (score files: their corpus file records the
    sizes) skip it; after a crash they are short or empty, and rebuilt."""
    p = Path(path)
    tmp: str | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise MtbenchError(f"cannot write {p} ({reason}); free space, fix the folder's permissions or choose "
                           f"another --out") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def atomic_write_json(path: str | os.PathLike[str], obj: Any, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n", durable)


def atomic_write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def json_values(values: Sequence[Any]) -> list[str]:
    """Each value as ``json.dumps(value, ensure_ascii=False)`` writes it, a column at a
    time: ints and finite floats through their repr (what json uses), strings
    through json's C escaper, anything else through ``json.dumps``. A column of one
    type (the usual case: ids, scores, labels) is one ``map`` at C speed."""
    kinds = set(map(type, values))
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds == {float} and all(map(math.isfinite, values)):
        return list(map(float.__repr__, values))
    if kinds == {str}:
        return list(map(_encode_string, values))
    out: list[str] = []
    for v in values:
        kind = type(v)
        if kind is int:
            out.append(int.__repr__(v))
        elif kind is float and math.isfinite(v):
            out.append(float.__repr__(v))
        elif kind is str:
            out.append(_encode_string(v))
        else:
            out.append(json.dumps(v, ensure_ascii=False))
    return out


def jsonl_from_columns(columns: Mapping[str, Sequence[Any]]) -> str:
    """JSON lines, one object per row of equally long ``columns``, byte for byte what
    ``json.dumps(row, ensure_ascii=False)`` per row gives, several times faster (one
    encoder call per value, none per row)."""
    if not columns:
        return ""
    keys = [json.dumps(key, ensure_ascii=False) for key in columns]
    row = "{" + ", ".join(f"{k.replace('%', '%%')}: %s" for k in keys) + "}\n"  # one %-template per row
    return "".join(map(row.__mod__, zip(*(json_values(v) for v in columns.values()))))


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_jsonl(path: str | os.PathLike[str]) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh.read().split("\n") if line.strip()]
    # one parser call for the whole file: ~10x faster than json.loads per line
    return json.loads("[" + ",".join(lines) + "]")
