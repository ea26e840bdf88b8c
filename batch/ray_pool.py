"""The batch on a Ray cluster: long-lived actors, each a warm Blender, pull meshes from the list.

Needs the optional ``ray`` extra (``pip install "depth_views[ray]"``) and, on every node, this
package with bpy installed and the output folder on a shared filesystem at the same path.  Each
actor renders with :func:`.worker.render_one`, exactly what a local worker does, so the files are
the same.

**Each attempt writes into a folder of its own**, ``DIR/.partial/ray-<host>-<pid>-<hex>/`` (host and
pid: the batch process's), and only the batch process moves a result into place (folder layout) or
hands it to the shard writer (WebDataset), once, for a result it received.  An actor that outlives
its lost node (its process runs on for seconds after its raylet is gone, longer behind a network
partition) can therefore write only into its own attempt's folder, which the batch process deletes:
never into a mesh's folder, another attempt's files or a shard.  A mesh's claim belongs to the batch
process, so it holds while the mesh is tried again.

**Lost actors.**  An actor that dies (a Blender crash, a lost node: ``ActorDiedError``,
``ActorUnavailableError``, ...) is killed for good and its mesh goes back to the queue, tried again
on another actor up to ``max_attempts`` times in all.  A replacement is started only while the
cluster, as it is now, has room for it (``live actors < its CPUs``, or GPUs), and gets work only once
it is placed; meanwhile the surviving actors take the queue.  With no actor left and none placed for
``placement_timeout`` seconds the run stops with one line (the next run resumes).  A mesh past
``timeout`` has its actor killed.  An actor whose Blender cannot render the set-up (a lens model on
Blender 4.2, known as it starts) answers its first mesh with ``refused``: the run stops there with that
one line, nothing recorded as failed.
"""

from __future__ import annotations

import collections
import os
import pickle
import shutil
import time
from typing import Iterator

from ..errors import DepthViewsError
from ..outputs.ownership import Heartbeat, Owner, remove_gone_temporaries
from ..resolved import RenderSetup
from . import store
from .events import MeshFailed, MeshRendered, MeshStarted, ViewRendered
from .inputs import BatchInput

POLL_SECONDS = 0.2
PLACEMENT_SECONDS = 300.0
STARTUP_ATTEMPTS = 3
STAGE_PREFIX = "ray-"   # DIR/.partial/ray-<host>-<pid>-<8 hex>: one attempt's private folder


class BlenderActor:
    """A Ray actor holding one Blender (bpy) for its whole life."""

    def __init__(self, setup_pickle: bytes, threads: int):
        from ..render.allocator import keep_freed_memory
        from . import worker

        keep_freed_memory()   # this actor's process only renders (see batch/worker.py)
        self._worker = worker
        self.setup = pickle.loads(setup_pickle)   # the parent's resolved setup: nothing is read again
        self.threads = threads
        self.refusal = worker.lens_refusal(self.setup)   # asked once, as the actor starts

    def render(self, path: str, name: str, stage: str) -> dict:
        """Render ``path`` into folder ``stage`` (this attempt's own): the result's ``folder`` is
        ``stage/<name>`` or, for WebDataset, the mesh's tar fragment inside ``stage``.  An actor whose
        Blender cannot render the set-up (a lens model on 4.2) answers ``refused`` and renders nothing."""
        if self.refusal:
            return {"event": "refused", "error": self.refusal}
        try:
            result = self._worker.render_one(path, name, stage, self.setup, threads=self.threads)
        except self._worker.TaskFailed as failure:
            return {"event": "failed", "stage": failure.stage, "error": failure.message}
        return {"event": "done", "host": os.uname().nodename, "pid": os.getpid(), **result}


def _ray():
    try:
        import ray
    except ImportError:
        raise DepthViewsError("--ray needs Ray: pip install 'depth_views[ray]'") from None
    return ray


def sweep_stale_stages(out_root: str) -> int:
    """Delete the attempt folders (``DIR/.partial/ray-*``) of batch processes that are gone; return
    how many.  Which process owns one and when it is gone: :mod:`depth_views.outputs.ownership`."""
    return remove_gone_temporaries(os.path.join(out_root, store.PARTIAL_FOLDER), STAGE_PREFIX, "",
                                   lambda path: shutil.rmtree(path, ignore_errors=True))


