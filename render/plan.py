"""Planning one input: its cameras, clip range and normalisation, decided before the first view renders.

:func:`plan_views` takes the run's :class:`~depth_views.resolved.RenderSetup` (never the raw options)
and a loaded input, and returns a :class:`ViewPlan`: the views (sampled around the object, a camera
file's, or given by the caller), the clip range that keeps the whole object, and the normalising
transform applied with ``--normalize``.  Needs bpy (it reads the loaded objects).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import bpy
import numpy as np

from ..cameras.framing import (auto_distance, auto_radius, bounding_sphere, camera_inside_box, clip_range,
                               depth_range_problem, normalization_matrix, pixel_box_of_points)
from ..cameras.intrinsics import Intrinsics
from ..cameras.models import CameraModel
from ..cameras.nerfstudio import check_nerf_synthetic
from ..cameras.sphere import sample_views, vary_views
from ..cameras.views import View
from ..errors import DepthViewsError
from ..inputs.scene_import import MESH_SUFFIXES, LoadedInput, checked_geometry, transform_root_objects
from ..resolved import RenderSetup


@dataclass
class ViewPlan:
    """Everything decided before the first view renders: cameras, clip range, normalisation.

    ``object_to_world`` is the normalising transform applied to the input (None when not normalised);
    ``extra`` is what goes into cameras.json besides intrinsics and poses.
    """

    intrinsics: Intrinsics
    views: list[View]
    clip_start: float
    clip_end: float
    center: np.ndarray
    radius: float
    object_radius: float
    object_to_world: np.ndarray | None
    camera: CameraModel
    extra: dict = field(default_factory=dict)
    vertices: np.ndarray | None = None   # world vertices of the input's geometry (after normalising)
    warnings: list[str] = field(default_factory=list)


def root_objects(objects) -> list:
    """The topmost parents of ``objects``, each once, in first-seen order."""
    roots = []
    for obj in objects:
        while obj.parent is not None:
            obj = obj.parent
        if obj not in roots:
            roots.append(obj)
    return roots


def saved_transforms(objects) -> list:
    """``(object, matrix_world)`` of the root objects of ``objects``: what ``--normalize`` moves."""
    return [(obj, obj.matrix_world.copy()) for obj in root_objects(objects)]


def restore_transforms(saved: list) -> None:
    """Put back what :func:`saved_transforms` returned."""
    for obj, matrix in saved:
        obj.matrix_world = matrix


@contextlib.contextmanager
def posed_scene(loaded: LoadedInput, frame: int | None, *, restore_objects: bool = True):
    """The scene at animation ``frame`` (``--frame``; None: as it is) while the block runs: one pose for
    every view and pass, set before planning.  On leaving, the scene's frame and (with ``restore_objects``)
    the objects' transforms that ``--normalize`` moves are put back."""
    saved = saved_transforms(loaded.objects) if restore_objects else []
    saved_frame = None
    try:
        if frame is not None:
            saved_frame = loaded.scene.frame_current
            loaded.scene.frame_set(frame)
        yield
    finally:
        restore_transforms(saved)
        if saved_frame is not None:
            loaded.scene.frame_set(saved_frame)


def plan_views(loaded: LoadedInput, setup: RenderSetup, views: list[View] | None = None) -> ViewPlan:
    """Decide cameras and clip range for ``loaded``; with ``--normalize``, move its objects.

    ``views`` (optional) are the caller's own cameras, rendered as given like a camera file's.  The
    normalising transform is applied to the root objects' ``matrix_world`` (callers that must give
    the scene back unchanged, like the add-on, save and restore those matrices).
    """
    options = setup.options
    intrinsics = setup.intrinsics
    vertices = checked_geometry(loaded)
    extra: dict = {"input": os.path.basename(loaded.path), "blender_version": bpy.app.version_string}
    object_to_world = None
    if options.normalize:
        object_to_world = normalization_matrix(*bounding_sphere(vertices))
        transform_root_objects(root_objects(loaded.objects), object_to_world)
        vertices = vertices @ object_to_world[:3, :3].T + object_to_world[:3, 3]
        extra["object_to_world"] = object_to_world.tolist()
    box_min, box_max = vertices.min(axis=0), vertices.max(axis=0)
    center = np.asarray(options.center if options.center is not None else 0.5 * (box_min + box_max),
                        dtype=np.float64)
    extent = float(np.linalg.norm(vertices - center, axis=1).max())
    if extent == 0:
        raise DepthViewsError(f"{loaded.path}: the mesh has zero size (every vertex at one point)")
    warnings: list[str] = []
    camera = setup.camera(object_radius=extent)
    if views is not None or setup.from_file:
        where = options.cameras_file if views is None else "views"
        views = setup.views_around(center) if views is None else list(views)
        if not views:
            raise DepthViewsError("no views to render (an empty list of views)")
        views = grouped_by_lens(views)
        warnings = empty_view_warnings(where, views, vertices, camera)
        distances = [float(np.linalg.norm(view.position - center)) for view in views]
        radius = max(distances)
        auto_near, auto_far = clip_range(min(distances), extent)[0], clip_range(radius, extent)[1]
        if options.cameras_file:
            extra["cameras_file"] = options.cameras_file
    else:
        if options.radius is not None:
            radius = options.radius
        elif camera.is_pinhole:
            radius = auto_radius(extent, intrinsics, options.radius_margin)
        else:
            radius = auto_distance(camera, extent, options.radius_margin)
        near_radius = radius
        views = sample_views(sampling=options.sampling, n_views=options.views,
                             center=center, radius=radius, seed=options.seed, grid=options.grid,
                             elevation_range=options.elevation_range())
        if options.radius_range is not None or options.fov_range is not None:
            views = vary_views(views, center, seed=options.seed, radius_range=options.radius_range,
                               fov_range=options.fov_range, width=intrinsics.width, height=intrinsics.height,
                               sensor_mm=options.sensor)
            extra.update({"radius_range": options.radius_range, "fov_range": options.fov_range})
            near_radius = min(view.radius for view in views)
            radius = max(view.radius for view in views)
        for view in views:
            if camera_inside_box(view.position, box_min, box_max):
                raise DepthViewsError(
                    f"{loaded.path}: camera {view.index} at radius {view.radius:g} is inside the object's bounding box "
                    f"{box_min.round(4).tolist()}..{box_max.round(4).tolist()}; use a larger --radius or --radius auto")
        auto_near, auto_far = clip_range(near_radius, extent)[0], clip_range(radius, extent)[1]
    if "nerf_synthetic" in options.formats:
        if not camera.is_pinhole:
            raise DepthViewsError(f"--formats nerf_synthetic holds one centred pinhole camera; this render's camera is "
                                  f"{camera.name}: use the transforms.json or --formats colmap it also gets")
        check_nerf_synthetic(intrinsics, views)
    clip_start = options.clip_start if options.clip_start is not None else auto_near
    clip_end = options.clip_end if options.clip_end is not None else max(auto_far, clip_start * 10)
    problem = depth_range_problem(clip_start, radius, extent)
    if problem:
        raise DepthViewsError(f"{loaded.path}: {problem}")
    warnings += lens_reach_warnings(options.cameras_file or "--lens-model", camera, views)
    extra.update({"center": center.tolist(), "radius": radius, "object_radius": extent,
                  "bounding_box": [box_min.tolist(), box_max.tolist()],
                  "clip_start": clip_start, "clip_end": clip_end, "engine": options.engine,
                  "sampling": options.sampling, "seed": options.seed})
    return ViewPlan(intrinsics=intrinsics, views=views, clip_start=clip_start, clip_end=clip_end,
                    center=center, radius=radius, object_radius=extent, object_to_world=object_to_world,
                    camera=camera, extra=extra, vertices=vertices, warnings=warnings)


