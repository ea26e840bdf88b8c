"""Independent ground truth for the render tests: pinhole rays against triangles, in numpy only.

Uses nothing from Depth Views but the numbers in ``cameras.json`` (K, world_to_camera, size).
"""

from __future__ import annotations

import numpy as np


def pixel_rays_camera(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """Unit-z ray directions (H, W, 3) in OpenCV camera axes through every pixel centre (u, v)."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    x = (u - K[0, 2]) / K[0, 0]
    y = (v - K[1, 2]) / K[1, 1]
    return np.stack([x, y, np.ones_like(x)], axis=-1)


def raycast_planar_depth(vertices, faces, K, world_to_camera, width, height) -> np.ndarray:
    """Planar depth (H, W) of the nearest triangle hit along each pixel-centre ray; inf for a miss.

    Möller-Trumbore in camera space; faces are triangles (T, 3) of vertex indices.
    """
    return raycast_hits(vertices, faces, K, world_to_camera, width, height)[0]


def raycast_hits(vertices, faces, K, world_to_camera, width, height):
    """``(planar depth (H, W), hit triangle index (H, W), -1 for a miss)`` of pixel-centre rays."""
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    camera_points = vertices @ np.asarray(world_to_camera)[:3, :3].T + np.asarray(world_to_camera)[:3, 3]
    v0, v1, v2 = (camera_points[faces[:, i]] for i in range(3))
    edge1, edge2 = v1 - v0, v2 - v0
    directions = pixel_rays_camera(np.asarray(K), width, height).reshape(-1, 3)
    depth = np.full(len(directions), np.inf)
    face = np.full(len(directions), -1)
    for start in range(0, len(directions), 4096):
        d = directions[start:start + 4096, None, :]               # (R, 1, 3)
        p = np.cross(d, edge2[None])                               # (R, T, 3)
        det = np.einsum("rtk,tk->rt", p, edge1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / det
            s = -v0[None]                                          # ray origin is the camera centre
            a = np.einsum("rtk,rtk->rt", np.broadcast_to(s, p.shape), p) * inv
            q = np.cross(np.broadcast_to(s, p.shape), edge1[None])
            b = np.einsum("rk,rtk->rt", d[:, 0], q) * inv
            t = np.einsum("tk,rtk->rt", edge2, q) * inv
        hit = (np.abs(det) > 1e-15) & (a >= 0) & (b >= 0) & (a + b <= 1) & (t > 0)
        t = np.where(hit, t, np.inf)
        depth[start:start + 4096] = t.min(axis=1)                 # d has z = 1, so t is planar depth
        face[start:start + 4096] = np.where(np.isfinite(t.min(axis=1)), t.argmin(axis=1), -1)
    return depth.reshape(height, width), face.reshape(height, width)


def raycast_distance(vertices, faces, K, world_to_camera, width, height) -> np.ndarray:
    """Euclidean distance (H, W) from the camera centre to the first hit, by casting UNIT rays.

    Independent of planar depth: the rays are normalised before intersecting, so t is a length.
    """
    K = np.asarray(K, dtype=np.float64)
    rays = pixel_rays_camera(K, width, height)
    unit = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    # Intersect along unit rays: scale K so that the same routine sees directions with z = unit z.
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    camera_points = vertices @ np.asarray(world_to_camera)[:3, :3].T + np.asarray(world_to_camera)[:3, 3]
    v0, v1, v2 = (camera_points[faces[:, i]] for i in range(3))
    n = np.cross(v1 - v0, v2 - v0)
    directions = unit.reshape(-1, 3)
    best = np.full(len(directions), np.inf)
    for start in range(0, len(directions), 4096):
        d = directions[start:start + 4096]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.einsum("tk,tk->t", n, v0)[None] / (d @ n.T)        # plane hit: t * d on the plane
            p = t[..., None] * d[:, None, :]
            inside = ((np.einsum("rtk,tk->rt", np.cross(v1 - v0, p - v0), n) >= 0)
                      & (np.einsum("rtk,tk->rt", np.cross(v2 - v1, p - v1), n) >= 0)
                      & (np.einsum("rtk,tk->rt", np.cross(v0 - v2, p - v2), n) >= 0))
        t = np.where(inside & (t > 0), t, np.inf)
        best[start:start + 4096] = t.min(axis=1)
    return best.reshape(height, width)


def interior_mask(reference: np.ndarray) -> np.ndarray:
    """Pixels whose 8 neighbours hit the same kind of thing (surface or background) and no edge.

    Silhouette and crease pixels are excluded: a pixel-centre ray there may legitimately hit
    another face than a renderer's.
    """
    hit = np.isfinite(reference)
    padded = np.pad(hit, 1, mode="edge")
    same = np.ones_like(hit)
    finite = np.where(hit, reference, 0.0)
    padded_depth = np.pad(finite, 1, mode="edge")
    for dv in (-1, 0, 1):
        for du in (-1, 0, 1):
            neighbour = padded[1 + dv:1 + dv + hit.shape[0], 1 + du:1 + du + hit.shape[1]]
            same &= neighbour == hit
    # Depth discontinuities (one surface in front of another) are edges too.
    for dv, du in ((0, 1), (1, 0)):
        neighbour = padded_depth[1 + dv:1 + dv + hit.shape[0], 1 + du:1 + du + hit.shape[1]]
        jump = np.abs(neighbour - finite)
        same &= ~(hit & (jump > 0.05 * np.maximum(np.abs(finite), 1e-9)))
    return same


def backproject(depth, K, world_to_camera) -> np.ndarray:
    """World points (N, 3) of every finite depth pixel (planar depth, OpenCV K and pose)."""
    height, width = depth.shape
    rays = pixel_rays_camera(np.asarray(K), width, height)
    hit = np.isfinite(depth)
    camera_points = rays[hit] * depth[hit][:, None]
    camera_to_world = np.linalg.inv(np.asarray(world_to_camera))
    return camera_points @ camera_to_world[:3, :3].T + camera_to_world[:3, 3]


# --------------------------------------------------------------------------------------------
# Every camera model, straight from the formulas of issue 14 / docs/camera-models.md.


def model_rays(camera: dict):
    """``(origins, unit directions, valid)`` (H, W, 3) in OpenCV camera axes for a cameras.json camera.

    Written from the stated formulas only: PINHOLE u = fx x/z + cx; ORTHOGRAPHIC u = fx x + cx (rays
    along +z from the plane z = 0); OPENCV_FISHEYE theta = |((u-cx)/fx, (v-cy)/fy)| (image circle
    theta <= fov/2 with fov = W/fx); EQUIRECTANGULAR lon = lon0 + span (u+0.5)/W, lat = lat1 -
    span (v+0.5)/H, direction (cos lat sin lon, -sin lat, cos lat cos lon).
    """
    model = camera.get("camera_model") or "PINHOLE"
    width, height = camera["width"], camera["height"]
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    origins = np.zeros((height, width, 3))
    valid = np.ones((height, width), dtype=bool)
    if model == "EQUIRECTANGULAR":
        lon0, lon1 = np.radians(camera.get("longitude_range_deg", (-180.0, 180.0)))
        lat0, lat1 = np.radians(camera.get("latitude_range_deg", (-90.0, 90.0)))
        lon = lon0 + (lon1 - lon0) * (u + 0.5) / width
        lat = lat1 - (lat1 - lat0) * (v + 0.5) / height
        return origins, np.stack([np.cos(lat) * np.sin(lon), -np.sin(lat), np.cos(lat) * np.cos(lon)], -1), valid
    K = np.asarray(camera["K"], dtype=np.float64)
    a, b = (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]
    if model == "PINHOLE":
        d = np.stack([a, b, np.ones_like(a)], -1)
        return origins, d / np.linalg.norm(d, axis=-1, keepdims=True), valid
    if model == "ORTHOGRAPHIC":
        return np.stack([a, b, np.zeros_like(a)], -1), np.broadcast_to([0.0, 0.0, 1.0], origins.shape), valid
    assert model == "OPENCV_FISHEYE", model
    theta = np.hypot(a, b)
    valid = theta <= width / K[0, 0] / 2.0 + 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(theta > 0, np.sin(theta) / theta, 1.0)
    return origins, np.stack([a * s, b * s, np.cos(theta)], -1), valid


def raycast_model(vertices, faces, camera: dict, world_to_camera) -> np.ndarray:
    """Depth (H, W) as the contract defines it for ``camera``'s model (planar z for PINHOLE and
    ORTHOGRAPHIC, ray length for the others), by Möller-Trumbore; inf for a miss."""
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    points = vertices @ w2c[:3, :3].T + w2c[:3, 3]
    v0, v1, v2 = (points[faces[:, i]] for i in range(3))
    e1, e2 = v1 - v0, v2 - v0
    origins, directions, valid = model_rays(camera)
    shape = valid.shape
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    length = np.full(len(directions), np.inf)
    for start in range(0, len(directions), 2048):
        d = directions[start:start + 2048, None, :]
        o = origins[start:start + 2048, None, :]
        p = np.cross(d, e2[None])
        det = np.einsum("rtk,tk->rt", p, e1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / det
            s = o - v0[None]
            a = np.einsum("rtk,rtk->rt", s, p) * inv
            q = np.cross(s, e1[None])
            b = np.einsum("rtk,rtk->rt", np.broadcast_to(d, q.shape), q) * inv
            t = np.einsum("tk,rtk->rt", e2, q) * inv
            hit = (np.abs(det) > 1e-15) & (a >= 0) & (b >= 0) & (a + b <= 1) & (t > 0)
        length[start:start + 2048] = np.where(hit, t, np.inf).min(axis=1)
    length = np.where(valid.ravel(), length, np.inf)
    if (camera.get("camera_model") or "PINHOLE") in ("PINHOLE", "ORTHOGRAPHIC"):
        with np.errstate(invalid="ignore"):
            length = np.where(np.isfinite(length), origins[:, 2] + length * directions[:, 2], np.inf)
    return length.reshape(shape)


def backproject_model(depth, camera: dict, world_to_camera) -> np.ndarray:
    """World points (N, 3) of every finite depth pixel under the contract of ``camera``'s model."""
    origins, directions, _ = model_rays(camera)
    hit = np.isfinite(depth)
    if (camera.get("camera_model") or "PINHOLE") in ("PINHOLE", "ORTHOGRAPHIC"):
        directions = directions / directions[..., 2:3]  # planar depth is z: scale the ray to z = 1
    points = origins[hit] + directions[hit] * depth[hit][:, None]
    c2w = np.linalg.inv(np.asarray(world_to_camera, dtype=np.float64))
    return points @ c2w[:3, :3].T + c2w[:3, 3]


