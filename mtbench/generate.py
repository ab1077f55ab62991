"""Generation: prompts -> backend -> raw completions -> adapter post-processing.

Every finished completion goes into one SQLite cache (WAL journal) keyed by model
fingerprint, adapter settings, prompt and decoding parameters, committed after each
chunk. A run killed at any point (SIGKILL included) loses at most the chunk in flight;
started again it finds every finished segment in the cache and generates only the
rest. Several runs may share the cache at once: SQLite serializes the writers and
``INSERT OR IGNORE`` makes a segment generated twice harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.paths import CACHE_ENV, cache_root
from mtbench.models.base import Backend, DecodingParams, Request, Translator
from mtbench.stop import checkpoint

CHUNK = 64  # prompts per backend call: the unit of work a crash can lose ($MTBENCH_CHUNK)
CHUNK_ENV = "MTBENCH_CHUNK"


def chunk_size() -> int:
    value = os.environ.get(CHUNK_ENV) or str(CHUNK)
    if not value.isdigit() or int(value) < 1:
        raise MtbenchError(f"${CHUNK_ENV}={value!r}: give the number of prompts per backend call, e.g. 64")
    return int(value)


def default_cache_path() -> Path:
    return cache_root() / "generations.sqlite"


class GenerationCache:
    """key -> (raw completion, new tokens, seconds it took)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, raw TEXT NOT NULL, "
                            "n_tokens INTEGER NOT NULL, seconds REAL NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise MtbenchError(f"generation cache {self.path} cannot be opened ({exc}); "
                               f"set ${CACHE_ENV} or the `cache` key to a writable folder") from None

    def _connect(self) -> sqlite3.Connection:
        # autocommit mode; long timeout: another run may hold the write lock for a moment
        con = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def _failed(self, exc: sqlite3.Error) -> MtbenchError:
        busy = "locked" in str(exc) or "busy" in str(exc)
        fix = "another process holds it locked; wait for it or give --cache another file" if busy else \
            f"set ${CACHE_ENV} or the `cache` key to a writable folder"
        return MtbenchError(f"generation cache {self.path} failed ({exc}); {fix}")

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[str, int, float]]:
        try:
            return self._get_many(keys)
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def _get_many(self, keys: Sequence[str]) -> dict[str, tuple[str, int, float]]:
        found: dict[str, tuple[str, int, float]] = {}
        with closing(self._connect()) as con:
            for i in range(0, len(keys), 500):  # SQLite's bound-parameter limit
                part = keys[i:i + 500]
                marks = ",".join("?" * len(part))
                for key, raw, n, sec in con.execute(
                        f"SELECT key, raw, n_tokens, seconds FROM generations WHERE key IN ({marks})", part):
                    found[key] = (raw, n, sec)
        return found

    def put_many(self, rows: Iterable[tuple[str, str, int, float]]) -> None:
        try:
            with closing(self._connect()) as con:
                con.execute("BEGIN IMMEDIATE")
                con.executemany("INSERT OR IGNORE INTO generations (key, raw, n_tokens, seconds) VALUES (?, ?, ?, ?)",
                                rows)
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failed(exc) from None


