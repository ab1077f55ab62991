"""Each bundled trainer runs a few steps on a tiny random Llama on CPU: the loss goes
down, the log has one row per step, and the saved checkpoint loads into HFBackend and
generates. Ground truth for "trained" is the NLL of the training rows computed here
with the base model and with the saved checkpoint, not the trainer's own log alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from mtbench.errors import MtbenchError  # noqa: E402
from mtbench.models.base import DecodingParams  # noqa: E402
from tests.integration.test_hf_backend import build_model, build_tokenizer  # noqa: E402
from tests.tolerance import close  # noqa: E402

WORDS = "the cat sat on mat and looked at dog a barks loudly night when moon is out we drink coffee tea".split()
# 16 short "de"/"en" pairs: the "German" side is the English words reversed, so there is
# a learnable mapping and every character is one the tiny tokenizer knows.
EN = [" ".join(WORDS[(i * 3 + k) % len(WORDS)] for k in range(3 + i % 3)) for i in range(16)]
DE = [" ".join(reversed(s.split())) for s in EN]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train")
    tok = build_tokenizer()
    model = build_model(tok)
    base = root / "base"
    model.save_pretrained(base)
    tok.save_pretrained(base)
    (root / "train.de").write_text("\n".join(DE) + "\n", encoding="utf-8")
    (root / "train.en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    return {"root": root, "base": base, "de": root / "train.de", "en": root / "train.en"}


def config(setup: dict[str, Path], method: str, out: str, **over: Any) -> Any:
    from mtbench.train.config import parse_config

    raw = {
        "base_model": str(setup["base"]), "out": str(setup["root"] / out),
        "data": {"src": str(setup["de"]), "tgt": str(setup["en"]), "src_lang": "de", "tgt_lang": "en"},
        "steps": 10, "lr": 3e-3, "batch_size": 4, "warmup_ratio": 0.1, "max_length": 200, "seed": 0,
        "weight_decay": 0.0,
    }
    raw.update(over)
    return parse_config(raw, method)


def nll_on_training_rows(model_dir: Path, cfg: Any) -> float:
    """Token-mean NLL of every training row, computed directly with transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mtbench.train.data import Collator
    from mtbench.train.trainer import build_examples

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    rows, _ = build_examples(cfg, tok)
    b = Collator(tok.pad_token_id)(rows)
    with torch.no_grad():
        logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
    lp = torch.log_softmax(logits[:, :-1], -1)
    labels = b["labels"][:, 1:]
    mask = labels != -100
    picked = lp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return float(-(picked * mask).sum() / mask.sum())


def check_run(cfg: Any, base: Path, extra_keys: tuple[str, ...]) -> list[dict[str, Any]]:
    from mtbench.models.hf import HFBackend
    from mtbench.prompts import make_adapter
    from mtbench.train.trainer import train

    result = train(cfg)
    out = Path(cfg.out)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, cfg.steps + 1))
    for r in log:
        assert {"step", "loss", "lr", "seconds", "tokens", *extra_keys} <= set(r)
        assert r["lr"] > 0 and r["loss"] == r["loss"]  # not NaN
        assert r["seconds"] > 0 and r["tokens"] > 0
    first, last = [r["loss"] for r in log[:3]], [r["loss"] for r in log[-3:]]
    assert sum(last) / 3 < sum(first) / 3, log
    # The saved weights are the trained ones: lower NLL on the training rows than the base.
    assert nll_on_training_rows(out, cfg) < nll_on_training_rows(base, cfg) - 0.2
    meta = json.loads((out / "mtbench_train.json").read_text())
    assert meta["method"] == cfg.method and meta["steps"] == cfg.steps == result.steps
    assert meta["final_loss"] == pytest.approx(log[-1]["loss"])
    assert set(meta["data_sha256"]) == {cfg.data.src, cfg.data.tgt}
    backend = HFBackend(str(out), progress=False)
    prompt = make_adapter("alma").prompt(DE[0], "de", "en")
    gens = backend.generate([prompt], DecodingParams(num_beams=1, max_new_tokens=6))
    assert len(gens) == 1 and gens[0].n_tokens >= 1
    return log


