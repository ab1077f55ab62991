"""The failure profile: why an LLM translator fails, one flag per segment.

Each metric here flags one failure mode that the seed papers fight (LAT: off-target
output; ALMA: prompt-format breakage; TIM: hallucinated continuations and decoding
loops). A flagged segment scores 100 and any other 0, so the corpus score is the rate
in % of lines and leaderboards, averages and paired significance treat a failure rate
like any other segment-level metric. Every threshold is a named constant of its
module, recorded in the metric's signature and cache key.

One file per failure mode; ``flag.py`` is what they share. Off-target (lid.176)
lives in :mod:`mtbench.metrics.offtarget` and joins the profile through
``Metric.failure_profile``.
"""