class RayPool:
    """Render inputs with Ray actors; :meth:`run` yields the same events as :class:`~.local.LocalPool`.

    ``address`` goes to ``ray.init`` (None: ``RAY_ADDRESS`` or a new local Ray; ignored when Ray is
    already initialised); ``actors`` defaults to one per CPU (per GPU with ``--device gpu``).
    ``actor_class`` is the class the actors are made of (default :class:`BlenderActor`; a test gives
    one without Blender): ``actor_class(setup_pickle, threads)`` with ``render(path, name, stage)``.
    """

    def __init__(self, setup: RenderSetup, out_root: str, *, address: str | None = None,
                 actors: int | None = None, timeout: float | None = None, verbose: bool = False,
                 max_attempts: int = 2, actor_class=None, placement_timeout: float = PLACEMENT_SECONDS,
                 owner: Owner | None = None, heartbeat: Heartbeat | None = None):
        if actors is not None and actors < 1:
            raise DepthViewsError(f"--workers {actors}: must be at least 1")
        if timeout is not None and not timeout > 0:
            raise DepthViewsError(f"--timeout {timeout:g}: must be a positive number of seconds")
        self.setup, self.out_root = setup, os.path.abspath(out_root)
        self.address, self.actors, self.timeout = address, actors, timeout
        self.verbose, self.max_attempts = verbose, max_attempts
        self.actor_class = actor_class or BlenderActor
        self.placement_timeout = placement_timeout
        self.owner, self.heartbeat = owner, heartbeat   # the run's (its claims'); None: this pool's own
        self.in_shards = "webdataset" in setup.options.formats

    def _connect(self):
        ray = _ray()
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, log_to_driver=self.verbose, include_dashboard=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise DepthViewsError(f"--ray {self.address or ''}: cannot connect to Ray ({error})") from None
        return ray

    def _publish(self, result: dict, item: BatchInput) -> str:
        """Where the received result of ``item`` ends up: its folder moved into place (in one rename,
        never over a finished one), or, for WebDataset, its fragment, which the run packs."""
        if self.in_shards:
            return result["folder"]
        return store.move_into_place(result["folder"], self.out_root, item.name)

    def run(self, items: list[BatchInput], gate=None) -> Iterator:
        """Render ``items``; ``gate`` as for :meth:`.local.LocalPool.run` (asked once per item)."""
        ray = self._connect()
        lost = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError)
        gpu = self.setup.options.device == "gpu"
        unit = "GPU" if gpu else "CPU"

        def capacity() -> int:   # read anew each time: a lost node's CPUs are gone from it
            return int(ray.cluster_resources().get(unit, 0))

        room = capacity()
        if room < 1:
            raise DepthViewsError(f"--ray: the cluster has no {unit} to render on")
        wanted = min(self.actors or room, len(items))
        actor_class = ray.remote(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0, max_restarts=0)(
            self.actor_class)
        setup_pickle = pickle.dumps(self.setup)
        threads = 0 if gpu else 1
        owner = Owner.this_run() if self.owner is None else self.owner
        heartbeat = Heartbeat() if self.heartbeat is None else self.heartbeat   # keeps attempt folders fresh
        stages: set[str] = set()

        def new_stage() -> str:
            path = os.path.join(self.out_root, store.PARTIAL_FOLDER, owner.temporary_name(STAGE_PREFIX, ""))
            try:
                os.makedirs(path)
            except OSError as error:
                raise DepthViewsError(f"{path}: cannot create ({error.strerror})") from None
            stages.add(path)
            heartbeat.add(path)
            return path

        def drop_stage(path: str) -> None:
            heartbeat.discard(path)
            stages.discard(path)
            shutil.rmtree(path, ignore_errors=True)

        pending = collections.deque((item, 0) for item in items)
        idle = [actor_class.remote(setup_pickle, threads) for _ in range(wanted)]
        live = len(idle)      # actors given work or placed, not lost
        starting: dict = {}   # __ray_ready__ ref -> replacement actor, given work once placed
        running: dict = {}    # ObjectRef -> (actor, item, attempt, submitted, stage)
        numbers: dict = {}
        start_failures = 0
        waiting_since = None  # since when work waits with no actor to take it
        looked = 0.0

        def lose(actor) -> None:
            nonlocal live
            ray.kill(actor, no_restart=True)   # an unavailable actor may still be running: stop it
            live -= 1

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
                    stage = new_stage()
                    running[actor.render.remote(item.path, item.name, stage)] = (
                        actor, item, attempt, time.monotonic(), stage)
                    numbers.setdefault(id(actor), len(numbers) + 1)
                    yield MeshStarted(item, numbers[id(actor)])
                if pending and live + len(starting) < wanted and time.monotonic() - looked > 1.0:
                    looked = time.monotonic()   # the cluster's size is read at most once a second
                    for _ in range(min(capacity(), wanted) - live - len(starting)):
                        fresh = actor_class.remote(setup_pickle, threads)
                        starting[fresh.__ray_ready__.remote()] = fresh
                if starting:
                    placed, _ = ray.wait(list(starting), num_returns=len(starting), timeout=0)
                    for ref in placed:
                        actor = starting.pop(ref)
                        try:
                            ray.get(ref)
                        except lost as error:
                            ray.kill(actor, no_restart=True)
                            start_failures += 1
                            if start_failures >= STARTUP_ATTEMPTS:
                                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                                raise DepthViewsError(f"--ray: new actors die as they start ({reason})") from None
                            continue
                        start_failures = 0
                        live += 1
                        idle.append(actor)
                if not running:
                    if pending and not idle:
                        waiting_since = waiting_since or time.monotonic()
                        if time.monotonic() - waiting_since > self.placement_timeout:
                            raise DepthViewsError(
                                f"--ray: every actor was lost and none could be placed for "
                                f"{self.placement_timeout:g} s (the cluster has {capacity()} {unit}s now); "
                                "run the same command again once it has room")
                        time.sleep(POLL_SECONDS)
                    continue
                waiting_since = None
                ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    actor, item, attempt, submitted, stage = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except lost as error:
                        lose(actor)
                        drop_stage(stage)
                        if attempt + 1 < self.max_attempts:
                            pending.appendleft((item, attempt + 1))
                        else:
                            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                            yield MeshFailed(item, "crash", f"{item.path}: the Ray actor rendering it died "
                                                            f"{attempt + 1} times ({reason})")
                        continue
                    idle.append(actor)
                    if result["event"] == "refused":   # this cluster's Blender cannot render the set-up
                        drop_stage(stage)
                        raise DepthViewsError(result["error"])
                    if result["event"] == "done":
                        try:
                            folder = self._publish(result, item)
                        except (DepthViewsError, OSError) as error:
                            drop_stage(stage)
                            yield MeshFailed(item, "write", f"{item.path}: {error}")
                            continue
                        for done in range(1, result["views"] + 1):
                            yield ViewRendered(item, done, result["views"])
                        yield MeshRendered(item, folder, result["views"], result["seconds"],
                                           result.get("rss", 0), numbers.get(id(actor), 0))
                    else:
                        yield MeshFailed(item, result["stage"], result["error"])
                    drop_stage(stage)   # after the yield: the run has packed a WebDataset fragment by now
                if self.timeout is not None:
                    now = time.monotonic()
                    for ref, (actor, item, attempt, submitted, stage) in list(running.items()):
                        if now - submitted > self.timeout:
                            running.pop(ref)
                            lose(actor)
                            drop_stage(stage)
                            yield MeshFailed(item, "timeout", f"{item.path}: took longer than --timeout "
                                                              f"{self.timeout:g} s; its Ray actor was stopped")
        finally:
            for actor, *_ in running.values():
                ray.kill(actor, no_restart=True)
            for actor in idle + list(starting.values()):
                ray.kill(actor, no_restart=True)
            if heartbeat is not self.heartbeat:
                heartbeat.close()
            for stage in list(stages):
                drop_stage(stage)
