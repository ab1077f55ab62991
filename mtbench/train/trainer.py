"""A small training loop for the methods mtbench compares (plain torch + accelerate).

Why not ``transformers.Trainer``: each seed subclasses it differently (LAT overrides
``compute_loss``, TIM wraps the model in a reward model and forks the whole Trainer);
a 150-line loop states each method's loss in one place, runs on CPU in tests, and
leaves device placement, mixed precision and gradient accumulation to ``Accelerator``,
which also makes the same loop run under ``accelerate launch`` (DDP/FSDP/DeepSpeed).

The result is a plain Hugging Face checkpoint in ``out`` (LoRA merged by default), so
``HFBackend(out)`` evaluates it like any other model, plus ``train_log.jsonl`` (one row
per optimizer step) and ``mtbench_train.json`` (what was trained, on what, how).
"""

from __future__ import annotations

import json
import math
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from mtbench import folders
from mtbench.errors import MtbenchError
from mtbench.train import data as tdata
from mtbench.train import output
from mtbench.train.config import TrainConfig


@dataclass
class TrainResult:
    out: Path
    steps: int
    final_loss: float
    seconds: float
    reused: bool = False  # out already held this training: nothing was trained


class Policy(nn.Module):
    """The causal LM, plus TIM's token-level reward head when the method needs it
    (``v_head = nn.Linear(hidden, 1, bias=False)``, TIM reward_model.py l.32)."""

    def __init__(self, lm: nn.Module, reward_head: bool) -> None:
        super().__init__()
        self.lm = lm
        self.v_head = nn.Linear(lm.config.hidden_size, 1, bias=False) if reward_head else None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=self.v_head is not None,
                      use_cache=False)
        rewards = None
        if self.v_head is not None:
            hidden = out.hidden_states[-1]  # last layer after the final norm, as TIM's `rwmodel.model(...)[0]`
            rewards = self.v_head(hidden.to(self.v_head.weight.dtype)).squeeze(-1)
        return out.logits, rewards


