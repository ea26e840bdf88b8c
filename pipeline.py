"""One input file to a folder of metric depth EXRs plus cameras: import, frame, render, write.

Data flows one way: options -> camera set -> scene set-up -> render -> outputs.  The CLI, the Python
API and the add-on all call :func:`render_input` or :func:`render_scene`; none re-implements them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import bpy
import numpy as np

from .camera_files import CAMERAS_FILE, TRANSFORMS_FILE, cameras_document, transforms_document, write_json_atomic
from .cameras import auto_radius, bounding_sphere, camera_inside_box, sample_views
from .errors import DepthViewsError
from .exr_io import write_depth
from .options import RenderOptions, clip_range, normalization_matrix
from .render import DepthRenderer
from .scene_import import LoadedInput, checked_geometry, load_input, transform_root_objects


@dataclass
class InputReport:
    """What :func:`render_input` did: where it wrote, how many views, how long it took (s)."""

    input_path: str
    output_dir: str
    n_views: int
    seconds: float


def prepare_output_folder(folder: str) -> None:
    """Create ``folder`` (and ``depth/`` in it), or raise :class:`DepthViewsError` naming it."""
    try:
        os.makedirs(os.path.join(folder, "depth"), exist_ok=True)
    except OSError as error:
        raise DepthViewsError(f"{folder}: cannot create the output folder ({error.strerror})") from None
    if not os.access(os.path.join(folder, "depth"), os.W_OK | os.X_OK):
        raise DepthViewsError(f"{folder}: the output folder is not writable")


def view_file_name(index: int, n_views: int) -> str:
    """``0000.exr`` style names, wider when there are more than 10000 views."""
    return f"{index:0{max(4, len(str(n_views - 1)))}d}.exr"


def _roots(objects) -> list:
    roots = []
    for obj in objects:
        while obj.parent is not None:
            obj = obj.parent
        if obj not in roots:
            roots.append(obj)
    return roots


def render_scene(loaded: LoadedInput, output_dir: str, options: RenderOptions, *,
                 on_view: Callable[[int, int], None] | None = None) -> InputReport:
    """Render every view of an already loaded scene into ``output_dir``; write cameras last.

    ``on_view(done, total)`` is called after each view is written.  Each EXR is complete on disk
    before the next view starts, so an interruption loses at most the view in progress.
    """
    started = time.perf_counter()
    options.validate()
    intrinsics = options.intrinsics()
    vertices = checked_geometry(loaded)
    extra: dict = {"input": os.path.basename(loaded.path), "blender_version": bpy.app.version_string}
    if options.normalize:
        object_to_world = normalization_matrix(*bounding_sphere(vertices))
        transform_root_objects(_roots(loaded.objects), object_to_world)
        vertices = vertices @ object_to_world[:3, :3].T + object_to_world[:3, 3]
        extra["object_to_world"] = object_to_world.tolist()
    box_min, box_max = vertices.min(axis=0), vertices.max(axis=0)
    center = np.asarray(options.center if options.center is not None else 0.5 * (box_min + box_max),
                        dtype=np.float64)
    extent = float(np.linalg.norm(vertices - center, axis=1).max())
    if extent == 0:
        raise DepthViewsError(f"{loaded.path}: the mesh has zero size (every vertex at one point)")
    radius = options.radius if options.radius is not None else auto_radius(
        extent, intrinsics, options.radius_margin)
    views = sample_views(sampling=options.sampling, n_views=options.views,
                         center=center, radius=radius, seed=options.seed, grid=options.grid,
                         elevation_range=options.elevation_range())
    for view in views:
        if camera_inside_box(view.position, box_min, box_max):
            raise DepthViewsError(
                f"{loaded.path}: camera {view.index} at radius {radius:g} is inside the object's bounding "
                f"box {box_min.round(4).tolist()}..{box_max.round(4).tolist()}; use a larger --radius or --radius auto")
    auto_near, auto_far = clip_range(radius, extent)
    clip_start = options.clip_start if options.clip_start is not None else auto_near
    clip_end = options.clip_end if options.clip_end is not None else max(auto_far, clip_start * 10)
    extra.update({"center": center.tolist(), "radius": radius, "object_radius": extent,
                  "bounding_box": [box_min.tolist(), box_max.tolist()],
                  "clip_start": clip_start, "clip_end": clip_end, "engine": options.engine,
                  "sampling": options.sampling, "seed": options.seed})

    prepare_output_folder(output_dir)
    files = [{"depth": f"depth/{view_file_name(v.index, len(views))}"} for v in views]
    settings = dict(scene=loaded.scene, engine=options.engine, device=options.device,
                    clip_start=clip_start, clip_end=clip_end)
    with DepthRenderer(intrinsics, **settings) as renderer:
        for view, view_files in zip(views, files):
            depth = renderer.render_depth(view)
            write_depth(os.path.join(output_dir, view_files["depth"]), depth, K=intrinsics.K,
                        world_to_camera=view.world_to_camera, camera_to_world=view.camera_to_world,
                        metadata={"view_index": view.index, "units": loaded.units},
                        compression=options.exr_compression)
            if on_view:
                on_view(view.index + 1, len(views))
    write_json_atomic(os.path.join(output_dir, CAMERAS_FILE),
                      cameras_document(intrinsics, views, files, units=loaded.units, extra=extra))
    write_json_atomic(os.path.join(output_dir, TRANSFORMS_FILE),
                      transforms_document(intrinsics, views, files))
    return InputReport(loaded.path, output_dir, len(views), time.perf_counter() - started)


def render_input(path: str, output_dir: str, options: RenderOptions, *,
                 on_view: Callable[[int, int], None] | None = None) -> InputReport:
    """Load ``path`` into a fresh Blender scene and render it into ``output_dir``.

    Raises :class:`DepthViewsError` naming the file for anything the user can fix.
    """
    options.validate()
    return render_scene(load_input(path), output_dir, options, on_view=on_view)
