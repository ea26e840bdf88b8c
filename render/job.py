"""One input to a folder of metric depth EXRs plus cameras (:class:`RenderJob`), or to numpy arrays
in memory (:func:`render_views`): plan, render, write.

Data flows one way: settings -> resolved setup -> cameras -> scene -> render -> outputs.  The CLI, the
Python API, the add-on and the batch workers all go through :class:`RenderJob` (directly, or via
:func:`render_scene` / :func:`render_input`), each with the :class:`~depth_views.resolved.RenderSetup`
its entry point resolved once; none re-implements it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import bpy
import numpy as np

from ..cameras.atomic_write import write_json_atomic, write_text_atomic
from ..cameras.cameras_json import CAMERAS_FILE, cameras_document
from ..cameras.colmap import COLMAP_FOLDER, MAX_COLMAP_POINTS, colmap_text_model
from ..cameras.lens import MODELS as LENS_MODELS
from ..cameras.nerfstudio import TRANSFORMS_FILE, nerf_synthetic_documents, transforms_document
from ..cameras.views import View
from ..errors import DepthViewsError
from ..inputs.scene_import import LoadedInput, load_input, render_geometry_objects, scene_units
from ..options import RenderOptions
from ..outputs import covisibility
from ..outputs.derived import empty_views_message
from ..outputs.shards import SampleWriter
from ..outputs.writer import OutputWriter, planned_view_files
from ..resolved import RenderSetup, as_setup
from .plan import ViewPlan, plan_views, posed_scene, render_bounds
from .renderer import DepthRenderer, ViewResult


@dataclass
class InputReport:
    """What :func:`render_input` did: where it wrote, how many views, how long it took (s)."""

    input_path: str
    output_dir: str
    n_views: int
    seconds: float
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


class RenderJob:
    """Render one loaded scene into ``output_dir`` a view at a time.

    Use as a context manager: entering plans the views and sets the scene up; :meth:`step` renders
    and writes the next view (every pass and per-view format ``options`` asks for; a view that sees no
    surface raises :class:`DepthViewsError` with ``empty_views="fail"``); :meth:`finish` writes the
    per-input files (npz, contact sheet, fused point cloud), cameras.json (with every file of every
    view in ``views[i].files`` and its ``coverage``; a warning names the views with coverage 0; the
    views' ``covisibility`` matrix, see :func:`~depth_views.outputs.covisibility.stored_at_render`) and
    transforms.json; leaving restores
    the scene (and, with ``restore_objects``, the objects' transforms moved by ``--normalize``).  Each
    view's files are complete on disk before the next view starts, so stopping early (Esc in the
    add-on, a kill) loses at most the view in progress.  ``only_objects`` hides every other object from
    the render while the job runs.
    """

    def __init__(self, loaded: LoadedInput, output_dir: str, setup: RenderSetup, *,
                 restore_objects: bool = False, only_objects=None):
        if not isinstance(setup, RenderSetup):
            raise TypeError(f"RenderJob takes a RenderSetup (depth_views.resolved.resolve), not {type(setup).__name__}")
        self.loaded, self.output_dir, self.setup = loaded, output_dir, setup
        self.options = setup.options
        self.restore_objects = restore_objects
        self.only_objects = only_objects
        self.plan: ViewPlan | None = None
        self.files: list[dict] = []
        self._depths: list | None = None  # each view's depth, for the covisibility matrix (outputs/covisibility.py)
        self.done = 0
        self.warnings: list[str] = []
        self._renderer: DepthRenderer | None = None
        self._writer: OutputWriter | None = None
        self._posed = None   # posed_scene: the --frame pose, undone (with the objects' transforms) by close()
        self.cameras: dict = {}
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
        return len(self.plan.views) if self.plan else self.setup.n_views

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
        scene = self.loaded.scene
        self._posed = posed_scene(self.loaded, self.options.frame, restore_objects=self.restore_objects)
        self._posed.__enter__()
        self.plan = plan = plan_views(self.loaded, self.setup)
        plan.extra["frame"] = scene.frame_current
        plan.extra["pose"] = (f"animation frame {scene.frame_current} (--frame)" if self.options.frame is not None
                              else f"the pose the file opens in (scene frame {scene.frame_current})")
        plan.extra["missing_textures"] = list(getattr(self.loaded, "missing_textures", []))
        for texture in plan.extra["missing_textures"]:
            self.warnings.append(f"{self.loaded.path}: texture {texture} not found (nor beside the file); "
                                 "its material shows its base colour instead")
        options, n_views = self.options, len(plan.views)
        stored = covisibility.stored_at_render(n_views, plan.intrinsics.width, plan.intrinsics.height)
        self._depths = [] if stored else None
        self.files = [planned_view_files(v.index, n_views, options) for v in plan.views]
        if not self.in_memory:
            prepare_output_folder(self.output_dir, sorted({os.path.dirname(p) for p in self.files[0].values()}))
        self._renderer = DepthRenderer(self.setup, plan, scene=self.loaded.scene, only_objects=self.only_objects,
                                       bounds_points=render_bounds(self.loaded, plan))
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
        if self._depths is not None:
            self._depths.append(np.array(rendered["depth"], dtype=np.float32))   # a copy: the writer's values
        if self._writer.coverage[-1] == 0.0 and self.options.empty_views == "fail":
            raise DepthViewsError(f"{self.loaded.path}: view {view.index} sees no surface (coverage 0) and "
                                  "--empty-views fail is set: the input fails (no cameras.json is written)")

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
        for entry, coverage in zip(self.cameras["views"], self._writer.coverage):
            entry["coverage"] = coverage
        if self.done and self._depths is not None:
            self.cameras[covisibility.DOCUMENT_KEY] = covisibility.covisibility_entry(
                self.cameras, self._depths[:self.done], source=self.loaded.path)
        empty = [view.index for view, coverage in zip(views, self._writer.coverage) if coverage == 0.0]
        if empty:
            self.warnings.append(empty_views_message(self.loaded.path, empty, len(views)))
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
            camera = self.plan.camera
            lenses = {(view.lens or camera.lens).name for view in views if (view.lens or camera.lens) is not None}
            no_colmap = sorted(name for name in lenses if LENS_MODELS[name].colmap_id is None)
            if no_colmap:
                self.warnings.append(f"{self.output_dir}: no {COLMAP_FOLDER}/: COLMAP has no camera model for "
                                     f"{', '.join(no_colmap)} (nerfstudio's 8th-order k4); cameras.json and "
                                     f"{TRANSFORMS_FILE} hold it")
            else:
                points, colors = self._writer.fused_cloud(MAX_COLMAP_POINTS)
                folder = os.path.join(self.output_dir, COLMAP_FOLDER)
                prepare_output_folder(folder, ())
                fisheye_K = camera.K if camera.is_panoramic and camera.name == "OPENCV_FISHEYE" else None
                for name, text in colmap_text_model(intrinsics, views, files, points, colors, fisheye_K,
                                                    lens=camera.lens).items():
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
        if self._posed is not None:
            posed, self._posed = self._posed, None
            posed.__exit__(None, None, None)


def render_scene(loaded: LoadedInput, output_dir: str, settings: RenderOptions | RenderSetup, *,
                 on_view: Callable[[int, int], None] | None = None, **job_settings) -> InputReport:
    """Render every view of an already loaded scene into ``output_dir``; write cameras last.

    ``settings``: :class:`RenderOptions` (resolved here, once) or a :class:`RenderSetup`.
    ``on_view(done, total)`` is called after each view is written.  ``job_settings`` are
    :class:`RenderJob`'s keyword arguments.
    """
    with RenderJob(loaded, output_dir, as_setup(settings), **job_settings) as job:
        while not job.finished:
            done = job.step()
            if on_view:
                on_view(done, job.total)
        return job.finish()


def render_input(path: str, output_dir: str, settings: RenderOptions | RenderSetup, *,
                 on_view: Callable[[int, int], None] | None = None) -> InputReport:
    """Load ``path`` (a mesh or .blend file) into a fresh Blender scene and render it into ``output_dir``.

    ``settings``: :class:`RenderOptions` (resolved here, once) or a :class:`RenderSetup`.  Raises
    :class:`DepthViewsError` naming the file for anything the user can fix.
    """
    setup = as_setup(settings)
    return render_scene(load_input(path), output_dir, setup, on_view=on_view)


def scene_input(scene=None, objects=None) -> LoadedInput:
    """The open scene (default: the context's) as an input: ``objects`` (default: every geometry object
    it renders), named after the .blend file (or the scene), in Blender units."""
    scene = scene or bpy.context.scene
    objects = list(objects) if objects is not None else render_geometry_objects(scene)
    name = bpy.data.filepath or f"{scene.name}.blend"
    return LoadedInput(name, scene, objects, units=scene_units(scene))


def render_views(settings: RenderOptions | RenderSetup, *, scene=None, objects=None,
                 views: list[View] | None = None, mesh: str | None = None) -> Iterator[ViewResult]:
    """Render views into numpy arrays, one :class:`ViewResult` at a time; no files.

    What renders: the open scene (``scene``, default the context's), only ``objects`` when given
    (default: every geometry object it renders), or, with ``mesh``, that mesh or .blend file loaded into
    a fresh scene (a mesh file's vertices then bound the render: Cycles skips the pixels they cannot
    cover, as the CLI does).  The same plan as a render to a folder: ``settings`` (:class:`RenderOptions`
    or a :class:`RenderSetup`) choose the cameras (sampled around the objects, a camera file's, or the
    given ``views``), passes, engine and animation ``frame``.  The scene's frame, and the objects moved by
    ``normalize``, are restored when the generator finishes or is closed.
    """
    setup = as_setup(settings)
    if mesh is not None and (scene is not None or objects is not None):
        raise DepthViewsError("render_views: give a mesh file, or a scene and its objects, not both")
    loaded = load_input(mesh) if mesh is not None else scene_input(scene, objects)
    with posed_scene(loaded, setup.options.frame):
        plan = plan_views(loaded, setup, views=views)
        with DepthRenderer(setup, plan, scene=loaded.scene, bounds_points=render_bounds(loaded, plan),
                           only_objects=loaded.objects if objects is not None else None) as renderer:
            for view in plan.views:
                yield renderer.view_result(view)
