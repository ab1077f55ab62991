"""mtbench: evaluation and benchmarking harness for LLM translators."""

__version__ = "0.1.0"
