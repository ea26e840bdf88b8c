"""Camera sets on a sphere around an object, and the camera conventions Depth Views uses.

Pure numpy (no bpy), float64 throughout.

Conventions
-----------
- World frame: right-handed, +Z up (Blender's). Lengths in scene units, angles in degrees.
- ``camera_to_world``: 4x4, Blender/OpenGL camera axes (x right, y up, the camera looks down
  its -z), i.e. exactly Blender's ``camera.matrix_world``.
- ``world_to_camera``: 4x4, OpenCV camera axes (x right, y down, z forward):
  ``world_to_camera = diag(1, -1, -1, 1) @ inv(camera_to_world)``. A homogeneous world point p
  gives the camera point ``q = world_to_camera @ p``; its planar depth is ``q.z`` and its pixel
  is ``K @ q[:3] / q.z``.
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
- Azimuth is measured in the XY plane from +X towards +Y; elevation from the XY plane towards
  +Z. Camera position = center + radius * (cos el cos az, cos el sin az, sin el).
- Every camera looks at the sphere centre with world +Z as its up hint, so image up is world up.
  Looking straight down or up (view direction parallel to +Z), world +Y is used as the up hint
  instead (see ``look_at``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import DepthViewsError

MAX_IMAGE_SIZE_PX = 65536  # Blender's largest render resolution
SAMPLINGS = ("fibonacci", "random", "grid")
FULL_SPHERE = (-90.0, 90.0)
GOLDEN_ANGLE_DEG = 180.0 * (3.0 - math.sqrt(5.0))  # ~137.508 degrees

# diag(1, -1, -1, 1): Blender camera axes (y up, looks down -z) <-> OpenCV (y down, looks down +z).
BLENDER_TO_OPENCV_AXES = np.diag([1.0, -1.0, -1.0, 1.0])

# Below this sine of the angle between view direction and up hint, look_at uses the fallback up.
_PARALLEL_SIN_TOLERANCE = 1e-6


def _is_positive_finite(value) -> bool:
    return isinstance(value, numbers.Real) and math.isfinite(value) and value > 0


# --------------------------------------------------------------------------------------------
# Intrinsics


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
        pinhole = _check_pinhole((fx, fy, cx, cy), width, height)
        if not _is_positive_finite(sensor_mm):
            raise DepthViewsError(f"camera sensor_mm must be a positive number of mm, got {sensor_mm!r}")
        if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width <= 0:
            raise DepthViewsError(f"image width must be an integer number of pixels, got {width!r}")
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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise DepthViewsError(f"image {name} must be an integer number of pixels, got {value!r}")
            if not 0 < value <= MAX_IMAGE_SIZE_PX:
                raise DepthViewsError(
                    f"image {name} must be between 1 and {MAX_IMAGE_SIZE_PX} pixels, got {value}"
                )
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


MAX_LENS_SHIFT = 10.0  # Blender's largest shift_x / shift_y (in image widths)


def _check_pinhole(values, width, height) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) as floats; DepthViewsError unless focal lengths are positive and finite and the
    principal point is finite and within Blender's lens shift range."""
    try:
        fx, fy, cx, cy = (float(v) for v in values)
    except (TypeError, ValueError):
        raise DepthViewsError(f"pinhole intrinsics must be four numbers fx fy cx cy, got {values!r}") from None
    for name, value in (("fx", fx), ("fy", fy)):
        if not (math.isfinite(value) and value > 0):
            raise DepthViewsError(f"focal length {name} must be a positive number of pixels, got {value!r}")
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


# --------------------------------------------------------------------------------------------
# Direction sampling (azimuth, elevation in degrees)


