"""A batch run: which inputs still need rendering, the journals, and the summary (pure Python).

:func:`batch_events` is the one driver: the CLI, :func:`run_batch` and :func:`stream_views` all
consume it.  It lists the sources, names every input over the whole list, keeps this part's
inputs, skips finished meshes (and, unless ``retry_failed``, meshes that failed before), renders the
rest with a :class:`~.local.LocalPool` (or a Ray pool) and records each result in ``index.jsonl`` or
``failures.jsonl`` as it arrives.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..cameras.models import CameraModel
from ..errors import DepthViewsError
from ..options import RenderOptions
from ..resolved import RenderSetup, as_setup
from ..outputs import shards
from . import shard_store, store
from .claims import Claims, check_dataset_options, forget_dataset_options, inputs_request, record_inputs
from .events import MeshFailed, MeshRendered, MeshSkipped, MeshStarted, ViewRendered
from .inputs import BatchInput, collect_inputs, select_part
from .local import LocalPool, default_workers
from .ray_pool import sweep_stale_stages


@dataclass
class BatchSummary:
    """Counts of one run; ``failed`` counts this run's inputs listed in failures.jsonl at the end."""

    inputs: int = 0
    rendered: int = 0
    skipped: int = 0
    failed: int = 0
    failed_now: int = 0
    claimed: int = 0          # left to other live runs on the same DIR (they held the claim)
    views: int = 0
    seconds: float = 0.0
    rss: list[int] = field(default_factory=list)

    @property
    def views_per_second(self) -> float:
        return self.views / self.seconds if self.seconds > 0 else 0.0


@dataclass
class BatchPlan:
    """The inputs of this run (after sharding) and what to do with each."""

    all_inputs: list[BatchInput]
    inputs: list[BatchInput]
    todo: list[BatchInput]
    skipped: list[MeshSkipped]


def prepare_output_root(out: str) -> str:
    out_root = os.path.abspath(os.fspath(out))
    if os.path.exists(out_root) and not os.path.isdir(out_root):
        raise DepthViewsError(f"{out_root}: --out is a file, not a folder")
    try:
        os.makedirs(out_root, exist_ok=True)
    except OSError as error:
        raise DepthViewsError(f"{out_root}: cannot create the output folder ({error.strerror})") from None
    if not os.access(out_root, os.W_OK | os.X_OK):
        raise DepthViewsError(f"{out_root}: the output folder is not writable")
    return out_root


def disk_full(message: str) -> bool:
    """Whether a worker's one-line error is a full disk or quota (not the mesh's fault)."""
    return any(words in message for words in ("No space left on device", "Disk quota exceeded"))


def check_shard_size(setup: RenderSetup, shard_views: int | None, shard_bytes: int | None) -> None:
    """Refuse shard sizes that cannot hold one mesh's views (a mesh is never split across shards)."""
    if shard_views is None and shard_bytes is None:
        return
    if "webdataset" not in setup.options.formats:
        raise DepthViewsError("--shard-views/--shard-size go with --formats webdataset")
    n_views, what = setup.n_views, "--cameras" if setup.from_file else "--views"
    if shard_views is not None and shard_views < n_views:
        raise DepthViewsError(f"--shard-views {shard_views}: a shard holds whole meshes and a mesh has "
                              f"{n_views} views ({what}); use at least {n_views}")
    width, height = setup.intrinsics.width, setup.intrinsics.height
    one_view = width * height * 4 // 8 + 2048   # a depth view compresses to about 1/8 at best
    if shard_bytes is not None and shard_bytes < one_view:
        raise DepthViewsError(f"--shard-size {shard_bytes}: smaller than one {width}x{height} view "
                              f"(about {one_view} bytes or more); use at least {one_view * n_views}")


def plan_batch(sources, out_root: str, *, part=None, retry_failed: bool = False,
               done: dict | None = None) -> BatchPlan:
    """Decide what this run renders; see :func:`batch_events`.  ``done`` (WebDataset layout): the
    meshes in finished shards; None: the folder layout (a mesh is done when its folder is)."""
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if sources and all(isinstance(s, BatchInput) for s in sources):   # already named (the render command)
        all_inputs = list(sources)
    else:
        all_inputs = collect_inputs([os.fspath(s) for s in sources], exclude=out_root)
    inputs = select_part(all_inputs, part)
    failed_before = {r["name"]: r for r in store.read_failures(out_root, done)}
    todo, skipped = [], []
    for item in inputs:
        if item.name in done if done is not None else store.is_complete(out_root, item.name):
            skipped.append(MeshSkipped(item, "complete"))
        elif item.name in failed_before and not retry_failed:
            skipped.append(MeshSkipped(item, "failed"))
        else:
            todo.append(item)
    return BatchPlan(all_inputs, inputs, todo, skipped)


