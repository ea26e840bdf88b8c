"""The settings resolved once per run: what every later stage takes (pure Python + numpy, no bpy).

Data flows one way: **settings → resolved setup → cameras → scene → render → outputs**.
:func:`resolve` turns :class:`~.options.RenderOptions` into a frozen :class:`RenderSetup`: the options
validated (a copy, so later changes to the caller's object change nothing), the image's intrinsics,
and the camera set of ``--cameras`` read once, with its intrinsics and camera model.  Each entry point
(the CLI, the add-on's operator, a batch's parent process, the Python API) resolves once; planning,
the render job, the renderer and the batch workers (which receive the setup pickled) take the setup
and never validate or read the settings' files again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .cameras.intrinsics import Intrinsics
from .cameras.models import CameraModel
from .cameras.views import View, angles_around
from .errors import DepthViewsError
from .options import BLENDER_MIN_RESOLUTION, MAX_PIXELS, RenderOptions


@dataclass(frozen=True, eq=False)
class RenderSetup:
    """Validated options, the image's intrinsics and the camera file's views: one value per run.

    ``intrinsics``: the image of every view (sampled views: the lens options; a camera file: its first
    frame's, each view also carrying its own).  ``file_views``: a camera file's views in file order,
    their angles and radius taken around the origin (:meth:`views_around` re-centres them), None for
    sampled views.  ``file_camera``: the camera model a fisheye / equirectangular / orthographic file
    shares, or the first frame's lens model for a file with lens distortion (each of its views carries its
    own ``lens``); None for sampled views and pinhole files.
    """

    options: RenderOptions
    intrinsics: Intrinsics
    file_views: tuple[View, ...] | None = None
    file_camera: CameraModel | None = None
    lens_camera: CameraModel | None = None
    """Sampled views' ``--lens-model`` camera, built once (its lens keeps its per-pixel arrays across
    inputs); None for a camera file or without a lens."""

    @property
    def from_file(self) -> bool:
        """True when the views are a camera file's (``--cameras``), not sampled on a sphere."""
        return self.file_views is not None

    @property
    def n_views(self) -> int:
        """How many views each input gets: the camera file's frames, or ``--views``."""
        return len(self.file_views) if self.file_views is not None else self.options.views

    @property
    def uses_lens_camera(self) -> bool:
        """True when the views render through a lens model (Cycles' Custom camera, Blender 4.5 or newer)."""
        if self.file_views is not None:
            return self.file_camera is not None and self.file_camera.lens is not None
        return self.lens_camera is not None and self.lens_camera.lens is not None

    def camera(self, object_radius: float | None = None) -> CameraModel:
        """The camera model of every view; ``object_radius`` (scene units) sizes ``--ortho-scale auto``."""
        if self.file_views is not None:
            return self.file_camera or CameraModel.perspective(self.intrinsics)
        return self.lens_camera or self.options.camera(object_radius=object_radius)

    def views_around(self, center) -> list[View]:
        """The camera file's views with azimuth, elevation and radius measured around ``center``."""
        if self.file_views is None:
            raise DepthViewsError("views_around: these settings sample their views; there is no camera file")
        center = np.asarray(center, dtype=np.float64)
        return [_recentred(view, center) for view in self.file_views]


def _recentred(view: View, center: np.ndarray) -> View:
    azimuth, elevation, radius = angles_around(view.position, center)
    return dataclasses.replace(view, azimuth_deg=azimuth, elevation_deg=elevation, radius=radius)


def resolve(options: RenderOptions) -> RenderSetup:
    """Validate ``options`` and read its camera file, once; raise :class:`DepthViewsError` (one line
    naming the option, or the file and its frame) for anything that cannot render."""
    options = dataclasses.replace(options)   # the setup's own copy: later edits of the caller's do nothing
    options.validate()
    if options.cameras_file is None:
        return RenderSetup(options=options, intrinsics=options.lens_intrinsics(), lens_camera=options.lens_camera())
    from .cameras.camera_set import camera_set_intrinsics, read_camera_file, views_from_camera_set

    path = options.cameras_file
    try:
        camera_set = read_camera_file(path, pose_convention=options.pose_convention,
                                      default_size=tuple(options.resolution))
        intrinsics, model = camera_set_intrinsics(camera_set, fallback=options.lens_intrinsics())
        _, views = views_from_camera_set(camera_set, fallback=options.lens_intrinsics())
        if options.lens_model is not None:
            intrinsics, model, views = _options_lens(path, camera_set, options, intrinsics, model, views)
    except DepthViewsError:
        raise
    except Exception as error:   # a reader's own bug must still be one line naming the file, not a traceback
        lines = str(error).strip().splitlines()
        raise DepthViewsError(f"{path}: cannot read the camera file ({type(error).__name__}: "
                              f"{lines[-1][:200] if lines else 'no message'})") from None
    width, height = intrinsics.width, intrinsics.height
    if min(width, height) < BLENDER_MIN_RESOLUTION or width * height > MAX_PIXELS:
        raise DepthViewsError(f"{path}: image size {width}x{height}: Blender renders "
                              f"{BLENDER_MIN_RESOLUTION} to {MAX_PIXELS} pixels per side/image")
    if model is not None and (model.is_panoramic or model.lens is not None):
        engines = [f"--{name.replace('_', '-')} {engine}" for name, engine in
                   (("engine", options.engine), ("rgb_engine", options.rgb_engine if "rgb" in options.passes else None))
                   if engine not in (None, "cycles")]
        if engines:
            raise DepthViewsError(f"{path}: its {model.name} camera renders with Cycles only; "
                                  f"drop {' and '.join(engines)}")
    return RenderSetup(options=options, intrinsics=intrinsics, file_views=tuple(views), file_camera=model)


def _options_lens(path, camera_set, options: RenderOptions, intrinsics, model, views):
    """``--lens-model`` with a camera file: the lens of poses that carry no intrinsics (.npy / .npz); a file
    with its own cameras is refused (its lens belongs in the file)."""
    if camera_set.kind != "poses":
        raise DepthViewsError(f"{path}: the file has its own cameras; --lens-model / --lens-params give the lens of "
                              "sampled views or of a .npy/.npz of poses (leave them out, or put the lens in the file)")
    lens_camera = options.lens_camera()
    if lens_camera.is_pinhole:   # Blender's own perspective camera: the fallback intrinsics already are its K
        return intrinsics, None, views
    views = [dataclasses.replace(view, intrinsics=None, lens=lens_camera.lens) for view in views]
    return Intrinsics(lens_camera.width, lens_camera.height), lens_camera, views


def as_setup(settings: RenderOptions | RenderSetup) -> RenderSetup:
    """``settings`` itself when it is resolved already, else :func:`resolve` of it (for the public API,
    which takes either; the stages behind it take a :class:`RenderSetup` only)."""
    if isinstance(settings, RenderSetup):
        return settings
    if isinstance(settings, RenderOptions):
        return resolve(settings)
    raise DepthViewsError(f"expected RenderOptions or RenderSetup, got {type(settings).__name__}")
