"""Exact per-pixel geometry from depth and a camera (numpy only, no bpy).

Conventions are those of :mod:`depth_views.cameras`: ``K`` is a 3x3 OpenCV intrinsics matrix whose
pixel (column u, row v) has its centre at integer (u, v); ``world_to_camera`` is 4x4 in OpenCV camera
axes (x right, y down, z forward); planar depth is the camera-space z of the surface point seen
through a pixel centre; +inf (or 0 / NaN, which are treated alike) means no surface.

Wherever a function takes ``K`` it also takes a :class:`~depth_views.cameras.models.CameraModel`,
whose ``depth`` is planar (pinhole, orthographic) or the ray length (fisheye, equirectangular), and
whose distance is measured along the ray from its origin (the camera centre; for orthographic
cameras the image plane, so distance = depth).
"""

from __future__ import annotations

import numpy as np

from ..cameras.models import CameraModel
from ..errors import DepthViewsError


def _matrix(value, shape, name) -> np.ndarray:
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.shape != shape or not np.all(np.isfinite(matrix)):
        raise DepthViewsError(f"{name} must be a finite {shape[0]}x{shape[1]} matrix, got {matrix.shape}")
    return matrix


def _depth_2d(depth) -> np.ndarray:
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise DepthViewsError(f"depth must be a 2D (height, width) array, got shape {depth.shape}")
    return depth


def pixel_rays(K, width: int, height: int) -> np.ndarray:
    """Ray directions with z = 1 (H, W, 3), float64, OpenCV camera axes, through every pixel centre.

    A surface point at planar depth z seen through pixel (u, v) is ``z * pixel_rays(...)[v, u]``.
    """
    K = _matrix(K, (3, 3), "K")
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    x = (u - K[0, 2] - K[0, 1] * (v - K[1, 2]) / K[1, 1]) / K[0, 0]
    y = (v - K[1, 2]) / K[1, 1]
    return np.stack([x, y, np.ones_like(x)], axis=-1)


def depth_rays(camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``(origins, directions)`` (H, W, 3): the point at depth d is ``origins + d * directions``.

    ``camera`` is a pinhole ``K`` (origins 0, directions with z = 1) or a CameraModel.
    """
    if isinstance(camera, CameraModel):
        if (camera.width, camera.height) != (width, height):
            raise DepthViewsError(f"depth is {width}x{height} pixels but the camera is {camera.width}x{camera.height}")
        origins, directions, _ = camera.depth_rays()
        return origins, directions
    rays = pixel_rays(camera, width, height)
    return np.zeros_like(rays), rays


def surface_mask(depth) -> np.ndarray:
    """True where ``depth`` holds a surface: finite and positive."""
    depth = np.asarray(depth)
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth) & (depth > 0)


def planar_to_distance(depth, K) -> np.ndarray:
    """Euclidean distance from the camera centre (float32, (H, W), +inf = no surface).

    Exact: ``distance = depth * |(x, y, 1)|`` with ``(x, y, 1) = K^-1 (u, v, 1)`` at each pixel
    centre, computed in float64 and rounded once to float32.  With a CameraModel ``K``: ``depth *
    |direction|`` (the same for a pinhole; depth itself for the other models).
    """
    depth = _depth_2d(depth)
    height, width = depth.shape
    scale = np.linalg.norm(depth_rays(K, width, height)[1], axis=-1)
    hit = surface_mask(depth) & (scale > 0)
    distance = np.full(depth.shape, np.inf, dtype=np.float64)
    distance[hit] = depth[hit].astype(np.float64) * scale[hit]
    return distance.astype(np.float32)


def distance_to_planar(distance, K) -> np.ndarray:
    """The inverse of :func:`planar_to_distance` (float32, +inf = no surface)."""
    distance = _depth_2d(distance)
    height, width = distance.shape
    scale = np.linalg.norm(depth_rays(K, width, height)[1], axis=-1)
    hit = surface_mask(distance) & (scale > 0)
    depth = np.full(distance.shape, np.inf, dtype=np.float64)
    depth[hit] = distance[hit].astype(np.float64) / scale[hit]
    return depth.astype(np.float32)


def backproject(depth, K, world_to_camera, *, return_pixels: bool = False):
    """World points (N, 3), float64, of every surface pixel of ``depth``, in row-major order.

    ``K`` is a pinhole K (planar depth) or a CameraModel (its own depth kind).

    ``world_to_camera`` is 4x4 in OpenCV camera axes (``cameras.json``'s ``views[i].world_to_camera``).
    With ``return_pixels``, also returns the (rows, columns) index arrays of those pixels, so that
    colours or normals can be picked with ``image[rows, columns]``.
    """
    depth = _depth_2d(depth)
    world_to_camera = _matrix(world_to_camera, (4, 4), "world_to_camera")
    height, width = depth.shape
    rows, columns = np.nonzero(surface_mask(depth))
    origins, directions = depth_rays(K, width, height)
    camera_points = origins[rows, columns] + directions[rows, columns] * depth[rows, columns].astype(np.float64)[:, None]
    camera_to_world = np.linalg.inv(world_to_camera)
    points = camera_points @ camera_to_world[:3, :3].T + camera_to_world[:3, 3]
    return (points, (rows, columns)) if return_pixels else points


def world_coordinates(depth, K, world_to_camera) -> np.ndarray:
    """The world point seen at every pixel centre of planar ``depth``: float32 (H, W, 3), NaN = no surface.

    Exactly :func:`backproject`'s points (computed in float64), laid out as an image: the ``xyz`` pass.
    """
    depth = _depth_2d(depth)
    points, (rows, columns) = backproject(depth, K, world_to_camera, return_pixels=True)
    image = np.full(depth.shape + (3,), np.nan, dtype=np.float32)
    image[rows, columns] = points
    return image


def normals_world_to_camera(normals, world_to_camera) -> np.ndarray:
    """Rotate world-frame normals (..., 3) into OpenCV camera axes (x right, y down, z forward).

    float32 out; zero vectors (no surface) stay zero.  Only the rotation of ``world_to_camera`` is
    used (it is a rigid transform).
    """
    rotation = _matrix(world_to_camera, (4, 4), "world_to_camera")[:3, :3]
    normals = np.asarray(normals, dtype=np.float64)
    if normals.shape[-1] != 3:
        raise DepthViewsError(f"normals must have 3 components in the last axis, got shape {normals.shape}")
    return (normals @ rotation.T).astype(np.float32)
