"""COMET and BLEURT with tiny models built here (no downloads).

Golden values come from outside mtbench: the official ``comet-score`` CLI run as a
subprocess on the same checkpoint and files, and a direct bleurt-pytorch call.
The tiny COMET is a 2-layer BERT (hidden 32, character vocabulary) under comet's own
RegressionMetric / UnifiedMetric heads, saved the way ``comet.load_from_checkpoint``
reads models: ``<dir>/checkpoints/model.ckpt`` (a Lightning checkpoint: ``state_dict``
+ ``hyper_parameters``) and ``<dir>/hparams.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="neural metrics need torch (mtbench[metrics])")
pytest.importorskip("comet", reason="unbabel-comet (mtbench[metrics]) not installed")
pytest.importorskip("bleurt_pytorch", reason="bleurt-pytorch (mtbench[metrics]) not installed")

from mtbench.errors import MtbenchError  # noqa: E402
from mtbench.metrics import check_metric_names, make_metric  # noqa: E402
from mtbench.metrics import comet_metric  # noqa: E402
from mtbench.metrics.base import ScoringContext  # noqa: E402
from mtbench.metrics.bleurt_metric import make_bleurt  # noqa: E402
from mtbench.metrics.comet_metric import make_comet  # noqa: E402
from mtbench.metrics.neural_common import device_list, gpu_count  # noqa: E402
from mtbench.textio import cached_sha256  # noqa: E402
from tests.tolerance import close  # noqa: E402

pytestmark = pytest.mark.slow

N_LINES = 20
SYSTEMS = ("JDExploreAcademy", "Online-B")
# next to the interpreter; else on PATH (pip install --target puts scripts in its own bin/)
COMET_SCORE = next((p for p in (Path(sys.executable).with_name("comet-score"), shutil.which("comet-score"))
                    if p and Path(p).is_file()), Path(sys.executable).with_name("comet-score"))
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA GPU (torch.cuda.is_available() is False)")


@pytest.fixture(scope="module", autouse=True)
def one_cpu_thread() -> Any:
    """Tiny models run fastest on one thread; on a shared, loaded machine two OpenMP
    threads waiting for each other make them ~50x slower. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- tiny models -----------------------------------------------------------------------------