def step_loss(policy: nn.Module, batch: dict[str, torch.Tensor], cfg: TrainConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The method's loss on one micro-batch and its logged parts (its recipe's)."""
    return cfg.recipe.loss(policy, batch, cfg)


def build_examples(cfg: TrainConfig, tokenizer: Any) -> tuple[list[tdata.Example], dict[str, str]]:
    """The method's training rows and the sha256 of every file read (its recipe's)."""
    return cfg.recipe.examples(cfg, tokenizer)


def apply_tuning(lm: nn.Module, cfg: TrainConfig) -> nn.Module:
    """full: everything trains; fixemb: input and output embeddings frozen (TIM's
    FixEmb); lora: peft adapters on ``lora.target_modules``, base frozen."""
    if cfg.tuning == "fixemb":
        for module in (lm.get_input_embeddings(), lm.get_output_embeddings()):
            if module is not None:
                for p in module.parameters():
                    p.requires_grad_(False)
    elif cfg.tuning == "lora":
        from peft import LoraConfig, get_peft_model

        lc = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                        target_modules=tm if isinstance(tm := cfg.lora.target_modules, str) else list(tm),
                        task_type="CAUSAL_LM")  # a string such as "all-linear" (ALMA) passes through to peft
        try:
            lm = get_peft_model(lm, lc)
        except ValueError as exc:
            raise MtbenchError(f"lora.target_modules {cfg.lora.target_modules} do not fit this model: {str(exc).splitlines()[0]}") from None
    return lm


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over ``ceil(warmup_ratio * steps)`` steps, then linear or cosine
    decay to 0 at ``steps`` (LAT: cosine, warmup 0.03; TIM: HF default linear)."""
    warm = math.ceil(cfg.warmup_ratio * cfg.steps)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        if cfg.scheduler == "constant":
            return 1.0
        progress = (step - warm) / max(1, cfg.steps - warm)
        if cfg.scheduler == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return max(0.0, 1.0 - progress)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train(cfg: TrainConfig, echo: Callable[[str], None] | None = None,
          on_step: Callable[[dict[str, Any]], None] | None = None, retrain: bool = False,
          on_start: Callable[[], None] | None = None) -> TrainResult:
    """Train ``cfg.method`` for ``cfg.steps`` optimizer steps and save to ``cfg.out``,
    unless ``cfg.out`` already holds this training (``retrain``: train anyway; see
    ``mtbench.train.output``). ``on_step`` gets each row of train_log.jsonl as it is
    written (experiment trackers); ``on_start`` is called once it is decided to train."""
    from accelerate import Accelerator
    from accelerate.utils import broadcast_object_list, set_seed
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.time()
    set_seed(cfg.seed)
    random.seed(cfg.seed)
    from mtbench.train.precision import resolve as resolve_precision

    mixed, note = resolve_precision(cfg.mixed_precision, cfg.device != "cpu" and torch.cuda.is_available())
    accelerator = Accelerator(cpu=cfg.device == "cpu", mixed_precision=mixed,
                              gradient_accumulation_steps=cfg.grad_accum)
    say = echo if echo is not None and accelerator.is_main_process else (lambda line: None)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    if tokenizer.pad_token_id is None:  # Llama: pad with EOS, as ALMA and TIM do (masks come from lengths)
        tokenizer.pad_token = tokenizer.eos_token
    rows, sums = cfg.recipe.examples(cfg, tokenizer)
    wanted = output.identity(cfg.method, cfg.to_dict(), sums, output.base_model_hashes(cfg.base_model),
                             accelerator.num_processes, output.code_sha256(cfg.recipe))
    decision = output.decide(cfg.out, wanted, retrain) if accelerator.is_main_process else None
    decision = broadcast_object_list([decision])[0]  # one process looks at out, for all
    if decision.error:
        raise MtbenchError(decision.error)
    out = decision.out
    if decision.reuse is not None:
        say(f"mtbench: {out} already holds this training (same method, settings, data, base model, processes and "
            f"code): nothing to train; --retrain trains it again")
        meta = decision.reuse
        return TrainResult(out, int(meta.get("steps") or 0), float(meta.get("final_loss", math.nan)),
                           float(meta.get("seconds") or 0.0), reused=True)
    if decision.why:
        say(f"mtbench: training again into {out}: {decision.why}; its checkpoint stays until the new one is saved")
    if note:
        say(f"mtbench: {note}")
    work = folders.staging(out)  # the folder replaces out once the checkpoint is saved
    if on_start is not None:
        on_start()

    from mtbench.models.hf import dtype_kwargs  # torch_dtype / dtype across transformers 4.x and 5.x

    # float32 master weights; mixed_precision (accelerate autocast) decides the compute dtype.
    lm = AutoModelForCausalLM.from_pretrained(cfg.base_model, **dtype_kwargs(torch.float32))
    lm = apply_tuning(lm, cfg)
    recipe = cfg.recipe
    policy = Policy(lm, reward_head=recipe.reward_head)

    gen = torch.Generator().manual_seed(cfg.seed)
    loader = torch.utils.data.DataLoader(rows, batch_size=cfg.batch_size, shuffle=True, generator=gen,  # type: ignore[arg-type]
                                         collate_fn=tdata.Collator(tokenizer.pad_token_id), drop_last=False)
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg)
    policy, optimizer, loader = accelerator.prepare(policy, optimizer, loader)
    policy.train()

    try:
        log_path = work / "train_log.jsonl"
        if accelerator.is_main_process:
            folders.start(out)
            log_path.write_text("", encoding="utf-8")
        accelerator.wait_for_everyone()
        step, final_loss = 0, float("nan")
        acc_loss, acc_parts, micro, tokens = 0.0, {}, 0, 0  # type: ignore[var-annotated]
        on_cuda = accelerator.device.type == "cuda"
        step_started = time.perf_counter()
        while step < cfg.steps:
            for batch in loader:
                # tokens the step trains on (every sequence it runs: chosen, rejected, negative)
                tokens += sum(int(v.sum()) for k, v in batch.items() if k.endswith("attention_mask"))
                with accelerator.accumulate(policy):
                    loss, parts = recipe.loss(policy, batch, cfg)
                    accelerator.backward(loss)
                    acc_loss += loss.item()
                    for k, v in parts.items():
                        acc_parts[k] = acc_parts.get(k, 0.0) + v
                    micro += 1
                    if accelerator.sync_gradients:
                        if cfg.max_grad_norm > 0:
                            # The prepared model's parameters: under FSDP they replace the pre-wrap
                            # objects in `params` and accelerate only clips (sharded) when the list is
                            # exactly model.parameters(); frozen ones have no grad, so CPU is unchanged.
                            accelerator.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                        lr = scheduler.get_last_lr()[0]
                        optimizer.step()
                        scheduler.step()
                        optimizer.zero_grad()
                if accelerator.sync_gradients:
                    step += 1
                    final_loss = acc_loss / micro
                    row = {"step": step, "loss": final_loss, "lr": lr, **{k: v / micro for k, v in acc_parts.items()}}
                    # loss.item() waits for the device; a GPU may still run this step's optimizer
                    # kernels into the next step, so single rows can shift but their sum is right
                    now = time.perf_counter()
                    row.update({"seconds": round(now - step_started, 4), "tokens": tokens})
                    if on_cuda:  # peak since the start, on this process's GPU
                        row["gpu_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
                    step_started = now
                    if accelerator.is_main_process:
                        with open(log_path, "a", encoding="utf-8") as f:
                            f.write(json.dumps(row) + "\n")
                        if echo is not None:
                            echo(json.dumps(row))
                        if on_step is not None:
                            on_step(row)
                    acc_loss, acc_parts, micro, tokens = 0.0, {}, 0, 0
                    if step >= cfg.steps:
                        break
        accelerator.wait_for_everyone()
        full = full_policy(accelerator, policy, cfg)  # every process takes part (a collective under FSDP/ZeRO)
        if accelerator.is_main_process:
            save(full, tokenizer, cfg, work, wanted, step, final_loss, time.time() - started, mixed)
    except BaseException:
        if accelerator.is_main_process:  # out stays as it was; no half-written folder is left beside it
            folders.discard(work)
        raise
    if accelerator.is_main_process:
        try:
            folders.publish(work, out)
        except OSError as exc:  # the checkpoint is saved: it is not thrown away
            raise MtbenchError(f"the trained checkpoint is saved in {work} but could not replace {out} "
                               f"({exc.strerror or exc}); move it there yourself") from None
    accelerator.wait_for_everyone()
    return TrainResult(out, step, final_loss, time.time() - started)


def full_policy(accelerator: Any, policy: nn.Module, cfg: TrainConfig) -> Any:
    """The trained Policy with full (unsharded) weights on the main process, None elsewhere.

    Single process / DDP: the unwrapped model itself. Under ``accelerate launch`` with FSDP
    or DeepSpeed the unwrapped model holds shards (FULL_SHARD, ZeRO-3: empty placeholders),
    so ``accelerator.get_state_dict`` gathers the full state dict onto the main process
    (it must be called on every process) and it is loaded into a fresh CPU copy of the
    model, so that ``save`` (LoRA merge included) works on ordinary tensors."""
    from accelerate.utils import DistributedType

    if accelerator.distributed_type not in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        return accelerator.unwrap_model(policy) if accelerator.is_main_process else None
    state = accelerator.get_state_dict(policy)  # FSDP: FULL_STATE_DICT; ZeRO-3: zero3_save_16bit_model
    if not accelerator.is_main_process:
        return None
    import contextlib

    from transformers import AutoModelForCausalLM

    from mtbench.models.hf import dtype_kwargs

    ds = accelerator.state.deepspeed_plugin
    # No zero.Init here: this copy lives on the main process only (a partitioned one would hang).
    ctx = ds.zero3_init_context_manager(enable=False) if ds is not None else contextlib.nullcontext()
    with ctx:
        lm = AutoModelForCausalLM.from_pretrained(cfg.base_model, **dtype_kwargs(torch.float32))
    full = Policy(apply_tuning(lm, cfg), reward_head=cfg.recipe.reward_head)
    missing, unexpected = full.load_state_dict(state, strict=False)
    tied = {"lm.lm_head.weight"} if getattr(lm.config, "tie_word_embeddings", False) else set()
    missing = [k for k in missing if not any(k.endswith(t.split(".", 1)[1]) for t in tied)]
    if missing or unexpected:
        raise MtbenchError(f"gathered state dict does not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return full


def save(policy: Policy, tokenizer: Any, cfg: TrainConfig, out: Path, trained: dict[str, Any], steps: int,
         final_loss: float, seconds: float, mixed_precision: str | None = None) -> None:
    """An HFBackend-loadable checkpoint + tokenizer + ``mtbench_train.json`` in ``out``;
    ``trained``: the training's identity (``output.identity``)."""
    import accelerate
    import transformers

    lm = policy.lm
    if cfg.tuning == "lora":
        # The adapter alone (to share or stack), then the merged model as the checkpoint:
        # what every backend loads is the trained model (an unmerged base with peft's
        # lora_A/B keys would load with its target weights freshly initialised).
        lm.save_pretrained(out / output.LORA_ADAPTER)  # type: ignore[operator]
        lm = lm.merge_and_unload()  # type: ignore[operator]
    lm.save_pretrained(out, safe_serialization=True)  # type: ignore[operator]
    tokenizer.save_pretrained(out)
    if policy.v_head is not None:
        # Not part of the LM: TIM uses it to rerank candidates (--ifreranking); kept beside it.
        torch.save(policy.v_head.state_dict(), out / "tim_value_head.pt")
    versions = {"torch": torch.__version__, "transformers": transformers.__version__,
                "accelerate": accelerate.__version__, "python": platform.python_version()}
    try:
        import peft

        versions["peft"] = peft.__version__
    except ImportError:
        pass
    meta = {
        "method": cfg.method,
        "base_model": cfg.base_model,
        "config": cfg.to_dict(),
        **{k: v for k, v in trained.items() if k not in ("method", "config")},  # data, base model, processes, code
        "checkpoint_sha256": output.checkpoint_hashes(out),
        "steps": steps,
        "final_loss": final_loss,
        "seconds": round(seconds, 2),
        "lora_adapter": output.LORA_ADAPTER if cfg.tuning == "lora" else None,  # beside the merged checkpoint
        "mixed_precision": mixed_precision or cfg.mixed_precision,  # what ran (config "auto" resolved)
        "versions": versions,
    }
    (out / output.META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
