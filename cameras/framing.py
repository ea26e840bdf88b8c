"""Framing: where cameras must sit and what they must clip so that an object is seen whole and its depth
is exact (pure numpy).  All lengths in scene units.

- :func:`bounding_sphere`, :func:`auto_radius` (perspective), :func:`auto_ortho_scale` and
  :func:`auto_distance` (the other camera models): ``--radius auto`` / ``--ortho-scale auto``;
- :func:`clip_range` and :func:`depth_range_problem`: clip distances, and what Blender cannot render
  exactly (depth beyond :data:`~.limits.MAX_DEPTH`, a clip start below Blender's);
- :func:`normalization_matrix`: ``--normalize`` (the object to a sphere of radius 0.5 at the origin);
- :func:`camera_inside_box`, :func:`pixel_box_of_points`: warnings and the cropped render border.
"""

from __future__ import annotations

import math

import numpy as np

from .conventions import _as_vector3
from .intrinsics import Intrinsics, _is_positive_finite
from .limits import BLENDER_MIN_CLIP_START, MAX_DEPTH
from .models import PANORAMIC_FIT_MAX_DEG, CameraModel, _positive
from ..errors import DepthViewsError

NORMALIZED_RADIUS = 0.5


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


def auto_ortho_scale(width: int, height: int, bounding_radius: float, margin: float = 1.1) -> float:
    """``--ortho-scale auto``: the scale (larger side, scene units) at which a bounding sphere of
    ``bounding_radius`` fits the smaller image side with ``margin``."""
    _positive(bounding_radius, "bounding radius", "scene units")
    _positive(margin, "framing margin", "times the radius")
    return 2.0 * margin * float(bounding_radius) * max(width, height) / min(width, height)


def auto_distance(model: CameraModel, bounding_radius: float, margin: float = 1.1) -> float:
    """``--radius auto`` for a non-perspective model: the camera distance from the centre.

    Orthographic: the distance does not change the image, so ``2 * margin * bounding_radius``
    (outside the sphere, with room for the near clip).  Fisheye and equirectangular: the sphere fits
    the smaller half-angle the camera sees with ``margin``, that half-angle capped at
    :data:`PANORAMIC_FIT_MAX_DEG` so the camera stays outside the object's bounding box (whose
    corners can lie up to sqrt(3) bounding radii out) and off the strongly bent image edge.
    """
    radius = _positive(bounding_radius, "bounding radius", "scene units")
    margin = _positive(margin, "framing margin", "times the radius")
    if model.lens is not None:
        return _lens_distance(model, radius, margin)
    if model.name == "ORTHOGRAPHIC":
        return 2.0 * margin * radius
    if model.name == "OPENCV_FISHEYE":
        half = model.extra["fisheye_fov_deg"] / 2.0
    else:
        (lon_min, lon_max), (lat_min, lat_max) = model.longitude_range_deg, model.latitude_range_deg
        half = min(lon_max, -lon_min, lat_max, -lat_min)
        if half <= 0:
            raise DepthViewsError(
                f"--radius auto: the equirectangular range {model.longitude_range_deg} x {model.latitude_range_deg} "
                "does not hold the view direction (0, 0); give --radius")
    distance = margin * radius / math.sin(math.radians(min(half, PANORAMIC_FIT_MAX_DEG)))
    if distance <= radius:
        raise DepthViewsError(f"framing margin {margin:g} puts the camera inside the object's bounding sphere")
    return distance


def lens_half_angle_deg(model: CameraModel) -> float:
    """The smallest angle (degrees) between a lens model's optical axis and the edge of what it sees: the
    image border, or the edge of the pixels that have a ray (a fisheye's reach, a fold); 0 when the optical
    axis itself is not seen."""
    directions, valid = model.lens.depth_rays()
    padded = np.pad(valid, 1, constant_values=False)
    edge = valid & ~(padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    if not edge.any():
        return 0.0
    d = directions[edge]
    angles = np.degrees(np.arctan2(np.hypot(d[:, 0], d[:, 1]), d[:, 2]))
    uv, ok = model.lens.project(np.array([[0.0, 0.0, 1.0]]))
    u, v = uv[0]
    if not (ok[0] and -0.5 <= u < model.width - 0.5 and -0.5 <= v < model.height - 0.5):
        return 0.0
    return float(angles.min())


def _lens_distance(model: CameraModel, radius: float, margin: float) -> float:
    """``--radius auto`` for a lens model: the bounding sphere fits the smallest half-angle it sees
    (:func:`lens_half_angle_deg`), capped at :data:`PANORAMIC_FIT_MAX_DEG` for fisheyes."""
    half = lens_half_angle_deg(model)
    if half <= 0:
        raise DepthViewsError(f"--radius auto: the {model.name} camera does not see along its optical axis "
                              "(the principal point is outside what it sees); give --radius")
    if model.depth_kind == "ray_length":
        half = min(half, PANORAMIC_FIT_MAX_DEG)
    distance = margin * radius / math.sin(math.radians(min(half, 89.0)))
    if distance <= radius:
        raise DepthViewsError(f"framing margin {margin:g} puts the camera inside the object's bounding sphere")
    return distance


def depth_range_problem(clip_start: float, camera_distance: float, extent_radius: float) -> str | None:
    """Why Blender cannot render an object of ``extent_radius`` seen from ``camera_distance`` exactly,
    or None.  All in scene units: depth beyond :data:`MAX_DEPTH` reads back as background, and
    Blender clamps a clip start below :data:`BLENDER_MIN_CLIP_START`.
    """
    far = camera_distance + extent_radius
    if far >= MAX_DEPTH:
        return (f"the object reaches {far:.3g} scene units from the cameras, but depth from {MAX_DEPTH:g} on "
                "is stored as background; use --normalize or rescale the file")
    if clip_start < BLENDER_MIN_CLIP_START:
        return (f"the object is too small ({2 * extent_radius:.3g} scene units across, near clip "
                f"{clip_start:.3g}) for Blender, which cannot clip nearer than {BLENDER_MIN_CLIP_START:g}; "
                "use --normalize or rescale the file")
    return None


def clip_range(camera_distance: float, extent_radius: float) -> tuple[float, float]:
    """Clip distances that keep all of a sphere of ``extent_radius`` visible from ``camera_distance``.

    Both in scene units; the camera sits ``camera_distance`` from the sphere's centre.
    """
    far = camera_distance + extent_radius
    gap = camera_distance - extent_radius
    near = 0.5 * gap if gap > 0 else 1e-4 * far
    return near, 2.0 * far


def normalization_matrix(center, radius: float) -> np.ndarray:
    """4x4 ``object_to_world`` that moves ``center`` to the origin and scales ``radius`` to 0.5."""
    if not radius > 0:
        raise DepthViewsError("cannot normalise an object of zero size")
    scale = NORMALIZED_RADIUS / radius
    matrix = np.diag([scale, scale, scale, 1.0])
    matrix[:3, 3] = -scale * np.asarray(center, dtype=np.float64)
    return matrix
