"""The vLLM side of mtbench's vLLM backend: a script run by the vLLM interpreter.

Why a separate process: vLLM needs transformers >= 5 while mtbench's COMET and BLEURT
need transformers < 5, so vLLM lives in its own venv (``make vllm-env``) and mtbench
(mtbench/models/vllm_backend.py) starts this file by path with that venv's python. So
this file imports nothing from mtbench, only the standard library and vllm (and torch,
which vllm brings); mtbench need not even be installed there.

Protocol (one JSON object per line, UTF-8):

- stdin, first line: the engine config ``{"model": PATH, "dtype": "auto",
  "tensor_parallel_size": 1, "data_parallel_size": 1, "max_model_len": null, "seed": 0,
  "enforce_eager": false, "gpu_memory_utilization": null, "engine_args": {...}}``.
  Answer on stdout: ``{"ready": true, "vllm": ..., "dtype": ..., ...}`` or
  ``{"error": "one line"}`` (then the worker exits with status 1).
- stdin, then: ``{"id": ID, "prompts": [...], "params": {"num_beams": 1,
  "max_new_tokens": 256, "no_repeat_ngram_size": 0, "stop": [...]}}``; answer
  ``{"id": ID, "outputs": [{"raw": TEXT, "n_tokens": N}, ...]}`` in prompt order, or
  ``{"id": ID, "error": "one line"}`` (the worker goes on with the next request).
- ``{"cmd": "shutdown"}`` or the end of stdin stops the worker.
- Everything else vLLM, torch or a C library prints goes to stderr: file descriptor 1
  is pointed at stderr before vllm is imported, and the protocol uses a private copy of
  the original stdout, so a stray print can never corrupt the stream.

Decoding, mapped onto vLLM 0.32 (what an evaluation needs: deterministic outputs):

- greedy: ``SamplingParams(temperature=0, max_tokens, stop)``;
- beam search: ``LLM.beam_search(prompts, BeamSearchParams(beam_width, max_tokens))``
  (``SamplingParams(use_beam_search=...)`` was removed in vLLM 0.6.3). vLLM's beam
  search knows no stop strings, so completions are cut at the first stop string
  afterwards, as the hf backend and the papers' scripts do for beam search;
- ``no_repeat_ngram_size``: vLLM has no such option. vLLM 0.32's V1 engine has no
  per-request logits processors in ``SamplingParams`` any more; it takes processor
  *classes* at engine construction, which requests switch on through
  ``SamplingParams.extra_args``. ``NoRepeatNGramLogitsProcessor`` below is such a class
  and bans what transformers' ``NoRepeatNGramLogitsProcessor`` bans (n-grams over prompt
  plus completion, as in a decoder-only ``generate``). ``LLM.beam_search`` runs its
  steps with fixed internal sampling parameters and raw log-probabilities, so the
  processor cannot reach it: beam search with ``no_repeat_ngram_size > 0`` is refused.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from typing import Any, Callable, Sequence, TextIO

PARENT_POLL_SECONDS = 0.5  # how soon a worker whose mtbench died ends

PROTOCOL = 1
EXTRA_ARG = "no_repeat_ngram_size"  # SamplingParams.extra_args key read by the processor
CONFIG_KEYS = {
    "protocol", "model", "tokenizer", "dtype", "tensor_parallel_size", "data_parallel_size",
    "max_model_len", "seed", "enforce_eager", "gpu_memory_utilization", "engine_args",
}
PARAM_KEYS = {"num_beams", "max_new_tokens", "no_repeat_ngram_size", "stop"}


def protocol_stream() -> TextIO:
    """A private copy of stdout for the protocol; fd 1 (and sys.stdout) become stderr so
    that nothing else - vLLM's prints, C libraries, engine subprocesses - reaches it."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


# Run as the worker: take stdout for the protocol before vllm (imported below) can print.
_PROTOCOL_OUT: TextIO | None = protocol_stream() if __name__ == "__main__" else None


class RequestError(ValueError):
    """A request the worker refuses; the message is sent back as one line."""


