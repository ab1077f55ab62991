"""Where a run's work runs: ``local`` (this process, the default) or ``ray`` (a Ray
cluster: ``mtbench run --executor ray [--ray-address ADDR]``).

An executor builds the generation backends, runs the generation jobs' chunks and the
heavy metrics' score jobs, and hands every result back to the process that owns the
run directory: that process alone writes the run directory and the generation cache,
so no SQLite file is shared over a network file system. The outputs do not depend on
the executor (it is not part of a run directory's identity).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Protocol, Sequence

from mtbench.registry import Registry

__all__ = ["EXECUTORS", "Executor", "make_executor"]


class Executor(Protocol):
    name: str

    def build_backend(self, spec: Any, shared: Mapping[str, Any], run_args: Mapping[str, Any]) -> Any:
        """The backend of a model spec (``mtbench.models.spec.build_model``: the run's shared
        settings, ``--model-args``), loaded where it will run (a missing model fails now)."""

    def run_generation(self, jobs: Sequence[Any]) -> Iterator[Any]:
        """Run every chunk of the GenerationJobs (``job.commit`` each answer, here); yield
        each job once all its chunks are committed."""

    def run_heavy(self, jobs: Sequence[Any], instances: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
        """(ScoreJob, its result) for the heavy metrics' jobs, as they finish."""

    def child_env(self) -> dict[str, str]:
        """Environment for the scoring stage's process, so it uses the same cluster."""

    def close(self) -> None:
        """Let go of the workers (and of a cluster this executor started)."""


EXECUTORS: Registry[Any] = Registry("executor")
EXECUTORS.register("local", "mtbench.executors.local:LocalExecutor")
EXECUTORS.register("ray", "mtbench.executors.ray_executor:RayExecutor")


def make_executor(name: str, address: str | None = None, replicas: int = 0,
                  include_path: Sequence[str] = (), log: Any = print) -> Executor:
    """The executor ``name`` (RunConfig.validate has checked that ray options come with ray)."""
    return EXECUTORS.get(name)(address=address, replicas=replicas, include_path=list(include_path), log=log)