def segment_key(fingerprint: Mapping[str, Any], adapter: Mapping[str, Any], prompt: str, params: DecodingParams) -> str:
    blob = json.dumps({"model": fingerprint, "adapter": adapter, "prompt": prompt, "decoding": params.to_dict()},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class GenerationStats:
    segments: int = 0
    generated: int = 0  # segments the backend produced in this call (the rest came from the cache)
    new_tokens: int = 0
    seconds: float = 0.0


@dataclass
class GenerationJob:
    """One (model, adapter, task): its requests, their cache keys, what the cache already
    holds and what is left. An executor runs ``chunks()`` in any order and on any
    worker and hands each answer to ``commit`` (which writes the cache at once: a crash
    loses at most the chunks in flight); ``rows()`` then gives the finished rows."""

    backend: Any
    adapter: Any
    requests: Sequence[Request]
    params: DecodingParams
    cache: GenerationCache | None
    keys: list[str]
    done: dict[str, tuple[str, int, float]]
    todo: list[int]  # request indices still to generate, longest prompt first
    label: str = ""
    stats: GenerationStats = field(default_factory=GenerationStats)
    progress: bool = True  # one bar per job: segments, tokens/s and the time left
    _bar: Any = field(default=None, repr=False)

    def chunks(self) -> list[list[int]]:
        """Prompts per backend call, longest first so each holds prompts of similar length."""
        size = chunk_size()
        self._open_bar()
        return [self.todo[i:i + size] for i in range(0, len(self.todo), size)]

    def prompts(self, part: Sequence[int]) -> list[str]:
        return [self.requests[i].prompt for i in part]

    def commit(self, part: Sequence[int], gens: Sequence[Any], seconds: float) -> None:
        if len(gens) != len(part):
            raise MtbenchError(f"{self.label}: the backend returned {len(gens)} completion(s) for {len(part)} prompt(s)")
        per_segment = seconds / max(len(part), 1)
        fresh = [(self.keys[i], g.raw, int(g.n_tokens), round(per_segment, 4)) for i, g in zip(part, gens)]
        if self.cache:
            self.cache.put_many(fresh)
        for key, raw, n, sec in fresh:
            self.done[key] = (raw, n, sec)
            self.stats.new_tokens += n
        self.stats.generated += len(part)
        self.stats.seconds += seconds
        self._advance(len(part))
        checkpoint("generate", f"chunk:{self.label}:{len(self.done)}")  # the same label on a resumed run

    def _open_bar(self) -> None:
        """The job's progress bar (tqdm, where installed): opened when its chunks are
        handed out, advanced by every committed chunk whichever worker ran it, so its
        rate and time left are the job's."""
        if not self.progress or self._bar is not None or not self.todo:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.progress = False
            return
        self._bar = tqdm(total=len(self.todo), unit="seg", desc=self.label, file=sys.stderr, dynamic_ncols=True,
                         mininterval=1.0)

    def _advance(self, n: int) -> None:
        if self._bar is None:
            return
        self._bar.update(n)
        elapsed = max(self._bar.format_dict["elapsed"], 1e-9)
        self._bar.set_postfix(tok_s=f"{self.stats.new_tokens / elapsed:.1f}", refresh=False)
        if self.stats.generated >= len(self.todo):
            self._bar.close()

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for r, key in zip(self.requests, self.keys):
            raw, n, sec = self.done[key]
            rows.append({"id": r.id, "prompt": r.prompt, "raw": raw,
                         "output": self.adapter.postprocess(raw, r.source, r.src_lang, r.tgt_lang),
                         "tokens": n, "time": sec})
        return rows


def plan_generation(backend: Backend, adapter: Any, requests: Sequence[Request], params: DecodingParams,
                    cache: GenerationCache | None, adapter_key: Mapping[str, Any], label: str = "") -> GenerationJob:
    """The job of ``requests``: keys from the backend's fingerprint, finished segments
    from the cache (a prompt asked twice is generated once)."""
    fingerprint = backend.fingerprint()
    keys = [segment_key(fingerprint, adapter_key, r.prompt, params) for r in requests]
    done = cache.get_many(list(dict.fromkeys(keys))) if cache else {}
    todo = sorted({k: i for i, k in enumerate(keys) if k not in done}.values(), key=lambda i: -len(requests[i].prompt))
    return GenerationJob(backend, adapter, requests, params, cache, keys, done, todo, label,
                         GenerationStats(segments=len(requests)))


def run_job_here(job: GenerationJob) -> None:
    """Every chunk of ``job`` through its backend in this process, one after another;
    after each committed chunk the run may stop (SIGTERM) or be killed by a test."""
    for part in job.chunks():
        t0 = time.perf_counter()
        gens = job.backend.generate(job.prompts(part), job.params)
        job.commit(part, gens, time.perf_counter() - t0)


def generate_rows(backend: Backend, adapter: Any, requests: Sequence[Request], params: DecodingParams,
                  cache: GenerationCache | None, adapter_key: Mapping[str, Any],
                  on_start: Callable[[int], None] | None = None, label: str = "") -> tuple[list[dict[str, Any]], GenerationStats]:
    """One row per request (id, prompt, raw, output, tokens, time), generating here only
    what the cache lacks (``on_start`` hears how many that is)."""
    job = plan_generation(backend, adapter, requests, params, cache, adapter_key, label)
    if on_start:
        on_start(len(job.todo))
    run_job_here(job)
    return job.rows(), job.stats


def translate_rows(translator: Translator, requests: Sequence[Request]) -> list[dict[str, Any]]:
    """Rows for a user's Python object with ``translate``: its answers are final outputs."""
    outputs = translator.translate(list(requests))
    if not isinstance(outputs, list) or len(outputs) != len(requests) or not all(isinstance(o, str) for o in outputs):
        raise MtbenchError(f"{type(translator).__name__}.translate must return a list of {len(requests)} strings, "
                           f"one per request; it returned {type(outputs).__name__} of length "
                           f"{len(outputs) if hasattr(outputs, '__len__') else '?'}")
    return [{"id": r.id, "prompt": r.prompt, "raw": o, "output": o, "tokens": 0, "time": 0.0}
            for r, o in zip(requests, outputs)]
