"""``--executor ray``: generation chunks and heavy score jobs on a Ray cluster.

- Each generation model runs in Ray actors (``BackendWorker``), one model load per
  actor, with a resource request: one GPU when the run's device allows CUDA and the
  cluster has GPUs, else one CPU (Ray then gives the actor one intra-op thread).
  A model gets as many actors as the cluster fits (``--ray-replicas`` caps it), never
  more than it has chunks; its actors are let go as soon as its chunks are done, so
  the next model's actors can start.
- The driver (``mtbench run``) keeps the run directory and the generation cache: it
  sends one chunk (``$MTBENCH_CHUNK`` prompts) to each free actor and commits every
  answer to the cache as it arrives. A killed actor is restarted by Ray and its chunk
  in flight retried; finished chunks are in the cache and never sent again.
- Each heavy metric (COMET, BLEURT) scores its jobs in one actor (one model load for
  every direction) with the GPUs it wants, as far as the cluster has them; light
  metrics stay in the scoring stage's process pool, where they are faster than any
  round trip.
- Backends that distribute themselves (a factory with a ``ray_address`` option: vLLM,
  whose tensor parallelism across nodes goes through vLLM's own Ray executor) run in
  the driver and are given the cluster's address.

Without ``--ray-address`` (or ``$RAY_ADDRESS``) a local Ray instance is started for the
run and stopped after it; ``--ray-address auto`` joins the cluster running on this
machine (``ray start``). The scoring stage joins the run's cluster through
``RAY_ADDRESS``.
"""

from __future__ import annotations

import dataclasses

import logging
import os
import time
from collections import deque
from typing import Any, Callable, Iterator, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.generate import GenerationJob
from mtbench.models.spec import ModelSpec, build_model, internal_options
from mtbench.plugins import load_include_python

try:
    import ray
except ImportError:  # said by RayExecutor, in one line, when it is asked for
    ray = None

#: How often Ray restarts a killed actor and retries its call in flight.
RESTARTS = 3
ADDRESS_ENV = "RAY_ADDRESS"
AUTH_MODE_ENV = "RAY_AUTH_MODE"


def first_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc  # RayTaskError carries the worker's exception
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"[:400]


def token_auth_enabled() -> bool:
    """Whether this process talks to its cluster with a token. A local instance uses
    one by default since Ray 2.59, and a second process joining it by address must set
    RAY_AUTH_MODE=token to send it (the token file is shared)."""
    if os.environ.get(AUTH_MODE_ENV):
        return os.environ[AUTH_MODE_ENV] == "token"
    try:
        from ray._private.authentication.authentication_utils import is_token_auth_enabled
    except ImportError:  # a Ray without token authentication (< 2.52)
        return False
    return bool(is_token_auth_enabled())


