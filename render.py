"""Rendering metric depth of the current Blender scene from a list of views, into numpy arrays.

One Blender process renders every view of an input: the scene is set up once (engine, camera,
compositor, material override), then each view moves the camera and renders.  The compositor's File
Output writes a 32-bit float EXR into a private scratch folder on tmpfs (``/dev/shm`` when it exists;
background mode has no working Viewer node), which is read straight back and deleted, so no value is
ever quantised.  Everything the set-up changes in the scene is put back on exit.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Iterator, Sequence

import bpy
import numpy as np
from mathutils import Matrix

from . import compositor
from .cameras import Intrinsics, View, pixel_box_of_points
from .compositor.compat import (compositor_switch, eevee_engine_id, enable_material_nodes,
                                set_compositor_switch)
from .errors import DepthViewsError
from .exr_io import read_depth

ENGINES = ("cycles", "workbench", "eevee")
DEVICES = ("cpu", "gpu")
GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")
OVERRIDE_MATERIAL_NAME = "DepthViews Depth Override"
CAMERA_NAME = "DepthViews Camera"


@dataclass
class ViewResult:
    """One rendered view: planar depth (float32, (H, W), scene units, +inf = no surface) and its camera."""

    view: View
    depth: np.ndarray
    K: np.ndarray

    @property
    def world_to_camera(self) -> np.ndarray:
        """4x4, OpenCV axes (x right, y down, z forward)."""
        return self.view.world_to_camera

    @property
    def camera_to_world(self) -> np.ndarray:
        """4x4, Blender axes (x right, y up, looking down -z)."""
        return self.view.camera_to_world


def scratch_folder_root() -> str | None:
    """A tmpfs folder for the per-view EXR round trip (``/dev/shm``), or None for the system default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _save(owner, names) -> list:
    return [(owner, name, getattr(owner, name)) for name in names if hasattr(owner, name)]


def _set(owner, **values) -> None:
    for name, value in values.items():
        if hasattr(owner, name):
            setattr(owner, name, value)


def _depth_override_material():
    material = bpy.data.materials.new(OVERRIDE_MATERIAL_NAME)
    enable_material_nodes(material)
    nodes = material.node_tree.nodes
    nodes.clear()
    emission = nodes.new("ShaderNodeEmission")
    output = nodes.new("ShaderNodeOutputMaterial")
    material.node_tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])
    # Performance: without this, Cycles treats every triangle as a mesh light and builds a light
    # tree over all of them before the first view (4.5 s of a 1M-triangle mesh's 4.8 s first view;
    # benchmarks/RESULTS.md).  Camera rays still see the emission; depth is unchanged.
    if hasattr(material, "cycles"):
        material.cycles.emission_sampling = "NONE"
    return material


def enable_cycles_gpu() -> str:
    """Switch Cycles' preferences to the first GPU backend that has a device; return its name.

    Raises :class:`DepthViewsError` when no GPU device is found.
    """
    preferences = bpy.context.preferences.addons["cycles"].preferences
    for backend in GPU_BACKENDS:
        try:
            preferences.compute_device_type = backend
        except TypeError:
            continue
        preferences.get_devices()
        devices = [d for d in preferences.devices if d.type == backend]
        if devices:
            for device in preferences.devices:
                device.use = device.type == backend
            return backend
    raise DepthViewsError(f"--device gpu: Cycles found no GPU device (tried {', '.join(GPU_BACKENDS)})")


