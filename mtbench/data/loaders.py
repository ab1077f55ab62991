"""Where test-set text comes from. Loaders are tried in order; the first that has the
pair wins, and when none does, one error lists what each one lacked.

Order: the local data layout, local WIT3 XML, sacrebleu's downloader, Hugging Face
datasets. Local files come first so that an offline machine never waits on a
download and a run is reproducible from the files it names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from mtbench.data.testsets import PairSpec, TestSet
from mtbench.errors import MtbenchError
from mtbench.textio import read_lines, sha256_lines

DATA_ENV = "MTBENCH_DATA"


@dataclass(frozen=True)
class TestData:
    """Source and every reference of one direction, with where they came from."""

    testset: str
    pair: PairSpec
    source: list[str]
    references: Mapping[str, list[str]]  # reference id -> lines
    origin: str  # human-readable description of the loader and path
    pair_dir: Path | None = None  # local layout folder (holds systems/ and llm_outputs/)

    @property
    def primary_ref(self) -> str:
        return self.pair.ref

    def refs(self, which: str = "primary") -> dict[str, list[str]]:
        """References selected by ``which``: "primary", "all", or comma-separated ids."""
        if which == "primary":
            ids = [self.pair.ref]
        elif which == "all":
            ids = list(self.references)
        else:
            ids = [r.strip() for r in which.split(",") if r.strip()]
        missing = [r for r in ids if r not in self.references]
        if missing:
            raise MtbenchError(
                f"{self.testset}:{self.pair.key} has no reference {missing[0]!r} "
                f"(available: {', '.join(self.references) or 'none'}); use refs=primary, all or one of those"
            )
        return {r: self.references[r] for r in ids}

    def checksum(self) -> str:
        lines = list(self.source)
        for rid, ref in sorted(self.references.items()):
            lines.append(f"\0ref:{rid}")
            lines.extend(ref)
        return sha256_lines(lines)


class NotAvailable(Exception):
    """A loader does not have this pair; the message says what it looked for."""


def data_dir_from_env(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    value = explicit if explicit is not None else os.environ.get(DATA_ENV)
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_dir():
        source = "--data-dir" if explicit is not None else f"${DATA_ENV}"
        raise MtbenchError(f"data directory {p} (from {source}) does not exist; point it at a folder in mtbench's data layout")
    return p


def _check_lengths(testset: str, pair: PairSpec, source: list[str], refs: Mapping[str, list[str]], where: str) -> None:
    for rid, ref in refs.items():
        if len(ref) != len(source):
            raise MtbenchError(
                f"{where}: reference {rid} of {testset}:{pair.key} has {len(ref)} lines but the source has {len(source)}; fix or remove the file"
            )


# --- local layout ---------------------------------------------------------------------

def load_local_layout(ts: TestSet, pair: PairSpec, data_dir: Path | None) -> TestData:
    if data_dir is None:
        raise NotAvailable(f"no data directory (set ${DATA_ENV} or --data-dir)")
    for folder in ts.local_dirs:
        pair_dir = data_dir / folder / pair.key
        if (pair_dir / "src.txt").is_file():
            break
    else:
        raise NotAvailable(f"no {'|'.join(ts.local_dirs)}/{pair.key}/src.txt under {data_dir}")
    source = read_lines(pair_dir / "src.txt", "source file")
    refs: dict[str, list[str]] = {}
    refs_dir = pair_dir / "refs"
    if refs_dir.is_dir():
        for f in sorted(refs_dir.glob("ref.*.txt")):
            refs[f.name[len("ref."):-len(".txt")]] = read_lines(f, "reference file")
    if pair.ref not in refs:
        if (pair_dir / "ref.txt").is_file() and not refs:
            # A folder with a single ref.txt holds just the primary reference.
            refs[pair.ref] = read_lines(pair_dir / "ref.txt", "reference file")
        else:
            raise MtbenchError(
                f"{pair_dir}: primary reference {pair.ref!r} of {ts.name}:{pair.key} not found "
                f"(have: {', '.join(refs) or 'none'}); add refs/ref.{pair.ref}.txt"
            )
    # Primary first, so "all" lists it first as sacrebleu does.
    refs = {pair.ref: refs[pair.ref], **{k: v for k, v in refs.items() if k != pair.ref}}
    _check_lengths(ts.name, pair, source, refs, str(pair_dir))
    return TestData(ts.name, pair, source, refs, f"local:{pair_dir}", pair_dir)


# --- WIT3 XML (IWSLT) -------------------------------------------------------------------

_SEG = re.compile(r"<seg.*?>(.*)</seg>.*?")


def parse_wit3_xml(path: Path) -> list[str]:
    """Segments of a WIT3 XML file, extracted as sacrebleu does: every line that starts
    with ``<seg `` is reduced to its content, stripped, inner whitespace collapsed.
    No entity unescaping (sacrebleu does none, so references match its files)."""
    out = []
    for line in read_lines(path, "WIT3 XML file"):
        if line.startswith("<seg "):
            text = _SEG.sub(r"\1", line)
            out.append(re.sub(r"\s+", " ", text.strip()))
    if not out:
        raise MtbenchError(f"{path}: no <seg id=...> lines; is it a WIT3 IWSLT XML file?")
    return out


def load_wit3_xml(ts: TestSet, pair: PairSpec, data_dir: Path | None) -> TestData:
    if ts.wit3_prefix is None:
        raise NotAvailable("no WIT3 XML for this test set")
    if data_dir is None:
        raise NotAvailable("no data directory for WIT3 XML files")
    stem = f"{ts.wit3_prefix}.{pair.key}"
    for folder in ts.local_dirs:
        d = data_dir / folder
        src_file, ref_file = d / f"{stem}.{pair.src}.xml", d / f"{stem}.{pair.tgt}.xml"
        if src_file.is_file():
            if not ref_file.is_file():
                raise NotAvailable(f"{src_file} found but its reference {ref_file.name} is missing")
            source, ref = parse_wit3_xml(src_file), parse_wit3_xml(ref_file)
            refs = {pair.ref: ref}
            _check_lengths(ts.name, pair, source, refs, str(ref_file))
            return TestData(ts.name, pair, source, refs, f"wit3-xml:{src_file}")
    raise NotAvailable(f"no {stem}.{pair.src}.xml in {'|'.join(ts.local_dirs)} under {data_dir}")


# --- sacrebleu --------------------------------------------------------------------------

def load_sacrebleu(ts: TestSet, pair: PairSpec, data_dir: Path | None) -> TestData:
    if ts.sacrebleu is None:
        raise NotAvailable("not a sacrebleu test set")
    from sacrebleu.dataset import DATASETS

    dataset = DATASETS.get(ts.sacrebleu)
    if dataset is None or pair.key not in dataset.langpairs:
        raise NotAvailable(f"sacrebleu has no {ts.sacrebleu}:{pair.key}")
    try:
        dataset.process_to_text(pair.key)
        fields = dataset.fieldnames(pair.key)
        files = dataset.get_files(pair.key)
    except Exception as exc:  # network errors come in many types
        raise NotAvailable(f"sacrebleu could not download {ts.sacrebleu} ({type(exc).__name__}; offline?)") from None
    source: list[str] = []
    refs: dict[str, list[str]] = {}
    for name, path in zip(fields, files):
        if name == "src":
            source = read_lines(path, "sacrebleu source file")
        elif name == "ref":
            # a single unlabelled reference is the primary one
            refs.setdefault(pair.ref, read_lines(path, "sacrebleu reference file"))
        elif name.startswith("ref:"):
            refs[name[4:]] = read_lines(path, "sacrebleu reference file")
    if pair.ref not in refs:
        raise NotAvailable(f"sacrebleu's {ts.sacrebleu}:{pair.key} lacks reference {pair.ref}")
    refs = {pair.ref: refs[pair.ref], **{k: v for k, v in refs.items() if k != pair.ref}}
    _check_lengths(ts.name, pair, source, refs, f"sacrebleu:{ts.sacrebleu}")
    return TestData(ts.name, pair, source, refs, f"sacrebleu:{ts.sacrebleu}:{pair.key}")


# --- Hugging Face datasets -------------------------------------------------------------

def load_hf_rows(path: str, config: str | None, split: str) -> list[dict]:
    """Rows of a HF dataset given by hub id or by a local .json/.jsonl/.parquet file."""
    try:
        import datasets
    except ImportError:
        raise NotAvailable("the `datasets` package is not installed (pip install 'mtbench[hf-data]')") from None
    local = Path(path)
    try:
        if local.is_file():
            kind = "parquet" if local.suffix == ".parquet" else "json"
            ds = datasets.load_dataset(kind, data_files={split: str(local)}, split=split)
        else:
            ds = datasets.load_dataset(path, config, split=split)
    except Exception as exc:
        raise NotAvailable(f"datasets could not load {path} {config or ''} ({type(exc).__name__}; offline?)") from None
    return list(ds)


def load_hf(ts: TestSet, pair: PairSpec, data_dir: Path | None) -> TestData:
    if ts.hf is None:
        raise NotAvailable("no Hugging Face source")
    path = ts.hf.path
    # A local copy may sit in the data directory as <local_dir>/<src>-<tgt>.jsonl.
    if data_dir is not None:
        for folder in ts.local_dirs:
            candidate = data_dir / folder / f"{pair.key}.jsonl"
            if candidate.is_file():
                path = str(candidate)
                break
    rows = load_hf_rows(path, ts.hf.config.format(src=pair.src, tgt=pair.tgt), ts.hf.split)
    try:
        source = [r["translation"][pair.src] for r in rows]
        ref = [r["translation"][pair.tgt] for r in rows]
    except (KeyError, TypeError):
        raise MtbenchError(
            f"{path}: rows must look like {{\"translation\": {{\"{pair.src}\": ..., \"{pair.tgt}\": ...}}}}"
        ) from None
    return TestData(ts.name, pair, source, {pair.ref: ref}, f"hf:{path}")


Loader = Callable[[TestSet, PairSpec, "Path | None"], TestData]
LOADERS: list[tuple[str, Loader]] = [
    ("local", load_local_layout),
    ("wit3-xml", load_wit3_xml),
    ("sacrebleu", load_sacrebleu),
    ("hf", load_hf),
]


def load_testdata(ts: TestSet, pair_key: str, data_dir: Path | None) -> TestData:
    pair = ts.pair(pair_key)
    reasons = []
    for name, loader in LOADERS:
        try:
            return loader(ts, pair, data_dir)
        except NotAvailable as why:
            reasons.append(f"{name}: {why}")
    raise MtbenchError(
        f"no data for {ts.name}:{pair.key} ({'; '.join(reasons)}); "
        f"set ${DATA_ENV} or --data-dir to a folder in mtbench's data layout"
    )
