"""The trainer as `accelerate launch` runs it: `accelerate launch --cpu --num_processes 1
-m mtbench train mle CONFIG` trains 2 steps on a tiny random Llama and saves a checkpoint;
and the sharded-save path (FSDP / DeepSpeed: gather the full state dict, load it into a
CPU copy, then save) reproduces the trained weights exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from tests.integration.test_hf_backend import build_model, build_tokenizer  # noqa: E402
from tests.integration.test_trainers import DE, EN  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("launch")
    tok = build_tokenizer()
    build_model(tok).save_pretrained(root / "base")
    tok.save_pretrained(root / "base")
    (root / "train.de").write_text("\n".join(DE) + "\n", encoding="utf-8")
    (root / "train.en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    return root


@pytest.mark.slow
def test_accelerate_launch_cpu_trains_two_steps(base: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "mle.yaml"
    cfg.write_text(f"base_model: {base / 'base'}\nout: {tmp_path / 'out'}\nsteps: 2\nbatch_size: 4\nmax_length: 200\n"
                   f"lr: 3.0e-3\nseed: 0\ndevice: cpu\n"
                   f"data: {{src: {base / 'train.de'}, tgt: {base / 'train.en'}, src_lang: de, tgt_lang: en, limit: 8}}\n")
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1",
                           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                           "-m", "mtbench", "train", "mle", str(cfg)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "trained mle for 2 steps" in proc.stdout
    out = tmp_path / "out"
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert json.loads((out / "mtbench_train.json").read_text())["steps"] == 2


def test_full_policy_from_gathered_state_dict(base: Path, tmp_path: Path) -> None:
    """full_policy under a (faked) FSDP accelerator: the 'gathered' state dict of a LoRA
    policy whose weights were changed loads into a fresh copy, and merging gives the same
    weights as merging the original."""
    from accelerate.utils import DistributedType

    from mtbench.train.config import parse_config
    from mtbench.train.trainer import Policy, apply_tuning, full_policy

    cfg = parse_config({"base_model": str(base / "base"), "out": str(tmp_path / "o"), "tuning": "lora",
                        "lora": {"r": 2, "alpha": 4, "dropout": 0.0, "target_modules": ["q_proj"]},
                        "data": {"src": str(base / "train.de"), "tgt": str(base / "train.en"),
                                 "src_lang": "de", "tgt_lang": "en"}}, "tim")
    from transformers import AutoModelForCausalLM

    trained = Policy(apply_tuning(AutoModelForCausalLM.from_pretrained(base / "base"), cfg), reward_head=True)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in trained.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))  # "training": lora_B and v_head become non-zero
    fake = SimpleNamespace(distributed_type=DistributedType.FSDP, is_main_process=True,
                           get_state_dict=lambda m: {k: v.clone() for k, v in m.state_dict().items()},
                           state=SimpleNamespace(deepspeed_plugin=None))
    full = full_policy(fake, trained, cfg)
    assert full is not trained
    a, b = trained.lm.merge_and_unload().state_dict(), full.lm.merge_and_unload().state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(full.v_head.weight, trained.v_head.weight)
    fake.is_main_process = False
    assert full_policy(fake, trained, cfg) is None