class DepthRenderer:
    """Context manager that sets ``scene`` up for depth-only rendering and restores it afterwards.

    ``engine`` is one of ``cycles`` (default; exact planar depth at pixel centres), ``workbench`` or
    ``eevee``; ``device`` is ``cpu`` or ``gpu`` (Cycles only).  Clip distances are in scene units.
    ``only_objects`` (a list of objects) hides every other object of the scene from the render.
    ``bounds_points`` ((N, 3) world points, e.g. every vertex) promises that everything the render
    can show lies in their convex hull; Cycles then renders only the pixels that hull can cover (the
    rest is background), which is faster and gives the same depth.  Without it the whole frame
    renders.
    """

    def __init__(self, intrinsics: Intrinsics, *, scene=None, engine: str = "cycles",
                 device: str = "cpu", clip_start: float = 0.01, clip_end: float = 1000.0,
                 override_materials: bool = True, exr_codec: str = "NONE", only_objects=None,
                 bounds_points=None):
        if engine not in ENGINES:
            raise DepthViewsError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
        if device not in DEVICES:
            raise DepthViewsError(f"--device {device!r}: choose one of {', '.join(DEVICES)}")
        if not 0 < clip_start < clip_end:
            raise DepthViewsError(
                f"--clip-start {clip_start:g} / --clip-end {clip_end:g}: need 0 < clip start < clip end")
        self.scene = scene or bpy.context.scene
        self.intrinsics = intrinsics
        self.engine, self.device = engine, device
        self.clip_start, self.clip_end = clip_start, clip_end
        self.override_materials = override_materials
        self.exr_codec = exr_codec
        self.only_objects = None if only_objects is None else list(only_objects)
        self.bounds_points = None if bounds_points is None else np.asarray(bounds_points, dtype=np.float64)
        self._saved: list = []
        self._made: list = []
        self._scratch = None
        self._tree_existed = True
        self._compositor_switch = None
        self.camera = None

    # -- set-up and restore ---------------------------------------------------------------------
    def __enter__(self) -> "DepthRenderer":
        try:
            self._set_up()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _set_up(self) -> None:
        scene, render = self.scene, self.scene.render
        view_layer = scene.view_layers[0]
        self._saved += _save(scene, ["camera"])
        self._compositor_switch = compositor_switch(scene)
        self._saved += _save(render, ["engine", "resolution_x", "resolution_y", "resolution_percentage",
                                      "pixel_aspect_x", "pixel_aspect_y", "use_border",
                                      "use_persistent_data", "use_compositing", "film_transparent",
                                      "use_crop_to_border", "border_min_x", "border_max_x",
                                      "border_min_y", "border_max_y"])
        self._saved += _save(view_layer, ["use_pass_z", "material_override"])
        self._saved += _save(scene.cycles, ["samples", "use_adaptive_sampling", "use_denoising",
                                            "max_bounces", "diffuse_bounces", "glossy_bounces",
                                            "transmission_bounces", "volume_bounces",
                                            "transparent_max_bounces", "filter_width", "device",
                                            "use_preview_denoising"])
        self._saved += _save(scene.display, ["render_aa"])
        self._tree_existed = compositor.compositor_tree(scene, create=False) is not None
        if self.only_objects is not None:
            keep = {obj.name for obj in self.only_objects}
            for obj in scene.objects:
                if obj.name not in keep and obj.type != "CAMERA" and not obj.hide_render:
                    self._saved += _save(obj, ["hide_render"])
                    obj.hide_render = True

        width, height = self.intrinsics.width, self.intrinsics.height
        _set(render, resolution_x=width, resolution_y=height, resolution_percentage=100,
             pixel_aspect_x=1.0, pixel_aspect_y=1.0, use_border=False, use_compositing=True)
        if self.engine == "cycles":
            render.engine = "CYCLES"
            # One sample through the pixel centre, no bounces: depth is exact, nothing else is needed.
            _set(scene.cycles, samples=1, use_adaptive_sampling=False, use_denoising=False,
                 use_preview_denoising=False, max_bounces=0, diffuse_bounces=0, glossy_bounces=0,
                 transmission_bounces=0, volume_bounces=0, transparent_max_bounces=0,
                 filter_width=0.01, device="GPU" if self.device == "gpu" else "CPU")
            if self.device == "gpu":
                enable_cycles_gpu()
            render.use_persistent_data = True
        elif self.device == "gpu":
            raise DepthViewsError(f"--device gpu works with --engine cycles only (got {self.engine})")
        elif self.engine == "workbench":
            render.engine = "BLENDER_WORKBENCH"
            scene.display.render_aa = "OFF"
        else:
            render.engine = eevee_engine_id()
        if self.override_materials and self.engine == "cycles":
            material = _depth_override_material()
            self._made.append(material)
            view_layer.material_override = material

        camera_data = bpy.data.cameras.new(CAMERA_NAME)
        camera_data.type = "PERSP"
        camera_data.sensor_fit = "AUTO"
        camera_data.sensor_width = self.intrinsics.sensor_mm
        camera_data.lens = self.intrinsics.lens_mm
        camera_data.shift_x = camera_data.shift_y = 0.0
        camera_data.clip_start, camera_data.clip_end = self.clip_start, self.clip_end
        self.camera = bpy.data.objects.new(CAMERA_NAME, camera_data)
        scene.collection.objects.link(self.camera)
        self._made += [self.camera, camera_data]
        scene.camera = self.camera

        self._scratch = tempfile.mkdtemp(prefix="depth-views-", dir=scratch_folder_root())
        compositor.build_depth_output_tree(scene, self._scratch, view_layer=view_layer,
                                           codec=self.exr_codec)
        if not self._tree_existed:
            self._unlink_own_image_output()

    def _unlink_own_image_output(self) -> None:
        """Performance: in a tree made only for this render (and removed after it) nothing needs
        the image, and without the Image link the compositor skips copying the Combined pass: about
        3 % of a 512x512 view's CPU time (benchmarks/RESULTS.md).  Only our own output node is
        touched (Blender 5.0; on 4.x a new tree brings Blender's default Composite node instead)."""
        tree = compositor.compositor_tree(self.scene, create=False)
        node = tree.nodes.get(compositor.IMAGE_OUTPUT_NAME) if tree is not None else None
        if node is not None and node.inputs:
            for link in list(node.inputs[0].links):
                tree.links.remove(link)

    def _restore(self) -> None:
        scene = self.scene
        if self._tree_existed:
            compositor.remove_depth_output_tree(scene)
        else:
            compositor.remove_compositor_tree(scene)
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._saved.clear()
        set_compositor_switch(scene, self._compositor_switch)
        for block in self._made:
            collection = bpy.data.objects if isinstance(block, bpy.types.Object) else (
                bpy.data.cameras if isinstance(block, bpy.types.Camera) else bpy.data.materials)
            collection.remove(block)
        self._made.clear()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # -- rendering --------------------------------------------------------------------------------
    def _set_render_border(self, view: View) -> None:
        """Performance: render only the pixels the object can cover (benchmarks/RESULTS.md).

        Pixels outside Blender's render border keep the Depth pass's background value (1e10 -> +inf)
        without being path traced; the border is grown by 2 pixels over the projected ``bounds_points``,
        so every pixel centre a triangle can cover is inside it.  Cycles only: its cost is per pixel.
        """
        if self.bounds_points is None or self.engine != "cycles":
            return
        width, height = self.intrinsics.width, self.intrinsics.height
        box = pixel_box_of_points(self.bounds_points, self.intrinsics.K, view.world_to_camera, width, height)
        render = self.scene.render
        render.use_border = box is not None
        if box is None:
            return
        u_start, u_stop, v_start, v_stop = box
        render.use_crop_to_border = False
        render.border_min_x, render.border_max_x = u_start / width, u_stop / width
        render.border_min_y, render.border_max_y = (height - v_stop) / height, (height - v_start) / height   # y up

    def render_depth(self, view: View) -> np.ndarray:
        """Render ``view`` and return planar depth, float32 (H, W), scene units, +inf = no surface."""
        self.camera.matrix_world = Matrix(np.asarray(view.camera_to_world, dtype=float).tolist())
        self._set_render_border(view)
        for stale in glob.glob(os.path.join(self._scratch, "*")):
            os.remove(stale)
        bpy.ops.render.render(write_still=False, scene=self.scene.name)
        written = sorted(glob.glob(os.path.join(self._scratch, "*.exr")))
        if len(written) != 1:
            raise DepthViewsError(
                f"view {view.index}: Blender's compositor wrote {len(written)} depth files instead of 1 "
                f"into {self._scratch} (is the compositor disabled in this scene?)")
        # A plane filling the frame head-on has constant depth: legitimate for our own wiring.
        depth = read_depth(written[0], allow_constant=True)
        os.remove(written[0])
        return depth


def render_views(views: Sequence[View], intrinsics: Intrinsics, **settings) -> Iterator[ViewResult]:
    """Yield a :class:`ViewResult` per view of the current scene (or ``scene=``), in order.

    ``settings`` are :class:`DepthRenderer`'s keyword arguments.  The scene is restored when the
    generator finishes or is closed.
    """
    with DepthRenderer(intrinsics, **settings) as renderer:
        for view in views:
            yield ViewResult(view=view, depth=renderer.render_depth(view), K=intrinsics.K)
