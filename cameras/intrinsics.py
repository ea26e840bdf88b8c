"""Pinhole intrinsics of a render: image size, lens and sensor, or any OpenCV K (pure Python + numpy).

Conventions (see :mod:`.conventions` for the axes)
-----------
- ``K``: 3x3 OpenCV intrinsics. Pixel (column u, row v, row 0 at the top) has its centre at
  integer (u, v), so the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5] and the centred principal
  point is ((W - 1) / 2, (H - 1) / 2). Square pixels.
- Sensor fit AUTO (Blender's default): the sensor width in mm spans the LARGER image dimension,
  so the focal length in pixels is ``lens_mm / sensor_mm * max(W, H)``, and fx = fy.
- A general pinhole K (``Intrinsics.from_K``: fx != fy, principal point anywhere) is realised in
  Blender with sensor fit HORIZONTAL (``fx = lens_mm / sensor_mm * W``), pixel aspect
  ``pixel_aspect_x / pixel_aspect_y = fy / fx`` and lens shift in units of the image width:
  ``shift_x = ((W - 1) / 2 - cx) / W``, ``shift_y = (cy - (H - 1) / 2) * (fx / fy) / W``
  (see ``Intrinsics.blender_camera``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .limits import MAX_FOCAL_PX, MAX_IMAGE_SIZE_PX, MAX_PIXEL_ASPECT
from ..errors import DepthViewsError

MAX_LENS_SHIFT = 10.0  # Blender's largest shift_x / shift_y (in image widths)


def _is_positive_finite(value) -> bool:
    return isinstance(value, numbers.Real) and math.isfinite(value) and value > 0


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of a Blender camera with sensor fit AUTO.

    ``width``/``height`` in pixels, ``lens_mm`` focal length and ``sensor_mm`` sensor width in mm
    (spanning the larger image dimension). Raises DepthViewsError on invalid values.
    """

    width: int
    height: int
    lens_mm: float = 50.0
    sensor_mm: float = 36.0
    # A general pinhole K (OpenCV, pixel centres at integers); None: fx = fy, centred (sensor fit AUTO).
    pinhole: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        self.validate()
        if self.pinhole is not None:
            object.__setattr__(self, "pinhole", _check_pinhole(self.pinhole, self.width, self.height))

    @classmethod
    def from_K(cls, width: int, height: int, fx: float, fy: float, cx: float, cy: float,  # noqa: N802
               sensor_mm: float = 36.0) -> Intrinsics:
        """Intrinsics of any pinhole K: focal lengths ``fx``/``fy`` and principal point ``cx``/``cy`` in
        pixels, OpenCV convention (pixel (u, v) centred at integer (u, v)).

        The principal point may lie anywhere, also outside the image (within Blender's lens shift of
        10 image widths).  ``lens_mm`` follows from ``fx`` with a ``sensor_mm`` sensor across the
        image width (grown when the lens would be under Blender's 1 mm).  Raises DepthViewsError for a
        focal length that is not positive and finite, or a principal point that is not finite.
        """
        width, height = _check_size("width", width), _check_size("height", height)
        pinhole = _check_pinhole((fx, fy, cx, cy), width, height)
        if not _is_positive_finite(sensor_mm):
            raise DepthViewsError(f"camera sensor_mm must be a positive number of mm, got {sensor_mm!r}")
        lens_mm = pinhole[0] * float(sensor_mm) / width
        if lens_mm < 1.0:
            sensor_mm, lens_mm = float(sensor_mm) / lens_mm, 1.0
        return cls(width=width, height=height, lens_mm=float(lens_mm), sensor_mm=float(sensor_mm),
                   pinhole=pinhole)

    @property
    def sensor_fit(self) -> str:
        """Blender's sensor fit: AUTO (square pixels, centred), HORIZONTAL for a general K."""
        return "AUTO" if self.pinhole is None else "HORIZONTAL"

    def blender_camera(self) -> dict:
        """Blender settings that realise this K exactly: camera ``sensor_fit``, ``sensor_width``,
        ``lens``, ``shift_x``, ``shift_y`` and render ``pixel_aspect_x``, ``pixel_aspect_y``.

        Blender (both its viewplane and Cycles') puts the optical axis at
        ``W / 2 - shift_x * F`` pixels from the left edge and ``H / 2 + shift_y * F / ycor`` from the
        top, with ``F`` the fitted dimension (the width, for HORIZONTAL) and ``ycor =
        pixel_aspect_y / pixel_aspect_x``; its vertical focal length is ``fx / ycor``.
        """
        settings = {"sensor_fit": self.sensor_fit, "sensor_width": float(self.sensor_mm),
                    "lens": float(self.lens_mm), "shift_x": 0.0, "shift_y": 0.0,
                    "pixel_aspect_x": 1.0, "pixel_aspect_y": 1.0}
        if self.pinhole is None:
            return settings
        fx, fy, cx, cy = self.pinhole
        width, height = self.width, self.height
        ycor = fx / fy  # pixel_aspect_y / pixel_aspect_x; Blender wants both >= 1
        settings["pixel_aspect_x"], settings["pixel_aspect_y"] = (1.0 / ycor, 1.0) if ycor < 1 else (1.0, ycor)
        settings["shift_x"] = ((width - 1) / 2.0 - cx) / width
        settings["shift_y"] = (cy - (height - 1) / 2.0) * ycor / width
        return settings

    def validate(self) -> None:
        """Raise DepthViewsError unless sizes are integers in [1, 65536] and lens/sensor > 0."""
        for name in ("width", "height"):
            _check_size(name, getattr(self, name))
        for name in ("lens_mm", "sensor_mm"):
            value = getattr(self, name)
            if not _is_positive_finite(value):
                raise DepthViewsError(f"camera {name} must be a positive number of mm, got {value!r}")
        fov = self.fov_deg
        if not 0.0 < fov < 180.0:
            raise DepthViewsError(f"camera field of view must be in (0, 180) degrees, got {fov}")

    @classmethod
    def from_fov(cls, width: int, height: int, fov_deg: float, sensor_mm: float = 36.0) -> Intrinsics:
        """Intrinsics whose field of view across the larger image dimension is ``fov_deg``.

        This is Blender's camera ``angle`` with sensor fit AUTO. fov must be in (0, 180) degrees.
        """
        if not isinstance(fov_deg, numbers.Real) or not 0.0 < fov_deg < 180.0:
            raise DepthViewsError(f"camera field of view must be in (0, 180) degrees, got {fov_deg!r}")
        if not _is_positive_finite(sensor_mm):
            raise DepthViewsError(f"camera sensor_mm must be a positive number of mm, got {sensor_mm!r}")
        lens_mm = sensor_mm / (2.0 * math.tan(math.radians(fov_deg) / 2.0))
        return cls(width=width, height=height, lens_mm=float(lens_mm), sensor_mm=float(sensor_mm))

    @property
    def focal_px(self) -> float:
        """Focal length in pixels (fx = fy; fx for a general K)."""
        if self.pinhole is not None:
            return self.pinhole[0]
        return float(self.lens_mm) / float(self.sensor_mm) * max(self.width, self.height)

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - K is the standard name
        """3x3 OpenCV intrinsic matrix (float64), principal point ((W-1)/2, (H-1)/2) unless ``pinhole``."""
        if self.pinhole is not None:
            fx, fy, cx, cy = self.pinhole
        else:
            fx = fy = self.focal_px
            cx, cy = (self.width - 1) / 2.0, (self.height - 1) / 2.0
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=np.float64)

    def _half_angles(self, size: int, f: float, c: float) -> tuple[float, float]:
        """Angles (rad, signed) from the optical axis to the two image edges along one axis."""
        return math.atan((c + 0.5) / f), math.atan((size - 0.5 - c) / f)

    @property
    def fov_x_deg(self) -> float:
        """Horizontal field of view in degrees (edge to edge of the image)."""
        K = self.K
        return math.degrees(sum(self._half_angles(self.width, K[0, 0], K[0, 2])))

    @property
    def fov_y_deg(self) -> float:
        """Vertical field of view in degrees (edge to edge of the image)."""
        K = self.K
        return math.degrees(sum(self._half_angles(self.height, K[1, 1], K[1, 2])))

    @property
    def min_half_fov_deg(self) -> float:
        """Smallest angle from the optical axis to an image edge (negative: the axis is outside)."""
        K = self.K
        return math.degrees(min(*self._half_angles(self.width, K[0, 0], K[0, 2]),
                                *self._half_angles(self.height, K[1, 1], K[1, 2])))

    @property
    def fov_deg(self) -> float:
        """Field of view across the fitted sensor dimension in degrees (Blender's camera angle)."""
        return math.degrees(2.0 * math.atan(float(self.sensor_mm) / (2.0 * float(self.lens_mm))))