def project_to_pixels(intrinsics, world_to_camera, points):
    """Pixels (N, 2) and planar depths (N,) of world points (N, 3) under ``intrinsics.K`` (OpenCV)."""
    points = np.atleast_2d(points)
    homogeneous = np.c_[points, np.ones(len(points))]
    camera = (world_to_camera @ homogeneous.T).T[:, :3]
    pixels = (intrinsics.K @ camera.T).T
    return pixels[:, :2] / pixels[:, 2:3], camera[:, 2]


def assert_rigid(camera_to_world):
    """``camera_to_world`` is a finite rotation plus translation with last row (0, 0, 0, 1)."""
    rotation = camera_to_world[:3, :3]
    assert np.all(np.isfinite(camera_to_world))
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert abs(np.linalg.det(rotation) - 1.0) <= 1e-12
    np.testing.assert_array_equal(camera_to_world[3], [0, 0, 0, 1])


def opencv_look_at(position, target=(0.0, 0.0, 0.0)) -> np.ndarray:
    """OpenCV world_to_camera at ``position`` with its optical axis on ``target``, image up = world +Z
    (+Y when looking straight up or down)."""
    position = np.asarray(position, float)
    forward = np.asarray(target, float) - position
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    w2c = np.eye(4)
    w2c[:3, :3] = np.stack([right, np.cross(forward, right), forward])
    w2c[:3, 3] = -w2c[:3, :3] @ position
    return w2c


