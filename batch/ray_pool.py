"""The batch on a Ray cluster: long-lived actors, each a warm Blender, pull meshes from the list.

Needs the optional ``ray`` extra (``pip install "depth_views[ray]"``) and, on every node, this
package with bpy installed and the output folder on a shared filesystem at the same path.  Each
actor renders with :func:`.worker.render_one`, exactly what a local worker does, so the files are
the same.  An actor that dies (a Blender crash, a lost node) is replaced and its mesh is tried again
on another actor, up to ``max_attempts`` times in all; a mesh past ``timeout`` has its actor killed.
"""

from __future__ import annotations

import collections
import os
import pickle
import time
from typing import Iterator

from ..errors import DepthViewsError
from ..resolved import RenderSetup
from . import store
from .events import MeshFailed, MeshRendered, MeshStarted, ViewRendered
from .inputs import BatchInput

POLL_SECONDS = 0.2


class BlenderActor:
    """A Ray actor holding one Blender (bpy) for its whole life."""

    def __init__(self, setup_pickle: bytes, out_root: str, threads: int):
        from ..render.allocator import keep_freed_memory
        from . import worker

        keep_freed_memory()   # this actor's process only renders (see batch/worker.py)
        self._worker = worker
        self.setup = pickle.loads(setup_pickle)   # the parent's resolved setup: nothing is read again
        self.out_root, self.threads = out_root, threads

    def render(self, path: str, name: str) -> dict:
        try:
            result = self._worker.render_one(path, name, self.out_root, self.setup, threads=self.threads)
        except self._worker.TaskFailed as failure:
            return {"event": "failed", "stage": failure.stage, "error": failure.message}
        return {"event": "done", "host": os.uname().nodename, "pid": os.getpid(), **result}


def _ray():
    try:
        import ray
    except ImportError:
        raise DepthViewsError("--ray needs Ray: pip install 'depth_views[ray]'") from None
    return ray


class RayPool:
    """Render inputs with Ray actors; :meth:`run` yields the same events as :class:`~.local.LocalPool`.

    ``address`` goes to ``ray.init`` (None: ``RAY_ADDRESS`` or a new local Ray; ignored when Ray is
    already initialised); ``actors`` defaults to one per CPU (per GPU with ``--device gpu``).
    """

    def __init__(self, setup: RenderSetup, out_root: str, *, address: str | None = None,
                 actors: int | None = None, timeout: float | None = None, verbose: bool = False,
                 max_attempts: int = 2):
        if actors is not None and actors < 1:
            raise DepthViewsError(f"--workers {actors}: must be at least 1")
        if timeout is not None and not timeout > 0:
            raise DepthViewsError(f"--timeout {timeout:g}: must be a positive number of seconds")
        self.setup, self.out_root = setup, os.path.abspath(out_root)
        self.address, self.actors, self.timeout = address, actors, timeout
        self.verbose, self.max_attempts = verbose, max_attempts

    def _connect(self):
        ray = _ray()
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, log_to_driver=self.verbose, include_dashboard=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise DepthViewsError(f"--ray {self.address or ''}: cannot connect to Ray ({error})") from None
        return ray

    def run(self, items: list[BatchInput], gate=None) -> Iterator:
        """Render ``items``; ``gate`` as for :meth:`.local.LocalPool.run` (asked once per item)."""
        ray = self._connect()
        gpu = self.setup.options.device == "gpu"
        resources = ray.cluster_resources()
        capacity = int(resources.get("GPU" if gpu else "CPU", 0))
        if capacity < 1:
            raise DepthViewsError(f"--ray: the cluster has no {'GPU' if gpu else 'CPU'} to render on")
        count = min(self.actors or capacity, len(items))
        actor_class = ray.remote(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0, max_restarts=0)(
            BlenderActor)
        setup_pickle = pickle.dumps(self.setup)
        threads = 0 if gpu else 1

        pending = collections.deque((item, 0) for item in items)
        idle = [actor_class.remote(setup_pickle, self.out_root, threads) for _ in range(count)]
        running: dict = {}  # ObjectRef -> (actor, item, attempt, submitted)
        numbers = {}
        try:
            while pending or running:
                while idle and pending:
                    if gate is not None and pending[0][1] == 0:
                        instead = gate(pending[0][0])
                        if instead is not None:
                            pending.popleft()
                            yield instead
                            continue
                    actor = idle.pop()
                    item, attempt = pending.popleft()
                    running[actor.render.remote(item.path, item.name)] = (actor, item, attempt, time.monotonic())
                    numbers.setdefault(id(actor), len(numbers) + 1)
                    yield MeshStarted(item, numbers[id(actor)])
                ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    actor, item, attempt, submitted = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                            ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError) as error:
                        store.discard_partial(self.out_root, item.name)
                        idle.append(actor_class.remote(setup_pickle, self.out_root, threads))
                        if attempt + 1 < self.max_attempts:
                            pending.appendleft((item, attempt + 1))
                        else:
                            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                            yield MeshFailed(item, "crash", f"{item.path}: the Ray actor rendering it died "
                                                            f"{attempt + 1} times ({reason})")
                        continue
                    idle.append(actor)
                    if result["event"] == "done":
                        for done in range(1, result["views"] + 1):
                            yield ViewRendered(item, done, result["views"])
                        yield MeshRendered(item, result["folder"], result["views"], result["seconds"],
                                           result.get("rss", 0), numbers.get(id(actor), 0))
                    else:
                        yield MeshFailed(item, result["stage"], result["error"])
                if self.timeout is not None:
                    now = time.monotonic()
                    for ref, (actor, item, attempt, submitted) in list(running.items()):
                        if now - submitted > self.timeout:
                            running.pop(ref)
                            ray.kill(actor, no_restart=True)
                            store.discard_partial(self.out_root, item.name)
                            idle.append(actor_class.remote(setup_pickle, self.out_root, threads))
                            yield MeshFailed(item, "timeout", f"{item.path}: took longer than --timeout "
                                                              f"{self.timeout:g} s; its Ray actor was stopped")
        finally:
            for actor, item, _, _ in running.values():
                ray.kill(actor, no_restart=True)
                store.discard_partial(self.out_root, item.name)
            for actor in idle:
                ray.kill(actor, no_restart=True)
