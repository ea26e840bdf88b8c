"""Render settings shared by the CLI, the Python API and the add-on panel (pure Python, no bpy)."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .cameras.framing import (NORMALIZED_RADIUS, auto_ortho_scale, clip_range,  # noqa: F401 (re-exported)
                              depth_range_problem, normalization_matrix)
from .cameras.intrinsics import Intrinsics
from .cameras.lens import LensModel
from .cameras.limits import BLENDER_MIN_CLIP_START, MAX_DEPTH, MAX_VIEWS  # noqa: F401 (re-exported)
from .cameras.models import (CAMERA_MODELS, DEFAULT_FISHEYE_FOV_DEG, FULL_LATITUDE, FULL_LONGITUDE, CameraModel,
                             builtin_camera, camera_model)
from .cameras.sphere import elevation_band
from .errors import DepthViewsError

EXR_COMPRESSIONS = ("none", "zip", "zips", "piz", "rle")
PASSES = ("depth", "distance", "normal", "rgb", "mask", "xyz")
"""What a view can produce: planar depth, Euclidean distance, normals, a shaded colour image, object ids,
world coordinates per pixel."""
FORMATS = ("exr", "png16", "preview", "npz", "contact_sheet", "ply", "fused_ply", "colmap", "nerf_synthetic",
           "webdataset")
"""How the passes are stored: per view (exr, png16, preview, ply) or per input (npz, contact_sheet, fused_ply),
camera files for training code (colmap, nerf_synthetic; docs/camera-files.md), or every pass of every view
as samples of WebDataset tar shards (webdataset, alone; outputs/shards.py)."""
ENGINES = ("cycles", "workbench", "eevee")
"""``--engine`` and ``--rgb-engine``: Cycles (exact depth at pixel centres), Workbench, EEVEE."""
DEVICES = ("cpu", "gpu")
"""``--device``: where Cycles renders."""
RGB_ENGINES = ENGINES
# Colour datasets (issue 16; defaults measured in benchmarks/RESULTS.md "Colour").
RGB_LIGHTINGS = ("auto", "headlight", "white", "file")
"""auto: the file's lights/world when it has any, else headlight; headlight: dim ambient + a sun from the
camera; white: a uniform white environment (the file's lights off); file: only the file's lights and world."""
DEFAULT_RGB_BOUNCES = 3
DEFAULT_RGB_NOISE_THRESHOLD = 0.0
PREVIEW_COLORMAPS = ("turbo", "viridis")
EMPTY_VIEWS = ("warn", "fail")
"""``--empty-views``: what a view that sees no surface at all (coverage 0) does: a warning naming the mesh
and view, or a failure of that mesh (failures.jsonl in a batch; the render command exits 1)."""
BLENDER_MIN_RESOLUTION = 4  # Blender silently renders smaller sizes at 4 pixels
BLENDER_MIN_LENS_MM = 1.0   # Blender silently clamps shorter focal lengths and sensors to 1 mm
MAX_PIXELS = 2**28          # the EXR writer's limit per image (1 GiB of float32)
MAX_NAME_BYTES = 200        # output folder names, leaving room for "-2" under the usual 255-byte limit
DEFAULT_PNG16_SCALE = 1e-4  # png16: scene units per count (0.1 mm in metres)
PREVIEW_RANGES = ("view", "object", "fixed")
MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off", ".fbx")
SUPPORTED_SUFFIXES = MESH_SUFFIXES + (".blend",)


@dataclass
class RenderOptions:
    """Everything that decides what a render produces.  Lengths in scene units, angles in degrees.

    ``radius=None`` fits the object's bounding sphere in the view (``radius_margin`` times the
    tightest distance); ``center=None`` uses the bounding-box centre; ``clip_start``/``clip_end``
    of None are chosen from the object's extent so that nothing of it is clipped.
    """

    views: int = 24
    sampling: str = "fibonacci"
    seed: int = 0
    grid: tuple[int, int] | None = None
    hemisphere: bool = False
    elevation: tuple[float, float] | None = None
    radius: float | None = None
    radius_margin: float = 1.1
    center: tuple[float, float, float] | None = None
    resolution: tuple[int, int] = (512, 512)
    lens: float = 50.0
    sensor: float = 36.0
    fov: float | None = None
    clip_start: float | None = None
    clip_end: float | None = None
    normalize: bool = False
    engine: str = "cycles"
    device: str = "cpu"
    exr_compression: str = "zip"
    # What is written (see README "Passes and formats").  Depth is always rendered.
    passes: tuple[str, ...] = ("depth",)
    formats: tuple[str, ...] = ("exr",)
    png16_scale: float = DEFAULT_PNG16_SCALE
    preview_range: str = "object"
    preview_near: float | None = None
    preview_far: float | None = None
    preview_invert: bool = False
    preview_colormap: str = "turbo"
    preview_background: tuple[int, int, int] = (0, 0, 0)
    rgb_engine: str = "cycles"
    rgb_samples: int = 64
    rgb_denoise: bool = True
    rgb_exr: bool = False
    keep_transparency: bool = False   # --keep-transparency: depth/normal/mask see through alpha < alpha_threshold
    alpha_threshold: float = 0.5
    # Camera model (docs/camera-models.md): ortho_scale None = fit the object (like radius None).
    camera_model: str = "perspective"
    ortho_scale: float | None = None
    fisheye_fov: float = DEFAULT_FISHEYE_FOV_DEG
    longitude_range: tuple[float, float] = FULL_LONGITUDE
    latitude_range: tuple[float, float] = FULL_LATITUDE

    def camera(self, object_radius: float | None = None) -> CameraModel:
        """The camera model; ``object_radius`` (scene units) sizes ``--ortho-scale auto``."""
        lens_camera = self.lens_camera()
        if lens_camera is not None:
            return lens_camera
        scale = self.ortho_scale
        if self.camera_model == "orthographic" and scale is None:
            if object_radius is None:
                raise DepthViewsError("--ortho-scale auto needs the object's size")
            scale = auto_ortho_scale(*self.resolution, object_radius, self.radius_margin)
        return camera_model(self.camera_model, self.lens_intrinsics(), ortho_scale=scale, fisheye_fov=self.fisheye_fov,
                            longitude_range=self.longitude_range, latitude_range=self.latitude_range)

    def _validate_lens(self) -> None:
        lens_camera = self.lens_camera()
        if lens_camera is None:
            return
        given = [name for name, value in (("--camera-model " + self.camera_model,
                                           self.camera_model if self.camera_model != "perspective" else None),
                                          ("--intrinsics", self.intrinsics), ("--fov", self.fov),
                                          ("--fov LOW:HIGH", self.fov_range)) if value is not None]
        given += [f"--formats {name}" for name in ("nerf_synthetic",) if name in self.formats]
        if given:
            raise DepthViewsError(f"--lens-model {self.lens_model}: cannot go with {', '.join(given)} "
                                  "(the lens gives the camera: model, focal lengths and principal point)")
        if lens_camera.lens is not None or lens_camera.is_panoramic:
            for option, engine in (("--engine", self.engine), ("--rgb-engine", self.rgb_engine if "rgb" in self.passes
                                                                 else "cycles")):
                if engine != "cycles":
                    raise DepthViewsError(f"--lens-model {self.lens_model} renders with Cycles only "
                                          f"(Cycles' Custom camera); {option} {engine} cannot")

    def _validate_camera_model(self) -> None:
        self._validate_lens()
        if self.camera_model not in CAMERA_MODELS:
            raise DepthViewsError(f"--camera-model {self.camera_model!r}: choose one of {', '.join(CAMERA_MODELS)}")
        if self.ortho_scale is not None and not (np.isfinite(self.ortho_scale) and self.ortho_scale > 0):
            raise DepthViewsError(f"--ortho-scale {self.ortho_scale:g}: must be a positive number of scene units or 'auto'")
        if self.camera_model != "perspective":
            given = [name for name, value in (("--intrinsics", self.intrinsics), ("--fov LOW:HIGH", self.fov_range),
                                              ("--cameras", self.cameras_file)) if value is not None]
            given += [f"--formats {name}" for name in ("colmap", "nerf_synthetic") if name in self.formats
                      and not (name == "colmap" and self.camera_model == "fisheye")]  # COLMAP has OPENCV_FISHEYE
            if given:
                raise DepthViewsError(f"--camera-model {self.camera_model}: cannot go with {', '.join(given)} "
                                      "(pinhole cameras only)")
        self.camera(object_radius=1.0)
        panoramic = self.camera_model in ("fisheye", "equirectangular")
        if panoramic and self.engine != "cycles":
            raise DepthViewsError(f"--camera-model {self.camera_model} needs --engine cycles (got {self.engine})")
        if panoramic and "rgb" in self.passes and self.rgb_engine != "cycles":
            raise DepthViewsError(f"--camera-model {self.camera_model} needs --rgb-engine cycles (got {self.rgb_engine})")
    # Cameras people bring (docs/camera-files.md): a general pinhole K, and views from a camera file.
    intrinsics: tuple[float, float, float, float] | None = None  # --intrinsics FX FY CX CY (OpenCV, pixels)
    cameras_file: str | None = None                             # --cameras FILE: render exactly its views
    pose_convention: str = "opengl"                             # --pose-convention of .npy/.npz poses
    test_fraction: float = 0.125                                # --test-fraction of --formats nerf_synthetic
    radius_range: tuple[float, float] | None = None             # --radius LOW:HIGH, uniform per view (--seed)
    fov_range: tuple[float, float] | None = None                # --fov LOW:HIGH degrees, uniform per view
    # Colour datasets (issue 16)
    rgb_bounces: int = DEFAULT_RGB_BOUNCES
    rgb_noise_threshold: float = DEFAULT_RGB_NOISE_THRESHOLD
    rgb_lighting: str = "auto"
    frame: int | None = None
    empty_views: str = "warn"                                    # --empty-views warn|fail (EMPTY_VIEWS)
    # A lens with distortion for sampled views (docs/camera-models.md): a COLMAP model name (or
    # NERFSTUDIO_OPENCV) and its parameters in COLMAP's order and pixel convention, as cameras.txt has them.
    lens_model: str | None = None                               # --lens-model NAME
    lens_params: tuple[float, ...] | None = None                # --lens-params P... (fx fy cx cy k1 ...)

    def camera_lens(self) -> LensModel | None:
        """The :class:`~.cameras.lens.LensModel` of ``lens_model``/``lens_params`` on ``resolution``'s
        image, or None without them; DepthViewsError naming ``--lens-model`` for a bad model or parameters."""
        if self.lens_model is None and self.lens_params is None:
            return None
        if self.lens_model is None or self.lens_params is None:
            raise DepthViewsError("--lens-model and --lens-params go together: the model name and its parameters in "
                                  "COLMAP's order (e.g. --lens-model OPENCV --lens-params FX FY CX CY K1 K2 P1 P2)")
        width, height = self.resolution
        try:
            lens = LensModel(str(self.lens_model), width, height, tuple(self.lens_params))
            lens.check_invertible()
        except DepthViewsError as error:
            raise DepthViewsError(f"--lens-model {self.lens_model}: {error}") from None
        return lens

    def lens_camera(self) -> CameraModel | None:
        """The camera of the options' lens: Blender's own camera when that renders it exactly (no
        distortion), else the lens model (Cycles' Custom camera); None without a lens."""
        lens = self.camera_lens()
        return None if lens is None else (builtin_camera(lens) or CameraModel.from_lens(lens))

    def lens_intrinsics(self) -> Intrinsics:
        """The :class:`Intrinsics` of sampled views: ``intrinsics`` (a pinhole K) when given, else
        ``resolution`` with ``fov`` (or the narrowest of a ``fov_range``) or ``lens``/``sensor``."""
        width, height = self.resolution
        lens_camera = self.lens_camera()
        if lens_camera is not None:   # a distortion-free pinhole lens is its K; any other lens: the image size
            return lens_camera.intrinsics if lens_camera.is_pinhole else Intrinsics(width, height)
        if self.intrinsics is not None:
            return Intrinsics.from_K(width, height, *self.intrinsics, sensor_mm=self.sensor)
        if self.fov_range is not None:  # the narrowest: an automatic radius then frames every view
            return Intrinsics.from_fov(width, height, self.fov_range[0], sensor_mm=self.sensor)
        if self.fov is not None:
            return Intrinsics.from_fov(width, height, self.fov, sensor_mm=self.sensor)
        return Intrinsics(width, height, lens_mm=self.lens, sensor_mm=self.sensor)

    def elevation_range(self) -> tuple[float, float]:
        """The elevation band (degrees) from ``hemisphere`` and ``elevation``."""
        return elevation_band(self.hemisphere, self.elevation)

    def validate(self) -> None:
        """Raise :class:`DepthViewsError` for settings that cannot render, naming the option.

        Pure: reads no file (a ``cameras_file`` is read once, by :func:`depth_views.resolved.resolve`)."""
        self._validate_engine()
        self._validate_ranges()
        self.camera_lens()   # a bad --lens-model / --lens-params is named as itself, before the image checks use it
        self._validate_image()
        self._validate_camera_model()
        self.elevation_range()
        if self.radius is not None and not (np.isfinite(self.radius) and self.radius > 0):
            raise DepthViewsError(f"--radius {self.radius:g}: must be a positive distance or 'auto'")
        for name in ("clip_start", "clip_end"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value > 0):
                raise DepthViewsError(f"--{name.replace('_', '-')} {value:g}: must be positive")
        if self.clip_start is not None and self.clip_end is not None and self.clip_end <= self.clip_start:
            raise DepthViewsError(
                f"--clip-end {self.clip_end:g} must be greater than --clip-start {self.clip_start:g}")
        if self.center is not None and not np.isfinite(np.asarray(self.center, dtype=float)).all():
            raise DepthViewsError(f"--center {self.center}: must be three finite numbers")
        if self.exr_compression not in EXR_COMPRESSIONS:
            raise DepthViewsError(
                f"--exr-compression {self.exr_compression!r}: choose one of {', '.join(EXR_COMPRESSIONS)}")
        self._validate_outputs()
        if self.empty_views not in EMPTY_VIEWS:
            raise DepthViewsError(f"--empty-views {self.empty_views!r}: choose one of {', '.join(EMPTY_VIEWS)}")
        if "nerf_synthetic" in self.formats and "rgb" not in self.passes:
            raise DepthViewsError("--formats nerf_synthetic points at the rgb images: add --passes rgb")
        if not (np.isfinite(self.test_fraction) and 0.0 <= self.test_fraction < 1.0):
            raise DepthViewsError(f"--test-fraction {self.test_fraction:g}: must be at least 0 and below 1")
        if self.views <= 0:
            raise DepthViewsError(f"--views {self.views}: must be at least 1")
        if self.views > MAX_VIEWS:
            raise DepthViewsError(f"--views {self.views}: at most {MAX_VIEWS} views per input")
        if self.clip_start is not None and self.clip_start < BLENDER_MIN_CLIP_START:
            raise DepthViewsError(
                f"--clip-start {self.clip_start:g}: Blender cannot clip nearer than {BLENDER_MIN_CLIP_START:g}; "
                "use --normalize for a very small object")
        if self.grid is not None and self.sampling != "grid":
            raise DepthViewsError("--grid goes with --sampling grid")
        if self.sampling == "grid":
            if self.grid is None:
                raise DepthViewsError("--sampling grid needs --grid N_AZIMUTH N_ELEVATION, e.g. --grid 8 3")
            if self.grid[0] * self.grid[1] != self.views:
                raise DepthViewsError(
                    f"--grid {self.grid[0]} {self.grid[1]} makes {self.grid[0] * self.grid[1]} views "
                    f"but --views is {self.views}; leave --views out or make them agree")


    def _validate_engine(self) -> None:
        if self.engine not in ENGINES:
            raise DepthViewsError(f"--engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.device not in DEVICES:
            raise DepthViewsError(f"--device {self.device!r}: choose one of {', '.join(DEVICES)}")
        if self.device == "gpu" and self.engine != "cycles":
            raise DepthViewsError(f"--device gpu works with --engine cycles only (got {self.engine})")

    def _validate_ranges(self) -> None:
        if self.radius_range is not None:
            low, high = self.radius_range
            if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
                raise DepthViewsError(f"--radius {low:g}:{high:g}: need 0 < LOW <= HIGH")
            if self.radius is not None:
                raise DepthViewsError("--radius: give one distance or one LOW:HIGH range, not both")
        if self.fov_range is not None:
            low, high = self.fov_range
            if not (0 < low <= high < 180):
                raise DepthViewsError(f"--fov {low:g}:{high:g}: need 0 < LOW <= HIGH < 180 degrees")
            if self.intrinsics is not None or self.fov is not None:
                raise DepthViewsError("--fov LOW:HIGH: cannot go with --intrinsics or a single --fov")
            Intrinsics.from_fov(*self.resolution, high, sensor_mm=self.sensor)
        if self.cameras_file is not None and self.normalize:
            raise DepthViewsError("--cameras poses are in the mesh file's own frame; --normalize would move the "
                                  "mesh away from them: leave out --normalize")
        if self.cameras_file is not None and (self.radius_range or self.fov_range):
            raise DepthViewsError("--radius/--fov ranges place sampled views; --cameras renders the file's own")

    def wanted_passes(self) -> tuple[str, ...]:
        """``passes`` in canonical order, with ``depth`` always first (it is always rendered)."""
        return tuple(p for p in PASSES if p == "depth" or p in self.passes)

    def _validate_outputs(self) -> None:
        passes, formats = tuple(self.passes), tuple(self.formats)
        for name, chosen, allowed in (("--passes", passes, PASSES), ("--formats", formats, FORMATS)):
            unknown = [item for item in chosen if item not in allowed]
            if unknown:
                raise DepthViewsError(f"{name} {','.join(map(str, unknown))}: choose from {', '.join(allowed)}")
        if not formats:
            raise DepthViewsError("--formats: choose at least one of " + ", ".join(FORMATS))
        if "webdataset" in formats and len(set(formats)) > 1:
            raise DepthViewsError(f"--formats {','.join(formats)}: webdataset writes tar shards and goes alone "
                                  "(render the folder layout into another --out)")
        stored_by = {"depth": ("exr", "png16", "npz", "ply", "fused_ply", "preview", "contact_sheet", "webdataset"),
                     "distance": ("exr", "png16", "npz", "webdataset"),
                     "normal": ("exr", "npz", "ply", "fused_ply", "webdataset")}
        for pass_name, homes in stored_by.items():
            if pass_name in passes and not set(homes) & set(formats):
                raise DepthViewsError(
                    f"--passes {pass_name}: none of the chosen formats ({','.join(formats)}) stores it; "
                    f"add one of {', '.join(homes)} to --formats")
        if ("normal" in passes or "mask" in passes) and self.engine != "cycles":
            raise DepthViewsError(f"--passes normal/mask need --engine cycles (got {self.engine})")
        if not (np.isfinite(self.png16_scale) and self.png16_scale > 0):
            raise DepthViewsError(f"--png16-scale {self.png16_scale:g}: must be a positive number of units per count")
        if self.preview_range not in PREVIEW_RANGES:
            raise DepthViewsError(f"--preview-range {self.preview_range!r}: choose one of {', '.join(PREVIEW_RANGES)}")
        if self.preview_range == "fixed":
            near, far = self.preview_near, self.preview_far
            if near is None or far is None or not (np.isfinite(near) and np.isfinite(far) and 0 <= near < far):
                raise DepthViewsError(
                    f"--preview-range fixed needs 0 <= --preview-near < --preview-far (got {near}, {far})")
        if self.preview_colormap not in PREVIEW_COLORMAPS:
            raise DepthViewsError(
                f"--preview-colormap {self.preview_colormap!r}: choose one of {', '.join(PREVIEW_COLORMAPS)}")
        background = tuple(self.preview_background)
        if len(background) != 3 or not all(isinstance(c, (int, np.integer)) and 0 <= c <= 255 for c in background):
            raise DepthViewsError(f"--preview-background {self.preview_background}: must be three integers 0..255")
        if self.rgb_engine not in RGB_ENGINES:
            raise DepthViewsError(f"--rgb-engine {self.rgb_engine!r}: choose one of {', '.join(RGB_ENGINES)}")
        if not (isinstance(self.rgb_samples, (int, np.integer)) and self.rgb_samples >= 1):
            raise DepthViewsError(f"--rgb-samples {self.rgb_samples}: must be at least 1")
        if not (0.0 <= self.alpha_threshold <= 1.0):
            raise DepthViewsError(f"--alpha-threshold {self.alpha_threshold:g}: must be between 0 and 1")
        self._validate_colour()

    def _validate_colour(self) -> None:
        if not (isinstance(self.rgb_bounces, (int, np.integer)) and 0 <= self.rgb_bounces <= 1024):
            raise DepthViewsError(f"--rgb-bounces {self.rgb_bounces}: must be an integer 0..1024")
        if not (np.isfinite(self.rgb_noise_threshold) and 0.0 <= self.rgb_noise_threshold < 1.0):
            raise DepthViewsError(
                f"--rgb-noise-threshold {self.rgb_noise_threshold:g}: must be 0 (off) or between 0 and 1")
        if self.rgb_lighting not in RGB_LIGHTINGS:
            raise DepthViewsError(f"--rgb-lighting {self.rgb_lighting!r}: choose one of {', '.join(RGB_LIGHTINGS)}")
        if self.frame is not None and not (isinstance(self.frame, (int, np.integer))
                                           and -1_048_574 <= self.frame <= 1_048_574):
            raise DepthViewsError(f"--frame {self.frame}: must be an integer frame number (Blender: +-1048574)")
        if "xyz" in self.passes and not {"exr", "npz", "webdataset"} & set(self.formats):
            raise DepthViewsError(f"--passes xyz: none of the chosen formats ({','.join(self.formats)}) stores it; "
                                  "add one of exr, npz, webdataset to --formats")
    def _validate_image(self) -> None:
        """Resolution, lens, sensor and field of view: what Blender can render exactly as asked."""
        width, height = self.resolution
        option = f"--resolution {width} {height}"
        try:
            intrinsics = self.lens_intrinsics()
        except DepthViewsError as error:
            if self.intrinsics is not None:
                raise DepthViewsError(f"--intrinsics {' '.join(f'{v:g}' for v in self.intrinsics)}: {error}") from None
            option = f"--fov {self.fov}" if self.fov is not None and "field of view" in str(error) else (
                f"--lens {self.lens}" if "lens" in str(error) else
                f"--sensor {self.sensor}" if "sensor" in str(error) else option)
            raise DepthViewsError(f"{option}: {error}") from None
        if min(width, height) < BLENDER_MIN_RESOLUTION:
            raise DepthViewsError(f"{option}: Blender renders at least {BLENDER_MIN_RESOLUTION} pixels per side")
        if width * height > MAX_PIXELS:
            raise DepthViewsError(f"{option}: {width * height} pixels per image; at most {MAX_PIXELS}")
        if intrinsics.sensor_mm < BLENDER_MIN_LENS_MM:
            raise DepthViewsError(f"--sensor {self.sensor:g}: Blender's smallest sensor is 1 mm")
        if self.intrinsics is not None and self.fov is not None:
            raise DepthViewsError("--intrinsics and --fov both set the focal length; give one")
        if intrinsics.lens_mm < BLENDER_MIN_LENS_MM:
            asked = f"--fov {self.fov:g}" if self.fov is not None else f"--lens {self.lens:g}"
            raise DepthViewsError(
                f"{asked}: needs a {intrinsics.lens_mm:.3g} mm focal length with a {intrinsics.sensor_mm:g} mm "
                f"sensor, below Blender's 1 mm; use a larger --sensor for the same field of view")


def sanitized_name(path: str) -> str:
    """A safe output folder name from an input path's stem: no separators or control characters, no
    leading dots or spaces, at most :data:`MAX_NAME_BYTES` bytes of UTF-8."""
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", stem).strip(" .")
    stem = stem.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
    return stem or "input"


def output_folder_names(paths: list[str]) -> list[str]:
    """One distinct output folder name per input: its stem, with ``-2``, ``-3``... on collisions."""
    names, taken = [], set()
    for path in paths:
        base = sanitized_name(path)
        name, k = base, 1
        while name.casefold() in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name.casefold())
        names.append(name)
    return names
