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

import bpy
import numpy as np
from mathutils import Matrix

from .. import compositor
from ..cameras.models import CameraModel
from ..cameras.framing import pixel_box_of_points
from ..cameras.intrinsics import Intrinsics
from ..cameras.views import View
from ..compositor.compat import (compositor_switch, custom_camera_problem, cycles_has_denoiser, eevee_engine_id,
                                gpu_backends_with_custom_camera, set_exr_float32, enable_material_nodes,
                                enable_world_nodes, panorama_settings, prefer_multilayer_scratch, set_compositor_switch)
from ..errors import DepthViewsError
from ..resolved import RenderSetup
from ..exr_io import read_channels, read_depth
from .lens_camera import make_lens_camera

GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")
OVERRIDE_MATERIAL_NAME = "DepthViews Depth Override"
CAMERA_NAME = "DepthViews Camera"
LIGHT_NAME = "DepthViews Headlight"
WORLD_NAME = "DepthViews Ambient World"
RGB_SCENE_NAME = "DepthViews Colour"
RGB_CAMERA_NAME = "DepthViews Colour Camera"   # a lens model's colour camera: its own shader parameters (snap 0)
RGB_TRANSPARENT_BOUNCES = 16   # alpha cut-outs (leaves) need one transparent bounce per layer seen through
RGB_DENOISE_PREFILTER = "FAST"
RENDER_PASSES = ("depth", "normal", "mask", "rgb")
GEOMETRY_TYPES = {"MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD", "VOLUME"}


@dataclass
class ViewResult:
    """One rendered view: depth (float32, (H, W), scene units, +inf = no surface) and its camera.

    ``depth`` is planar for perspective and orthographic cameras and the ray length for fisheye and
    equirectangular ones (``camera_model.depth_kind``); ``K`` is None for equirectangular.

    With more passes asked for: ``normal`` (float32 (H, W, 3), unit, world frame, facing the camera,
    0 = no surface), ``mask`` (uint16 (H, W) object ids, 0 = background; see
    ``DepthRenderer.object_ids``), ``rgb`` (float32 (H, W, 4) linear RGBA, premultiplied alpha).
    """

    view: View
    depth: np.ndarray
    K: np.ndarray
    normal: np.ndarray | None = None
    mask: np.ndarray | None = None
    rgb: np.ndarray | None = None
    camera_model: CameraModel | None = None

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


def set_up_camera_model(camera_data, model: CameraModel, intrinsics: Intrinsics | None = None) -> None:
    """Make Blender camera data ``camera_data`` the camera ``model`` describes.

    Perspective: sensor fit, lens, sensor and lens shift of ``intrinsics`` (a view's own K; default the
    model's), the render's pixel aspect being set by the caller; orthographic: ``ortho_scale``; fisheye
    and equirectangular: a panoramic camera (Cycles only) whose settings :func:`panorama_settings` finds
    on this version; a lens model: Cycles' Custom camera running the lens shader (Blender 4.5 or newer,
    :mod:`.lens_camera`).  The non-perspective models are centred (sensor fit AUTO, no shift).
    """
    if model.lens is not None:
        make_lens_camera(camera_data, model.lens)
        return
    if intrinsics is not None and model.is_pinhole:
        model = CameraModel.perspective(intrinsics)
    settings = model.blender_camera()
    camera_data.type = settings.pop("type")
    camera_data.sensor_fit = "AUTO"
    camera_data.shift_x = camera_data.shift_y = 0.0
    if camera_data.type == "PERSP":
        for name, value in settings.items():
            setattr(camera_data, name, value)
    elif camera_data.type == "ORTHO":
        camera_data.ortho_scale = settings["ortho_scale"]
    else:
        owner = panorama_settings(camera_data)
        for name, value in settings.items():
            setattr(owner, name, value)