def one_line(exc: BaseException | str) -> str:
    """An exception as a single line: the parent prints it as a user-facing error."""
    if isinstance(exc, BaseException):
        text = str(exc).strip()
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if isinstance(exc, RequestError):
            text = str(exc)
    else:
        text = exc
    return " ".join(text.split())[:2000]


# ---------------------------------------------------------------- no_repeat_ngram_size


class NGramBans:
    """The tokens that would repeat an n-gram, kept up to date as a sequence grows.

    Same rule as transformers' ``_calc_banned_ngram_tokens``: the next token ``t`` is
    banned if ``(last n-1 tokens) + t`` already occurs in the sequence. A table from
    (n-1)-token prefixes to the tokens that followed them is extended with the n-grams
    that the newest tokens complete, so each step costs O(new tokens), not O(length)."""

    def __init__(self, n: int, prompt_ids: Sequence[int]) -> None:
        if n < 1:
            raise ValueError(f"no_repeat_ngram_size must be >= 1, not {n}")
        self.n = n
        self.prompt = list(prompt_ids)
        self.table: dict[tuple[int, ...], set[int]] = defaultdict(set)
        self.indexed = 0  # n-grams ending before this sequence position are in the table

    def banned(self, output_ids: Sequence[int]) -> set[int]:
        p = len(self.prompt)
        total = p + len(output_ids)
        if total < self.indexed:  # the request was restarted (preemption): start over
            self.table.clear()
            self.indexed = 0

        def tok(i: int) -> int:
            return self.prompt[i] if i < p else output_ids[i - p]

        n = self.n
        for end in range(max(self.indexed, n - 1), total):  # n-gram = seq[end-n+1 .. end]
            prefix = tuple(tok(i) for i in range(end - n + 1, end))
            self.table[prefix].add(tok(end))
        self.indexed = total
        if total + 1 < n:
            return set()
        prefix = tuple(tok(i) for i in range(total - n + 1, total))
        return set(self.table.get(prefix, ()))


def no_repeat_ngram_callable(n: int) -> Callable[[list[int], list[int], Any], Any]:
    """A per-request logits processor ``(prompt_ids, output_ids, logits) -> logits``."""
    state: dict[str, NGramBans] = {}

    def apply(prompt_ids: list[int], output_ids: list[int], logits: Any) -> Any:
        bans = state.get("b")
        if bans is None:
            bans = state["b"] = NGramBans(n, prompt_ids)
        banned = bans.banned(output_ids)
        if banned:
            logits[list(banned)] = float("-inf")
        return logits

    return apply


try:  # the class exists only where vllm is importable (not in mtbench's own venv)
    from vllm.v1.sample.logits_processor import AdapterLogitsProcessor as _Adapter
except Exception:  # noqa: BLE001 - any failure here is reported by main() instead
    _Adapter = None

if _Adapter is not None:

    class NoRepeatNGramLogitsProcessor(_Adapter):  # type: ignore[misc,valid-type]
        """Engine-level processor, active for requests whose ``extra_args`` name a size."""

        @classmethod
        def validate_params(cls, sampling_params: Any) -> None:
            n = (sampling_params.extra_args or {}).get(EXTRA_ARG, 0)
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"{EXTRA_ARG} must be an integer >= 0, not {n!r}")

        def is_argmax_invariant(self) -> bool:
            return False  # it changes greedy choices: that is its purpose

        def new_req_logits_processor(self, params: Any) -> Any:
            n = (params.extra_args or {}).get(EXTRA_ARG, 0)
            return no_repeat_ngram_callable(n) if n else None


PROCESSOR: Any = globals().get("NoRepeatNGramLogitsProcessor")  # None without vllm