def _check_size(name: str, value) -> int:
    """``value`` as an image size in pixels, or DepthViewsError naming ``name`` (width/height)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DepthViewsError(f"image {name} must be an integer number of pixels, got {value!r}")
    if not 0 < value <= MAX_IMAGE_SIZE_PX:
        raise DepthViewsError(f"image {name} must be between 1 and {MAX_IMAGE_SIZE_PX} pixels, got {value}")
    return int(value)


def _check_pinhole(values, width, height) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) as floats; DepthViewsError unless focal lengths are positive, at most
    :data:`~.limits.MAX_FOCAL_PX` and within Blender's pixel aspect of each other, and the principal point
    is finite and within Blender's lens shift range (checked in that order, so the right value is named)."""
    try:
        fx, fy, cx, cy = (float(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        raise DepthViewsError(f"pinhole intrinsics must be four numbers fx fy cx cy, got {values!r}") from None
    for name, value in (("fx", fx), ("fy", fy)):
        if not (math.isfinite(value) and value > 0):
            raise DepthViewsError(f"focal length {name} must be a positive number of pixels, got {value!r}")
        if value > MAX_FOCAL_PX:
            raise DepthViewsError(f"focal length {name} is {value:g} pixels; at most {MAX_FOCAL_PX:g}")
    if max(fx / fy, fy / fx) > MAX_PIXEL_ASPECT:
        raise DepthViewsError(f"focal lengths fx {fx:g} and fy {fy:g} differ by more than {MAX_PIXEL_ASPECT:g} "
                              "times, Blender's largest pixel aspect")
    for name, value in (("cx", cx), ("cy", cy)):
        if not math.isfinite(value):
            raise DepthViewsError(f"principal point {name} must be a finite number of pixels, got {value!r}")
    size = max(int(width), 1)
    if abs((width - 1) / 2.0 - cx) / size > MAX_LENS_SHIFT or \
            abs(cy - (height - 1) / 2.0) * fx / fy / size > MAX_LENS_SHIFT:
        raise DepthViewsError(
            f"principal point ({cx:g}, {cy:g}) is more than {MAX_LENS_SHIFT:g} image widths from the image "
            "centre, beyond Blender's lens shift")
    return fx, fy, cx, cy