def batch_events(sources, out, settings: RenderOptions | RenderSetup, *, workers: int | None = None,
                 part: tuple[int, int] | None = None, timeout: float | None = None,
                 retry_failed: bool = False, ray_address: str | None = None, use_ray: bool = False,
                 verbose: bool = False, summary: BatchSummary | None = None,
                 plan_ready=None, shard_views: int | None = None, shard_bytes: int | None = None,
                 shard: tuple[int, int] | None = None, in_process: bool = False) -> Iterator:
    """Render every input of ``sources`` into folder ``out``; yield events as they happen.

    ``sources``: folders, glob patterns, list files or mesh files, or :class:`BatchInput` items that
    already have their output names; ``settings``: :class:`RenderOptions` (resolved here, once) or a
    :class:`RenderSetup`, which the workers receive.  ``workers`` local worker processes (default
    :func:`default_workers`), or, with ``use_ray``, Ray actors on the cluster at ``ray_address``
    (None: ``RAY_ADDRESS`` or a local Ray), or, with ``in_process``, this process alone
    (:class:`~.in_process.InProcessPool`; no ``timeout``).  ``part=(k, n)`` keeps part k of n (a job
    array's task; ``shard=`` is its old name).
    ``timeout`` (s) bounds each mesh.  ``summary`` is filled in as the run goes; ``plan_ready(plan)``
    is called once the inputs are known.  Bad settings raise :class:`DepthViewsError`; bad inputs
    become :class:`MeshFailed` events and lines in failures.jsonl.

    With ``--formats webdataset`` the views go into tar shards under ``out/shards`` (at most
    ``shard_views`` views or ``shard_bytes`` bytes each; see :mod:`.shard_store`) and a mesh's
    :class:`MeshRendered` carries its tar ``members``.  Several runs may share ``out``: each mesh is
    claimed by one (:mod:`.claims`); a mesh another live run holds is skipped as ``claimed`` (it is that
    run's to finish: :func:`~.status.dataset_status` tells when the whole folder is complete).  The run
    records its sources and part, and itself while it lives, in ``out/.runs`` for that.
    """
    setup = as_setup(settings)
    options = setup.options
    if shard is not None:   # the keyword's name before --part (a tar file is a shard)
        if part is not None and part != shard:
            raise DepthViewsError("give part=(k, n) only (shard= is its old name)")
        part = shard
    if workers is not None and workers < 1:
        raise DepthViewsError(f"--workers {workers}: must be at least 1")
    if timeout is not None and not timeout > 0:
        raise DepthViewsError(f"--timeout {timeout:g}: must be a positive number of seconds")
    if in_process and (use_ray or timeout is not None):
        raise DepthViewsError("in_process renders in this process: no Ray, no --timeout")
    started = time.perf_counter()
    summary = summary if summary is not None else BatchSummary()
    webdataset = "webdataset" in options.formats
    check_shard_size(setup, shard_views, shard_bytes)
    out_root = prepare_output_root(out)
    new_dataset = check_dataset_options(out_root, options)
    index = store.Journal(store.journal_path(out_root, store.INDEX_STEM, part))
    failures = store.Journal(store.journal_path(out_root, store.FAILURES_STEM, part))
    claims = output = None
    try:
        claims = Claims(out_root)
        claims.announce(part=list(part) if part else None)   # status sees a live run from here on
        sweep_stale_stages(out_root)   # Ray attempt folders of runs that are gone
        done = newly_done = None
        if webdataset:
            shard_store.remove_orphan_shards(out_root)
            newly_done = shard_store.IndexTail(out_root)   # lines other runs append from now on
            done = shard_store.done_meshes(out_root, index)
        plan = plan_batch(sources, out_root, part=part, retry_failed=retry_failed, done=done)
        record_inputs(out_root, inputs_request(sources), part)   # what DIR is meant to hold, for status
        summary.inputs = len(plan.inputs)
        if retry_failed:
            retried = {item.name for item in plan.todo}
            if retried & failures.names():
                failures.rewrite([r for r in failures.records if r["name"] not in retried])
        # A kill between a mesh's final rename and its index line: add the missing lines now.
        indexed = {entry["name"] for entry in store.read_index(out_root)}
        for event in plan.skipped:
            if not webdataset and event.reason == "complete" and event.item.name not in indexed:
                index.append(store.index_entry(out_root, event.item.name, event.item.path))
        if plan_ready:
            plan_ready(plan)
        for event in plan.skipped:
            summary.skipped += event.reason == "complete"
            summary.failed += event.reason == "failed"
            yield event
        if not plan.todo:
            return

        def gate(item):
            """Claim ``item`` before a worker starts it: None to render it, else the skip event."""
            if claims.take(item.name) is not None:
                return MeshSkipped(item, "claimed")
            if (item.name in newly_done.refresh()) if webdataset else store.is_complete(out_root, item.name):
                claims.release(item.name)
                return MeshSkipped(item, "complete")
            return None

        if webdataset:
            output = shard_store.ShardedOutput(out_root, index, max_views=shard_views, max_bytes=shard_bytes,
                                               on_done=lambda entry: claims.release(entry["name"]),
                                               owner=claims.owner_id, heartbeat=claims.heartbeat)
        if use_ray:
            from .ray_pool import RayPool
            pool = RayPool(setup, out_root, address=ray_address, actors=workers, timeout=timeout,
                           verbose=verbose, owner=claims.owner_id, heartbeat=claims.heartbeat)
        elif in_process:
            from .in_process import InProcessPool
            pool = InProcessPool(setup, out_root, verbose=verbose)
        else:
            pool = LocalPool(setup, out_root, workers=workers or default_workers(options.device),
                             timeout=timeout, verbose=verbose)
        for event in pool.run(plan.todo, gate=gate):
            if isinstance(event, MeshRendered) and webdataset:
                event.members = output.pack_fragment(event.item.name, event.item.path, event.folder)
                event.entry = shard_store.mesh_record(event.item.name, event.item.path, event.members)
                event.folder = os.path.join(out_root, shards.SHARDS_FOLDER)
            elif isinstance(event, MeshRendered):
                event.entry = store.index_entry(out_root, event.item.name, event.item.path)
                index.append(event.entry)
                claims.release(event.item.name)
            if isinstance(event, MeshRendered):
                summary.rendered += 1
                summary.views += event.views
                summary.rss.append(event.rss)
            elif isinstance(event, MeshFailed):
                if webdataset and event.stage == "write" and disk_full(event.error):
                    raise DepthViewsError(f"{out_root}: the disk is full (a worker could not hand over "
                                          f"{event.item.name}); the finished shards are kept: free some space "
                                          "and run the same command again")
                failures.append(store.failure_entry(event.item.name, event.item.path, event.stage, event.error))
                claims.release(event.item.name)
                summary.failed += 1
                summary.failed_now += 1
            elif isinstance(event, MeshSkipped):
                summary.skipped += event.reason == "complete"
                summary.claimed += event.reason == "claimed"
            summary.seconds = time.perf_counter() - started
            yield event
        if output is not None:
            output.close()   # the last shard: its meshes are done once it has its name
    except DepthViewsError:
        # Refused before anything was rendered into a new DIR (e.g. a lens on a Blender without Cycles'
        # Custom camera): its options must not pin the folder for the next run.
        if new_dataset and not (summary.rendered or summary.failed_now or store.read_index(out_root)):
            forget_dataset_options(out_root)
        raise
    finally:
        if output is not None:
            output.abort()   # nothing to do after close(); after an error: the open shard is not data
        if claims is not None:
            claims.close()
        summary.seconds = time.perf_counter() - started
        index.close()
        failures.close()
        store.remove_empty_partial_root(out_root)