def grouped_by_lens(views: list[View]) -> list[View]:
    """``views`` with those of one lens together (in the order each lens first appears, file order within
    it): every change of a Custom camera's lens re-compiles its shader, so a file whose frames alternate
    between cameras (a rig) renders each camera's views in a row.  Each view keeps its index and name."""
    order: dict = {}
    for view in views:
        if view.lens is not None:
            order.setdefault(view.lens.key, len(order))
    if len(order) < 2:
        return views
    return sorted(views, key=lambda view: order.get(view.lens.key, -1) if view.lens is not None else -1)


def empty_view_warnings(where: str, views: list[View], vertices: np.ndarray, camera: CameraModel) -> list[str]:
    """Warnings naming the given views (a camera file's, or the caller's) that cannot see the object:
    inside its bounding box, or (a pinhole view) looking away from it.  Such a view renders empty."""
    box_min, box_max = vertices.min(axis=0), vertices.max(axis=0)
    warnings = []
    for view in views:
        name = f"{where}: view {view.index}" + (f" ({view.source})" if view.source else "")
        if camera_inside_box(view.position, box_min, box_max):
            warnings.append(f"{name}: the camera is inside the object's bounding box; the view may be empty")
        elif camera.is_pinhole:
            intrinsics = view.intrinsics or camera.intrinsics
            if pixel_box_of_points(vertices, intrinsics.K, view.world_to_camera,
                                   intrinsics.width, intrinsics.height) is None:
                camera_z = (vertices @ view.world_to_camera[:3, :3].T + view.world_to_camera[:3, 3])[:, 2]
                if camera_z.max() <= 0 or np.all(camera_z > 0):
                    warnings.append(f"{name}: the object is not in view; that view is empty")
    return warnings


MIN_LENS_PIXEL_SHARE = 0.25
"""Below this share of an image's pixels with a ray, a lens is warned about (an image circle inscribed in a
16:9 frame has 0.44; distortion parameters off by orders of magnitude fold the lens near its centre)."""


def lens_reach_warnings(where: str, camera: CameraModel, views: list[View]) -> list[str]:
    """A warning, naming ``where`` the lens comes from, for each lens (the render's, or a view's own)
    through which fewer than :data:`MIN_LENS_PIXEL_SHARE` of the image's pixels have a ray: the others
    render as background."""
    lenses = {}
    for lens in (camera.lens, *(view.lens for view in views)):
        if lens is not None:
            lenses.setdefault(lens.key, lens)
    warnings = []
    for lens in lenses.values():
        share = float(np.mean(lens.undistorted_grid()[2]))
        if share < MIN_LENS_PIXEL_SHARE:
            params = " ".join(f"{value:g}" for value in lens.params)
            warnings.append(f"{where}: camera model {lens.name} ({params}): only {100 * share:.1f} % of the "
                            "image's pixels have a ray (the others lie beyond the lens's fold or reach and render "
                            "as background); check its distortion parameters")
    return warnings


def render_bounds(loaded: LoadedInput, plan: ViewPlan) -> np.ndarray | None:
    """Points whose convex hull holds everything the render shows, or None when that is not known.

    A mesh file's imported objects are plain meshes, so their vertices do; a .blend file or the
    add-on's scene can hold instances, particles or objects hidden in the viewport that the vertex
    list misses, so they render the whole frame.
    """
    path = loaded.path or ""
    if os.path.splitext(path)[1].lower() not in MESH_SUFFIXES or not os.path.isfile(path):
        return None
    return plan.vertices
