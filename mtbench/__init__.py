"""mtbench: evaluation and benchmarking harness for LLM translators."""

__version__ = "0.1.0"


def evaluate(*args, **kwargs):  # noqa: ANN002, ANN003 - see mtbench.api.evaluate
    """Evaluate a model on tasks; see :func:`mtbench.api.evaluate`."""
    from mtbench.api import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def load_run(*args, **kwargs):  # noqa: ANN002, ANN003 - see mtbench.frames.load_run
    """A run directory's scores, segments and significance as pandas DataFrames; see :func:`mtbench.frames.load_run`."""
    from mtbench.frames import load_run as _load_run

    return _load_run(*args, **kwargs)


def load_runs(*args, **kwargs):  # noqa: ANN002, ANN003 - see mtbench.frames.load_runs
    """Several runs' DataFrames with a ``run`` column; see :func:`mtbench.frames.load_runs`."""
    from mtbench.frames import load_runs as _load_runs

    return _load_runs(*args, **kwargs)
