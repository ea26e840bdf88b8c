"""Render a run's meshes in this very process, one after another (bpy is imported when the pool is made).

:class:`InProcessPool` is :class:`~.local.LocalPool` without worker processes: the same
:func:`~.worker.render_one` per mesh and the same events, so a run of ``depth-views render --formats
webdataset`` goes through :func:`~.run.batch_events` (claims, index, resume, failures.jsonl) like a
batch.  What it cannot do: bound a mesh's time (no ``--timeout``) or survive a crash inside Blender
(the run ends; its claims are taken over and its temporary shard removed by the next run).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from ..errors import DepthViewsError, bpy_missing
from ..resolved import RenderSetup
from .events import MeshFailed, MeshRendered, MeshStarted, ViewRendered
from .inputs import BatchInput


def blender_worker():
    """The :mod:`.worker` module (which imports bpy); :class:`DepthViewsError` when there is no bpy."""
    try:
        from . import worker
    except ImportError as error:
        raise bpy_missing(error) from None
    return worker


def checked_blender_worker(setup: RenderSetup):
    """:func:`blender_worker`, refusing in one line a set-up this Blender cannot render (a lens model on
    Blender 4.2: one line for the run, not one failure per mesh)."""
    worker = blender_worker()
    refusal = worker.lens_refusal(setup)
    if refusal:
        raise DepthViewsError(refusal)
    return worker


@contextlib.contextmanager
def silenced_stdout_fd():
    """Send what Blender prints to file descriptor 1 (render progress, importer logs) to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class InProcessPool:
    """Render inputs in this process; :meth:`run` yields the events :class:`~.local.LocalPool` yields.

    Blender's own output is silenced unless ``verbose``.  A mesh's :class:`ViewRendered` events come
    together, after its last view (Blender renders on this thread).  Raises :class:`DepthViewsError`
    when this Python has no ``bpy``, or when this Blender cannot render the set-up (a lens model on 4.2).
    """

    worker = 1   # the number its events carry (LocalPool numbers its workers from 1)

    def __init__(self, setup: RenderSetup, out_root: str, *, verbose: bool = False):
        self._worker = checked_blender_worker(setup)
        self.setup, self.out_root, self.verbose = setup, os.path.abspath(out_root), verbose

    def run(self, items: list[BatchInput], gate=None) -> Iterator:
        """Render ``items`` in order; ``gate(item)``, called just before an item starts, returns None to
        go on or an event to yield instead (another run on the same DIR holds that mesh)."""
        for item in items:
            instead = gate(item) if gate is not None else None
            if instead is not None:
                yield instead
                continue
            yield MeshStarted(item, self.worker)
            views: list[ViewRendered] = []
            try:
                with contextlib.nullcontext() if self.verbose else silenced_stdout_fd():
                    result = self._worker.render_one(
                        item.path, item.name, self.out_root, self.setup,
                        on_view=lambda done, total, item=item: views.append(ViewRendered(item, done, total)))
            except self._worker.TaskFailed as failure:
                yield from views
                yield MeshFailed(item, failure.stage, failure.message)
                continue
            yield from views
            yield MeshRendered(item, result["folder"], result["views"], result["seconds"], result["rss"],
                               self.worker)
