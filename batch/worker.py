"""A long-lived Blender worker: renders mesh after mesh into the batch output folder (needs bpy).

:func:`render_one` is the unit of work, shared by the local worker processes and the Ray actors:
import into a fresh scene, render every view into a private partial folder, move the folder into
place, then reset Blender and purge orphan data so memory stays flat over thousands of meshes.

``python -m depth_views.batch.worker`` speaks JSON lines: the first line on stdin is the set-up
(the pickled :class:`~depth_views.resolved.RenderSetup` the batch resolved once, output folder,
render threads), then one task a line; events go to
the original stdout (Blender's own prints are sent elsewhere).  A worker that cannot render the
set-up at all (a lens model on Blender 4.2) answers ``refused`` instead of ``ready`` and exits.
"""

from __future__ import annotations

import base64
import ctypes
import gc
import json
import os
import pickle
import signal
import sys
import threading
import time

import bpy

from ..render.allocator import keep_freed_memory
from ..errors import DepthViewsError
from ..resolved import RenderSetup
from ..outputs.shards import write_fragment
from ..render.job import RenderJob
from ..inputs.scene_import import load_input, reset_blender
from . import faults, store

# The test hook for fault injection (DEPTH_VIEWS_TEST_FAULTS, never set in normal use): batch/faults.py.
FAULT_ENV = faults.FAULT_ENV


class TaskFailed(Exception):
    """A mesh failed at ``stage`` with a one-line ``message``."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage, self.message = stage, message


def resident_memory() -> int:
    """This process's resident set size in bytes (0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _message(path: str, error: BaseException) -> str:
    if isinstance(error, DepthViewsError):
        return str(error)
    lines = str(error).strip().splitlines()
    return f"{path}: {type(error).__name__}: {lines[-1].strip() if lines else 'no message'}"


def clear_blender() -> None:
    """Empty the scene and purge orphan data blocks, so the next mesh starts from nothing."""
    reset_blender()
    if hasattr(bpy.data, "orphans_purge"):
        bpy.data.orphans_purge(do_local_ids=True, do_linked_ids=True, do_recursive=True)
    gc.collect()


def render_one(path: str, name: str, out_root: str, setup: RenderSetup, *, threads: int = 0,
               on_view=None) -> dict:
    """Render input ``path`` into ``out_root/<name>``; return ``{"folder", "views", "seconds", "rss"}``.

    ``threads`` > 0 fixes Blender's render threads.  ``on_view(done, total)`` is called after each
    view.  Raises :class:`TaskFailed` with the stage and a one-line message; nothing is left in the
    output folder then.
    """
    started = time.perf_counter()
    partial = store.partial_folder(out_root, name)
    store.discard_partial(out_root, name)
    stage = "import"
    try:
        faults.inject_fault(path)
        loaded = load_input(path)
        if threads > 0:
            loaded.scene.render.threads_mode = "FIXED"
            loaded.scene.render.threads = threads
        stage = "check"
        with RenderJob(loaded, partial, setup) as job:
            stage = "render"
            while not job.finished:
                done = job.step()
                if on_view:
                    on_view(done, job.total)
            stage = "write"
            job.finish()
            views = job.done
            if job.in_memory:   # --formats webdataset: one tar of the mesh's samples for the run to pack
                write_fragment(partial + ".tar", job.members(name, path))
        folder = partial + ".tar" if job.in_memory else store.move_into_place(partial, out_root, name)
    except Exception as error:
        store.discard_partial(out_root, name)
        clear_blender()
        raise TaskFailed(stage, _message(path, error)) from None
    clear_blender()
    return {"folder": folder, "views": views, "seconds": time.perf_counter() - started,
            "rss": resident_memory()}


def lens_refusal(setup: RenderSetup) -> str | None:
    """The one line that refuses a whole run whose views render through a lens model (Cycles' Custom
    camera) where this Blender cannot (4.2: no Custom camera; a build without OSL), else None.  A worker
    or Ray actor asks once, at start, so the run stops before its first mesh instead of failing each."""
    if not setup.uses_lens_camera:
        return None
    from ..render.renderer import check_lens_camera

    try:
        check_lens_camera(setup.camera())
    except DepthViewsError as error:
        return str(error)
    return None


def _watch_parent(parent: int) -> None:
    """Exit at once when the batch process that started us is gone (it was killed)."""
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> None:
    parent = int(os.environ.get("DEPTH_VIEWS_BATCH_PARENT", os.getppid()))
    if os.getppid() != parent:
        os._exit(3)
    _die_with_parent()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle, not ours
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    hand_over = json.loads(sys.stdin.readline())
    verbose = hand_over.get("verbose", False)
    sys.stdout.flush()
    os.dup2(2 if verbose else os.open(os.devnull, os.O_WRONLY), 1)  # Blender's prints: not on our pipe
    setup = pickle.loads(base64.b64decode(hand_over["setup"]))
    out_root, threads = hand_over["out"], int(hand_over.get("threads", 0))
    # A worker only renders: keep freed render buffers instead of page-faulting them back in for
    # every view, as the render command does (batch workers lacked it: ~20 % more CPU per view).
    keep_freed_memory()

    def send(**event) -> None:
        events.write(json.dumps(event) + "\n")

    refusal = lens_refusal(setup)
    if refusal:   # nothing this worker could render: the pool stops the run with this one line
        send(event="refused", error=refusal)
        return
    send(event="ready", pid=os.getpid())
    if not verbose:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    for line in sys.stdin:
        task = json.loads(line)
        send(event="start", id=task["id"])
        try:
            result = render_one(task["path"], task["name"], out_root, setup, threads=threads,
                                on_view=lambda done, total: send(event="view", id=task["id"], done=done,
                                                                 total=total))
        except TaskFailed as failure:
            send(event="failed", id=task["id"], stage=failure.stage, error=failure.message,
                 rss=resident_memory())
        else:
            send(event="done", id=task["id"], **result)


if __name__ == "__main__":
    main()