def check_lens_camera(model: CameraModel) -> None:
    """DepthViewsError of one line when ``model`` is a lens model and this Blender cannot render Cycles'
    Custom camera (:func:`~depth_views.compositor.compat.custom_camera_problem`: Blender 4.2, no OSL)."""
    problem = custom_camera_problem() if model.lens is not None else None
    if problem:
        raise DepthViewsError(f"camera model {model.name} (a lens model) {problem}")


class DepthRenderer:
    """Context manager that sets ``scene`` up for depth rendering and restores it afterwards.

    Everything it does comes from the run's :class:`~depth_views.resolved.RenderSetup` (its options:
    engine, device, passes, transparency, colour settings) and the input's
    :class:`~depth_views.render.plan.ViewPlan` (intrinsics, camera model, clip range in scene units).
    ``engine`` is ``cycles`` (exact planar depth at pixel centres), ``workbench`` or ``eevee``;
    ``device`` is ``cpu`` or ``gpu`` (Cycles only).  ``only_objects`` (a list of objects) hides every
    other object of the scene from the render.

    The options' ``passes`` (of ``depth``, ``normal``, ``mask``, ``rgb``; depth is always made) choose
    what :meth:`render_passes` returns.  Depth, normal and mask come from one exact render (Cycles, 1
    sample at the pixel centre, emission override: every surface is opaque unless
    ``keep_transparency``, where materials keep their transparency and Cycles writes depth, normal and
    object index at the first surface whose alpha reaches ``alpha_threshold``).  ``rgb`` is a second render
    of the same view with the scene's own materials, in a colour scene that shares the objects (see
    :meth:`_set_up_rgb_scene`): ``rgb_engine`` (cycles, workbench, eevee), ``rgb_samples`` samples,
    denoised when ``rgb_denoise`` and the build has OpenImageDenoise, ``rgb_bounces`` light bounces,
    adaptive sampling down to ``rgb_noise_threshold`` (0 = off) and ``rgb_lighting``: ``auto`` (the
    scene's lights and world, or ``headlight`` when it has neither), ``headlight`` (a dim ambient
    world and a sun from the camera), ``white`` (a uniform white world) or ``file``.

    ``bounds_points`` ((N, 3) world points, e.g. every vertex) promises that everything the render
    can show lies in their convex hull; Cycles then renders only the pixels that hull can cover (the
    rest is background), which is faster and gives the same depth.  Without it the whole frame
    renders.
    """

    def __init__(self, setup: RenderSetup, plan, *, scene=None, only_objects=None, bounds_points=None):
        options = setup.options
        self.scene = scene or bpy.context.scene
        self.intrinsics = plan.intrinsics
        self.camera_model = plan.camera
        if (self.camera_model.width, self.camera_model.height) != (self.intrinsics.width, self.intrinsics.height):
            raise DepthViewsError("the camera model's image size differs from the intrinsics'")
        self.engine, self.device = options.engine, options.device
        self.clip_start, self.clip_end = plan.clip_start, plan.clip_end
        if not 0 < self.clip_start < self.clip_end:
            raise DepthViewsError(f"--clip-start {self.clip_start:g} / --clip-end {self.clip_end:g}: "
                                  "need 0 < clip start < clip end")
        self.keep_transparency = options.keep_transparency
        self.exr_codec = "NONE"   # the scratch EXRs live on tmpfs for one view: no time spent compressing
        self.only_objects = None if only_objects is None else list(only_objects)
        self.passes = tuple(p for p in RENDER_PASSES if p == "depth" or p in options.passes)
        self.rgb_engine, self.rgb_samples = options.rgb_engine, int(options.rgb_samples)
        self.rgb_denoise, self.alpha_threshold = options.rgb_denoise, float(options.alpha_threshold)
        self.rgb_denoised = False
        self.rgb_bounces, self.rgb_noise_threshold = int(options.rgb_bounces), float(options.rgb_noise_threshold)
        self.rgb_lighting = self.rgb_lighting_used = options.rgb_lighting
        self._rgb_scene = None
        self._rgb_camera = None  # a lens model's own colour camera (the geometry camera's rays are pixel centres)
        self._camera_lens = None  # the lens the cameras are set up for (views of a camera file may differ)
        self._rays_valid = None  # (H, W) bool of the camera model, once a fisheye colour view needs it
        self.object_ids: dict[int, str] = {}
        self.bounds_points = None if bounds_points is None else np.asarray(bounds_points, dtype=np.float64)
        self._saved: list = []
        self._made: list = []
        self._scratch = None
        self._crop_box = None
        self._tree_existed = True
        self._compositor_switch = None
        self.camera = None
        self._camera_intrinsics = None

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

    def _check_lens_camera(self) -> None:
        """A lens model renders through Cycles' Custom camera: refused up front, in one line, on a Blender
        without it (4.2) and with another engine (never rendered undistorted); the GPU backend is checked
        where it is chosen."""
        if self.camera_model.lens is None:
            return
        check_lens_camera(self.camera_model)
        what = f"camera model {self.camera_model.name} (a lens model)"
        if self.engine != "cycles" or ("rgb" in self.passes and self.rgb_engine != "cycles"):
            raise DepthViewsError(f"{what} renders with Cycles only (Cycles' Custom camera)")

    def _set_up(self) -> None:
        self._check_lens_camera()
        scene, render = self.scene, self.scene.render
        view_layer = scene.view_layers[0]
        self._saved += _save(scene, ["camera"])
        self._compositor_switch = compositor_switch(scene)
        self._saved += _save(render, ["engine", "resolution_x", "resolution_y", "resolution_percentage",
                                      "pixel_aspect_x", "pixel_aspect_y", "use_border",
                                      "use_persistent_data", "use_compositing", "film_transparent",
                                      "use_crop_to_border", "border_min_x", "border_max_x",
                                      "border_min_y", "border_max_y"])
        self._saved += _save(scene, ["world"])
        self._saved += _save(view_layer, ["use_pass_z", "material_override", "use_pass_normal",
                                          "use_pass_object_index", "pass_alpha_threshold"])
        self._saved += _save(scene.eevee, ["taa_render_samples"])
        self._saved += _save(scene.cycles, ["samples", "use_adaptive_sampling", "use_denoising",
                                            "max_bounces", "diffuse_bounces", "glossy_bounces",
                                            "transmission_bounces", "volume_bounces",
                                            "transparent_max_bounces", "filter_width", "device",
                                            "use_preview_denoising", "denoiser"])
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
            # Kept materials need transparent bounces to see what lies behind a transparent surface.
            _set(scene.cycles, samples=1, use_adaptive_sampling=False, use_denoising=False,
                 use_preview_denoising=False, max_bounces=0, diffuse_bounces=0, glossy_bounces=0,
                 transmission_bounces=0, volume_bounces=0,
                 transparent_max_bounces=64 if self.keep_transparency else 0,
                 filter_width=0.01, device="GPU" if self.device == "gpu" else "CPU")
            view_layer.pass_alpha_threshold = self.alpha_threshold
            if self.device == "gpu":
                backend = enable_cycles_gpu()
                if self.camera_model.lens is not None and backend not in gpu_backends_with_custom_camera():
                    raise DepthViewsError(
                        f"--device gpu: camera model {self.camera_model.name} renders through Cycles' Custom camera, "
                        f"whose OSL shader runs on the CPU and on {' and '.join(gpu_backends_with_custom_camera())} "
                        f"only; this GPU is {backend}: use --device cpu")
            render.use_persistent_data = True
        elif self.device == "gpu":
            raise DepthViewsError(f"--device gpu works with --engine cycles only (got {self.engine})")
        elif self.engine == "workbench":
            render.engine = "BLENDER_WORKBENCH"
            scene.display.render_aa = "OFF"
        else:
            render.engine = eevee_engine_id()
        if not self.keep_transparency and self.engine == "cycles":
            material = _depth_override_material()
            self._made.append(material)
            view_layer.material_override = material

        camera_data = bpy.data.cameras.new(CAMERA_NAME)
        try:
            set_up_camera_model(camera_data, self.camera_model)
        except BaseException:
            bpy.data.cameras.remove(camera_data)
            raise
        camera_data.clip_start, camera_data.clip_end = self.clip_start, self.clip_end
        self.camera = bpy.data.objects.new(CAMERA_NAME, camera_data)
        scene.collection.objects.link(self.camera)
        self._made += [self.camera, camera_data]
        scene.camera = self.camera
        self._camera_lens = self.camera_model.lens
        self._set_intrinsics(self.intrinsics)

        if "mask" in self.passes:
            self._number_objects(scene)
        self._scratch = tempfile.mkdtemp(prefix="depth-views-", dir=scratch_folder_root())
        depth_output = compositor.build_depth_output_tree(scene, os.path.join(self._scratch, "depth"),
                                                          view_layer=view_layer, codec=self.exr_codec)
        prefer_multilayer_scratch(depth_output.format)
        for pass_name in (p for p in self.passes[1:] if p != "rgb"):
            compositor.build_pass_output(scene, os.path.join(self._scratch, pass_name),
                                         pass_name, view_layer=view_layer, codec=self.exr_codec)
        if "rgb" in self.passes:
            os.makedirs(os.path.join(self._scratch, "rgb"), exist_ok=True)
            self._set_up_rgb_scene(scene)
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

    def _set_up_rgb_scene(self, scene) -> None:
        """Performance: the colour render gets its own scene that shares the objects (and camera).

        Blender keeps one render (and, with persistent data, one Cycles session: BVH, images,
        shaders, the denoiser) per scene, so the geometry scene (emission override, 1 sample) and the
        colour scene (the file's materials) each keep theirs from view to view instead of syncing
        everything again whenever the settings switch (benchmarks/RESULTS.md, issue 16).  The colour
        scene renders straight to a float EXR (no compositor) and is removed on exit.
        """
        rgb = bpy.data.scenes.new(RGB_SCENE_NAME)
        self._rgb_scene = rgb
        self._made.append(rgb)   # removed on exit, also when the set-up fails half-way
        view_layer = scene.view_layers[0]
        layer_objects = [obj for obj in view_layer.objects if obj is not None]  # None: removed, not yet synced
        lighting = self.rgb_lighting
        if lighting == "auto":
            has_light = any(obj.type == "LIGHT" and not obj.hide_render for obj in layer_objects)
            lighting = "file" if has_light or scene.world is not None else "headlight"
        self.rgb_lighting_used = lighting
        # The same collections (with their render switches and this view layer's exclusions), so the
        # colour render shows exactly what the geometry render shows.
        for child in scene.collection.children:
            rgb.collection.children.link(child)
        for obj in scene.collection.objects:
            rgb.collection.objects.link(obj)
        _mirror_layer_collections(view_layer.layer_collection, rgb.view_layers[0].layer_collection)
        if lighting != "file":
            # Lights play no part in the geometry render (emission, no bounces): they can go for both.
            for obj in scene.objects:
                if obj.type == "LIGHT" and not obj.hide_render:
                    self._saved += _save(obj, ["hide_render"])
                    obj.hide_render = True
        rgb.camera = self.camera
        if self.camera_model.lens is not None:
            # its own Custom camera with snap 0 (each sample's own ray: anti-aliased colour); a camera data of
            # its own also keeps each scene's compiled shader when the renders alternate
            data = bpy.data.cameras.new(RGB_CAMERA_NAME)
            try:
                make_lens_camera(data, self.camera_model.lens, snap=False)
            except BaseException:
                bpy.data.cameras.remove(data)
                raise
            data.clip_start, data.clip_end = self.clip_start, self.clip_end
            self._rgb_camera = bpy.data.objects.new(RGB_CAMERA_NAME, data)
            self._made += [self._rgb_camera, data]
            rgb.collection.objects.link(self._rgb_camera)
            rgb.camera = self._rgb_camera
        rgb.frame_current = scene.frame_current
        rgb.unit_settings.system, rgb.unit_settings.scale_length = (scene.unit_settings.system,
                                                                   scene.unit_settings.scale_length)
        _set(rgb.view_settings, view_transform=scene.view_settings.view_transform, look=scene.view_settings.look,
             exposure=scene.view_settings.exposure, gamma=scene.view_settings.gamma)
        rgb.world = scene.world if lighting == "file" else self._make_lighting(rgb, lighting)
        render = rgb.render
        _set(render, resolution_x=self.intrinsics.width, resolution_y=self.intrinsics.height,
             resolution_percentage=100, pixel_aspect_x=self.scene.render.pixel_aspect_x,
             pixel_aspect_y=self.scene.render.pixel_aspect_y, use_border=False,
             film_transparent=True, use_compositing=False, use_sequencer=False)
        render.engine = {"cycles": "CYCLES", "workbench": "BLENDER_WORKBENCH",
                         "eevee": eevee_engine_id()}[self.rgb_engine]
        set_exr_float32(render.image_settings, codec="NONE", color_mode="RGBA")
        render.filepath = os.path.join(self._scratch, "rgb", "rgb")
        _set(render, use_file_extension=True, use_overwrite=True, use_placeholder=False)
        rgb.eevee.taa_render_samples = self.rgb_samples
        rgb.display.render_aa = scene.display.render_aa if self.rgb_engine != "workbench" else "8"
        if self.rgb_engine == "cycles":
            render.use_persistent_data = True
            bounces = self.rgb_bounces
            _set(rgb.cycles, samples=self.rgb_samples, device="GPU" if self.device == "gpu" else "CPU",
                 use_adaptive_sampling=self.rgb_noise_threshold > 0,
                 adaptive_threshold=max(self.rgb_noise_threshold, 0.0),
                 max_bounces=bounces, diffuse_bounces=bounces, glossy_bounces=bounces,
                 transmission_bounces=bounces, volume_bounces=0, transparent_max_bounces=RGB_TRANSPARENT_BOUNCES,
                 use_preview_denoising=False)
            self.rgb_denoised = self.rgb_denoise and cycles_has_denoiser()
            rgb.cycles.use_denoising = self.rgb_denoised
            if self.rgb_denoised:
                # OpenImageDenoise with albedo and normal guides taken as they are ('FAST'): the
                # default 'ACCURATE' denoises both guides first, three filter runs per view instead of one.
                _set(rgb.cycles, denoiser="OPENIMAGEDENOISE", denoising_prefilter=RGB_DENOISE_PREFILTER,
                     denoising_input_passes="RGB_ALBEDO_NORMAL", denoising_use_gpu=self.device == "gpu")

    def _make_lighting(self, rgb_scene, lighting: str):
        """The world of the colour scene for ``headlight`` or ``white`` lighting (see ``rgb_lighting``)."""
        world = bpy.data.worlds.new(WORLD_NAME)
        enable_world_nodes(world)
        self._made.append(world)
        background = next(n for n in world.node_tree.nodes if n.bl_idname == "ShaderNodeBackground")
        if lighting == "white":
            background.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
            background.inputs["Strength"].default_value = 1.0
            return world
        # headlight: a dim grey ambient world plus a sun that shines along the camera's view.
        background.inputs["Color"].default_value = (0.5, 0.5, 0.5, 1.0)
        background.inputs["Strength"].default_value = 0.4
        light_data = bpy.data.lights.new(LIGHT_NAME, "SUN")
        light_data.energy = 1.2
        light = bpy.data.objects.new(LIGHT_NAME, light_data)
        rgb_scene.collection.objects.link(light)
        light.parent = self.camera
        # The sun comes from the camera's upper left, so faces facing the camera differ in shade.
        light.matrix_parent_inverse = Matrix.Identity(4)
        light.rotation_euler = (np.radians(-30.0), np.radians(35.0), 0.0)
        self._made += [light, light_data]
        return world

    def _number_objects(self, scene) -> None:
        """Give every rendered geometry object a pass index 1, 2, ... (by name); remember id -> name."""
        keep = None if self.only_objects is None else {obj.name for obj in self.only_objects}
        objects = sorted((obj for obj in scene.objects if obj.type in GEOMETRY_TYPES and not obj.hide_render
                          and (keep is None or obj.name in keep)), key=lambda obj: obj.name)
        if len(objects) > 32767:
            raise DepthViewsError(f"--passes mask: {len(objects)} objects; at most 32767 can get an id")
        for number, obj in enumerate(objects, start=1):
            self._saved += _save(obj, ["pass_index"])
            obj.pass_index = number
            self.object_ids[number] = obj.name

    def _restore(self) -> None:
        scene = self.scene
        if self._tree_existed:
            compositor.remove_depth_output_tree(scene)
        else:
            compositor.remove_compositor_tree(scene)
        for owner, name, value in reversed(self._saved):
            try:
                setattr(owner, name, value)
            except (TypeError, ValueError):
                # A value this build cannot hold (e.g. Cycles' denoiser reads as '' where Blender
                # was built without OpenImageDenoise): it was never a valid setting to go back to.
                pass
        self._saved.clear()
        set_compositor_switch(scene, self._compositor_switch)
        for block in self._made:
            for kind, collection in ((bpy.types.Scene, bpy.data.scenes),
                                     (bpy.types.Object, bpy.data.objects), (bpy.types.Camera, bpy.data.cameras),
                                     (bpy.types.Light, bpy.data.lights), (bpy.types.World, bpy.data.worlds),
                                     (bpy.types.Material, bpy.data.materials)):
                if isinstance(block, kind):
                    collection.remove(block)
                    break
        self._made.clear()
        self._rgb_scene = self._rgb_camera = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # -- rendering --------------------------------------------------------------------------------
    def view_intrinsics(self, view: View) -> Intrinsics:
        """The intrinsics ``view`` renders with: its own (a camera file's per-frame K) or the set's."""
        intrinsics = view.intrinsics or self.intrinsics
        if (intrinsics.width, intrinsics.height) != (self.intrinsics.width, self.intrinsics.height):
            raise DepthViewsError(
                f"view {view.index}: image size {intrinsics.width}x{intrinsics.height} differs from the set's "
                f"{self.intrinsics.width}x{self.intrinsics.height}; one render has one image size")
        return intrinsics

    def _set_intrinsics(self, intrinsics: Intrinsics) -> None:
        """Realise ``intrinsics`` (any pinhole K) on the camera and the render's pixel aspect; the other
        camera models are centred with square pixels."""
        set_up_camera_model(self.camera.data, self.camera_model, intrinsics)
        settings = intrinsics.blender_camera() if self.camera_model.is_pinhole else \
            {"pixel_aspect_x": 1.0, "pixel_aspect_y": 1.0}
        for scene in (self.scene, self._rgb_scene):  # the colour scene shares the camera, so its pixel aspect too
            if scene is not None:
                scene.render.pixel_aspect_x = settings["pixel_aspect_x"]
                scene.render.pixel_aspect_y = settings["pixel_aspect_y"]
        self._camera_intrinsics = intrinsics

    def _set_render_border(self, view: View) -> None:
        """Performance: render and composite only the pixels the object can cover (benchmarks/RESULTS.md).

        Blender's render border, grown by 2 pixels over the projected ``bounds_points``, holds every
        pixel centre a triangle can cover; the rest is background without being path traced.  The
        border is also cropped, so the compositor and the scratch EXR handle only that rectangle
        (:attr:`_crop_box`), which :meth:`_render_geometry` pastes into a full background frame.
        Cycles only: its cost is per pixel.
        """
        self._crop_box = None
        if self.bounds_points is None or self.engine != "cycles":
            return
        width, height = self.intrinsics.width, self.intrinsics.height
        if self.camera_model.is_pinhole:
            box = pixel_box_of_points(self.bounds_points, self.view_intrinsics(view).K, view.world_to_camera,
                                      width, height)
        else:  # orthographic: the same rectangle; a lens: the pixels whose rays can meet the hull; panoramic: None
            w2c = np.asarray(view.world_to_camera, dtype=np.float64)
            box = self.camera_model.for_view(view).pixel_box(self.bounds_points @ w2c[:3, :3].T + w2c[:3, 3])
        render = self.scene.render
        render.use_border = box is not None
        if box is None:
            return
        u_start, u_stop, v_start, v_stop = box
        render.use_crop_to_border = True
        # Blender turns a border fraction f into pixel int(f * size); a quarter pixel past each edge
        # keeps that exact whether Blender truncates or rounds, and whatever float32 does to f.
        render.border_min_x, render.border_max_x = _border_fraction(u_start, width), _border_fraction(u_stop, width)
        render.border_min_y = _border_fraction(height - v_stop, height)   # Blender's y goes up
        render.border_max_y = _border_fraction(height - v_start, height)
        self._crop_box = box

    def _full_frame(self, view: View, pass_name: str, cropped: np.ndarray, background) -> np.ndarray:
        """``cropped`` (the border rectangle, as the compositor wrote it) placed in a background frame."""
        if self._crop_box is None:
            return cropped
        u_start, u_stop, v_start, v_stop = self._crop_box
        if cropped.shape[:2] != (v_stop - v_start, u_stop - u_start):
            raise DepthViewsError(
                f"view {view.index}: Blender's cropped {pass_name} image is {cropped.shape[1]}x{cropped.shape[0]} "
                f"pixels, not the {u_stop - u_start}x{v_stop - v_start} border it was given")
        frame = np.full((self.intrinsics.height, self.intrinsics.width) + cropped.shape[2:], background,
                        dtype=cropped.dtype)
        frame[v_start:v_stop, u_start:u_stop] = cropped
        return frame

    def _set_view_lens(self, view: View) -> None:
        """Set the Custom cameras up for ``view``'s own lens when it differs from the last view's (a change of
        shader parameters costs a re-JIT, so the plan groups views by camera)."""
        lens = self.camera_model.for_view(view).lens
        if lens is None or lens is self._camera_lens:
            return
        make_lens_camera(self.camera.data, lens)
        if self._rgb_camera is not None:
            make_lens_camera(self._rgb_camera.data, lens, snap=False)
        self._camera_lens = lens

    def _render(self, view: View, scene=None) -> None:
        intrinsics = self.view_intrinsics(view)
        if intrinsics is not self._camera_intrinsics:
            self._set_intrinsics(intrinsics)
        self._set_view_lens(view)
        matrix = Matrix(np.asarray(view.camera_to_world, dtype=float).tolist())
        self.camera.matrix_world = matrix
        if self._rgb_camera is not None:
            self._rgb_camera.matrix_world = matrix
        for stale in glob.glob(os.path.join(self._scratch, "*", "*")):
            os.remove(stale)
        scene = scene or self.scene
        bpy.ops.render.render(write_still=scene is self._rgb_scene, scene=scene.name)

    def _take(self, view: View, pass_name: str) -> str:
        """The one EXR the compositor wrote for ``pass_name``."""
        written = sorted(glob.glob(os.path.join(self._scratch, pass_name, "*.exr")))
        if len(written) != 1:
            raise DepthViewsError(
                f"view {view.index}: Blender's compositor wrote {len(written)} {pass_name} files instead of 1 "
                f"into {self._scratch} (is the compositor disabled in this scene?)")
        return written[0]

    def render_depth(self, view: View) -> np.ndarray:
        """Render ``view`` and return planar depth, float32 (H, W), scene units, +inf = no surface."""
        return self._render_geometry(view)["depth"]

    def _render_geometry(self, view: View) -> dict:
        self._set_render_border(view)
        self._render(view)
        # A plane filling the frame head-on has constant depth: legitimate for our own wiring.
        out = {"depth": self._full_frame(view, "depth", read_depth(self._take(view, "depth"), allow_constant=True),
                                         np.inf)}
        if "normal" in self.passes:
            channels = read_channels(self._take(view, "normal"))
            normal = np.stack([channels[c] for c in _vector_channels(channels)], axis=-1)
            out["normal"] = self._full_frame(view, "normal", normal, 0.0)
        if "mask" in self.passes:
            channels = read_channels(self._take(view, "mask"))
            index = channels[_single_channel(channels)]
            mask = np.rint(np.nan_to_num(index)).clip(0, 65535).astype(np.uint16)
            out["mask"] = self._full_frame(view, "mask", mask, 0)
        lens = self.camera_model.for_view(view).lens
        if lens is not None:
            # Cycles' Depth pass of a Custom camera is the distance from the camera centre: into the model's
            # depth (planar z for the pinhole family), with the float64 mask of cameras/lens.py deciding
            # which pixels have a ray (the shader's float32 mask agrees; this one is exact)
            out["depth"] = lens.distance_to_depth(out["depth"]).astype(np.float32)
            no_ray = ~lens.undistorted_grid()[2]
            for name, background in (("normal", 0.0), ("mask", 0)):
                if name in out:
                    out[name][no_ray] = background
        return out

    def render_passes(self, view: View) -> dict:
        """Render ``view``; return ``{pass: array}`` for every pass of :attr:`passes` (see :class:`ViewResult`)."""
        out = self._render_geometry(view)
        if "rgb" in self.passes:
            self._render(view, self._rgb_scene)
            channels = read_channels(self._take(view, "rgb"))
            out["rgb"] = np.stack([channels[c] if c in channels else np.ones_like(channels["R"])
                                   for c in "RGBA"], axis=-1)
            lens = self.camera_model.for_view(view).lens
            if lens is not None:
                # pixels without a ray are opaque black in Cycles' colour pass: background, so transparent
                out["rgb"][~lens.undistorted_grid()[2]] = 0.0
            elif self.camera_model.name == "OPENCV_FISHEYE":
                # Cycles fills the pixels outside a fisheye's image circle with opaque black; they see
                # nothing, as depth says (background), so they are transparent (premultiplied: all 0).
                out["rgb"][~self._camera_rays_valid()] = 0.0
        return out

    def view_result(self, view: View) -> ViewResult:
        """Render ``view`` into a :class:`ViewResult` (every pass of :attr:`passes`, the view's K and camera)."""
        model = self.camera_model.for_view(view)
        K = self.view_intrinsics(view).K if model.is_pinhole else model.K
        return ViewResult(view=view, K=K, camera_model=model, **self.render_passes(view))

    def _camera_rays_valid(self) -> np.ndarray:
        """(H, W) bool: the pixels the built-in fisheye has a ray for (cached; the model is fixed per render)."""
        if self._rays_valid is None:
            self._rays_valid = self.camera_model.depth_rays()[2]
        return self._rays_valid


