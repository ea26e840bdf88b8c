"""Camera axes and pose conventions: Blender/OpenGL vs OpenCV, look-at, quaternions (pure numpy).

- World frame: right-handed, +Z up (Blender's). Lengths in scene units, angles in degrees.
- ``camera_to_world``: 4x4, Blender/OpenGL camera axes (x right, y up, the camera looks down
  its -z), i.e. exactly Blender's ``camera.matrix_world``.
- ``world_to_camera``: 4x4, OpenCV camera axes (x right, y down, z forward):
  ``world_to_camera = diag(1, -1, -1, 1) @ inv(camera_to_world)``. A homogeneous world point p
  gives the camera point ``q = world_to_camera @ p``; its planar depth is ``q.z`` and its pixel
  is ``K @ q[:3] / q.z`` (K: see :mod:`.intrinsics`).
- Every sampled camera looks at its target with world +Z as its up hint, so image up is world up.
  Looking straight down or up (view direction parallel to +Z), world +Y is used as the up hint
  instead (see ``look_at``).
- Quaternions are Hamilton (w, x, y, z), as COLMAP writes them.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DepthViewsError

# diag(1, -1, -1, 1): Blender camera axes (y up, looks down -z) <-> OpenCV (y down, looks down +z).
BLENDER_TO_OPENCV_AXES = np.diag([1.0, -1.0, -1.0, 1.0])

# Below this sine of the angle between view direction and up hint, look_at uses the fallback up.
_PARALLEL_SIN_TOLERANCE = 1e-6


def _as_vector3(value, name: str) -> np.ndarray:
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)):
        raise DepthViewsError(f"{name} must be 3 finite numbers, got {value!r}")
    return vector


def _as_matrix4(value, name: str) -> np.ndarray:
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.isfinite(matrix).all():
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


def quaternion_to_rotation(qw, qx, qy, qz) -> np.ndarray:
    """3x3 rotation of the unit quaternion (w, x, y, z) (Hamilton, as COLMAP writes it)."""
    q = np.array([qw, qx, qy, qz], dtype=np.float64)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def rotation_to_quaternion(rotation) -> np.ndarray:
    """Unit quaternion (w, x, y, z), w >= 0, of a 3x3 rotation (inverse of quaternion_to_rotation)."""
    r = np.asarray(rotation, dtype=np.float64)
    # Largest-component method (numerically safe for every rotation).
    trace = np.trace(r)
    candidates = [trace, r[0, 0], r[1, 1], r[2, 2]]
    k = int(np.argmax(candidates))
    if k == 0:
        s = math.sqrt(1.0 + trace) * 2
        q = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
    elif k == 1:
        s = math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
        q = [(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
    elif k == 2:
        s = math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
        q = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
        q = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[0] < 0 else q
