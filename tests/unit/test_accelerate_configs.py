"""The `accelerate launch` configs in trainers/accelerate/ are accepted by accelerate's own
loader, launcher validation and plugin dataclasses, checked without GPUs: the launcher
builds its environment (what the worker processes would get) but starts nothing, and the
FSDP / DeepSpeed plugins are built from that environment the way ``Accelerator`` does."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "trainers" / "accelerate" / "deepspeed-zero3.yaml"
FSDP = ROOT / "trainers" / "accelerate" / "fsdp.yaml"
TRAIN = ["-m", "mtbench", "train", "lat", "trainers/configs/lat-stage2.yaml"]
TWO_NODES = ["--num_machines", "2", "--num_processes", "16", "--machine_rank", "1",
             "--main_process_ip", "10.0.0.1", "--main_process_port", "29500"]


def launch_args(config: Path, *extra: str) -> Any:
    """``accelerate launch --config_file CONFIG ...`` parsed and validated (config merged)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    args = launch_command_parser().parse_args(["--config_file", str(config), *extra, *TRAIN])
    _validate_launch_command(args)
    return args


@pytest.mark.parametrize("path", [DS, FSDP], ids=["deepspeed", "fsdp"])
def test_accelerate_loads_config(path: Path) -> None:
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    cfg = load_config_from_file(str(path))  # raises on unknown keys / bad enum values
    assert isinstance(cfg, ClusterConfig)
    assert cfg == ClusterConfig.from_yaml_file(str(path))
    assert str(cfg.mixed_precision) == "bf16"
    assert (cfg.num_machines, cfg.num_processes, cfg.machine_rank, cfg.main_process_port) == (1, 8, 0, 29500)
    assert cfg.use_cpu is False


def test_deepspeed_config_fields() -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    cfg = load_config_from_file(str(DS))
    assert cfg.distributed_type == DistributedType.DEEPSPEED
    ds = cfg.deepspeed_config
    assert ds["zero_stage"] == 3 and ds["zero3_init_flag"] is True and ds["zero3_save_16bit_model"] is True
    assert ds["offload_optimizer_device"] in ("none", "cpu", "nvme") and ds["offload_param_device"] in ("none", "cpu", "nvme")
    # Left to the trainer config's grad_accum (see the comment in the YAML).
    assert "gradient_accumulation_steps" not in ds
    assert ds["gradient_clipping"] == 1.0  # = TrainConfig.max_grad_norm default, used by every bundled config
    assert ds["deepspeed_multinode_launcher"] == "standard"


def test_fsdp_config_fields() -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    cfg = load_config_from_file(str(FSDP))
    assert cfg.distributed_type == DistributedType.FSDP
    f = cfg.fsdp_config
    assert f["fsdp_reshard_after_forward"] == "FULL_SHARD"
    assert f["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert f["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    assert f["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    assert f["fsdp_use_orig_params"] is True


@contextlib.contextmanager
def fake_cuda_for_fsdp() -> Iterator[None]:
    """A CUDA device as the installed accelerate's FSDP plugin looks for one: 1.16 asks
    get_torch_accelerator_backend() for the device type, 1.15 and older ask
    is_cuda_available() and torch.cuda.current_device()."""
    import torch
    from accelerate.utils import dataclasses as accelerate_dataclasses

    with contextlib.ExitStack() as stack:
        if hasattr(accelerate_dataclasses, "get_torch_accelerator_backend"):
            stack.enter_context(mock.patch.object(accelerate_dataclasses, "get_torch_accelerator_backend",
                                                  return_value=("cuda", torch.cuda)))
        else:
            stack.enter_context(mock.patch.object(accelerate_dataclasses, "is_cuda_available", return_value=True))
            stack.enter_context(mock.patch("torch.cuda.current_device", return_value=0))
        yield


def test_fsdp_launch_environment_and_plugin() -> None:
    """What `accelerate launch` hands the workers for fsdp.yaml on 2 nodes x 8 GPUs, and the
    FSDP plugin Accelerator builds from it (a CUDA device is faked only for
    sync_module_states' param_init_fn, which needs a device index)."""
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.launch import prepare_multi_gpu_env
    from torch.distributed.fsdp import ShardingStrategy, StateDictType

    args = launch_args(FSDP, *TWO_NODES)
    assert args.use_fsdp and not args.use_deepspeed
    assert (args.num_machines, args.num_processes, args.machine_rank, args.main_process_ip) == (2, 16, 1, "10.0.0.1")
    env = prepare_multi_gpu_env(args)
    assert env["ACCELERATE_USE_FSDP"] == "true" and env["ACCELERATE_MIXED_PRECISION"] == "bf16"
    assert env["FSDP_TRANSFORMER_CLS_TO_WRAP"] == "LlamaDecoderLayer"
    with mock.patch.dict(os.environ, env), fake_cuda_for_fsdp():
        plugin = FullyShardedDataParallelPlugin()
    assert plugin.sharding_strategy == ShardingStrategy.FULL_SHARD
    assert plugin.transformer_cls_names_to_wrap == ["LlamaDecoderLayer"]
    assert plugin.state_dict_type == StateDictType.FULL_STATE_DICT
    assert plugin.use_orig_params and plugin.cpu_ram_efficient_loading and plugin.sync_module_states


def test_deepspeed_launch_environment_and_plugin() -> None:
    """The DeepSpeed config accelerate would hand to deepspeed.initialize: built from the
    launcher's environment by DeepSpeedPlugin, which does not import deepspeed."""
    from accelerate.utils import DeepSpeedPlugin
    from accelerate.utils.launch import prepare_deepspeed_cmd_env

    args = launch_args(DS, *TWO_NODES)
    assert args.use_deepspeed and not args.use_fsdp
    # As accelerate's launch_command does before calling the DeepSpeed launcher.
    args.deepspeed_fields_from_accelerate_config = "zero_stage,gradient_clipping,offload_optimizer_device"
    cmd, env = prepare_deepspeed_cmd_env(args)
    assert cmd is None  # "standard" multi-node launcher: torchrun per node, no pdsh command line
    assert env["ACCELERATE_USE_DEEPSPEED"] == "true" and env["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "3"
    assert "ACCELERATE_GRADIENT_ACCUMULATION_STEPS" not in env  # so Accelerator keeps cfg.grad_accum
    with mock.patch.dict(os.environ, env):
        plugin = DeepSpeedPlugin()
    ds = plugin.deepspeed_config
    assert ds["zero_optimization"]["stage"] == 3
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert ds["gradient_accumulation_steps"] == "auto"  # filled from Accelerator(gradient_accumulation_steps=...)
    assert ds["gradient_clipping"] == 1.0


def test_deepspeed_launch_needs_deepspeed() -> None:
    from accelerate.utils import is_deepspeed_available

    if not is_deepspeed_available():
        pytest.skip("deepspeed is not installed (not an mtbench dependency): the DeepSpeed launch itself "
                    "is not executed; the YAML, launcher environment and DeepSpeedPlugin checks above still ran")
    import deepspeed  # noqa: F401


def test_launch_cpu_runs_module_with_each_config() -> None:
    """`accelerate launch --config_file F --cpu --num_processes 1 -m mtbench --version`: the
    real launcher accepts the file and runs the module (with --cpu it takes the simple
    launcher, so nothing FSDP/DeepSpeed-specific is started)."""
    for path in (FSDP, DS):
        proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(path), "--cpu",
                               "--num_processes", "1", "--num_machines", "1", "-m", "mtbench", "--version"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.startswith("mtbench "), proc.stdout