def _mirror_layer_collections(source, target) -> None:
    """Give ``target``'s layer collections (another scene's view layer over the same collections)
    the exclude / holdout / indirect-only switches of ``source``'s."""
    for child in source.children:
        twin = target.children.get(child.name)
        if twin is None:
            continue
        for name in ("exclude", "holdout", "indirect_only"):
            if getattr(twin, name) != getattr(child, name):
                setattr(twin, name, getattr(child, name))
        _mirror_layer_collections(child, twin)


def _border_fraction(pixel: int, size: int) -> float:
    """Blender's render-border fraction for the pixel edge ``pixel`` of ``size`` (see _set_render_border)."""
    return min(1.0, (pixel + 0.25) / size)


def _vector_channels(channels: dict) -> list[str]:
    for names in (("R", "G", "B"), ("X", "Y", "Z")):
        if all(n in channels for n in names):
            return list(names)
    raise DepthViewsError(f"normal pass EXR has channels {sorted(channels)}; expected R G B or X Y Z")


def _single_channel(channels: dict) -> str:
    for name in ("V", "Y", "R", "Z"):
        if name in channels:
            return name
    if len(channels) == 1:
        return next(iter(channels))
    raise DepthViewsError(f"object index EXR has channels {sorted(channels)}; expected one")
