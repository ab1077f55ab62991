"""mtbench: evaluation and benchmarking harness for LLM translators."""

__version__ = "0.1.0"


def evaluate(*args, **kwargs):  # noqa: ANN002, ANN003 - see mtbench.api.evaluate
    """Evaluate a model on tasks; see :func:`mtbench.api.evaluate`."""
    from mtbench.api import evaluate as _evaluate

    return _evaluate(*args, **kwargs)