def run_batch(sources, out, settings: RenderOptions | RenderSetup, **run_settings) -> BatchSummary:
    """Run :func:`batch_events` to the end and return the :class:`BatchSummary`."""
    summary = BatchSummary()
    for _ in batch_events(sources, out, settings, summary=summary, **run_settings):
        pass
    return summary


@dataclass
class StreamedView:
    """One rendered view of one mesh, for a training pipeline: depth float32 (H, W) in scene units
    (+inf = no surface; planar or ray length as ``camera_model.depth_kind`` says), ``K`` (3x3; None
    for equirectangular), ``world_to_camera`` (4x4, OpenCV axes), ``camera_to_world``
    (4x4, Blender axes), ``object_to_world`` (the 4x4 ``--normalize`` applied, None without, as in
    cameras.json); ``mesh`` is the input path, ``name`` its output name."""

    mesh: str
    name: str
    index: int
    depth: np.ndarray
    K: np.ndarray
    world_to_camera: np.ndarray
    camera_to_world: np.ndarray
    object_to_world: np.ndarray | None
    camera_model: CameraModel | None = None

    @property
    def normalization(self) -> np.ndarray | None:
        """The name ``object_to_world`` had before issue 21."""
        return self.object_to_world


def read_mesh_views(out_root: str, item: BatchInput) -> Iterator[StreamedView]:
    """The views of finished mesh ``item``, read back from its folder."""
    from ..cameras.cameras_json import load_cameras
    from ..exr_io import read_depth

    folder = store.final_folder(out_root, item.name)
    cameras = load_cameras(folder)
    model = CameraModel.from_document(cameras, source=os.path.join(folder, "cameras.json"))
    for view in cameras["views"]:
        depth = read_depth(os.path.join(folder, view["files"]["depth"]), allow_constant=True)
        yield StreamedView(item.path, item.name, view["index"], depth, view.get("K", cameras["K"]),
                           view["world_to_camera"], view["camera_to_world"], cameras.get("object_to_world"), model)


