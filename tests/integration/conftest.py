"""A tiny random Llama saved once per test session (no downloads), for tests that
need a real checkpoint folder on disk rather than a model object."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.integration.test_hf_backend import build_model, build_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    tok = build_tokenizer()
    build_model(tok).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