def build_encoder(folder: Path) -> Path:
    """A 2-layer BERT with a character-level WordPiece vocabulary (every word splits into
    characters, so real sentences tokenize without [UNK] storms)."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True)
    chars = list(dict.fromkeys(string.ascii_letters + string.digits + string.punctuation + "äöüßÄÖÜéèà€„“”–"))
    words = ["the", "der", "die", "und", "das", "ist", "and", "of", "to", "in"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars), *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(folder)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    torch.manual_seed(0)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(folder)
    return folder


def save_comet(model: Any, folder: Path, **hparam_overrides: Any) -> Path:
    """The files comet.load_from_checkpoint reads: a Lightning checkpoint + hparams.yaml."""
    import pytorch_lightning as ptl
    import yaml

    hparams = {**dict(model.hparams), **hparam_overrides}
    (folder / "checkpoints").mkdir(parents=True)
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hparams,
                "pytorch-lightning_version": ptl.__version__}, folder / "checkpoints" / "model.ckpt")
    (folder / "hparams.yaml").write_text(yaml.safe_dump(hparams), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from comet.models import RegressionMetric, UnifiedMetric

    root = tmp_path_factory.mktemp("neural")
    encoder = build_encoder(root / "encoder")
    torch.manual_seed(1)
    regression = RegressionMetric(encoder_model="BERT", pretrained_model=str(encoder), hidden_sizes=[16],
                                  layer="mix", pool="avg", nr_frozen_epochs=0)
    torch.manual_seed(2)
    kiwi = UnifiedMetric(encoder_model="BERT", pretrained_model=str(encoder), hidden_sizes=[16], sent_layer="mix",
                         word_layer=2, input_segments=["mt", "src"], nr_frozen_epochs=0)
    return {"root": root, "encoder": encoder, "comet": save_comet(regression, root / "tiny-comet"),
            "kiwi": save_comet(kiwi, root / "tiny-kiwi")}


@pytest.fixture(scope="session")
def lines(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The first lines of WMT22 de-en: source, refs A and B, two systems, also as files."""
    pair = data_dir / "wmt22" / "de-en"
    folder = tmp_path_factory.mktemp("lines")

    def head(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").split("\n")[:N_LINES]

    out: dict[str, Any] = {"src": head(pair / "src.txt"), "A": head(pair / "refs" / "ref.A.txt"),
                           "B": head(pair / "refs" / "ref.B.txt"),
                           "sys": {s: head(pair / "systems" / f"{s}.txt") for s in SYSTEMS}}
    for key in ("src", "A"):
        (folder / f"{key}.txt").write_text("\n".join(out[key]) + "\n", encoding="utf-8")
    for s in SYSTEMS:
        (folder / f"{s}.txt").write_text("\n".join(out["sys"][s]) + "\n", encoding="utf-8")
    out["folder"] = folder
    return out


def ctx(lines: dict[str, Any], refs: tuple[str, ...] = ("A",)) -> ScoringContext:
    return ScoringContext("de", "en", lines["src"], {r: lines[r] for r in refs})


def start_comet_score(model_dir: Path, lines: dict[str, Any], with_refs: bool) -> tuple[subprocess.Popen, Path]:
    """The official CLI on the same files, started in the background (its imports take
    most of its ~10 s, so the two runs the tests need overlap), on the device mtbench
    uses by default (one GPU when present, else the CPU), so numbers compare like for like."""
    folder = lines["folder"]
    out_json = folder / f"cli-{model_dir.name}.json"
    cmd = [str(COMET_SCORE), "-s", "src.txt", "-t", *(f"{s}.txt" for s in SYSTEMS),
           "--model", str(model_dir / "checkpoints" / "model.ckpt"), "--gpus", str(gpu_count(None)), "--quiet",
           "--to_json", str(out_json)]
    if with_refs:
        cmd += ["-r", "A.txt"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return proc, out_json


def finish_comet_score(proc: subprocess.Popen, out_json: Path) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Segment scores (its --to_json file) and printed system scores of the official CLI."""
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    data = json.loads(out_json.read_text(encoding="utf-8"))
    segments = {Path(f).stem: [row["COMET"] for row in rows] for f, rows in data.items()}
    printed = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].startswith("score: "):
            printed[Path(parts[0]).stem] = float(parts[1].removeprefix("score: "))
    return segments, printed


@pytest.fixture(scope="session")
def cli_runs(models: dict[str, Path], lines: dict[str, Any]) -> dict[str, tuple[dict, dict]]:
    """comet-score on the reference-based model (with -r) and on the QE model (without)."""
    started = {"comet": start_comet_score(models["comet"], lines, with_refs=True),
               "kiwi": start_comet_score(models["kiwi"], lines, with_refs=False)}
    return {name: finish_comet_score(*run) for name, run in started.items()}


@pytest.fixture(scope="session")
def cli_reference_based(cli_runs: dict[str, tuple[dict, dict]]) -> tuple[dict, dict]:
    return cli_runs["comet"]


# --- COMET vs comet-score -------------------------------------------------------------------

def test_comet_equals_official_cli(models: dict[str, Path], lines: dict[str, Any], cli_reference_based) -> None:
    cli_segments, cli_printed = cli_reference_based
    results = make_comet(str(models["comet"])).score_systems(ctx(lines), lines["sys"])
    assert set(results) == set(SYSTEMS) == set(cli_segments)
    for s in SYSTEMS:
        res = results[s]
        assert len(res.segment_scores) == N_LINES
        # the same fp16 computation on the same batches as comet-score: bit-identical
        assert res.segment_scores == cli_segments[s]
        assert res.score == close(sum(cli_segments[s]) / N_LINES, np.float64)
        assert res.score == pytest.approx(cli_printed[s], abs=5e-5)  # the CLI prints 4 decimals
        assert res.details["references"] == ["A"]
    assert make_comet(str(models["comet"])).info().display_scale == 100  # raw in files, x100 in tables
    # the two systems really differ, so a mix-up of systems would be caught
    assert results[SYSTEMS[0]].segment_scores != results[SYSTEMS[1]].segment_scores


def test_cometkiwi_style_qe_equals_official_cli(models: dict[str, Path], lines: dict[str, Any], cli_runs) -> None:
    cli_segments, _ = cli_runs["kiwi"]
    metric = make_comet(str(models["kiwi"]))
    results = metric.score_systems(ctx(lines), lines["sys"])  # references present but unused by a QE model
    for s in SYSTEMS:
        assert results[s].segment_scores == cli_segments[s]
        assert results[s].score == close(sum(cli_segments[s]) / N_LINES, np.float64)
        assert results[s].details["references"] == []
    assert "|ref:none" in results[SYSTEMS[0]].signature
    assert metric.config(ctx(lines))["references"] == []
    # QE scores need no reference at all
    no_refs = ScoringContext("de", "en", lines["src"], {})
    assert metric.score_systems(no_refs, lines["sys"])[SYSTEMS[0]].segment_scores == results[SYSTEMS[0]].segment_scores


def test_system_scores_do_not_depend_on_companions_or_device_count(models: dict[str, Path], lines: dict[str, Any],
                                                                   cli_reference_based,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cli_segments, _ = cli_reference_based
    alone = make_comet(str(models["comet"])).score_systems(ctx(lines), {SYSTEMS[1]: lines["sys"][SYSTEMS[1]]})
    assert alone[SYSTEMS[1]].segment_scores == cli_segments[SYSTEMS[1]]
    # two model replicas fed by two threads (the multi-GPU path), here both on the default
    # device; 20 lines = 2 batches of comet-score's 16 per system, 4 batches shared by 2 threads
    monkeypatch.setattr(comet_metric, "device_list", lambda gpus: device_list(gpus) * 2)
    two = make_comet(str(models["comet"])).score_systems(ctx(lines), lines["sys"])
    for s in SYSTEMS:
        assert two[s].segment_scores == cli_segments[s]


def test_multiple_references_mean_mode(models: dict[str, Path], lines: dict[str, Any], cli_reference_based) -> None:
    cli_segments, _ = cli_reference_based  # scored with ref A
    path = str(models["comet"])
    with_b = make_comet(path).score_systems(ctx(lines, ("B",)), lines["sys"])
    first = make_comet(path).score_systems(ctx(lines, ("A", "B")), lines["sys"])
    mean = make_comet(path, refs="mean").score_systems(ctx(lines, ("A", "B")), lines["sys"])
    for s in SYSTEMS:
        assert first[s].segment_scores == cli_segments[s]  # "first" = ref A only
        expected = [(a + b) / 2 for a, b in zip(cli_segments[s], with_b[s].segment_scores)]
        assert mean[s].segment_scores == close(expected, np.float64)
        assert mean[s].details["references"] == ["A", "B"]
    assert "|ref:mean-of-2" in mean[SYSTEMS[0]].signature and "|ref:first" in first[SYSTEMS[0]].signature


# --- BLEURT vs a direct bleurt-pytorch call ----------------------------------------------------

@pytest.fixture(scope="session")
def bleurt_dir(models: dict[str, Path]) -> Path:
    from bleurt_pytorch import BleurtConfig, BleurtForSequenceClassification
    from bleurt_pytorch.bleurt.tokenization_bleurt_fast import BleurtTokenizerFast

    folder = models["root"] / "tiny-bleurt"
    folder.mkdir()
    vocab = (models["encoder"] / "vocab.txt").read_text(encoding="utf-8").split()
    shutil.copy(models["encoder"] / "vocab.txt", folder / "vocab.txt")
    BleurtTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False,
                        model_max_length=512).save_pretrained(folder)
    cfg = BleurtConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64, max_position_embeddings=512, initializer_range=0.5)
    torch.manual_seed(3)
    BleurtForSequenceClassification(cfg).save_pretrained(folder)
    return folder


def direct_bleurt(folder: Path, refs: list[str], cands: list[str]) -> list[float]:
    """The call bleurt-pytorch's README shows, all pairs in one padded batch, on the
    device mtbench uses by default."""
    from bleurt_pytorch import BleurtForSequenceClassification, BleurtTokenizer

    device = device_list(gpu_count(None))[0]
    model = BleurtForSequenceClassification.from_pretrained(str(folder)).eval().to(device)
    tokenizer = BleurtTokenizer.from_pretrained(str(folder))
    with torch.no_grad():
        inputs = tokenizer(refs, cands, padding="longest", truncation=True, return_tensors="pt").to(device)
        return model(**inputs).logits.flatten().tolist()


def test_bleurt_equals_direct_call_and_keeps_segment_order(bleurt_dir: Path, lines: dict[str, Any]) -> None:
    golden = {s: direct_bleurt(bleurt_dir, lines["A"], lines["sys"][s]) for s in SYSTEMS}
    # fp32 from differently padded batches (the golden's one batch of 20, ours of 3):
    # another summation order moves the last bits, by how much depends on the CPU's
    # SIMD width or the GPU's kernels -- a tolerance in ulp at the scores' magnitude
    assert len({round(x, 4) for x in golden[SYSTEMS[0]]}) > N_LINES // 2  # scores differ, so order matters
    sorted_small = make_bleurt(str(bleurt_dir), batch_size=3).score_systems(ctx(lines), lines["sys"])
    unsorted = make_bleurt(str(bleurt_dir), batch_size=3, length_batching=False).score_systems(ctx(lines), lines["sys"])
    # length sorting really reorders these lines (else the test would prove nothing)
    lengths = [len(r) + len(h) for r, h in zip(lines["A"], lines["sys"][SYSTEMS[0]])]
    assert sorted(range(N_LINES), key=lambda i: lengths[i]) != list(range(N_LINES))
    for s in SYSTEMS:
        assert sorted_small[s].segment_scores == close(golden[s], np.float32)
        assert unsorted[s].segment_scores == close(golden[s], np.float32)
        assert sorted_small[s].score == close(sum(golden[s]) / N_LINES, np.float32)
    assert make_bleurt(str(bleurt_dir)).info().display_scale == 100


def test_bleurt_signature_and_registry_name(bleurt_dir: Path, lines: dict[str, Any]) -> None:
    from importlib.metadata import version

    metric = make_metric(f"bleurt:{bleurt_dir}")
    assert metric.name == f"bleurt:{bleurt_dir}"
    sig = metric.score_systems(ctx(lines), {SYSTEMS[0]: lines["sys"][SYSTEMS[0]]})[SYSTEMS[0]].signature
    weights = hashlib.sha256((bleurt_dir / "model.safetensors").read_bytes()).hexdigest()
    assert f"model:{bleurt_dir.name}" in sig
    assert f"weights:{weights[:12]}" in sig
    assert f"bleurt-pytorch:{version('bleurt-pytorch')}" in sig
    assert metric.config(ctx(lines))["weights_sha256"] == weights


# --- devices -------------------------------------------------------------------------------------

@needs_cuda
def test_one_gpu_by_default_and_cpu_on_request(models: dict[str, Path], bleurt_dir: Path, lines: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With a GPU present COMET and BLEURT run on cuda:0 unless told otherwise
    (gpus=0 or $MTBENCH_GPUS=0: the CPU), and the GPU's fp32 scores are the CPU's."""
    from mtbench.metrics import bleurt_metric

    seen: list[list[str]] = []
    for module in (comet_metric, bleurt_metric):
        real = module.device_list
        monkeypatch.setattr(module, "device_list", lambda gpus, real=real: seen.append(real(gpus)) or seen[-1])
    scores = {}
    for where, gpus in (("gpu", None), ("cpu", 0)):
        comet = make_comet(str(models["comet"]), precision="fp32", gpus=gpus)
        scores[where] = [comet.score_systems(ctx(lines), lines["sys"]),
                         make_bleurt(str(bleurt_dir), gpus=gpus).score_systems(ctx(lines), lines["sys"])]
    assert seen == [["cuda:0"], ["cuda:0"], ["cpu"], ["cpu"]]
    for gpu, cpu in zip(scores["gpu"], scores["cpu"]):
        for s in SYSTEMS:
            assert gpu[s].segment_scores == close(cpu[s].segment_scores, np.float32, ulps=1024)  # other kernels
    monkeypatch.setenv("MTBENCH_GPUS", "0")
    make_comet(str(models["comet"])).score_systems(ctx(lines), {SYSTEMS[0]: lines["sys"][SYSTEMS[0]]})
    assert seen[-1] == ["cpu"]


# --- finding models, and saying so when they are missing ---------------------------------------

def one_line(exc: pytest.ExceptionInfo[MtbenchError]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_model_folder_is_one_actionable_line(tmp_path: Path, lines: dict[str, Any]) -> None:
    missing = tmp_path / "wmt22-comet-da"
    with pytest.raises(MtbenchError) as exc:
        make_comet(str(missing)).score_systems(ctx(lines), lines["sys"])
    msg = one_line(exc)
    assert str(missing) in msg and "does not exist" in msg
    assert "checkpoints/model.ckpt" in msg and "hparams.yaml" in msg and "--metrics comet:" in msg
    # a folder that exists but is not a COMET model
    missing.mkdir()
    with pytest.raises(MtbenchError, match="lacks checkpoints/model.ckpt"):
        make_comet(str(missing)).score_systems(ctx(lines), lines["sys"])
    with pytest.raises(MtbenchError) as exc:
        make_bleurt(str(tmp_path / "BLEURT-20")).score_systems(ctx(lines), lines["sys"])
    assert "BLEURT-20" in one_line(exc) and "--metrics bleurt:" in str(exc.value)


def test_hub_id_offline_names_model_places_and_fix(tmp_path: Path, lines: dict[str, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MTBENCH_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("COMET_MODELS", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    metric = make_comet()  # Unbabel/wmt22-comet-da
    cfg = metric.config(ctx(lines))  # config never raises: the run goes on, the metric fails alone
    assert cfg["ckpt_sha256"] is None and "Unbabel/wmt22-comet-da" in cfg["unavailable"]
    with pytest.raises(MtbenchError) as exc:
        metric.score_systems(ctx(lines), lines["sys"])
    msg = one_line(exc)
    for part in ("'Unbabel/wmt22-comet-da'", f"$MTBENCH_MODELS={tmp_path / 'models'}", "Hugging Face cache",
                 "offline", "--metrics comet:/path/to/wmt22-comet-da", "$MTBENCH_MODELS/Unbabel--wmt22-comet-da"):
        assert part in msg, (part, msg)


def test_hub_id_found_under_models_folder(models: dict[str, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Unbabel--tiny-comet").symlink_to(models["comet"], target_is_directory=True)
    monkeypatch.setenv("MTBENCH_MODELS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metric = make_metric("comet:Unbabel/tiny-comet")
    assert metric.name == "comet:Unbabel/tiny-comet"
    assert metric.files().directory == tmp_path / "Unbabel--tiny-comet"
    assert metric.config()["model_id"] == "Unbabel/tiny-comet"


def copy_with_encoder(models: dict[str, Path], folder: Path, encoder: str) -> Path:
    """The tiny COMET with ``pretrained_model`` changed in both the checkpoint and hparams.yaml."""
    import yaml

    ckpt = torch.load(models["comet"] / "checkpoints" / "model.ckpt", weights_only=False)
    ckpt["hyper_parameters"]["pretrained_model"] = encoder
    (folder / "checkpoints").mkdir(parents=True)
    torch.save(ckpt, folder / "checkpoints" / "model.ckpt")
    hparams = yaml.safe_load((models["comet"] / "hparams.yaml").read_text(encoding="utf-8"))
    (folder / "hparams.yaml").write_text(yaml.safe_dump({**hparams, "pretrained_model": encoder}), encoding="utf-8")
    return folder


def test_missing_encoder_folder_is_named(models: dict[str, Path], tmp_path: Path, lines: dict[str, Any]) -> None:
    gone = tmp_path / "gone" / "xlm-roberta-large"
    folder = copy_with_encoder(models, tmp_path / "comet-moved", str(gone))
    with pytest.raises(MtbenchError) as exc:
        make_comet(str(folder)).score_systems(ctx(lines), lines["sys"])
    msg = one_line(exc)
    for part in ("encoder", str(gone), "does not exist", "pretrained_model", str(folder / "hparams.yaml"),
                 "config.json", "$MTBENCH_MODELS/xlm-roberta-large"):
        assert part in msg, (part, msg)


def test_encoder_id_offline(models: dict[str, Path], tmp_path: Path, lines: dict[str, Any], cli_reference_based,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("MTBENCH_MODELS", str(tmp_path / "models"))
    folder = copy_with_encoder(models, tmp_path / "comet-by-id", "tiny-org/tiny-bert")
    with pytest.raises(MtbenchError) as exc:
        make_comet(str(folder)).score_systems(ctx(lines), lines["sys"])
    msg = one_line(exc)
    assert "'tiny-org/tiny-bert'" in msg and "not available offline" in msg
    assert "$MTBENCH_MODELS/tiny-org--tiny-bert" in msg
    # the fix the message gives works: the encoder's folder under $MTBENCH_MODELS
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny-org--tiny-bert").symlink_to(models["encoder"], target_is_directory=True)
    res = make_comet(str(folder)).score_systems(ctx(lines), lines["sys"])
    cli_segments, _ = cli_reference_based
    assert res[SYSTEMS[0]].segment_scores == cli_segments[SYSTEMS[0]]


# --- identity: signatures and checkpoint hashes ---------------------------------------------------

def test_signature_has_version_model_and_checkpoint_hash(models: dict[str, Path], tmp_path: Path,
                                                        lines: dict[str, Any]) -> None:
    import comet

    ckpt = models["comet"] / "checkpoints" / "model.ckpt"
    sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    metric = make_comet(str(models["comet"]), batch_size=8)
    sig = metric.signature(metric.files(), 1)
    assert sig.startswith("comet|model:tiny-comet|")
    assert f"|ckpt:{sha[:12]}|" in sig and f"|unbabel-comet:{comet.__version__}|" in sig and "|batch:8" in sig
    cfg = metric.config(ctx(lines))
    assert cfg["ckpt_sha256"] == sha and cfg["references"] == ["A"] and cfg["model_id"] == "tiny-comet"

    # another checkpoint (one weight changed) -> another hash, signature and config
    other = tmp_path / "tiny-comet"
    shutil.copytree(models["comet"], other, ignore=shutil.ignore_patterns("*.sha256.json"))
    state = torch.load(other / "checkpoints" / "model.ckpt", weights_only=False)
    first = next(k for k, v in state["state_dict"].items() if v.is_floating_point())
    state["state_dict"][first] = state["state_dict"][first] + 1.0
    torch.save(state, other / "checkpoints" / "model.ckpt")
    changed = make_comet(str(other), batch_size=8)
    assert changed.signature(changed.files(), 1) != sig
    assert changed.config(ctx(lines))["ckpt_sha256"] == hashlib.sha256(
        (other / "checkpoints" / "model.ckpt").read_bytes()).hexdigest() != sha


def test_checksum_sidecar_is_keyed_by_size_and_mtime(tmp_path: Path) -> None:
    f = tmp_path / "model.ckpt"
    f.write_bytes(b"weights v1")
    assert cached_sha256(f) == hashlib.sha256(b"weights v1").hexdigest()
    side = json.loads((tmp_path / "model.ckpt.sha256.json").read_text())
    assert side["sha256"] == hashlib.sha256(b"weights v1").hexdigest() and side["size"] == 10
    f.write_bytes(b"weights v2, longer")  # replaced: size and mtime change, the sidecar is not trusted
    assert cached_sha256(f) == hashlib.sha256(b"weights v2, longer").hexdigest()
    # a sidecar whose stamp still matches is used without reading the file (that is the point)
    stat = f.stat()
    (tmp_path / "model.ckpt.sha256.json").write_text(json.dumps(
        {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": "remembered"}))
    assert cached_sha256(f) == "remembered"


# --- registry ---------------------------------------------------------------------------------

def test_parametrized_names_in_registry(models: dict[str, Path], bleurt_dir: Path) -> None:
    check_metric_names(["bleu", "comet", "cometkiwi", "xcomet", "bleurt", f"comet:{models['comet']}",
                        f"bleurt:{bleurt_dir}", "comet:Unbabel/wmt22-cometkiwi-da"])
    m = make_metric(f"comet:{models['comet']}")
    assert m.name == f"comet:{models['comet']}" and m.model == str(models["comet"])
    assert make_metric("cometkiwi").model == "Unbabel/wmt22-cometkiwi-da"
    assert make_metric("xcomet").model == "Unbabel/XCOMET-XL"
    assert make_metric("comet").model == "Unbabel/wmt22-comet-da"
    with pytest.raises(MtbenchError, match="does not exist"):
        check_metric_names(["comet:/no/such/wmt22-comet-da"])
    with pytest.raises(MtbenchError, match="did you mean 'comet'"):
        check_metric_names(["comt:/x"])
    with pytest.raises(MtbenchError, match="names no model"):
        check_metric_names(["bleurt:"])
    with pytest.raises(MtbenchError, match="unknown metric"):
        check_metric_names(["cometx"])


def test_registry_and_config_do_not_import_torch(tmp_path: Path) -> None:
    """`mtbench ls` and the runner's cache keys (config) must not pay for torch/comet."""
    code = ("import sys; from mtbench.metrics import make_metric, check_metric_names;"
            "check_metric_names(['comet', 'bleurt', 'comet:Unbabel/x']);"
            "m = make_metric('comet'); m.config(); make_metric('bleurt').config();"
            "print(sorted(k for k in ('torch', 'comet', 'transformers', 'bleurt_pytorch') if k in sys.modules))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MTBENCH_MODELS": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_second_run_does_no_forward_pass(models: dict[str, Path], tiny_layout: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores cached in the run directory: the same run again computes nothing, and the
    model's forward is never called (counted on the COMET class itself)."""
    from comet.models import RegressionMetric

    from mtbench.config import RunConfig
    from mtbench.runner import run
    from mtbench.textio import read_json

    calls = {"n": 0}
    original = RegressionMetric.forward

    def counting_forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RegressionMetric, "forward", counting_forward)
    metric = f"comet:{models['comet']}"
    cfg = RunConfig(tasks="wmt22:de-en", metrics=["bleu", metric], data_dir=str(tiny_layout), out=str(tmp_path / "run"),
                    workers=1)
    run(cfg, log=lambda _: None, isolate_scoring=False)
    first = calls["n"]
    assert first > 0
    results = read_json(tmp_path / "run" / "results.json")
    assert results["metrics"][metric]["display_scale"] == 100
    assert f"## {metric} (higher is better, x100) — 4 segments" in (tmp_path / "run" / "report" / "leaderboard.md").read_text()

    run(cfg, log=lambda _: None, isolate_scoring=False)
    assert calls["n"] == first  # no forward pass the second time
    work = read_json(tmp_path / "run" / "manifest.json")["work"]
    assert work["scores_computed"] == 0 and work["scores_reused"] == 4


# --- `mtbench score --format json` for every metric ---------------------------------------------

def _score_json(capsys: pytest.CaptureFixture[str], lines: dict[str, Any], metrics: str, fmt: str = "json") -> Any:
    from mtbench.cli import main

    folder = lines["folder"]
    data = folder / "layout"
    pair = data / "wmt22" / "de-en"
    if not pair.exists():
        for name, content in (("src.txt", lines["src"]), ("refs/ref.A.txt", lines["A"]), ("refs/ref.B.txt", lines["B"])):
            (pair / name).parent.mkdir(parents=True, exist_ok=True)
            (pair / name).write_text("\n".join(content) + "\n", encoding="utf-8")
    hyps = [str(folder / f"{s}.txt") for s in SYSTEMS]
    rc = main(["score", "--task", "wmt22:de-en", "--data-dir", str(data), "--metrics", metrics, "--format", fmt,
               *[a for h in hyps for a in ("--hyp", h)]])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    if fmt == "jsonl":
        return [json.loads(line) for line in captured.out.splitlines()], captured.err
    return json.loads(captured.out), captured.err


def test_score_json_parses_for_every_metric_alone_and_combined(models: dict[str, Path], bleurt_dir: Path,
                                                               lines: dict[str, Any], capsys) -> None:
    import sacrebleu

    names = ["bleu", "chrf", "chrf++", "ter", "off-target", f"comet:{models['comet']}", f"bleurt:{bleurt_dir}"]
    combined, _ = _score_json(capsys, lines, ",".join(names))
    assert [d["file"] for d in combined] == [str(lines["folder"] / f"{s}.txt") for s in SYSTEMS]
    for doc in combined:
        assert doc["segments"] == N_LINES and doc["refs"] == ["A"] and doc["errors"] == []
        assert [e["name"] for e in doc["scores"]] == names
    for name in names:
        alone, _ = _score_json(capsys, lines, name)
        for doc, whole in zip(alone, combined):
            (entry,) = doc["scores"]
            assert entry == next(e for e in whole["scores"] if e["name"] == name)  # the same score either way
    by_name = {e["name"]: e for e in combined[0]["scores"]}
    hyp = lines["sys"][SYSTEMS[0]]
    assert by_name["bleu"]["score"] == sacrebleu.corpus_bleu(hyp, [lines["A"]]).score
    assert by_name["ter"]["score"] == sacrebleu.corpus_ter(hyp, [lines["A"]]).score
    assert by_name["ter"]["higher_is_better"] is False and by_name["off-target"]["higher_is_better"] is False
    assert by_name["bleu"]["verbose_score"].endswith(f"ref_len = {by_name['bleu']['details']['ref_len']})")
    assert "lines too short to judge: " in by_name["off-target"]["verbose_score"]
    assert by_name[f"comet:{models['comet']}"]["display_scale"] == 100
    jsonl, _ = _score_json(capsys, lines, "bleu,off-target", fmt="jsonl")
    assert len(jsonl) == len(SYSTEMS) and [e["name"] for e in jsonl[0]["scores"]] == ["bleu", "off-target"]


def test_score_json_keeps_the_other_metrics_when_comet_cannot_load(lines: dict[str, Any], tmp_path: Path,
                                                                   capsys) -> None:
    missing = tmp_path / "no-comet-here"
    missing.mkdir()  # exists, but holds no model
    docs, err = _score_json(capsys, lines, f"bleu,comet:{missing},chrf")
    for doc in docs:
        assert [e["name"] for e in doc["scores"]] == ["bleu", "chrf"]
        (error,) = doc["errors"]
        assert error["name"] == f"comet:{missing}" and "checkpoints/model.ckpt" in error["error"]
    assert err.count(f"mtbench: warning: comet:{missing} unavailable for wmt22:de-en") == 1