# ---------------------------------------------------------------- engine


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """The text before the first occurrence of any stop string."""
    cut = len(text)
    for s in stops:
        if s:
            at = text.find(s)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def check_params(raw: Any) -> dict[str, Any]:
    """Decoding parameters with defaults, or a RequestError naming the bad value."""
    if not isinstance(raw, dict):
        raise RequestError(f"params must be an object, not {raw!r}")
    unknown = sorted(set(raw) - PARAM_KEYS)
    if unknown:
        raise RequestError(f"unknown decoding parameters {unknown}; known: {sorted(PARAM_KEYS)}")
    p = {"num_beams": 1, "max_new_tokens": 256, "no_repeat_ngram_size": 0, "stop": []}
    p.update(raw)
    for key, low in (("num_beams", 1), ("max_new_tokens", 1), ("no_repeat_ngram_size", 0)):
        v = p[key]
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise RequestError(f"{key} must be an integer >= {low}, not {v!r}")
    stop = p["stop"]
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise RequestError(f"stop must be a list of strings, not {stop!r}")
    p["stop"] = [s for s in stop if s]
    if p["num_beams"] > 1 and p["no_repeat_ngram_size"] > 0:
        raise RequestError(
            f"no_repeat_ngram_size={p['no_repeat_ngram_size']} with num_beams={p['num_beams']} is not supported by "
            "the vllm backend: vLLM's beam search (LLM.beam_search) applies no logits processors; use the hf "
            "backend, or num_beams=1"
        )
    return p