def check_reachable(address: str) -> None:
    """A ``host:port`` that nothing answers on fails in one line within seconds (ray.init
    would retry for minutes)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        if address in ("local", "auto"):
            return
        raise MtbenchError(f"--ray-address {address!r}: give HOST:PORT of the cluster's head (e.g. 10.0.0.1:6379), "
                           f"auto for the cluster running on this machine, or leave it out for a local one")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise MtbenchError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); start one "
                           f"with `ray start --head` and give its address, or leave --ray-address out for a local one"
                           ) from None


class BackendWorker:
    """One model load on a Ray worker. Errors come back as values so the driver can say
    them in one line (an exception in ``__init__`` would only kill the actor)."""

    def __init__(self, spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any],
                 include_path: Sequence[str]) -> None:
        self.error: str | None = None
        self.backend: Any = None
        try:
            load_include_python(include_path)
            self.backend = build_model(spec, shared, run_args)
        except MtbenchError as exc:
            self.error = str(exc)
        except Exception as exc:
            self.error = f"{spec.text} failed to load on a Ray worker: {first_line(exc)}"

    def describe(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        return {"fingerprint": self.backend.fingerprint(), "pid": os.getpid(), "node": ray.util.get_node_ip_address()}

    def tokenizer(self) -> Any:
        return self.backend.tokenizer

    def generate(self, prompts: Sequence[str], params: Any) -> tuple[list[Any], float]:
        t0 = time.perf_counter()
        gens = self.backend.generate(list(prompts), params)
        return list(gens), time.perf_counter() - t0


class MetricWorker:
    """One heavy metric (one model load) scoring every direction it is given."""

    def __init__(self, name: str, include_path: Sequence[str]) -> None:
        load_include_python(include_path)
        from mtbench.metrics import make_metric

        self.metric = make_metric(name)

    def score(self, job: Any) -> Any:
        from mtbench.scoring import score_job

        return score_job(job, self.metric)


class RayBackend:
    """What the driver holds for a model that runs on the cluster: its fingerprint and
    tokenizer (from one actor, loaded at build time so a missing model fails before
    anything is written) and the actor options the executor starts replicas with."""

    def __init__(self, spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any],
                 actor_options: Mapping[str, Any], include_path: Sequence[str]) -> None:
        self.spec = spec
        self.name = spec.label
        self.shared = dict(shared)
        self.run_args = dict(run_args)
        self.actor_options = dict(actor_options)
        self.include_path = list(include_path)
        self._own: Any = None
        probe = self.new_actor()
        try:
            info = ray.get(probe.describe.remote())
            if "error" in info:
                raise MtbenchError(info["error"])
            self._fingerprint = info["fingerprint"]
            try:
                self._tokenizer = ray.get(probe.tokenizer.remote())
            except Exception:  # not picklable: only chat prompts need it, and they say so
                self._tokenizer = None
        except ray.exceptions.RayError as exc:
            raise MtbenchError(f"{spec.text}: its Ray worker failed while loading ({first_line(exc)})") from None
        finally:
            ray.kill(probe)  # its resources go to the replicas that generate (started by the executor)

    def new_actor(self) -> Any:
        return ray.remote(BackendWorker).options(**self.actor_options).remote(
            self.spec, self.shared, self.run_args, self.include_path)

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fingerprint)

    def generate(self, prompts: Sequence[str], params: Any) -> list[Any]:
        """One call on one actor of its own (the executor schedules chunks over replicas instead)."""
        if self._own is None:
            self._own = self.new_actor()
        return ray.get(self._own.generate.remote(list(prompts), params))[0]

    def close(self) -> None:
        if self._own is not None:
            ray.kill(self._own)
            self._own = None


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, replicas: int = 0, include_path: Sequence[str] = (),
                 log: Callable[[str], None] = print) -> None:
        if ray is None:
            raise MtbenchError("--executor ray needs the ray package: pip install 'mtbench[ray]'")
        self.replicas = replicas
        self.include_path = list(include_path)
        self.log = log
        self.started_here = False
        if not ray.is_initialized():
            # "local": a new instance for this run, never a cluster that happens to run here
            # (Ray's own default); "auto" is Ray's way of asking for that one.
            target = address or os.environ.get(ADDRESS_ENV) or "local"
            check_reachable(target)
            try:
                ray.init(address=target, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                         configure_logging=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise MtbenchError(f"--ray-address {target}: cannot join that Ray cluster ({first_line(exc)}); a cluster "
                                   f"with token authentication needs RAY_AUTH_MODE=token here and its token "
                                   f"(`ray get-auth-token`), the same Ray version, and the head's HOST:PORT") from None
            self.started_here = target == "local"
        self.address = ray.get_runtime_context().gcs_address
        res = ray.cluster_resources()
        self.cpus, self.gpus = int(res.get("CPU", 0)), int(res.get("GPU", 0))
        where = "a local Ray instance" if self.started_here else f"the Ray cluster at {self.address}"
        log(f"ray: {where}, {len(ray.nodes())} node(s), {self.cpus} CPU(s), {self.gpus} GPU(s)")

    # --- generation -----------------------------------------------------------------

    def build_backend(self, spec: ModelSpec, shared: Mapping[str, Any], run_args: Mapping[str, Any]) -> Any:
        if internal_options(spec.factory, {"ray_address": self.address}):
            return build_model(spec, {**shared, "ray_address": self.address}, run_args)  # distributes itself
        # The device a model asked for (its own ?device=, --model-args, --device), decided
        # here: each actor gets one GPU, or the CPU.
        device = str(spec.args.get("device") or run_args.get("device") or shared.get("device") or "auto")
        on_gpu = device != "cpu" and self.gpus > 0
        if device.startswith("cuda") and not on_gpu:
            raise MtbenchError(f"device {device} ({spec.text}): the Ray cluster at {self.address} has no GPU; "
                               f"use --device cpu or add GPU nodes")
        worker_spec = dataclasses.replace(spec, args={k: v for k, v in spec.args.items() if k != "device"})
        worker_args = {k: v for k, v in run_args.items() if k != "device"}
        worker_shared = {**shared, "device": "cuda" if on_gpu else "cpu", "progress": False}
        actor_options = {"num_gpus": 1, "num_cpus": 1} if on_gpu else {"num_cpus": 1}
        actor_options.update(max_restarts=RESTARTS, max_task_retries=RESTARTS)
        return RayBackend(worker_spec, worker_shared, worker_args, actor_options, self.include_path)

    def capacity(self, backend: RayBackend) -> int:
        fits = self.gpus if backend.actor_options.get("num_gpus") else self.cpus
        return max(1, min(fits, self.replicas) if self.replicas else fits)

    def run_generation(self, jobs: Sequence[GenerationJob]) -> Iterator[GenerationJob]:
        here = [j for j in jobs if not isinstance(j.backend, RayBackend)]
        for job in here:  # self-distributing backends (vLLM on the cluster) run from the driver
            from mtbench.generate import run_job_here

            run_job_here(job)
            yield job
        remote = [j for j in jobs if isinstance(j.backend, RayBackend)]
        queues: dict[int, deque[tuple[GenerationJob, list[int]]]] = {}
        left: dict[int, int] = {}  # id(job) -> chunks not committed yet
        for job in remote:
            chunks = job.chunks()
            left[id(job)] = len(chunks)
            queues.setdefault(id(job.backend), deque()).extend((job, part) for part in chunks)
            if not chunks:
                yield job
        backends = {id(j.backend): j.backend for j in remote}
        idle: dict[int, list[Any]] = {b: [] for b in queues}
        busy: dict[Any, tuple[int, GenerationJob, list[int], Any]] = {}  # ref -> (backend, job, chunk, actor)
        started: dict[int, list[Any]] = {b: [] for b in queues}
        for b, queue in queues.items():
            for _ in range(min(len(queue), self.capacity(backends[b]))):
                actor = backends[b].new_actor()
                started[b].append(actor)
                idle[b].append(actor)
        try:
            while busy or any(queues.values()):
                for b, queue in queues.items():
                    while queue and idle[b]:
                        job, part = queue.popleft()
                        actor = idle[b].pop()
                        busy[actor.generate.remote(job.prompts(part), job.params)] = (b, job, part, actor)
                    if not queue and started[b] and not any(v[0] == b for v in busy.values()):
                        for actor in started[b]:  # this model is done: its resources go to the next one
                            ray.kill(actor)
                        started[b], idle[b] = [], []
                (ref,), _ = ray.wait(list(busy), num_returns=1)
                b, job, part, actor = busy.pop(ref)
                try:
                    gens, seconds = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    raise MtbenchError(f"{job.label}: a Ray worker of {backends[b].spec.text} died {RESTARTS + 1} "
                                       f"times ({first_line(exc)}); the finished chunks are in the generation cache: "
                                       f"run the same command again") from None
                except ray.exceptions.RayError as exc:
                    raise MtbenchError(f"{job.label}: generation failed on a Ray worker ({first_line(exc)})") from None
                idle[b].append(actor)
                job.commit(part, gens, seconds)
                left[id(job)] -= 1
                if left[id(job)] == 0:
                    yield job
        finally:  # also when the run stops (SIGTERM) or fails: no actor outlives it
            for actors in started.values():
                for actor in actors:
                    ray.kill(actor)

    # --- scoring ---------------------------------------------------------------------

    def run_heavy(self, jobs: Sequence[Any], instances: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
        actors = {}
        for name in dict.fromkeys(j.metric for j in jobs):
            gpus = min(instances[name].gpus_wanted(), self.gpus)
            options = {"num_cpus": 1, "max_restarts": RESTARTS, "max_task_retries": RESTARTS}
            if gpus:
                options["num_gpus"] = gpus
            actors[name] = ray.remote(MetricWorker).options(**options).remote(name, self.include_path)
        refs = {actors[j.metric].score.remote(j): j for j in jobs}
        try:
            while refs:
                (ref,), _ = ray.wait(list(refs), num_returns=1)
                job = refs.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    result = MtbenchError(f"{job.metric} failed on a Ray worker ({first_line(exc)})")
                self.log(f"scored {job.task} {job.metric} on Ray: {len(job.hypotheses)} system(s)")
                yield job, result
        finally:
            for actor in actors.values():
                ray.kill(actor)

    def child_env(self) -> dict[str, str]:
        env = {ADDRESS_ENV: self.address}
        if token_auth_enabled():  # the scoring stage must authenticate as this process does
            env[AUTH_MODE_ENV] = "token"
        return env

    def close(self) -> None:
        if self.started_here and ray.is_initialized():
            ray.shutdown()