def shard_views(item: BatchInput, samples) -> Iterator[StreamedView]:
    """The views of mesh ``item`` from its WebDataset ``samples``: ``(key, {extension: bytes})``, one
    per view, as :func:`~depth_views.outputs.shards.iter_shard` and ``group_members`` give them."""
    for key, members in samples:
        sample = shards.decode_sample(key, members)
        yield StreamedView(item.path, item.name, sample["view_index"], sample["depth"],
                           None if sample["camera_model"] == "EQUIRECTANGULAR" else sample["K"],
                           sample["world_to_camera"], sample["camera_to_world"],
                           sample["object_to_world"] if sample["normalized"] else None)


def read_shard_mesh_views(out_root: str, item: BatchInput, done: dict) -> Iterator[StreamedView]:
    """The views of finished mesh ``item``, read back from its shard (``done``: :func:`.shard_store.done_meshes`)."""
    record = done.get(item.name)
    if record is not None:
        path = os.path.join(out_root, *record["shard"].split("/"))
        yield from shard_views(item, shards.iter_shard(path, record["keys"]))


def stream_views(sources, out, settings: RenderOptions | RenderSetup, *, include_finished: bool = False,
                 **run_settings) -> Iterator[StreamedView]:
    """Yield every (mesh, view) of a batch as float32 numpy arrays as soon as its mesh is finished.

    The same run as :func:`batch_events` (same ``run_settings``), so the same resume and failure rules
    hold: a mesh finished by an earlier run is not rendered again (its views are yielded only with
    ``include_finished``), a failed mesh is recorded in failures.jsonl and skipped, and breaking out
    of the loop stops the workers.  With ``formats=("webdataset",)`` the views are packed into shards
    as they are yielded; a mesh yielded but not yet in a finished shard when the run is killed is
    rendered, and yielded, again.
    """
    out_root = os.path.abspath(os.fspath(out))
    setup = as_setup(settings)
    done = None
    for event in batch_events(sources, out, setup, **run_settings):
        if isinstance(event, MeshRendered) and event.members is not None:
            yield from shard_views(event.item, shards.group_members(event.members))
        elif isinstance(event, MeshRendered) or (
                include_finished and isinstance(event, MeshSkipped) and event.reason == "complete"):
            if "webdataset" in setup.options.formats:
                done = done if done is not None else shard_store.done_meshes(out_root)
                yield from read_shard_mesh_views(out_root, event.item, done)
            else:
                yield from read_mesh_views(out_root, event.item)


__all__ = ["BatchSummary", "BatchPlan", "StreamedView", "batch_events", "run_batch", "stream_views",
           "plan_batch", "MeshFailed", "MeshRendered", "MeshSkipped", "MeshStarted", "ViewRendered"]