def _check_count(n, what: str = "number of views") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise DepthViewsError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def _check_band(elevation_range) -> tuple[float, float]:
    """Validate an elevation band (low, high) in degrees with -90 <= low <= high <= 90."""
    try:
        low, high = (float(x) for x in elevation_range)
    except (TypeError, ValueError):
        raise DepthViewsError(
            f"elevation range must be two numbers (low, high) in degrees, got {elevation_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or not -90.0 <= low <= high <= 90.0:
        raise DepthViewsError(
            f"elevation range must satisfy -90 <= low <= high <= 90 degrees, got ({low:g}, {high:g})"
        )
    return low, high


def elevation_band(hemisphere: bool, elevation: tuple[float, float] | None) -> tuple[float, float]:
    """Combine the ``--hemisphere`` and ``--elevation LOW HIGH`` options into one band in degrees.

    Neither: (-90, 90). Hemisphere only: (0, 90). Both: their intersection; an empty intersection
    raises DepthViewsError.
    """
    band = FULL_SPHERE if elevation is None else _check_band(elevation)
    if hemisphere:
        low, high = max(band[0], 0.0), band[1]
        if low > high:
            raise DepthViewsError(
                f"elevation range ({band[0]:g}, {band[1]:g}) lies below the horizon, "
                "so it does not overlap the upper hemisphere; drop --hemisphere or raise the range"
            )
        band = (low, high)
    return float(band[0]), float(band[1])


def _sin_elevation_bounds(elevation_range) -> tuple[float, float]:
    low, high = _check_band(elevation_range)
    return math.sin(math.radians(low)), math.sin(math.radians(high))


def _elevation_from_sin(z: np.ndarray) -> np.ndarray:
    return np.degrees(np.arcsin(np.clip(z, -1.0, 1.0)))


def sample_fibonacci_sphere(n: int, *, elevation_range=FULL_SPHERE) -> tuple[np.ndarray, np.ndarray]:
    """Fibonacci (golden-angle) lattice of ``n`` directions, uniform in area within the band.

    sin(elevation) is evenly spaced at bin centres between the band's limits, azimuth advances
    by the golden angle (~137.5 deg) starting at 0. Returns (azimuth_deg in [0, 360),
    elevation_deg), each of shape (n,). The poles are never hit exactly for a full sphere.
    """
    n = _check_count(n)
    z_low, z_high = _sin_elevation_bounds(elevation_range)
    i = np.arange(n, dtype=np.float64)
    z = z_low + (i + 0.5) / n * (z_high - z_low)
    azimuth = np.mod(i * GOLDEN_ANGLE_DEG, 360.0)
    return azimuth, _elevation_from_sin(z)


def sample_random_sphere(
    n: int, *, seed: int | None, elevation_range=FULL_SPHERE
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random directions, uniform in area within the elevation band.

    Reproducible for an integer ``seed`` (numpy ``default_rng``); ``None`` draws fresh entropy.
    Returns (azimuth_deg in [0, 360), elevation_deg), each of shape (n,).
    """
    n = _check_count(n)
    z_low, z_high = _sin_elevation_bounds(elevation_range)
    rng = np.random.default_rng(seed)
    azimuth = rng.uniform(0.0, 360.0, size=n)
    z = rng.uniform(z_low, z_high, size=n)
    return azimuth, _elevation_from_sin(z)


def sample_grid(
    n_azimuth: int, n_elevation: int, *, elevation_range=FULL_SPHERE
) -> tuple[np.ndarray, np.ndarray]:
    """Regular azimuth x elevation grid, ``n_azimuth * n_elevation`` directions.

    Azimuths are ``360 * j / n_azimuth`` (j = 0..n_azimuth-1). Elevations are the centres of
    ``n_elevation`` equal bins of the band (uniform in angle), so a full-sphere grid never stacks
    n_azimuth cameras on a pole: band (-90, 90) with 3 rows gives -60, 0, 60.
    Order is elevation-major: index = i_elevation * n_azimuth + j_azimuth, lowest row first.
    """
    n_azimuth = _check_count(n_azimuth, "number of grid azimuths")
    n_elevation = _check_count(n_elevation, "number of grid elevations")
    low, high = _check_band(elevation_range)
    azimuths = 360.0 * np.arange(n_azimuth, dtype=np.float64) / n_azimuth
    elevations = low + (np.arange(n_elevation, dtype=np.float64) + 0.5) * (high - low) / n_elevation
    elevation_grid, azimuth_grid = np.meshgrid(elevations, azimuths, indexing="ij")
    return azimuth_grid.ravel(), elevation_grid.ravel()


def direction_from_angles(azimuth_deg, elevation_deg) -> np.ndarray:
    """Unit direction(s) (cos el cos az, cos el sin az, sin el), shape (..., 3)."""
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)


# --------------------------------------------------------------------------------------------
# Camera matrices


def _as_vector3(value, name: str) -> np.ndarray:
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)):
        raise DepthViewsError(f"{name} must be 3 finite numbers, got {value!r}")
    return vector


def _as_matrix4(value, name: str) -> np.ndarray:
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise DepthViewsError(f"{name} must be a finite 4x4 matrix, got shape {matrix.shape}")
    return matrix


def look_at(position, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """camera_to_world (4x4, Blender camera axes) of a camera at ``position`` looking at ``target``.

    Image up is ``up`` projected onto the image plane. When the view direction is (anti)parallel
    to ``up`` (e.g. looking straight down or up with up = +Z), world +Y is used as the up hint
    instead (world +Z if ``up`` itself is along Y), so a straight-down camera sees +X to the right
    and +Y up, like Blender's top view. The result is always a rotation (det +1) plus translation.
    Raises DepthViewsError if position == target or ``up`` is zero.
    """
    position = _as_vector3(position, "camera position")
    target = _as_vector3(target, "look-at target")
    up = _as_vector3(up, "up vector")
    forward = target - position
    distance = np.linalg.norm(forward)
    up_norm = np.linalg.norm(up)
    if distance == 0.0:
        raise DepthViewsError(f"camera position {position.tolist()} equals its look-at target")
    if up_norm == 0.0:
        raise DepthViewsError("up vector must be non-zero")
    forward = forward / distance
    up = up / up_norm

    right = np.cross(forward, up)
    if np.linalg.norm(right) < _PARALLEL_SIN_TOLERANCE:
        fallback_up = np.array([0.0, 1.0, 0.0])
        if abs(up @ fallback_up) > 0.5:
            fallback_up = np.array([0.0, 0.0, 1.0])
        right = np.cross(forward, fallback_up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)

    camera_to_world = np.eye(4)
    camera_to_world[:3, 0] = right
    camera_to_world[:3, 1] = true_up
    camera_to_world[:3, 2] = -forward
    camera_to_world[:3, 3] = position
    return camera_to_world


def world_to_camera_opencv(camera_to_world) -> np.ndarray:
    """OpenCV world_to_camera (x right, y down, z forward) from a Blender camera_to_world.

    ``diag(1, -1, -1, 1) @ inv(camera_to_world)``; a general inverse, so a scaled
    ``matrix_world`` is handled too. Raises DepthViewsError for a singular or non-finite matrix.
    """
    camera_to_world = _as_matrix4(camera_to_world, "camera_to_world")
    try:
        return BLENDER_TO_OPENCV_AXES @ np.linalg.inv(camera_to_world)
    except np.linalg.LinAlgError:
        raise DepthViewsError("camera_to_world is singular (a camera with zero scale?)") from None


def camera_to_world_from_opencv(world_to_camera) -> np.ndarray:
    """Blender camera_to_world from an OpenCV world_to_camera; inverse of world_to_camera_opencv."""
    world_to_camera = _as_matrix4(world_to_camera, "world_to_camera")
    try:
        return np.linalg.inv(BLENDER_TO_OPENCV_AXES @ world_to_camera)
    except np.linalg.LinAlgError:
        raise DepthViewsError("world_to_camera is singular") from None


# --------------------------------------------------------------------------------------------
# Framing


def bounding_sphere(points) -> tuple[np.ndarray, float]:
    """(center (3,), radius) around ``points`` (N, 3).

    center is the axis-aligned bounding-box centre, radius the largest distance of a point from
    it (not the minimal sphere, but never smaller than needed). Raises DepthViewsError for no
    points, a wrong shape or non-finite coordinates.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise DepthViewsError(f"points must have shape (N, 3), got {points.shape}")
    if len(points) == 0:
        raise DepthViewsError("cannot fit a bounding sphere: there are no points (empty mesh?)")
    if not np.all(np.isfinite(points)):
        raise DepthViewsError(
            f"cannot fit a bounding sphere: {int(np.sum(~np.isfinite(points).all(axis=1)))} "
            "point(s) have NaN or infinite coordinates"
        )
    center = (points.min(axis=0) + points.max(axis=0)) / 2.0
    radius = float(np.sqrt(np.max(np.sum((points - center) ** 2, axis=1))))
    return center, radius


def auto_radius(bounding_radius: float, intrinsics: Intrinsics, margin: float = 1.1) -> float:
    """Camera distance from the sphere centre at which a bounding sphere fits in the image.

    ``margin * bounding_radius / sin(half_fov)`` with the smaller of the horizontal/vertical
    half-FOVs: margin 1.0 makes the sphere's silhouette touch the nearer image edges exactly.
    Raises DepthViewsError for a radius or margin that is not positive and finite, or a margin
    so small that the camera would sit inside the sphere.
    """
    if not _is_positive_finite(bounding_radius):
        raise DepthViewsError(
            f"bounding radius must be positive and finite, got {bounding_radius!r} "
            "(is the object a single point or empty?)"
        )
    if not _is_positive_finite(margin):
        raise DepthViewsError(f"framing margin must be a positive number, got {margin!r}")
    half_fov = math.radians(intrinsics.min_half_fov_deg)
    if half_fov <= 0:
        raise DepthViewsError("the principal point lies outside the image, so a camera looking at the centre "
                              "cannot frame the object; give --radius")
    radius = margin * float(bounding_radius) / math.sin(half_fov)
    if radius <= bounding_radius:
        raise DepthViewsError(
            f"framing margin {margin:g} puts the camera inside the object's bounding sphere; "
            f"use a margin above {math.sin(half_fov):.3f}"
        )
    return float(radius)


def camera_inside_box(position, box_min, box_max) -> bool:
    """True if ``position`` lies inside or on the axis-aligned box [box_min, box_max]."""
    position = _as_vector3(position, "camera position")
    box_min = _as_vector3(box_min, "box minimum")
    box_max = _as_vector3(box_max, "box maximum")
    return bool(np.all(position >= box_min) and np.all(position <= box_max))


def pixel_box_of_points(points, K, world_to_camera, width: int, height: int, margin: int = 2):
    """The pixel rectangle that holds every pixel centre a surface spanned by ``points`` can cover.

    ``points``: (N, 3) world points whose convex hull contains the surface (e.g. all its vertices);
    ``K``/``world_to_camera``: OpenCV conventions (pixel (u, v) centred at integer (u, v)).  Returns
    ``(u_start, u_stop, v_start, v_stop)``, half-open, grown by ``margin`` pixels and clipped to the
    image, or None when the rectangle cannot be trusted (a point at or behind the camera plane) or
    is empty (nothing in view).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    world_to_camera = np.asarray(world_to_camera, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    camera = points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    z = camera[:, 2]
    if len(points) == 0 or not np.all(z > 0) or not np.all(np.isfinite(camera)):
        return None
    u = K[0, 0] * camera[:, 0] / z + K[0, 2]
    v = K[1, 1] * camera[:, 1] / z + K[1, 2]
    u_start = max(0, int(np.floor(u.min())) - margin)
    u_stop = min(width, int(np.ceil(u.max())) + 1 + margin)
    v_start = max(0, int(np.floor(v.min())) - margin)
    v_stop = min(height, int(np.ceil(v.max())) + 1 + margin)
    if u_start >= u_stop or v_start >= v_stop:
        return None
    return u_start, u_stop, v_start, v_stop


# --------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True, eq=False)
class View:
    """One camera of a set: its sphere angles (degrees), distance, and both matrix conventions.

    ``camera_to_world``: 4x4 Blender axes (matrix_world); ``world_to_camera``: 4x4 OpenCV axes.
    The matrices are stored as read-only float64 copies.  A view read from a camera file may carry
    its own ``intrinsics`` (None: the set's) and ``source`` (the file's name for it, e.g. an image).
    """

    index: int
    azimuth_deg: float
    elevation_deg: float
    radius: float
    camera_to_world: np.ndarray
    world_to_camera: np.ndarray
    intrinsics: Intrinsics | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        for name in ("camera_to_world", "world_to_camera"):
            matrix = np.array(_as_matrix4(getattr(self, name), name), dtype=np.float64, copy=True)
            matrix.setflags(write=False)
            object.__setattr__(self, name, matrix)

    @property
    def position(self) -> np.ndarray:
        """Camera position in world coordinates, shape (3,)."""
        return self.camera_to_world[:3, 3].copy()

    def to_json(self) -> dict:
        """Plain-JSON dict: index, angles (deg), radius, position and both 4x4 matrices as lists."""
        return {
            "index": int(self.index),
            "azimuth_deg": float(self.azimuth_deg),
            "elevation_deg": float(self.elevation_deg),
            "radius": float(self.radius),
            "position": self.position.tolist(),
            "camera_to_world": self.camera_to_world.tolist(),
            "world_to_camera": self.world_to_camera.tolist(),
        }


def sample_views(
    *,
    sampling: str,
    n_views: int | None,
    center,
    radius: float,
    seed: int | None = 0,
    grid: tuple[int, int] | None = None,
    elevation_range=FULL_SPHERE,
) -> list[View]:
    """Cameras on a sphere of ``radius`` around ``center``, each looking at the centre.

    ``sampling``: "fibonacci", "random" (uses ``seed``) or "grid" (needs ``grid=(n_azimuth,
    n_elevation)``; ``n_views`` may then be None, otherwise it must equal their product).
    ``elevation_range``: (low, high) degrees. Raises DepthViewsError on bad options.
    """
    if sampling not in SAMPLINGS:
        raise DepthViewsError(f"unknown sampling {sampling!r}; choose one of {', '.join(SAMPLINGS)}")
    center = _as_vector3(center, "sphere center")
    if not _is_positive_finite(radius):
        raise DepthViewsError(f"camera distance (radius) must be positive and finite, got {radius!r}")
    if grid is not None and sampling != "grid":
        raise DepthViewsError(f"a grid size is only used with sampling 'grid', not {sampling!r}")

    if sampling == "grid":
        if grid is None:
            raise DepthViewsError(
                "sampling 'grid' needs grid=(n_azimuth, n_elevation), e.g. (8, 3) for 24 views"
            )
        try:
            n_azimuth, n_elevation = grid
        except (TypeError, ValueError):
            raise DepthViewsError(f"grid must be (n_azimuth, n_elevation), got {grid!r}") from None
        n_azimuth = _check_count(n_azimuth, "number of grid azimuths")
        n_elevation = _check_count(n_elevation, "number of grid elevations")
        if n_views is not None:
            _check_count(n_views)
            if n_views != n_azimuth * n_elevation:
                raise DepthViewsError(
                    f"{n_views} views do not match the grid {n_azimuth} azimuths x {n_elevation} "
                    f"elevations = {n_azimuth * n_elevation} views; "
                    "change one or leave out the view count"
                )
        azimuths, elevations = sample_grid(n_azimuth, n_elevation, elevation_range=elevation_range)
    elif sampling == "random":
        azimuths, elevations = sample_random_sphere(n_views, seed=seed, elevation_range=elevation_range)
    else:
        azimuths, elevations = sample_fibonacci_sphere(n_views, elevation_range=elevation_range)

    positions = center + float(radius) * direction_from_angles(azimuths, elevations)
    views = []
    for index, (azimuth, elevation, position) in enumerate(zip(azimuths, elevations, positions)):
        camera_to_world = look_at(position, center)
        views.append(
            View(
                index=index,
                azimuth_deg=float(azimuth),
                elevation_deg=float(elevation),
                radius=float(radius),
                camera_to_world=camera_to_world,
                world_to_camera=world_to_camera_opencv(camera_to_world),
            )
        )
    return views
