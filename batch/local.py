"""Worker processes on one machine: each a long-lived Python with its own Blender (pure Python here).

The pool hands meshes one at a time to idle workers, so a slow mesh never holds up the others.  A
worker that dies (a segfault inside Blender) or runs past the per-mesh timeout costs only the mesh
it was on: it is killed if needed, its partial folder is removed, the mesh is reported failed, and a
fresh worker takes its place.  Workers die with the batch process (kill -9 included), so a restarted
run never races an orphan.  A set-up no worker can render (a lens model on Blender 4.2: the workers say
so at start) stops the run before its first mesh with one :class:`DepthViewsError`.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Iterator

from ..errors import DepthViewsError
from ..resolved import RenderSetup
from . import store
from .events import MeshFailed, MeshRendered, MeshStarted, ViewRendered
from .inputs import BatchInput

STARTUP_ATTEMPTS = 3
POLL_SECONDS = 0.2


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_workers(device: str = "cpu") -> int:
    """Two workers, or one per 4 cores on bigger machines (at most 8); 1 on one core or for GPU
    rendering, which shares one device.

    Two even on two cores: a worker's serial stretches (compositor, file writing, loading the next
    mesh) then overlap the other's rendering; 2 workers beat 1 by 9-21 % end to end on the 2-core
    benchmark machine (benchmarks/RESULTS.md, attempt 28 and the final table).
    """
    cpus = available_cpus()
    if device == "gpu" or cpus == 1:
        return 1
    return max(2, min(8, cpus // 4))


def threads_per_worker(workers: int) -> int:
    """Render threads per worker: twice its share of the cores (at most all of them), so that the
    cores stay busy while another worker is in a serial stretch (2 x 2 threads beat 2 x 1 on 2 cores)."""
    cpus = available_cpus()
    return min(cpus, max(1, 2 * cpus // max(1, workers)))


def worker_command() -> tuple[list[str], dict]:
    """The command line and environment that start one worker with this very package."""
    package = __package__  # depth_views.batch, or the add-on's own package path
    top = sys.modules[package.split(".")[0]]
    env = dict(os.environ, PYTHONUNBUFFERED="1", DEPTH_VIEWS_BATCH_PARENT=str(os.getpid()))
    package_dir = os.path.dirname(os.path.abspath(top.__file__))
    if os.path.basename(package_dir) == top.__name__:  # a plain folder on sys.path: make sure of it
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(package_dir),
                                                          env.get("PYTHONPATH")]))
    return [sys.executable, "-m", f"{package}.worker"], env


class _Worker:
    def __init__(self, number: int, setup: dict, events: queue.Queue, verbose: bool):
        self.number, self.task, self.started_at, self.ready = number, None, None, False
        command, env = worker_command()
        self.log = None if verbose else tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            env=env, text=True, encoding="utf-8", bufsize=1)
        self.process.stdin.write(json.dumps(setup) + "\n")
        self.process.stdin.flush()
        threading.Thread(target=self._read, args=(events,), daemon=True).start()

    def _read(self, events: queue.Queue) -> None:
        for line in self.process.stdout:
            try:
                events.put((self, json.loads(line)))
            except ValueError:
                continue
        events.put((self, None))

    def send(self, task_id: int, item: BatchInput) -> bool:
        try:
            self.process.stdin.write(json.dumps({"id": task_id, "path": item.path, "name": item.name}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        self.task, self.started_at = (task_id, item), None
        return True

    def log_tail(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                try:
                    self.process.stdin.close()
                except OSError:
                    pass
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.log is not None:
            self.log.close()


def exit_description(returncode: int) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class LocalPool:
    """Render inputs with ``workers`` long-lived worker processes; :meth:`run` yields events.

    ``timeout`` (seconds, None = no limit) bounds each mesh from the moment its worker starts it.
    """

    def __init__(self, setup: RenderSetup, out_root: str, *, workers: int = 1,
                 threads: int | None = None, timeout: float | None = None, verbose: bool = False):
        if workers < 1:
            raise DepthViewsError(f"--workers {workers}: must be at least 1")
        if timeout is not None and not timeout > 0:
            raise DepthViewsError(f"--timeout {timeout:g}: must be a positive number of seconds")
        self.setup, self.out_root = setup, os.path.abspath(out_root)
        self.workers, self.timeout, self.verbose = workers, timeout, verbose
        self.threads = threads if threads is not None else threads_per_worker(workers)

    def run(self, items: list[BatchInput], gate=None) -> Iterator:
        """Render ``items``; ``gate(item)``, called just before a worker starts an item, returns None
        to go on or an event to yield instead (another run on the same DIR holds that mesh)."""
        # The resolved setup goes to every worker as it is (camera file included): no worker reads it again.
        hand_over = {"setup": base64.b64encode(pickle.dumps(self.setup)).decode("ascii"),
                     "out": self.out_root, "threads": self.threads, "verbose": self.verbose}
        pending = collections.deque(enumerate(items))
        events: queue.Queue = queue.Queue()
        workers: list[_Worker] = []
        numbers = iter(range(1, 1 << 30))
        startup_failures = 0

        def spawn() -> None:
            workers.append(_Worker(next(numbers), hand_over, events, self.verbose))

        def top_up() -> None:
            busy = sum(w.task is not None for w in workers)
            while len(workers) < min(self.workers, len(pending) + busy):
                spawn()

        def retire(worker: _Worker, kill: bool) -> None:
            worker.stop(kill=kill)
            workers.remove(worker)
            if worker.task is not None:
                store.discard_partial(self.out_root, worker.task[1].name)

        try:
            for _ in range(min(self.workers, len(items))):
                spawn()
            while pending or any(w.task is not None for w in workers):
                for worker in workers:
                    while worker.ready and worker.task is None and pending and gate is not None:
                        instead = gate(pending[0][1])
                        if instead is None:
                            break
                        pending.popleft()
                        yield instead
                    if worker.ready and worker.task is None and pending:
                        task_id, item = pending.popleft()
                        if not worker.send(task_id, item):
                            pending.appendleft((task_id, item))
                try:
                    worker, message = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    worker, message = None, None
                if worker is not None and worker in workers:
                    if message is None:  # the worker is gone
                        worker.process.wait()
                        how = exit_description(worker.process.returncode)
                        task = worker.task
                        if not worker.ready:
                            startup_failures += 1
                            if startup_failures >= STARTUP_ATTEMPTS:
                                tail = worker.log_tail()
                                raise DepthViewsError(
                                    f"the Blender worker process does not start ({how})"
                                    + (f": {tail}" if tail else "; run with --verbose to see why"))
                        retire(worker, kill=True)
                        if task is not None:
                            if worker.started_at is None:  # it never began this mesh: not its fault
                                pending.appendleft(task)
                            else:
                                yield MeshFailed(task[1], "crash",
                                                 f"{task[1].path}: the Blender worker died ({how}) while "
                                                 "rendering this input; the other inputs go on")
                        top_up()
                    else:
                        kind = message.get("event")
                        if kind == "ready":
                            worker.ready, startup_failures = True, 0
                        elif kind == "refused":   # this Blender cannot render the set-up: the whole run stops
                            raise DepthViewsError(message["error"])
                        elif kind == "start" and worker.task:
                            worker.started_at = time.monotonic()
                            yield MeshStarted(worker.task[1], worker.number)
                        elif kind == "view" and worker.task:
                            yield ViewRendered(worker.task[1], message["done"], message["total"])
                        elif kind in ("done", "failed") and worker.task:
                            item = worker.task[1]
                            worker.task, worker.started_at = None, None
                            if kind == "done":
                                yield MeshRendered(item, message["folder"], message["views"],
                                                   message["seconds"], message.get("rss", 0), worker.number)
                            else:
                                yield MeshFailed(item, message["stage"], message["error"])
                if self.timeout is not None:
                    now = time.monotonic()
                    for worker in list(workers):
                        if worker.task and worker.started_at and now - worker.started_at > self.timeout:
                            item = worker.task[1]
                            retire(worker, kill=True)
                            yield MeshFailed(item, "timeout", f"{item.path}: took longer than --timeout "
                                                              f"{self.timeout:g} s; the worker was stopped")
                            top_up()
        finally:
            for worker in list(workers):
                retire(worker, kill=worker.task is not None)