def ray_hits(origins, directions, rectangles=(), spheres=()) -> np.ndarray:
    """The ray parameter t (N,) of the first hit of world rays ``origins + t * directions`` (N, 3) with
    rectangles (centre, half-axis 1, half-axis 2) and spheres (centre, radius); +inf where nothing is hit."""
    o, d = np.asarray(origins, float), np.asarray(directions, float)
    t_hit = np.full(len(o), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for centre, e1, e2 in rectangles:
            centre, e1, e2 = (np.asarray(x, float) for x in (centre, e1, e2))
            normal = np.cross(e1, e2)
            t = ((centre - o) @ normal) / (d @ normal)
            local = o + t[:, None] * d - centre
            hit = (t > 0) & (np.abs(local @ e1) <= e1 @ e1) & (np.abs(local @ e2) <= e2 @ e2)
            t_hit = np.where(hit & (t < t_hit), t, t_hit)
        for centre, radius in spheres:
            oc = o - np.asarray(centre, float)
            a, b, c = np.sum(d * d, axis=1), np.sum(oc * d, axis=1), np.sum(oc * oc, axis=1) - radius ** 2
            t = (-b - np.sqrt(b * b - a * c)) / a
            t_hit = np.where((t > 0) & (t < t_hit), t, t_hit)
    return t_hit
