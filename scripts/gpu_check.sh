#!/usr/bin/env bash
# GPU figures for mtbench's GPU paths, on random-weight models of real shapes (no hub
# download; the weights do not matter for speed and memory):
#   1. HFBackend generation in bf16: SmolLM2-135M's shape, batched vs one prompt at a
#      time (tests/benchmarks/bench_generation.py), and a 1.1B Llama, batched; the 1.1B
#      model's decode steps at 1/16/64/256 rows under torch.profiler
#      (tests/benchmarks/profile_gpu_steps.py: ms/step, tokens/s against the bandwidth bound);
#   2. the trainers (MLE full, LAT stage 2 full, TIM LoRA, ALMA stage-2 LoRA) on the 1.1B
#      model at batch 16 x up to 512 tokens, bf16 autocast: s/step, tokens/s, peak memory.
# Usage: scripts/gpu_check.sh OUT_DIR   with $MTBENCH_DATA (wmt22/de-en, train/alma-human-
# written) and $MODEL_SHAPE (a folder with SmolLM2-135M's config.json and tokenizer files,
# e.g. ~/.cache/mtbench/smollm2-135m-instruct). Writes OUT_DIR/summary.txt and logs.tgz.
set -u
OUT=${1:?usage: scripts/gpu_check.sh OUT_DIR}
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/gpu-check}
DEADLINE=${DEADLINE:-540}  # seconds for the whole script: later steps get what is left
: "${MTBENCH_DATA:?set MTBENCH_DATA}" "${MODEL_SHAPE:?set MODEL_SHAPE to a folder with config.json + tokenizer}"
LOGS=$WORK/logs
mkdir -p "$OUT" "$LOGS"
export PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" HF_HUB_OFFLINE=1

step() {  # name, timeout seconds, command...: one log per step; a failing step does not stop the rest
  local name=$1 limit=$2; shift 2
  local left=$((DEADLINE - SECONDS))
  ((left < limit)) && limit=$left
  if ((limit <= 0)); then echo "== $name: skipped, out of time" | tee -a "$OUT/summary.txt"; return; fi
  echo "== $name" | tee -a "$OUT/summary.txt"
  local t0=$SECONDS
  timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1
  echo "   exit $? after $((SECONDS - t0)) s" | tee -a "$OUT/summary.txt"
}

step env 60 bash -c "nvidia-smi; $PY -c 'import torch, transformers, accelerate, peft; print(torch.__version__, torch.cuda.get_device_name(0), transformers.__version__, accelerate.__version__, peft.__version__)'"

step models 180 "$PY" - "$MODEL_SHAPE" "$WORK" <<'EOF'
import sys, torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
shape, work = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(shape)
torch.manual_seed(0)
small = AutoConfig.from_pretrained(shape)
big = AutoConfig.from_pretrained(shape)  # same vocabulary and special tokens, Llama-1B-like body
big.update({"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
            "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64})
for name, cfg in (("m135", small), ("m1b", big)):
    model = AutoModelForCausalLM.from_config(cfg)
    print(name, f"{sum(p.numel() for p in model.parameters()) / 1e9:.3f}B parameters")
    model.save_pretrained(f"{work}/{name}")
    tok.save_pretrained(f"{work}/{name}")
EOF

step gen-135m 240 "$PY" tests/benchmarks/bench_generation.py --model "$WORK/m135" --device cuda --dtype bfloat16 \
  --n 48 --max-new-tokens 64 --batches 16,48
step gen-1b 180 "$PY" tests/benchmarks/bench_generation.py --model "$WORK/m1b" --device cuda --dtype bfloat16 \
  --n 512 --max-new-tokens 64 --batches 64,256 --skip-loop
step profile-1b 150 "$PY" tests/benchmarks/profile_gpu_steps.py --model "$WORK/m1b" --batches 1,16,64,256 \
  --new-tokens 64 --out "$OUT/profile"

train() {  # method, name, extra YAML
  cat >"$WORK/$2.yaml" <<EOF
method: $1
base_model: $WORK/m1b
out: $WORK/out-$2
adapter: alma
data:
  folder: $MTBENCH_DATA/train/alma-human-written
  pairs: [de-en, zh-en]
  both_directions: true
  limit: 2000
steps: 25
lr: 1.0e-4
batch_size: 16
grad_accum: 1
warmup_ratio: 0.05
scheduler: cosine
weight_decay: 0.0
max_length: 512
device: auto
mixed_precision: bf16
seed: 1
$3
EOF
  step "train-$2" 240 "$PY" -m mtbench train "$1" "$WORK/$2.yaml"
  cp "$WORK/out-$2/train_log.jsonl" "$LOGS/train-$2.jsonl" 2>/dev/null
}
train mle mle-full "tuning: full"
train lat lat-full $'tuning: full\nlat: {alpha: 0.05, conflict_langs: [en, de, cs, ru, zh, ja, fr, uk]}'
train tim tim-lora $'tuning: lora\nlora: {r: 8, alpha: 16, dropout: 0.05, target_modules: [q_proj, k_proj, v_proj, o_proj]}\ntim: {variant: margin, alpha: 1.0}'
train mle alma-lora $'tuning: lora\nlora: {r: 16, alpha: 32, dropout: 0.05, target_modules: all-linear}\nmerge_lora: true'

# Per method: median seconds/step and tokens/s after 3 warm-up steps, peak memory, loss.
"$PY" - "$LOGS" <<'EOF' | tee -a "$OUT/summary.txt"
import json, statistics, sys
from pathlib import Path
for log in sorted(Path(sys.argv[1]).glob("train-*.jsonl")):
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    if len(rows) < 5:
        print(log.stem, "too few steps:", len(rows)); continue
    steady = rows[3:]
    sec = statistics.median(r["seconds"] for r in steady)
    tps = sum(r["tokens"] for r in steady) / sum(r["seconds"] for r in steady)
    print(f"{log.stem:18s} {len(rows)} steps  {sec:.3f} s/step  {tps:9,.0f} tokens/s  "
          f"peak {rows[-1].get('gpu_peak_gib', float('nan')):.1f} GiB  loss {rows[0]['loss']:.3f} -> {rows[-1]['loss']:.3f}")
EOF
grep -h -E "tokens/s|loaded" "$LOGS"/gen-*.log | tee -a "$OUT/summary.txt"
tar czf "$OUT/logs.tgz" -C "$WORK" logs  # every step's log and train_log.jsonl, in one file
