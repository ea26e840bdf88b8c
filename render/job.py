"""One input file to a folder of metric depth EXRs plus cameras: import, frame, render, write.

Data flows one way: options -> camera set -> scene set-up -> render -> outputs.  The CLI, the Python
API and the add-on all go through :class:`RenderJob` (directly, or via :func:`render_scene` /
:func:`render_input`); none re-implements it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import bpy
import numpy as np

from ..cameras.atomic_write import write_json_atomic, write_text_atomic
from ..cameras.cameras_json import CAMERAS_FILE, cameras_document
from ..cameras.colmap import COLMAP_FOLDER, MAX_COLMAP_POINTS, colmap_text_model
from ..cameras.framing import auto_distance, auto_radius, bounding_sphere, camera_inside_box, pixel_box_of_points
from ..cameras.intrinsics import Intrinsics
from ..cameras.models import CameraModel
from ..cameras.nerfstudio import TRANSFORMS_FILE, check_nerf_synthetic, nerf_synthetic_documents, transforms_document
from ..cameras.sphere import sample_views, vary_views
from ..cameras.views import View
from ..errors import DepthViewsError
from ..options import RenderOptions, clip_range, depth_range_problem, normalization_matrix
from ..outputs.shards import SampleWriter
from ..outputs.writer import OutputWriter, planned_view_files, view_file_name  # noqa: F401 (re-export)
from .renderer import DepthRenderer
from ..inputs.scene_import import MESH_SUFFIXES, LoadedInput, checked_geometry, load_input, transform_root_objects


@dataclass
class InputReport:
    """What :func:`render_input` did: where it wrote, how many views, how long it took (s)."""

    input_path: str
    output_dir: str
    n_views: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


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
    extra: dict = field(default_factory=dict)
    vertices: np.ndarray | None = None   # world vertices of the input's geometry (after normalising)
    camera: CameraModel | None = None    # the camera model (None: perspective from ``intrinsics``)
    warnings: list[str] = field(default_factory=list)


def prepare_output_folder(folder: str, subfolders=("depth",)) -> None:
    """Create ``folder`` and its ``subfolders``, or raise :class:`DepthViewsError` naming it."""
    try:
        os.makedirs(folder, exist_ok=True)
        for name in subfolders:
            os.makedirs(os.path.join(folder, name), exist_ok=True)
    except OSError as error:
        raise DepthViewsError(f"{folder}: cannot create the output folder ({error.strerror})") from None
    if not all(os.access(os.path.join(folder, name), os.W_OK | os.X_OK) for name in ("", *subfolders)):
        raise DepthViewsError(f"{folder}: the output folder is not writable")


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


def plan_views(loaded: LoadedInput, options: RenderOptions) -> ViewPlan:
    """Decide cameras and clip range for ``loaded``; with ``options.normalize``, move its objects.

    The normalising transform is applied to the root objects' ``matrix_world`` (callers that must
    give the scene back unchanged, like the add-on, save and restore those matrices).
    """
    options.validate()
    intrinsics = options.intrinsics()
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
    if options.cameras_file:
        intrinsics, views, camera, warnings = views_from_file(options, vertices, center)
        distances = [view.radius for view in views]
        radius = max(distances)
        auto_near, auto_far = clip_range(min(distances), extent)[0], clip_range(radius, extent)[1]
        extra["cameras_file"] = options.cameras_file
    else:
        camera = options.camera(object_radius=extent)
        if options.radius is not None:
            radius = options.radius
        elif camera.name == "PINHOLE":
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
        check_nerf_synthetic(intrinsics, views)
    clip_start = options.clip_start if options.clip_start is not None else auto_near
    clip_end = options.clip_end if options.clip_end is not None else max(auto_far, clip_start * 10)
    problem = depth_range_problem(clip_start, radius, extent)
    if problem:
        raise DepthViewsError(f"{loaded.path}: {problem}")
    extra.update({"center": center.tolist(), "radius": radius, "object_radius": extent,
                  "bounding_box": [box_min.tolist(), box_max.tolist()],
                  "clip_start": clip_start, "clip_end": clip_end, "engine": options.engine,
                  "sampling": options.sampling, "seed": options.seed})
    return ViewPlan(intrinsics=intrinsics, views=views, clip_start=clip_start, clip_end=clip_end,
                    center=center, radius=radius, object_radius=extent,
                    object_to_world=object_to_world, extra=extra, vertices=vertices, camera=camera, warnings=warnings)


def views_from_file(options: RenderOptions, vertices: np.ndarray, center) -> tuple:
    """(intrinsics, views, camera model, warnings) of ``options.cameras_file`` (docs/camera-files.md).

    The options' own intrinsics (--resolution/--lens/--fov/--intrinsics) serve frames that carry none
    (.npy poses) and give NeRF-synthetic files without an image size their size.  A view that cannot see
    the object (inside it, or looking away) renders empty, with a warning naming it.
    """
    intrinsics, views, model = options.camera_file_views(center)
    box_min, box_max = vertices.min(axis=0), vertices.max(axis=0)
    warnings = []
    for view in views:
        where = f"{options.cameras_file}: view {view.index} ({view.source})"
        if camera_inside_box(view.position, box_min, box_max):
            warnings.append(f"{where}: the camera is inside the object's bounding box; the view may be empty")
        elif model is None and pixel_box_of_points(vertices, view.intrinsics.K, view.world_to_camera,
                                                   view.intrinsics.width, view.intrinsics.height) is None:
            camera_z = (vertices @ view.world_to_camera[:3, :3].T + view.world_to_camera[:3, 3])[:, 2]
            if camera_z.max() <= 0 or np.all(camera_z > 0):
                warnings.append(f"{where}: the object is not in view; that view is empty")
    return intrinsics, views, model or CameraModel.perspective(intrinsics), warnings


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


class RenderJob:
    """Render one loaded scene into ``output_dir`` a view at a time.

    Use as a context manager: entering plans the views and sets the scene up; :meth:`step` renders
    and writes the next view (every pass and per-view format ``options`` asks for); :meth:`finish`
    writes the per-input files (npz, contact sheet, fused point cloud), cameras.json (with every
    file of every view in ``views[i].files``) and transforms.json; leaving restores
    the scene (and, with ``restore_objects``, the objects' transforms moved by ``--normalize``).  Each
    view's files are complete on disk before the next view starts, so stopping early (Esc in the
    add-on, a kill) loses at most the view in progress.  ``only_objects`` hides every other object from
    the render while the job runs.
    """

    def __init__(self, loaded: LoadedInput, output_dir: str, options: RenderOptions, *,
                 restore_objects: bool = False, only_objects=None):
        self.loaded, self.output_dir, self.options = loaded, output_dir, options
        self.restore_objects = restore_objects
        self.only_objects = only_objects
        self.plan: ViewPlan | None = None
        self.files: list[dict] = []
        self.done = 0
        self.warnings: list[str] = []
        self._renderer: DepthRenderer | None = None
        self._writer: OutputWriter | None = None
        self._saved_matrices: list = []
        self.cameras: dict = {}
        self._saved_frame: int | None = None
        self._started = time.perf_counter()

    @property
    def in_memory(self) -> bool:
        """``--formats webdataset``: views stay in memory (:meth:`members`), nothing is written here."""
        return "webdataset" in self.options.formats

    def members(self, name: str, mesh_path: str) -> list[tuple[str, bytes]]:
        """The WebDataset tar members of the views done, keyed by ``name`` (after :meth:`finish`)."""
        return self._writer.members(name, mesh_path, self.cameras)

    @property
    def total(self) -> int:
        return len(self.plan.views) if self.plan else self.options.views

    @property
    def finished(self) -> bool:
        return self.plan is not None and self.done >= len(self.plan.views)

    def __enter__(self) -> "RenderJob":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        if self.restore_objects:
            self._saved_matrices = saved_transforms(self.loaded.objects)
        scene = self.loaded.scene
        if self.options.frame is not None:
            # One pose for every view and pass: the frame is set before planning, never changed after.
            self._saved_frame = scene.frame_current
            scene.frame_set(self.options.frame)
        self.plan = plan = plan_views(self.loaded, self.options)
        plan.extra["frame"] = scene.frame_current
        plan.extra["pose"] = (f"animation frame {scene.frame_current} (--frame)" if self.options.frame is not None
                              else f"the pose the file opens in (scene frame {scene.frame_current})")
        plan.extra["missing_textures"] = list(getattr(self.loaded, "missing_textures", []))
        for texture in plan.extra["missing_textures"]:
            self.warnings.append(f"{self.loaded.path}: texture {texture} not found (nor beside the file); "
                                 "its material shows its base colour instead")
        options, n_views = self.options, len(plan.views)
        self.files = [planned_view_files(v.index, n_views, options) for v in plan.views]
        if not self.in_memory:
            prepare_output_folder(self.output_dir, sorted({os.path.dirname(p) for p in self.files[0].values()}))
        self._renderer = DepthRenderer(
            plan.intrinsics, scene=self.loaded.scene, engine=options.engine,
            device=options.device, clip_start=plan.clip_start, clip_end=plan.clip_end,
            only_objects=self.only_objects, override_materials=options.opaque_depth,
            passes=[p for p in options.wanted_passes() if p in ("depth", "normal", "mask", "rgb")],
            rgb_engine=options.rgb_engine, rgb_samples=options.rgb_samples,
            rgb_denoise=options.rgb_denoise, alpha_threshold=options.alpha_threshold,
            bounds_points=render_bounds(self.loaded, plan), camera_model=plan.camera, rgb_bounces=options.rgb_bounces,
            rgb_noise_threshold=options.rgb_noise_threshold, rgb_lighting=options.rgb_lighting)
        self._renderer.__enter__()
        if self.in_memory:
            self._writer = SampleWriter(options, plan.intrinsics, n_views, units=self.loaded.units,
                                        object_to_world=plan.object_to_world, camera_model=plan.camera)
            return
        self._writer = OutputWriter(self.output_dir, options, plan.intrinsics, n_views,
                                    units=self.loaded.units, center=plan.center,
                                    object_radius=plan.object_radius, object_ids=self._renderer.object_ids,
                                    camera_model=plan.camera)

    def step(self) -> int:
        """Render and write the next view; return how many views are done."""
        if self.finished:
            return self.done
        view = self.plan.views[self.done]
        rendered = self._renderer.render_passes(view)
        self.write_view(view, self.files[self.done], rendered)
        self.done += 1
        return self.done

    def write_view(self, view: View, view_files: dict, rendered) -> None:
        """Write one view's files (paths in ``view_files`` are relative to the output folder).

        ``rendered`` is :meth:`DepthRenderer.render_passes`' dict (or a planar depth array alone).
        """
        if not isinstance(rendered, dict):
            rendered = {"depth": rendered}
        written = self._writer.write_view(view, rendered)
        if written != view_files:
            raise DepthViewsError(f"view {view.index}: wrote {sorted(written)} but planned {sorted(view_files)}")

    def finish(self) -> InputReport:
        """Write the per-input files, cameras.json and transforms.json for the views done so far."""
        plan = self.plan
        views, files = plan.views[:self.done], self.files[:self.done]
        extra = dict(plan.extra)
        if self.done:
            _, output_extra = self._writer.finish()
            extra.update(output_extra)
            if "rgb" in self.options.passes:
                renderer = self._renderer
                extra["rgb"] = {"engine": self.options.rgb_engine, "samples": self.options.rgb_samples,
                                "denoised": renderer.rgb_denoised if renderer else None,
                                "bounces": self.options.rgb_bounces,
                                "noise_threshold": self.options.rgb_noise_threshold,
                                "lighting": renderer.rgb_lighting_used if renderer else self.options.rgb_lighting,
                                "color": "8-bit sRGB PNG (straight alpha); EXR: linear, premultiplied"}
            self.warnings += [w for w in self._writer.warnings if w not in self.warnings]
        self.warnings = list(plan.warnings) + self.warnings
        self.cameras = cameras_document(plan.intrinsics, views, files, units=self.loaded.units, extra=extra,
                                        camera_model=plan.camera)
        if self.in_memory:
            return InputReport(self.loaded.path, self.output_dir, self.done,
                               time.perf_counter() - self._started, warnings=self.warnings)
        if self.done:
            self._write_camera_exports(views, files)
        write_json_atomic(os.path.join(self.output_dir, CAMERAS_FILE), self.cameras)
        transforms = transforms_document(plan.intrinsics, views, files, png16_scale=self.options.png16_scale,
                                         camera_model=plan.camera)
        transforms_path = os.path.join(self.output_dir, TRANSFORMS_FILE)
        if transforms is not None:
            write_json_atomic(transforms_path, transforms)
        else:
            if os.path.exists(transforms_path):
                os.remove(transforms_path)  # a stale one from an earlier run would describe other cameras
            self.warnings.append(f"{self.output_dir}: no {TRANSFORMS_FILE}: nerfstudio's transforms.json cannot "
                                 f"describe {plan.camera.name} cameras; cameras.json holds them")
        return InputReport(self.loaded.path, self.output_dir, self.done, time.perf_counter() - self._started,
                           warnings=self.warnings)

    def _write_camera_exports(self, views, files) -> None:
        """``--formats colmap`` (colmap/*.txt, points from the fused cloud) and ``nerf_synthetic``
        (transforms_train/test.json) of the views done (docs/camera-files.md)."""
        formats, intrinsics = self.options.formats, self.plan.intrinsics
        if "colmap" in formats:
            points, colors = self._writer.fused_cloud(MAX_COLMAP_POINTS)
            folder = os.path.join(self.output_dir, COLMAP_FOLDER)
            prepare_output_folder(folder, ())
            fisheye_K = self.plan.camera.K if self.plan.camera and self.plan.camera.name == "OPENCV_FISHEYE" else None
            for name, text in colmap_text_model(intrinsics, views, files, points, colors, fisheye_K).items():
                write_text_atomic(os.path.join(folder, name), text)
        if "nerf_synthetic" in formats:
            documents = nerf_synthetic_documents(intrinsics, views, files, self.options.test_fraction)
            for name, document in documents.items():
                write_json_atomic(os.path.join(self.output_dir, name), document)

    def close(self) -> None:
        """Restore the scene; idempotent."""
        if self._renderer is not None:
            renderer, self._renderer = self._renderer, None
            renderer.__exit__(None, None, None)
        restore_transforms(self._saved_matrices)
        self._saved_matrices = []
        if self._saved_frame is not None:
            self.loaded.scene.frame_set(self._saved_frame)
            self._saved_frame = None


def render_scene(loaded: LoadedInput, output_dir: str, options: RenderOptions, *,
                 on_view: Callable[[int, int], None] | None = None, **job_settings) -> InputReport:
    """Render every view of an already loaded scene into ``output_dir``; write cameras last.

    ``on_view(done, total)`` is called after each view is written.  ``job_settings`` are
    :class:`RenderJob`'s keyword arguments.
    """
    with RenderJob(loaded, output_dir, options, **job_settings) as job:
        while not job.finished:
            done = job.step()
            if on_view:
                on_view(done, job.total)
        return job.finish()


def render_input(path: str, output_dir: str, options: RenderOptions, *,
                 on_view: Callable[[int, int], None] | None = None) -> InputReport:
    """Load ``path`` into a fresh Blender scene and render it into ``output_dir``.

    Raises :class:`DepthViewsError` naming the file for anything the user can fix.
    """
    options.validate()
    return render_scene(load_input(path), output_dir, options, on_view=on_view)


def render_input_samples(path: str, name: str, options: RenderOptions, *,
                         on_view: Callable[[int, int], None] | None = None):
    """``--formats webdataset``: render ``path`` in memory; return ``(InputReport, tar members)``,
    the members keyed by mesh ``name`` (see :mod:`depth_views.outputs.shards`)."""
    options.validate()
    with RenderJob(load_input(path), "", options) as job:
        while not job.finished:
            done = job.step()
            if on_view:
                on_view(done, job.total)
        report = job.finish()
        return report, job.members(name, path)