@pytest.mark.slow
def test_mle(setup: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    from mtbench.train.trainer import build_examples

    cfg = config(setup, "mle", "mle")
    log = check_run(cfg, setup["base"], ("nll",))
    # One epoch's steps together train on every example's tokens exactly once.
    rows, _ = build_examples(cfg, AutoTokenizer.from_pretrained(setup["base"]))
    epoch = -(-len(rows) // cfg.batch_size)
    assert sum(r["tokens"] for r in log[:epoch]) == sum(len(e.input_ids) for e in rows)


@pytest.mark.slow
def test_lat(setup: dict[str, Path]) -> None:
    log = check_run(config(setup, "lat", "lat", lat={"alpha": 0.05, "conflict_langs": ["cs", "ru"]}), setup["base"],
                    ("nll", "ul"))
    # The logged total is nll + 0.05 * ul, step by step.
    for r in log:
        assert r["loss"] == close(r["nll"] + 0.05 * r["ul"])


@pytest.mark.slow
def test_tim(setup: dict[str, Path]) -> None:
    cfg = config(setup, "tim", "tim")
    log = check_run(cfg, setup["base"], ("nll", "pref"))
    for r in log:
        assert r["loss"] == close(r["nll"] + r["pref"])
    assert (Path(cfg.out) / "tim_value_head.pt").is_file()


@pytest.mark.slow
def test_lora_merged_and_fixemb(setup: dict[str, Path]) -> None:
    from safetensors.torch import load_file

    from mtbench.models.hf import HFBackend
    from mtbench.train.trainer import train

    base = load_file(str(setup["base"] / "model.safetensors"))
    cfg = config(setup, "mle", "lora", tuning="lora", lr=2e-2, steps=4,
                 lora={"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]})
    assert not train(cfg).reused
    out = Path(cfg.out)
    merged = load_file(str(out / "model.safetensors"))
    assert set(merged) == set(base)  # merged: no lora_A/lora_B keys left
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged[q], base[q])
    assert torch.equal(merged["model.embed_tokens.weight"], base["model.embed_tokens.weight"])
    HFBackend(str(cfg.out), progress=False).generate(["the cat"], DecodingParams(max_new_tokens=3))

    # The adapter alone beside it: peft applies it to the base model and merges it into
    # the checkpoint's weights (peft is the reference; a tolerance for fp32 adds).
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    assert json.loads((out / "mtbench_train.json").read_text())["lora_adapter"] == "adapter"
    by_peft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(setup["base"]), out / "adapter")
    by_peft = by_peft.merge_and_unload().state_dict()
    for name, weight in merged.items():
        assert torch.allclose(weight, by_peft[name], rtol=0, atol=8 * torch.finfo(weight.dtype).eps * max(
            1.0, float(weight.abs().max()))), name
    # The adapter is part of the saved checkpoint's identity.
    assert train(cfg).reused
    adapter_weights = out / "adapter" / "adapter_model.safetensors"
    adapter_weights.write_bytes(adapter_weights.read_bytes()[:-8] + b"\0" * 8)
    lines: list[str] = []
    assert not train(cfg, echo=lines.append).reused
    assert "its checkpoint files changed since it was saved" in lines[0]

    cfg = config(setup, "mle", "fixemb", tuning="fixemb", steps=3)
    train(cfg)
    fixed = load_file(str(Path(cfg.out) / "model.safetensors"))
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        assert torch.equal(fixed[name], base[name]), name
    assert not torch.equal(fixed[q], base[q])


@pytest.fixture
def fresh_accelerate_state() -> Any:
    """accelerate keeps one AcceleratorState per process and refuses a second Accelerator
    with another device or mixed precision; the CPU tests here made one with cpu=True.
    Reset around the test (accelerate's own tests do the same)."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("method,mixed", [("mle", "no"), ("mle", "bf16"), ("lat", "bf16"), ("tim", "bf16")])
def test_trainers_on_cuda(setup: dict[str, Path], method: str, mixed: str, fresh_accelerate_state: Any) -> None:
    """device auto on a GPU machine trains on the GPU (each log row then has the peak GPU
    memory, which only a CUDA run records), fp32 or bf16 autocast, and the same checks
    hold as on the CPU: the loss goes down and the saved weights fit the data better."""
    over: dict[str, Any] = {"lat": {"alpha": 0.05, "conflict_langs": ["cs", "ru"]}} if method == "lat" else {}
    cfg = config(setup, method, f"{method}-cuda-{mixed}", device="auto", mixed_precision=mixed, **over)
    parts = {"mle": ("nll",), "lat": ("nll", "ul"), "tim": ("nll", "pref")}[method]
    log = check_run(cfg, setup["base"], (*parts, "gpu_peak_gib"))
    assert all(r["gpu_peak_gib"] > 0 for r in log)


def test_config_errors(setup: dict[str, Path], tmp_path: Path) -> None:
    from mtbench.train import main_train

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"base_model: {setup['base']}\nout: {tmp_path}/o\nstep: 3\n"
                   f"data: {{src: {setup['de']}, tgt: {setup['en']}, src_lang: de, tgt_lang: en}}\n")
    with pytest.raises(MtbenchError, match="unknown key step .*steps"):
        main_train("mle", str(bad))
    bad.write_text(f"base_model: {setup['base']}\nout: {tmp_path}/o\ntuning: lora\nmerge_lora: false\n"
                   f"data: {{src: {setup['de']}, tgt: {setup['en']}, src_lang: de, tgt_lang: en}}\n")
    with pytest.raises(MtbenchError, match=r"bad.yaml: merge_lora is no longer a setting: a LoRA training always "
                                           r"writes the merged model to out .* and the adapter alone to "
                                           r"out/adapter; delete the key"):
        main_train("mle", str(bad))
    assert not (tmp_path / "o").exists()
    bad.write_text(f"base_model: {setup['base']}\nout: {tmp_path}/o\n"
                   f"data: {{src: {tmp_path}/missing.de, tgt: {setup['en']}, src_lang: de, tgt_lang: en}}\n")
    with pytest.raises(MtbenchError, match="missing.de"):
        main_train("mle", str(bad))
    with pytest.raises(MtbenchError, match="method 'dpo' is not a training method: choose one of: .*mle"):
        main_train("dpo", str(bad))
    bad.write_text(f"base_model: {setup['base']}\nout: {tmp_path}/o\ndata: {{src_lang: de}}\n")
    with pytest.raises(MtbenchError, match="data needs src, tgt"):
        main_train("mle", str(bad))


@pytest.mark.slow
def test_main_train_from_yaml(setup: dict[str, Path], tmp_path: Path) -> None:
    from mtbench.train import main_train

    cfg = tmp_path / "mle.yaml"
    cfg.write_text(f"base_model: {setup['base']}\nout: {tmp_path}/out\nsteps: 2\nbatch_size: 8\nmax_length: 200\n"
                   f"data: {{src: {setup['de']}, tgt: {setup['en']}, src_lang: de, tgt_lang: en, limit: 4}}\n")
    assert main_train("mle", str(cfg)) == 0
    assert len((tmp_path / "out" / "train_log.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "out" / "model.safetensors").is_file()


@pytest.mark.slow
def test_alma_stage1_monolingual(setup: dict[str, Path]) -> None:
    from mtbench.train.trainer import train

    cfg = config(setup, "alma-stage1", "stage1", data={"monolingual": [str(setup["en"]), str(setup["de"])]}, steps=6)
    train(cfg)
    log = [json.loads(line) for line in (Path(cfg.out) / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 6
    assert sum(r["loss"] for r in log[-2:]) < sum(r["loss"] for r in log[:2])
    meta = json.loads((Path(cfg.out) / "mtbench_train.json").read_text())
    assert set(meta["data_sha256"]) == {str(setup["en"]), str(setup["de"])}


@pytest.mark.data
@pytest.mark.slow
def test_alma_folder_layout_with_accumulation(setup: dict[str, Path], data_dir: Path) -> None:
    """ALMA's human-written folder layout, both directions, gradient accumulation and
    LoRA on "all-linear" (ALMA's target), two optimizer steps of two micro-batches."""
    from safetensors.torch import load_file

    from mtbench.train.trainer import train

    folder = data_dir / "train" / "alma-human-written"
    cfg = config(setup, "mle", "alma-folder", data={"folder": str(folder), "pairs": ["de-en"], "limit": 4},
                 steps=2, batch_size=2, grad_accum=2, max_length=256, tuning="lora",
                 lora={"r": 2, "alpha": 4, "dropout": 0.0, "target_modules": "all-linear"})
    train(cfg)
    log = [json.loads(line) for line in (Path(cfg.out) / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    meta = json.loads((Path(cfg.out) / "mtbench_train.json").read_text())
    assert sorted(Path(p).name for p in meta["data_sha256"]) == ["train.de-en.de", "train.de-en.en"]
    merged = load_file(str(Path(cfg.out) / "model.safetensors"))
    base = load_file(str(setup["base"] / "model.safetensors"))
    mlp = "model.layers.1.mlp.down_proj.weight"  # all-linear reaches the MLP too
    assert not torch.equal(merged[mlp], base[mlp])


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.slow
def test_a_finished_training_is_not_redone_and_a_new_one_replaces_it_only_once_saved(setup: dict[str, Path],
                                                                                    tmp_path: Path) -> None:
    from mtbench.train.trainer import train

    lines: list[str] = []
    cfg = config(setup, "mle", "again", steps=2)
    out = Path(cfg.out)
    first = train(cfg, echo=lines.append)
    assert not first.reused and (out / "model.safetensors").is_file()
    meta = json.loads((out / "mtbench_train.json").read_text())
    assert meta["base_model_sha256"]["weights_sha256"] and set(meta["data_sha256"]) == {cfg.data.src, cfg.data.tgt}
    before = _folder_bytes(out)

    lines.clear()
    again = train(cfg, echo=lines.append)  # the same command: nothing is trained
    assert again.reused and (again.steps, again.final_loss) == (first.steps, first.final_loss)
    assert lines == [f"mtbench: {out} already holds this training (same method, settings, data, base model, "
                     f"processes and code): nothing to train; --retrain trains it again"]
    assert _folder_bytes(out) == before

    # Another setting: trained again; a training that fails midway leaves the old folder whole.
    def fail_at_step_1(row: dict[str, Any]) -> None:
        raise RuntimeError("stopped at step 1")

    lines.clear()
    with pytest.raises(RuntimeError, match="stopped at step 1"):
        train(config(setup, "mle", "again", steps=2, lr=1e-3), echo=lines.append, on_step=fail_at_step_1)
    assert lines[0] == f"mtbench: training again into {out}: the settings differ (lr); its checkpoint stays until the " \
                       f"new one is saved"
    assert _folder_bytes(out) == before and not (out.parent / ".again.partial").exists()
    changed = train(config(setup, "mle", "again", steps=2, lr=1e-3))
    assert not changed.reused and json.loads((out / "mtbench_train.json").read_text())["config"]["lr"] == 1e-3
    assert not (out.parent / ".again.partial").exists() and not (out.parent / ".again.old").exists()

    # The same data file with other contents: trained again; --retrain: trained again
    # although nothing changed.
    data = tmp_path / "train.en"
    data.write_text(setup["en"].read_text(), encoding="utf-8")
    own = config(setup, "mle", "again", steps=2, data={"src": str(setup["de"]), "tgt": str(data), "src_lang": "de",
                                                       "tgt_lang": "en"})
    assert not train(own).reused and train(own).reused
    data.write_text(setup["en"].read_text().replace("cat", "bird"), encoding="utf-8")
    lines.clear()
    assert not train(own, echo=lines.append).reused
    assert lines[0] == f"mtbench: training again into {out}: the data files differ; its checkpoint stays until the " \
                       f"new one is saved"
    lines.clear()
    assert not train(own, echo=lines.append, retrain=True).reused
    assert lines[0].endswith(f"training again into {out}: --retrain; its checkpoint stays until the new one is saved")


@pytest.mark.slow
def test_a_changed_checkpoint_is_trained_again_and_a_symlinked_out_keeps_its_link(setup: dict[str, Path],
                                                                                 tmp_path: Path) -> None:
    from mtbench.train.trainer import train

    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real, target_is_directory=True)
    cfg = config(setup, "mle", str(link), steps=1)  # an absolute out: the root is not prefixed
    assert not train(cfg).reused
    assert link.is_symlink() and (real / "model.safetensors").is_file()  # the link's target was replaced
    assert train(cfg).reused
    weights = real / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)  # someone changed the weights
    lines: list[str] = []
    assert not train(cfg, echo=lines.append).reused
    assert lines[0] == f"mtbench: training again into {real}: its checkpoint files changed since it was saved; its " \
                       f"checkpoint stays until the new one is saved"


def test_what_identifies_a_training_is_compared_part_by_part(tmp_path: Path) -> None:
    from mtbench.train import output

    out = tmp_path / "ckpt"
    out.mkdir()
    (out / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    (out / "model.safetensors").write_bytes(b"weights")
    wanted = output.identity("mle", {"lr": 1e-3, "out": "x"}, {"a.txt": "1"}, {"hub_id": "m"}, 1, "code")
    meta = {**wanted, "config": {"lr": 1e-3, "out": "elsewhere"}, "checkpoint_sha256": output.checkpoint_hashes(out)}
    assert output.difference(meta, wanted, out) is None  # the out folder is no part of it
    for key, value, why in (("processes", 2, "the number of processes differs"),
                            ("code_sha256", "other", "mtbench's training code changed"),
                            ("base_model_sha256", {"hub_id": "n"}, "the base model differs"),
                            ("data_sha256", {"a.txt": "2"}, "the data files differ"),
                            ("config", {"lr": 2e-3}, "the settings differ (lr)")):
        assert output.difference({**meta, key: value}, wanted, out) == why, key
    old = {k: v for k, v in meta.items() if k != "code_sha256"}
    assert "an older mtbench trained it" in output.difference(old, wanted, out)
    (out / "model.safetensors").unlink()
    assert output.difference(meta, wanted, out) == "its checkpoint files changed since it was saved"
    assert output.decide("/proc", wanted, False).error == "out /proc is a mount point, which cannot be replaced; " \
                                                          "give a folder inside it"
    assert "is the root folder" in output.decide("/", wanted, False).error


def test_an_out_folder_that_is_not_a_training_is_never_replaced(setup: dict[str, Path], tmp_path: Path) -> None:
    from mtbench.train import main_train

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    cfg = tmp_path / "mle.yaml"
    cfg.write_text(f"base_model: {setup['base']}\nout: {out}\nsteps: 1\nbatch_size: 8\nmax_length: 200\n"
                   f"data: {{src: {setup['de']}, tgt: {setup['en']}, src_lang: de, tgt_lang: en, limit: 4}}\n")
    with pytest.raises(MtbenchError) as err:
        main_train("mle", str(cfg))
    assert "\n" not in str(err.value) and f"out {out} holds files but no mtbench_train.json" in str(err.value)
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "my notes"


def test_paths_expand_variables_and_unset_ones_are_named(setup: dict[str, Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from mtbench.train.config import parse_config

    monkeypatch.setenv("MTB_TEST_ROOT", str(setup["root"]))
    raw = {"base_model": "${MTB_TEST_ROOT}/base", "out": "$MTB_TEST_ROOT/o",
           "data": {"src": "${MTB_TEST_ROOT}/train.de", "tgt": "${MTB_TEST_ROOT}/train.en", "src_lang": "de",
                    "tgt_lang": "en"}}
    cfg = parse_config(raw, "mle")
    assert (cfg.base_model, cfg.data.src) == (str(setup["base"]), str(setup["de"]))
    assert cfg.out == f"{setup['root']}/o"
    monkeypatch.delenv("MTB_TEST_ROOT")
    with pytest.raises(MtbenchError, match=r"uses \$MTB_TEST_ROOT, which is not set"):
        parse_config(raw, "mle", source="x.yaml")


def test_named_base_model_resolves_to_its_local_folder(setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """`base_model: smollm2-135m` is the embedded model's converted folder (stubbed here:
    the conversion itself is tested with the model); other names stay errors."""
    from mtbench.models import NAMED_CHECKPOINTS
    from mtbench.train.config import parse_config

    monkeypatch.setitem(NAMED_CHECKPOINTS._items, "smollm2-135m", lambda: setup["base"])
    raw = {"base_model": "smollm2-135m", "out": str(setup["root"] / "o"),
           "data": {"src": str(setup["de"]), "tgt": str(setup["en"]), "src_lang": "de", "tgt_lang": "en"}}
    assert parse_config(raw, "mle", base_dir=Path("/elsewhere")).base_model == str(setup["base"])
    with pytest.raises(MtbenchError, match="not a local folder .* named model: smollm2-135m"):
        parse_config({**raw, "base_model": "smollm2-999m"}, "mle")


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parents[2] / "trainers" / "configs").glob("*.yaml")))
def test_every_shipped_config_is_valid(name: str, setup: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file in trainers/configs parses and passes every check once its model and
    data paths exist (a stand-in base model; monolingual files made up)."""
    import yaml

    from mtbench.train.config import parse_config

    path = Path(__file__).parents[2] / "trainers" / "configs" / name
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    monkeypatch.setenv("MTBENCH_DATA", str(tmp_path / "data"))
    folder = raw["data"].get("folder")
    if folder:  # ALMA's layout with one line per file, for the pairs the config names
        for pair in raw["data"]["pairs"]:
            a, b = pair.split("-")
            d = tmp_path / "data" / "train" / "alma-human-written" / f"{a}{b}"
            d.mkdir(parents=True, exist_ok=True)
            for lang in (a, b):
                (d / f"train.{a}-{b}.{lang}").write_text("x\n", encoding="utf-8")
    mono = []
    for i, _ in enumerate(raw["data"].get("monolingual", [])):
        mono.append(str(tmp_path / f"mono{i}.txt"))
        Path(mono[-1]).write_text("x\n", encoding="utf-8")
    raw["base_model"] = str(setup["base"])
    if mono:
        raw["data"]["monolingual"] = mono
    raw["out"] = str(tmp_path / "out")
    cfg = parse_config(raw, None, source=name)
    assert cfg.method == raw["method"]
    if folder:
        assert cfg.data.folder == str(tmp_path / "data" / "train" / "alma-human-written")
