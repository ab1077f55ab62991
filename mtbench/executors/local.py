"""The default executor: everything in this process, one job after another."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, Sequence

from mtbench.generate import GenerationJob, run_job_here
from mtbench.models.spec import ModelSpec, build_model


class LocalExecutor:
    name = "local"

    def __init__(self, log: Callable[[str], None] = print, **_: Any) -> None:  # the cluster options are ray's
        self.log = log

    def build_backend(self, spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any]) -> Any:
        return build_model(spec, shared, run_args)

    def run_generation(self, jobs: Sequence[GenerationJob]) -> Iterator[GenerationJob]:
        for job in jobs:
            run_job_here(job)
            yield job

    def run_heavy(self, jobs: Sequence[Any], instances: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
        from mtbench.scoring import score_job

        for job in jobs:
            self.log(f"scoring {job.task} {job.metric}: {len(job.hypotheses)} system(s)")
            yield job, score_job(job, instances[job.metric])

    def child_env(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        pass
