"""Camera models: pinhole, orthographic, equidistant fisheye and equirectangular (pure numpy, no bpy).

One contract for every model, with (x, y, z) in OpenCV camera axes (x right, y down, z forward) and
pixel (u, v) centred at integer (u, v), row 0 at the top:

- ``PINHOLE``: u = fx*x/z + cx, v = fy*y/z + cy.  ``depth`` is planar z.
- ``ORTHOGRAPHIC``: u = fx*x + cx, v = fy*y + cy (fx, fy in pixels per scene unit); every ray is
  parallel to +z and starts on the image plane z = 0 through the camera position.  ``depth`` is the
  distance from that plane (planar z).  Blender's ``ortho_scale`` spans the larger image side, so
  fx = fy = max(W, H) / ortho_scale.
- ``OPENCV_FISHEYE`` (equidistant, no distortion): theta = |((u-cx)/fx, (v-cy)/fy)| is the angle from
  the optical axis, the ray is (sin theta cos phi, sin theta sin phi, cos theta) with
  phi = atan2((v-cy)/fy, (u-cx)/fx).  Blender spreads its fisheye FOV across the width and across the
  height, so fx = W/fov, fy = H/fov (fov in radians); pixels with theta > fov/2 see nothing.
  ``depth`` is the ray length from the camera centre.
- ``EQUIRECTANGULAR`` (no K): longitude = lon_min + (lon_max-lon_min)(u+0.5)/W (0 = straight ahead,
  positive to the right), latitude = lat_max - (lat_max-lat_min)(v+0.5)/H (positive up); the ray is
  (cos lat sin lon, -sin lat, cos lat cos lon).  The default range is the full 360 x 180 degrees,
  which gives lon = 2 pi (u+0.5)/W - pi and lat = pi/2 - pi (v+0.5)/H.  ``depth`` is the ray length.

Measured on bpy 5.0.1, 4.5 and 4.2 (tests/cameras/test_camera_models_render.py): Cycles' Depth pass is exactly
this contract for every model (planar z for perspective and orthographic, the distance from the
camera centre for panoramic cameras), so the renderer converts nothing.

Lens models (a :class:`~.lens.LensModel`: every COLMAP model with distortion, nerfstudio's OPENCV): the
pixel's ray is the model's exact inverse at the pixel centre (:mod:`.lens`); ``name`` is the lens model's
(``OPENCV``, ``OPENCV_FISHEYE`` ...) and :attr:`CameraModel.lens` is set; depth is planar z for the
pinhole family and the ray length for fisheyes.  Rendered through Cycles' Custom camera (Blender 4.5+).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import DepthViewsError
from .intrinsics import Intrinsics
from .lens import LensModel, lens_from_json

CAMERA_MODELS = ("perspective", "orthographic", "fisheye", "equirectangular")
"""The ``--camera-model`` choices."""
MODEL_NAMES = {"perspective": "PINHOLE", "orthographic": "ORTHOGRAPHIC", "fisheye": "OPENCV_FISHEYE",
               "equirectangular": "EQUIRECTANGULAR"}
"""``--camera-model`` -> ``cameras.json``'s ``camera_model`` (nerfstudio / COLMAP words)."""
DEPTH_KINDS = {"PINHOLE": "planar", "ORTHOGRAPHIC": "planar", "OPENCV_FISHEYE": "ray_length",
               "EQUIRECTANGULAR": "ray_length"}
PANORAMIC = ("OPENCV_FISHEYE", "EQUIRECTANGULAR")
FULL_LONGITUDE = (-180.0, 180.0)
FULL_LATITUDE = (-90.0, 90.0)
DEFAULT_FISHEYE_FOV_DEG = 180.0
PRINCIPAL_POINT_TOLERANCE_PX = 1e-6
ANGLE_SLACK_DEG = 1e-4  # angles that went through float32 radians (the panel's) land ~5e-6 deg past a limit
PANORAMIC_FIT_MAX_DEG = 30.0  # --radius auto of a fisheye/equirectangular camera: see framing.auto_distance