class Engine:
    """One ``vllm.LLM`` and the two ways mtbench decodes with it."""

    def __init__(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            raise RequestError(f"unknown config keys {unknown}; known: {sorted(CONFIG_KEYS)}")
        if config.get("protocol", PROTOCOL) != PROTOCOL:
            raise RequestError(f"protocol {config.get('protocol')!r} requested; this worker speaks {PROTOCOL}: "
                               "the worker file and mtbench come from different versions")
        model = config.get("model")
        if not isinstance(model, str) or not model:
            raise RequestError("config needs 'model': a model folder or hub id")
        dp = config.get("data_parallel_size", 1) or 1
        if dp != 1:
            raise RequestError(f"data_parallel_size={dp}: one worker is one replica; the mtbench backend starts "
                               "one worker per data-parallel rank")
        if PROCESSOR is None:
            raise RequestError("vllm.v1.sample.logits_processor.AdapterLogitsProcessor is missing: this worker "
                               "needs vLLM's V1 logits-processor API (vLLM >= 0.10)")
        from vllm import LLM

        kwargs: dict[str, Any] = dict(config.get("engine_args") or {})
        kwargs.update(
            model=model,
            dtype=config.get("dtype") or "auto",
            tensor_parallel_size=int(config.get("tensor_parallel_size") or 1),
            seed=int(config.get("seed") or 0),
            enforce_eager=bool(config.get("enforce_eager", False)),
            logits_processors=[PROCESSOR],
        )
        for key in ("tokenizer", "max_model_len", "gpu_memory_utilization"):
            if config.get(key) is not None:
                kwargs[key] = config[key]
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def describe(self) -> dict[str, Any]:
        """What the parent records next to the outputs (versions, resolved settings)."""
        import torch
        import transformers
        import vllm
        from vllm.platforms import current_platform

        mc = self.llm.llm_engine.model_config
        return {
            "vllm": vllm.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": str(current_platform.device_type),
            "dtype": str(mc.dtype).removeprefix("torch."),
            "max_model_len": mc.max_model_len,
        }

    def run(self, prompts: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise RequestError("prompts must be a list of strings")
        if not prompts:
            return []
        if params["num_beams"] > 1:
            return self._beam(prompts, params)
        return self._greedy(prompts, params)

    def _greedy(self, prompts: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
        from vllm import SamplingParams

        n = params["no_repeat_ngram_size"]
        sp = SamplingParams(
            temperature=0.0,
            max_tokens=params["max_new_tokens"],
            stop=params["stop"] or None,
            extra_args={EXTRA_ARG: n} if n else None,
        )
        results = self.llm.generate(prompts, sp, use_tqdm=False)
        outs = []
        for r in results:
            o = r.outputs[0]
            n_tokens = len(o.token_ids)
            if o.finish_reason == "stop" and o.stop_reason is None and n_tokens:
                n_tokens -= 1  # ended on EOS: vLLM lists the EOS token, the hf backend does not count it
            outs.append({"raw": cut_at_stop(o.text, params["stop"]), "n_tokens": n_tokens})
        return outs

    def _beam(self, prompts: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
        from vllm.sampling_params import BeamSearchParams

        bp = BeamSearchParams(beam_width=params["num_beams"], max_tokens=params["max_new_tokens"])
        results = self.llm.beam_search([{"prompt": p} for p in prompts], bp)
        eos = self.tokenizer.eos_token_id
        outs = []
        for r in results:
            best = r.sequences[0]  # sorted by vLLM's length-penalised score, best first
            prompt_len = len(best.orig_prompt["prompt_token_ids"])
            new = list(best.tokens[prompt_len:])  # .tokens and .text include the prompt
            if new and new[-1] == eos:
                new.pop()
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            outs.append({"raw": cut_at_stop(text, params["stop"]), "n_tokens": len(new)})
        return outs


# ---------------------------------------------------------------- main loop


def send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, ensure_ascii=False) + "\n")
    out.flush()


def serve(engine: Engine, inp: TextIO, out: TextIO) -> None:
    for line in inp:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as exc:
            send(out, {"id": None, "error": f"request is not JSON ({one_line(exc)}): {line[:200]!r}"})
            continue
        if not isinstance(req, dict):
            send(out, {"id": None, "error": f"request must be a JSON object, not {line[:200]!r}"})
            continue
        if req.get("cmd") == "shutdown":
            return
        rid = req.get("id")
        try:
            outputs = engine.run(req.get("prompts"), check_params(req.get("params") or {}))
        except Exception as exc:  # noqa: BLE001 - every failure becomes one error line
            send(out, {"id": rid, "error": one_line(exc)})
            continue
        send(out, {"id": rid, "outputs": outputs})


def register_module() -> None:
    """Make this file importable as ``vllm_worker`` in the engine's subprocesses.

    vLLM hands the logits-processor class to its engine-core process; pickled by
    reference as ``vllm_worker.NoRepeatNGramLogitsProcessor`` it resolves both after a
    fork (sys.modules is inherited) and after a spawn (sys.path is passed on, and this
    folder is appended last, so it shadows nothing)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.append(here)
    main_module = sys.modules[__name__]
    sys.modules.setdefault("vllm_worker", main_module)
    if PROCESSOR is not None:
        PROCESSOR.__module__ = "vllm_worker"


def follow_parent() -> None:
    """The worker ends, with the engine processes of its session, when the mtbench
    process that started it is gone, even by SIGKILL: a thread watches the parent's
    pid. Not prctl's PR_SET_PDEATHSIG: that follows the *thread* that started the
    worker, and mtbench may start it from a thread that ends long before mtbench does
    (the kernel then SIGKILLs a worker whose mtbench is alive and waiting for it)."""
    parent = os.environ.get("MTBENCH_PARENT_PID", "")
    if not parent.isdigit():
        return
    pid = int(parent)
    if os.getppid() != pid:
        os._exit(1)  # mtbench died before the worker could follow it

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(PARENT_POLL_SECONDS)
        if os.getpgrp() == os.getpid():  # our own session (as mtbench starts us): the engines too
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def main() -> int:
    follow_parent()
    out = _PROTOCOL_OUT or protocol_stream()
    first = sys.stdin.readline()
    if not first.strip():
        send(out, {"error": "no config line on stdin"})
        return 1
    try:
        config = json.loads(first)
        if not isinstance(config, dict):
            raise RequestError(f"the config line must be a JSON object, not {first[:200]!r}")
    except ValueError as exc:
        send(out, {"error": f"config line is not JSON ({one_line(exc)})"})
        return 1
    if _Adapter is None:
        try:
            import vllm  # noqa: F401 - to report why it failed
        except Exception as exc:  # noqa: BLE001
            send(out, {"error": f"cannot import vllm in {sys.executable}: {one_line(exc)}"})
            return 1
    register_module()
    try:
        engine = Engine(config)
        info = engine.describe()
    except Exception as exc:  # noqa: BLE001
        send(out, {"error": f"cannot start vLLM on {config.get('model')!r}: {one_line(exc)}"})
        return 1
    send(out, {"ready": True, "protocol": PROTOCOL, **info})
    serve(engine, sys.stdin, out)
    return 0


if __name__ == "__main__":  # vLLM may start engine processes that re-import this file
    sys.exit(main())
