"""The supported Python API of Depth Views, in one place (also importable as ``from depth_views import ...``).

Everything a script or a training pipeline needs; the modules behind it are internal and free to move.

Settings
    :class:`RenderOptions` (every setting, the CLI's flags as fields), :func:`resolve` (options checked
    and their camera file read, once, into a :class:`RenderSetup` that every call below also takes).
Rendering (needs Blender's ``bpy``: ``pip install "depth_views[blender]"`` or run inside Blender)
    :func:`render_mesh` (one mesh or .blend file to a folder), :func:`render_views` (views of the open
    scene to numpy arrays, no files), :func:`run_batch` / :func:`stream_views` (a whole dataset,
    resumable, in worker processes; streaming yields each view as its mesh finishes).
Reading back (numpy only)
    :func:`read_depth` / :func:`read_depth_with_metadata` (one EXR), :func:`read_png16`,
    :func:`load_views` (a rendered folder, stacked), :func:`load_cameras` (its cameras.json),
    :func:`read_index` / :func:`read_failures` (a batch's journals), :func:`dataset_status` (where a
    batch's folder stands: done, held by live runs, failed, not started), :class:`DepthViews` (shards or
    folders for training, one per view, per-mesh groups of k views or view pairs: ``groups=``,
    ``pairs=``; :func:`split_units`), :func:`torch_dataset` and :func:`collate` (PyTorch),
    :func:`read_camera_file` (a camera file of any supported format); :func:`backproject`,
    :func:`planar_to_distance` and :func:`normals_world_to_camera` (the geometry of a view);
    :func:`covisibility_matrix` (of :class:`CovisibilityView` objects: what a render stores in cameras.json)
    and :func:`relative_pose` (camera a's frame to camera b's).
Cameras
    :class:`Intrinsics`, :class:`View`, :func:`look_at`, :func:`sample_views`, :class:`CameraModel`.

Every problem a user can fix raises :class:`DepthViewsError` with one line naming the file or option.
Importing this module needs no ``bpy``; the rendering functions import Blender when first called.
"""

from __future__ import annotations

from typing import Callable, Iterator

from .cameras import Intrinsics, View, look_at, sample_views
from .cameras.cameras_json import load_cameras
from .cameras.models import CameraModel
from .cameras.camera_set import read_camera_file
from .batch import dataset_status, read_failures, read_index
from .datasets import DepthViews, collate, split_units, torch_dataset
from .errors import DepthViewsError, bpy_missing
from .exr_io import read_depth, read_depth_with_metadata
from .options import RenderOptions
from .outputs import backproject, load_views, normals_world_to_camera, planar_to_distance, read_png16
from .outputs.covisibility import CovisibilityView, covisibility_matrix, relative_pose
from .resolved import RenderSetup, resolve

__all__ = [
    "RenderOptions", "RenderSetup", "resolve", "DepthViewsError",
    "render_mesh", "render_views", "run_batch", "stream_views", "batch_events", "keep_freed_memory",
    "read_depth", "read_depth_with_metadata", "read_png16", "load_views", "load_cameras", "read_camera_file",
    "read_index", "read_failures", "dataset_status", "backproject", "planar_to_distance", "normals_world_to_camera",
    "DepthViews", "torch_dataset", "collate", "split_units", "covisibility_matrix", "CovisibilityView", "relative_pose",
    "Intrinsics", "View", "look_at", "sample_views", "CameraModel",
]


def _rendering():
    try:
        from .render import job
    except ImportError as error:
        raise bpy_missing(error) from None
    return job


def render_mesh(path, out_dir, settings: RenderOptions | RenderSetup | None = None, *,
                on_view: Callable[[int, int], None] | None = None):
    """Render mesh or .blend file ``path`` into folder ``out_dir`` (depth EXRs, cameras.json, the chosen
    passes and formats); return its report (``output_dir``, ``n_views``, ``seconds``, ``warnings``).

    ``settings``: :class:`RenderOptions` (default: ``RenderOptions()``) or a :class:`RenderSetup`;
    ``on_view(done, total)`` is called after each view is written.  Loads the file into a fresh scene.
    """
    return _rendering().render_input(str(path), str(out_dir), settings or RenderOptions(), on_view=on_view)


def render_views(settings: RenderOptions | RenderSetup | None = None, *, scene=None, objects=None,
                 views: list[View] | None = None, mesh=None) -> Iterator:
    """Yield each view of the open scene (default: Blender's current one), or of ``mesh`` (a mesh or .blend
    file loaded into a fresh scene), as a ``ViewResult``: ``depth``
    float32 (H, W) in scene units, +inf = no surface (planar, or the ray length for panoramic cameras),
    ``K``, ``world_to_camera``, ``camera_to_world``, and ``normal`` / ``mask`` / ``rgb`` when the
    settings' ``passes`` ask for them.  No files are written.

    The cameras are planned as for a folder render: sampled around ``objects`` (default: every
    geometry object the scene renders; only these render), a camera file's, or your own ``views``.
    The scene is restored when the generator finishes or is closed.
    """
    return _rendering().render_views(settings or RenderOptions(), scene=scene, objects=objects, views=views,
                                     mesh=None if mesh is None else str(mesh))


def keep_freed_memory() -> bool:
    """For a process that renders many views (glibc): keep freed render buffers for the next view instead
    of returning them to the system (about 10 % of a view's CPU time); the CLI and the batch workers do
    it at start.  Returns whether it applied."""
    from .render.allocator import keep_freed_memory as keep

    return keep()


def run_batch(sources, out, settings: RenderOptions | RenderSetup | None = None, **run_settings):
    """Render every mesh of ``sources`` (folders, globs, list files, files) into ``out`` with worker
    processes (``workers=``), resumable; return the summary.  ``run_settings``: ``workers``, ``part``,
    ``timeout``, ``retry_failed``, ``use_ray``, ``ray_address`` and the shard sizes (see docs/batch.md)."""
    from .batch.run import run_batch as run

    return run(sources, out, settings or RenderOptions(), **run_settings)


def batch_events(sources, out, settings: RenderOptions | RenderSetup | None = None, **run_settings) -> Iterator:
    """The events of the run :func:`run_batch` makes (mesh started, view rendered, mesh rendered, failed
    or skipped), as they happen (see docs/batch.md)."""
    from .batch.run import batch_events as events

    return events(sources, out, settings or RenderOptions(), **run_settings)


def stream_views(sources, out, settings: RenderOptions | RenderSetup | None = None, *,
                 include_finished: bool = False, **run_settings) -> Iterator:
    """The same run as :func:`run_batch`, yielding every (mesh, view) as float32 numpy arrays as soon as
    its mesh is finished (see docs/batch.md); breaking out of the loop stops the workers."""
    from .batch.run import stream_views as stream

    return stream(sources, out, settings or RenderOptions(), include_finished=include_finished, **run_settings)
