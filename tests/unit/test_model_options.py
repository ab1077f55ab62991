"""Model specs with options (``KIND:ARG?k=v``), typed by each kind's options dataclass,
and the precedence of shared flags < --model-args < a model's own options."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from mtbench.errors import MtbenchError
from mtbench.models import MODELS
from mtbench.models.options import build_options, check_run_args, option_names, parse_model_args
from mtbench.models.spec import parse_model_spec


@dataclass(frozen=True)
class _Opts:
    device: str = "auto"
    beams: int = 1
    temperature: float | None = None
    fast: bool = False


class _Kind:
    Options = _Opts


def test_spec_options_are_split_from_the_path_only_when_they_are_key_value_pairs() -> None:
    spec = parse_model_spec("hf:/ckpt/x?max_batch=8,dtype=bfloat16")
    assert (spec.kind, spec.arg, dict(spec.args)) == ("hf", "/ckpt/x", {"max_batch": "8", "dtype": "bfloat16"})
    assert spec.label == "x"  # hf names a column by its checkpoint folder
    odd = parse_model_spec("files:/data/what?")  # a folder whose name ends in '?'
    assert odd.arg == "/data/what?" and dict(odd.args) == {}
    assert parse_model_spec("files:/a?b/c").arg == "/a?b/c"
    named = parse_model_spec("smollm2-135m?max_batch=2")
    assert named.arg is None and dict(named.args) == {"max_batch": "2"} and named.label == "smollm2-135m"
    assert parse_model_spec("files:/x/out").label == "files:out"  # other kinds keep their kind in the name


def test_model_args_text_and_its_errors() -> None:
    assert parse_model_args("a=1, b = x ,c=", "w") == {"a": "1", "b": "x", "c": ""}
    with pytest.raises(MtbenchError, match="w: 'a' is not KEY=VALUE"):
        parse_model_args("a", "w")
    with pytest.raises(MtbenchError, match="w: a is given twice"):
        parse_model_args("a=1,a=2", "w")


def test_values_are_typed_by_the_options_dataclass_and_the_strongest_source_wins() -> None:
    got = build_options(_Kind, "k", shared={"device": "cpu", "batch_tokens": 9, "beams": None},
                        run_args={"beams": "3", "fast": "yes"}, own_args={"beams": "5", "temperature": "0.5"}, what="k:x")
    # batch_tokens is not an option of this kind: a shared flag is simply not given to it
    assert got == {"device": "cpu", "beams": 5, "fast": True, "temperature": 0.5}
    assert build_options(_Kind, "k", {}, {}, {"temperature": "none"}, "k:x") == {"temperature": None}
    for own, message in (({"beams": "2.5"}, "option beams must be an integer, got '2.5'"),
                         ({"fast": "maybe"}, "option fast must be true or false"),
                         ({"temperature": "hot"}, "option temperature must be a number"),
                         ({"beam": "2"}, "k has no option 'beam': did you mean 'beams'")):
        with pytest.raises(MtbenchError, match=message):
            build_options(_Kind, "k", {}, {}, own, "k:x")


def test_a_plugin_without_an_options_class_gets_one_from_its_parameters() -> None:
    class Plugin:
        def __init__(self, path: str, temperature: float = 0.0, progress: bool = True, *, top_k: int = 5) -> None:
            pass

    # the first parameter takes KIND:ARG; progress is mtbench's own keyword
    assert option_names(Plugin) == ["temperature", "top_k"]
    assert build_options(Plugin, "p", {}, {}, {"top_k": "7", "temperature": "1"}, "p:x") == {"top_k": 7, "temperature": 1.0}


def test_the_bundled_kinds_check_their_values() -> None:
    hf = MODELS.get("hf")
    with pytest.raises(MtbenchError, match="device must be cpu, cuda, cuda:N or auto, got 'gpu'"):
        build_options(hf, "hf", {}, {}, {"device": "gpu"}, "hf:x")
    assert build_options(hf, "hf", {}, {}, {"device": "cuda:1"}, "hf:x") == {"device": "cuda:1"}
    with pytest.raises(MtbenchError, match="max_batch must be a positive integer, got 0"):
        build_options(hf, "hf", {}, {}, {"max_batch": "0"}, "hf:x")
    vllm = MODELS.get("vllm")
    assert build_options(vllm, "vllm", {"device": "cpu", "dtype": "bfloat16"}, {"python": "/p"}, {}, "vllm:x") == \
        {"dtype": "bfloat16", "python": "/p"}
    with pytest.raises(MtbenchError, match="gpu_memory_utilization must be in"):
        build_options(vllm, "vllm", {}, {}, {"gpu_memory_utilization": "1.5"}, "vllm:x")


def test_run_args_must_mean_something_to_some_model() -> None:
    check_run_args({"hf:a": MODELS.get("hf"), "vllm:b": MODELS.get("vllm")}, {"max_batch": 2, "python": "/p"}, "cfg")
    with pytest.raises(MtbenchError, match=r"cfg: no model of this run \(hf:a\) has an option 'python'.*--vllm-python"):
        check_run_args({"hf:a": MODELS.get("hf")}, {"python": "/p"}, "cfg")


def test_a_config_file_gives_model_args_and_the_old_vllm_keys_become_them(tmp_path) -> None:
    from mtbench.config import load_config

    path = tmp_path / "run.yaml"
    path.write_text("models: [vllm:/ckpt/x]\nvllm_python: /opt/v/bin/python\ntensor_parallel_size: 2\n"
                    "model_args: {max_model_len: 4096}\n", encoding="utf-8")
    cfg = load_config(path, validate=False)
    assert cfg.model_args == {"python": "/opt/v/bin/python", "tensor_parallel_size": 2, "max_model_len": 4096}
    cfg.validate()
    path.write_text("models: [vllm:/ckpt/x]\nmodel_args: max_model_len=4096,seed=3\n", encoding="utf-8")
    assert load_config(path, validate=False).model_args == {"max_model_len": "4096", "seed": "3"}
    path.write_text("models: [hf:/ckpt/x]\nmodel_args: {max_model_len: 4096}\n", encoding="utf-8")
    with pytest.raises(MtbenchError, match=r"run.yaml: model_args: no model of this run \(hf:/ckpt/x\) has an option "
                                           r"'max_model_len'"):
        load_config(path)


@pytest.mark.parametrize("text, message", [
    ("hf", "model 'hf': hf needs an argument: hf:PATH_OR_ID"),
    ("vllm", "vllm needs an argument"),
    ("smollm2-135m:/x", "smollm2-135m takes no argument; write smollm2-135m"),
    ("hf:/ckpt?max_batch", "option 'max_batch' has no value; write max_batch=VALUE"),
    ("hf:/ckpt?name", "option 'name' has no value"),
    ("files:/my/outputs?name=mine", "gives systems named after their files; rename the files instead (e.g. mine.txt)"),
    ("files?name=mine", "rename the files instead"),
])
def test_a_spec_that_cannot_build_is_one_line(text: str, message: str) -> None:
    with pytest.raises(MtbenchError, match=re.escape(message)):
        parse_model_spec(text)


def test_name_sets_the_column_and_is_no_backend_option() -> None:
    from mtbench.models.spec import model_options

    spec = parse_model_spec("hf:/ckpt/x?name=x-bf16,dtype=bfloat16")
    assert spec.label == "x-bf16"
    assert model_options(spec, {"device": "cpu"}) == {"device": "cpu", "dtype": "bfloat16"}


def test_a_method_section_is_typed_like_the_rest_of_a_training_config(tmp_path) -> None:
    from mtbench.train.config import parse_config

    (tmp_path / "base").mkdir()
    for name in ("a.de", "a.en"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    raw = {"base_model": str(tmp_path / "base"), "out": str(tmp_path / "o"),
           "data": {"src": str(tmp_path / "a.de"), "tgt": str(tmp_path / "a.en"), "src_lang": "de", "tgt_lang": "en"}}
    assert parse_config({**raw, "lat": {"alpha": 1}}, "lat").options.alpha == 1  # an int is a number
    for method, extra, message in (
            ("lat", {"lat": {"alpha": "high"}}, "lat.alpha must be a number, got 'high'"),
            ("lat", {"lat": {"conflict_langs": "de"}}, "lat.conflict_langs must be a list of strings, got 'de'"),
            ("tim", {"tim": {"noise": {"swap_range": 1.5}}}, "tim.noise.swap_range must be an integer, got 1.5"),
            ("tim", {"tim": {"variant": "hinge"}}, "tim.variant 'hinge' is not one of margin, sigmoid"),
            ("mle", {"lat": {"alpha": 0.1}}, "lat: holds the settings of method lat; this config trains mle"),
            ("mle", {"data": {**raw["data"], "both_directions": "yes"}}, "data.both_directions must be true or false"),
            ("dpo", {}, "method 'dpo' is not a training method")):
        with pytest.raises(MtbenchError, match=re.escape(message)):
            parse_config({**raw, **extra}, method)