def _positive(value, option: str, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        shown = f"{value:g}" if isinstance(value, numbers.Real) and not isinstance(value, bool) else repr(value)
        raise DepthViewsError(f"{option} {shown}: must be a positive number of {unit}")
    return float(value)


def _angle_range(value, option: str, limit: float) -> tuple[float, float]:
    """(low, high) degrees with -limit <= low < high <= limit, else DepthViewsError naming ``option``."""
    try:
        low, high = (float(x) for x in value)
    except (TypeError, ValueError):
        raise DepthViewsError(f"{option} {value!r}: must be two numbers LOW HIGH in degrees") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise DepthViewsError(f"{option} {low:g} {high:g}: must be finite")
    low, high = (max(-limit, x) if abs(x + limit) < ANGLE_SLACK_DEG else
                 min(limit, x) if abs(x - limit) < ANGLE_SLACK_DEG else x for x in (low, high))
    if not -limit <= low <= high <= limit:
        raise DepthViewsError(f"{option} {low:g} {high:g}: out of bounds; need -{limit:g} <= LOW < HIGH <= {limit:g}")
    if low == high:
        raise DepthViewsError(f"{option} {low:g} {high:g}: the range is empty; need LOW < HIGH")
    return low, high


def _size(width, height) -> tuple[int, int]:
    Intrinsics(width, height)  # the same size checks as a pinhole image
    return int(width), int(height)


@dataclass(frozen=True, eq=False)
class CameraModel:
    """One camera model with its image size and parameters; see the module docstring for the contract.

    Build it with :meth:`perspective`, :meth:`orthographic`, :meth:`fisheye`, :meth:`equirectangular`
    or :meth:`from_document`.  ``K`` is the 3x3 OpenCV matrix (None for ``EQUIRECTANGULAR``);
    ``intrinsics`` the Blender lens/sensor of a ``PINHOLE`` camera.
    """

    name: str
    width: int
    height: int
    K: np.ndarray | None
    intrinsics: Intrinsics | None = None
    longitude_range_deg: tuple[float, float] = FULL_LONGITUDE
    latitude_range_deg: tuple[float, float] = FULL_LATITUDE
    extra: dict = field(default_factory=dict)
    lens: LensModel | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def perspective(cls, intrinsics: Intrinsics) -> CameraModel:
        return cls("PINHOLE", intrinsics.width, intrinsics.height, intrinsics.K, intrinsics=intrinsics)

    @classmethod
    def orthographic(cls, width: int, height: int, ortho_scale: float) -> CameraModel:
        """Parallel rays; ``ortho_scale`` scene units across the larger image side."""
        width, height = _size(width, height)
        scale = _positive(ortho_scale, "--ortho-scale", "scene units")
        f = max(width, height) / scale
        K = np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
        return cls("ORTHOGRAPHIC", width, height, K, extra={"ortho_scale": scale})

    @classmethod
    def fisheye(cls, width: int, height: int, fov_deg: float = DEFAULT_FISHEYE_FOV_DEG) -> CameraModel:
        """Blender's equidistant fisheye: ``fov_deg`` across the width and across the height, in (0, 360]."""
        width, height = _size(width, height)
        fov = _positive(fov_deg, "--fisheye-fov", "degrees")
        if fov > 360.0 + ANGLE_SLACK_DEG:
            raise DepthViewsError(f"--fisheye-fov {fov_deg:g}: an equidistant fisheye sees at most 360 degrees")
        fov = min(fov, 360.0)
        radians = math.radians(fov)
        K = np.array([[width / radians, 0.0, (width - 1) / 2.0], [0.0, height / radians, (height - 1) / 2.0],
                      [0.0, 0.0, 1.0]])
        return cls("OPENCV_FISHEYE", width, height, K, extra={"fisheye_fov_deg": fov})

    @classmethod
    def equirectangular(cls, width: int, height: int, longitude_range=FULL_LONGITUDE,
                        latitude_range=FULL_LATITUDE) -> CameraModel:
        """Longitude/latitude grid over ``longitude_range`` x ``latitude_range`` degrees."""
        width, height = _size(width, height)
        longitude = _angle_range(longitude_range, "--longitude-range", 180.0)
        latitude = _angle_range(latitude_range, "--latitude-range", 90.0)
        return cls("EQUIRECTANGULAR", width, height, None, longitude_range_deg=longitude,
                   latitude_range_deg=latitude)

    @classmethod
    def from_lens(cls, lens: LensModel) -> CameraModel:
        """The camera of a lens model (:mod:`.lens`): its name, size, K and rays."""
        return cls(lens.name, lens.width, lens.height, lens.K, lens=lens)

    @classmethod
    def from_document(cls, document: dict, view: dict | None = None, *, source: str = "cameras.json") -> CameraModel:
        """The camera of ``document`` (a parsed cameras.json), with ``view``'s own ``K``/``width``/
        ``height``/``camera_model``/``lens_params`` overriding the top level.  A missing ``camera_model``
        is ``PINHOLE``; a ``lens_params`` list makes it a lens model (COLMAP's parameters, :mod:`.lens`).

        Raises DepthViewsError naming ``source`` for an unknown model or a principal point or focal
        length the model cannot have (panoramic and orthographic cameras are centred, Blender's
        fisheye has fx = W/fov and fy = H/fov), or lens parameters the model cannot have.
        """
        merged = dict(document)
        if view:
            if "camera_model" in view and "lens_params" not in view:
                merged.pop("lens_params", None)   # the view's own model, without the top level's lens
            merged.update({k: view[k] for k in ("camera_model", "K", "width", "height", "lens_params",
                                                 "longitude_range_deg", "latitude_range_deg") if k in view})
        name = merged.get("camera_model") or "PINHOLE"
        where = source if view is None else f"{source} view {view.get('index', '?')}"
        try:
            width, height = int(merged["width"]), int(merged["height"])
        except (KeyError, TypeError, ValueError):
            raise DepthViewsError(f"{where}: needs an integer width and height") from None
        if merged.get("lens_params") is not None:
            try:
                return cls.from_lens(lens_from_json(merged, width, height))
            except DepthViewsError as error:
                raise DepthViewsError(f"{where}: {error}") from None
        if name == "EQUIRECTANGULAR":
            return cls.equirectangular(width, height, merged.get("longitude_range_deg", FULL_LONGITUDE),
                                       merged.get("latitude_range_deg", FULL_LATITUDE))
        if name not in DEPTH_KINDS:
            raise DepthViewsError(f"{where}: camera_model {name!r}; choose one of {', '.join(DEPTH_KINDS)}")
        K = np.asarray(merged.get("K"), dtype=np.float64)
        if K.shape != (3, 3) or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
            raise DepthViewsError(f"{where}: K must be a finite 3x3 matrix with positive fx, fy")
        if name == "PINHOLE":
            return cls("PINHOLE", width, height, K)
        centre = ((width - 1) / 2.0, (height - 1) / 2.0)
        if abs(K[0, 2] - centre[0]) > PRINCIPAL_POINT_TOLERANCE_PX or abs(K[1, 2] - centre[1]) > \
                PRINCIPAL_POINT_TOLERANCE_PX or K[0, 1] != 0:
            raise DepthViewsError(
                f"{where}: camera_model {name} needs its principal point at the image centre {centre} with no skew "
                f"(Blender cannot shift it), got ({K[0, 2]:g}, {K[1, 2]:g})")
        if name == "ORTHOGRAPHIC":
            if not math.isclose(K[0, 0], K[1, 1], rel_tol=1e-9):
                raise DepthViewsError(f"{where}: camera_model ORTHOGRAPHIC needs fx = fy (square pixels)")
            return cls.orthographic(width, height, max(width, height) / K[0, 0])
        fov_x, fov_y = width / K[0, 0], height / K[1, 1]
        if not math.isclose(fov_x, fov_y, rel_tol=1e-9):
            raise DepthViewsError(
                f"{where}: camera_model OPENCV_FISHEYE needs fx = W/fov and fy = H/fov (one FOV), "
                f"got {math.degrees(fov_x):g} and {math.degrees(fov_y):g} degrees")
        return cls.fisheye(width, height, math.degrees(fov_x))

    # -- what depth means ---------------------------------------------------------------------
    @property
    def depth_kind(self) -> str:
        """``planar`` (PINHOLE, ORTHOGRAPHIC, the pinhole family of lenses) or ``ray_length``
        (OPENCV_FISHEYE, EQUIRECTANGULAR, fisheye lenses)."""
        return self.lens.depth_kind if self.lens is not None else DEPTH_KINDS[self.name]

    def depth_of(self, camera_points) -> np.ndarray:
        """What this camera's depth map holds for camera-frame points (N, 3): planar z, or the distance
        from the centre (:attr:`depth_kind`)."""
        if self.depth_kind == "planar":
            return camera_points[:, 2]
        return np.linalg.norm(camera_points, axis=1)

    @property
    def is_panoramic(self) -> bool:
        """Blender's built-in fisheye or equirectangular camera (a lens model is not: see :attr:`lens`)."""
        return self.lens is None and self.name in PANORAMIC

    @property
    def is_pinhole(self) -> bool:
        """Blender's built-in perspective camera (any pinhole K, no distortion)."""
        return self.lens is None and self.name == "PINHOLE"

    def for_view(self, view) -> CameraModel:
        """The camera ``view`` (a :class:`~.views.View`) renders with: its own lens or pinhole K (a camera
        file's frames may differ), else this one."""
        if self.lens is not None:
            lens = getattr(view, "lens", None)
            return self if lens is None or lens is self.lens else CameraModel.from_lens(lens)
        if self.name == "PINHOLE" and getattr(view, "intrinsics", None) is not None:
            return CameraModel.perspective(view.intrinsics)
        return self

    def depth_rays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(origins, directions, valid)`` per pixel centre, OpenCV camera axes, float64 (H, W, 3).

        The surface point a pixel sees at ``depth`` is ``origins + depth * directions``: directions
        have z = 1 for planar depth and unit length for ray-length depth.  ``valid`` (H, W) is False
        where the model has no ray (outside a fisheye's image circle); directions there are 0.
        """
        if self.lens is not None:
            directions, valid = self.lens.depth_rays()
            return np.zeros(directions.shape), directions, valid
        u, v = np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height, dtype=np.float64))
        origins = np.zeros(u.shape + (3,))
        valid = np.ones(u.shape, dtype=bool)
        if self.name == "EQUIRECTANGULAR":
            lon_min, lon_max = np.radians(self.longitude_range_deg)
            lat_min, lat_max = np.radians(self.latitude_range_deg)
            lon = lon_min + (lon_max - lon_min) * (u + 0.5) / self.width
            lat = lat_max - (lat_max - lat_min) * (v + 0.5) / self.height
            directions = np.stack([np.cos(lat) * np.sin(lon), -np.sin(lat), np.cos(lat) * np.cos(lon)], axis=-1)
            return origins, directions, valid
        K = self.K
        a = (u - K[0, 2] - K[0, 1] * (v - K[1, 2]) / K[1, 1]) / K[0, 0]
        b = (v - K[1, 2]) / K[1, 1]
        if self.name == "PINHOLE":
            return origins, np.stack([a, b, np.ones_like(a)], axis=-1), valid
        if self.name == "ORTHOGRAPHIC":
            origins = np.stack([a, b, np.zeros_like(a)], axis=-1)
            return origins, np.broadcast_to([0.0, 0.0, 1.0], origins.shape).copy(), valid
        theta = np.hypot(a, b)
        valid = theta <= math.radians(self.extra["fisheye_fov_deg"]) / 2.0
        phi = np.arctan2(b, a)
        directions = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1)
        return origins, np.where(valid[..., None], directions, 0.0), valid

    def project(self, camera_points) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates ``(uv (N, 2), ok (N,))`` of OpenCV camera points (N, 3) under this model.

        ``ok`` is False for points the model cannot see (behind a pinhole, outside a fisheye's FOV).
        """
        if self.lens is not None:
            return self.lens.project(camera_points)
        p = np.asarray(camera_points, dtype=np.float64).reshape(-1, 3)
        x, y, z = p.T
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.name == "EQUIRECTANGULAR":
                lon, lat = np.arctan2(x, z), np.arctan2(-y, np.hypot(x, z))
                lon_min, lon_max = np.radians(self.longitude_range_deg)
                lat_min, lat_max = np.radians(self.latitude_range_deg)
                u = (lon - lon_min) / (lon_max - lon_min) * self.width - 0.5
                v = (lat_max - lat) / (lat_max - lat_min) * self.height - 0.5
                return np.stack([u, v], axis=-1), np.linalg.norm(p, axis=1) > 0
            K = self.K
            if self.name == "ORTHOGRAPHIC":
                a, b, ok = x, y, np.ones(len(p), dtype=bool)
            elif self.name == "PINHOLE":
                a, b, ok = x / z, y / z, z > 0
            else:
                theta = np.arctan2(np.hypot(x, y), z)
                scale = np.where(theta > 0, theta / np.hypot(x, y), 0.0)
                a, b = x * scale, y * scale
                ok = theta <= math.radians(self.extra["fisheye_fov_deg"]) / 2.0
            u = K[0, 0] * a + K[0, 1] * b + K[0, 2]
            v = K[1, 1] * b + K[1, 2]
        return np.stack([u, v], axis=-1), ok & np.isfinite(u) & np.isfinite(v)

    # -- files --------------------------------------------------------------------------------
    def geometry_camera(self, intrinsics: Intrinsics | None = None):
        """What :mod:`~depth_views.outputs.geometry` (backproject, planar_to_distance, world_coordinates)
        takes for one view: the pinhole K of ``intrinsics`` (a view's own, else the model's), or the
        model itself for the other camera models (a view's own lens: ``for_view(view)`` first)."""
        if not self.is_pinhole:
            return self
        intrinsics = intrinsics or self.intrinsics
        return self.K if intrinsics is None else intrinsics.K

    def to_json(self) -> dict:
        """What ``cameras.json`` states about this camera at the top level (and in EXR metadata); a lens
        model adds ``lens_params`` (COLMAP's order and values) and ``lens_param_names``."""
        if self.lens is not None:
            return {"width": self.width, "height": self.height, "K": self.K.tolist(), **self.lens.to_json()}
        out = {"camera_model": self.name, "width": self.width, "height": self.height,
               "K": None if self.K is None else self.K.tolist(), "depth_kind": self.depth_kind}
        out.update(self.extra)
        if self.name == "EQUIRECTANGULAR":
            out["longitude_range_deg"] = list(self.longitude_range_deg)
            out["latitude_range_deg"] = list(self.latitude_range_deg)
        return out

    def nerfstudio_intrinsics(self) -> dict | None:
        """transforms.json's camera keys for this model, or None when nerfstudio cannot describe it.

        nerfstudio puts pixel centres at +0.5 and uses coord = ((x - cx)/fx, -(y - cy)/fy):
        OPENCV_FISHEYE reads theta = |coord| (k1..k4 = 0 is our equidistant fisheye);
        EQUIRECTANGULAR reads longitude = pi coord_x and latitude = pi coord_y, which for the full
        360 x 180 range on a 2:1 image is its fl_x = fl_y = H, cx = W/2, cy = H/2.
        ORTHOGRAPHIC: None (transforms.json has no parallel-ray camera).  A lens model: its k's and p's
        (:meth:`.lens.LensModel.to_nerfstudio`), None where nerfstudio has no such lens.
        """
        if self.lens is not None:
            return self.lens.to_nerfstudio()
        if self.name == "ORTHOGRAPHIC":
            return None
        common = {"w": self.width, "h": self.height}
        if self.name == "EQUIRECTANGULAR":
            lon_min, lon_max = np.radians(self.longitude_range_deg)
            lat_min, lat_max = np.radians(self.latitude_range_deg)
            fx, fy = math.pi * self.width / (lon_max - lon_min), math.pi * self.height / (lat_max - lat_min)
            return {"camera_model": "EQUIRECTANGULAR", "fl_x": fx, "fl_y": fy,
                    "cx": -lon_min * fx / math.pi, "cy": lat_max * fy / math.pi, **common}
        K = self.K
        out = {"camera_model": "OPENCV" if self.name == "PINHOLE" else "OPENCV_FISHEYE",
               "fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]),
               "cx": float(K[0, 2]) + 0.5, "cy": float(K[1, 2]) + 0.5, **common}
        if self.name == "PINHOLE":
            out.update({"k1": 0.0, "k2": 0.0, "p1": 0.0, "p2": 0.0})
        else:
            out.update({"k1": 0.0, "k2": 0.0, "k3": 0.0, "k4": 0.0})
        return out

    # -- Blender ------------------------------------------------------------------------------
    def blender_camera(self) -> dict:
        """Blender camera-data settings for this model: ``type`` plus the model's own values (radians).
        A lens model is Cycles' Custom camera (``CUSTOM``), set up by the render stage's lens camera."""
        if self.lens is not None:
            return {"type": "CUSTOM"}
        if self.name == "PINHOLE":
            intrinsics = self.intrinsics
            if intrinsics is None:
                raise DepthViewsError("a PINHOLE camera without Blender lens/sensor cannot be set up here")
            lens = intrinsics.blender_camera()  # any pinhole K: sensor fit, lens shift (and the render's pixel aspect)
            return {"type": "PERSP", **{name: lens[name] for name in ("sensor_fit", "sensor_width", "lens",
                                                                      "shift_x", "shift_y")}}
        if self.name == "ORTHOGRAPHIC":
            return {"type": "ORTHO", "ortho_scale": self.extra["ortho_scale"]}
        if self.name == "OPENCV_FISHEYE":
            return {"type": "PANO", "panorama_type": "FISHEYE_EQUIDISTANT",
                    "fisheye_fov": math.radians(self.extra["fisheye_fov_deg"])}
        lon, lat = np.radians(self.longitude_range_deg), np.radians(self.latitude_range_deg)
        return {"type": "PANO", "panorama_type": "EQUIRECTANGULAR", "longitude_min": float(lon[0]),
                "longitude_max": float(lon[1]), "latitude_min": float(lat[0]), "latitude_max": float(lat[1])}

    def pixel_box(self, camera_points, margin: int = 2):
        """Half-open pixel rectangle ``(u0, u1, v0, v1)`` holding every pixel a surface spanned by
        ``camera_points`` can cover, or None when it cannot be trusted or is empty.

        Only PINHOLE and ORTHOGRAPHIC, whose projections keep straight edges straight (so the hull
        of the projected points bounds the projected surface), and lens models (the pixels whose rays
        can meet the hull, :meth:`.lens.LensModel.pixel_box`); the built-in panoramic models bend edges
        and always render the whole frame.
        """
        if self.lens is not None:
            return self.lens.pixel_box(camera_points, margin=margin)
        if self.is_panoramic:
            return None
        uv, ok = self.project(camera_points)
        if len(uv) == 0 or not np.all(ok):
            return None
        u_start = max(0, int(np.floor(uv[:, 0].min())) - margin)
        u_stop = min(self.width, int(np.ceil(uv[:, 0].max())) + 1 + margin)
        v_start = max(0, int(np.floor(uv[:, 1].min())) - margin)
        v_stop = min(self.height, int(np.ceil(uv[:, 1].max())) + 1 + margin)
        if u_start >= u_stop or v_start >= v_stop:
            return None
        return u_start, u_stop, v_start, v_stop


class PerModel:
    """``make(model)`` for the last ``keep`` camera models met (None: every one), computed once per model:
    models equal in :meth:`CameraModel.to_json` share one result (e.g. their pixel rays)."""

    def __init__(self, make, keep: int | None = None):
        self.make, self.keep = make, keep
        self.results: dict[str, object] = {}

    def __call__(self, model: CameraModel):
        key = repr(model.to_json())
        if key not in self.results:
            if self.keep is not None and len(self.results) >= self.keep:
                self.results.pop(next(iter(self.results)))
            self.results[key] = self.make(model)
        return self.results[key]


def builtin_camera(lens: LensModel) -> CameraModel | None:
    """Blender's own camera for a lens without distortion, when it renders it exactly (also on Blender 4.2,
    and faster): a pinhole-family lens as the perspective camera (any K within Blender's lens shift and
    pixel aspect), a fisheye as the equidistant fisheye (centred, fx = W/fov and fy = H/fov).  None for a
    lens that needs the lens camera (distortion, or what Blender's cameras cannot hold)."""
    if lens.has_distortion:   # any distortion parameter, FOV's omega and the division models' k included
        return None
    (fx, fy), (cx, cy) = lens.focal, lens.principal_point
    if lens.family == "pinhole":
        try:
            return CameraModel.perspective(Intrinsics.from_K(lens.width, lens.height, fx, fy, cx, cy))
        except DepthViewsError:
            return None
    centred = abs(cx - (lens.width - 1) / 2.0) <= PRINCIPAL_POINT_TOLERANCE_PX and \
        abs(cy - (lens.height - 1) / 2.0) <= PRINCIPAL_POINT_TOLERANCE_PX
    fov = lens.width / fx
    if not centred or not math.isclose(fov, lens.height / fy, rel_tol=1e-9) or math.degrees(fov) > 360.0:
        return None
    return CameraModel.fisheye(lens.width, lens.height, math.degrees(fov))


def camera_model(kind: str, intrinsics: Intrinsics, *, ortho_scale: float | None = None,
                 fisheye_fov: float = DEFAULT_FISHEYE_FOV_DEG, longitude_range=FULL_LONGITUDE,
                 latitude_range=FULL_LATITUDE) -> CameraModel:
    """The :class:`CameraModel` for ``--camera-model kind`` on ``intrinsics``' image size.

    ``ortho_scale`` must be given for ``orthographic`` (see :func:`.framing.auto_ortho_scale`).
    """
    if kind not in CAMERA_MODELS:
        raise DepthViewsError(f"--camera-model {kind!r}: choose one of {', '.join(CAMERA_MODELS)}")
    width, height = intrinsics.width, intrinsics.height
    if kind == "perspective":
        return CameraModel.perspective(intrinsics)
    if kind == "orthographic":
        return CameraModel.orthographic(width, height, ortho_scale)
    if kind == "fisheye":
        return CameraModel.fisheye(width, height, fisheye_fov)
    return CameraModel.equirectangular(width, height, longitude_range, latitude_range)
