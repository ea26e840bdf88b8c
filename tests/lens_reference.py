"""Independent reference depth for lens models: each pixel's ray from pycolmap (COLMAP's own
``Camera.cam_ray_from_img`` at the pixel centre, COLMAP's +0.5 convention), cast with Embree (embreex through
trimesh) and refined by an exact float64 ray-triangle intersection.  No bpy.

pycolmap's fisheye unprojection goes through the normalised plane and is wrong beyond 90 degrees without a
NaN, so rays beyond 89 degrees (fisheyes seeing behind themselves) and nerfstudio's NERFSTUDIO_OPENCV (no
COLMAP model) come from the model's formulas in cameras/lens.py; every other ray is pycolmap's.
"""

from __future__ import annotations

import numpy as np

from meshes import asymmetric_mesh

from depth_views.cameras.conventions import look_at, world_to_camera_opencv
from depth_views.cameras.views import View


def pixel_rays(lens):
    """Unit rays (H, W, 3), OpenCV camera axes, and valid (H, W) at every pixel centre (see the module)."""
    u, v = lens.pixel_grid()
    rays, valid = lens.unproject(u, v)
    if lens.spec.colmap_id is None:
        return rays, valid
    import pycolmap

    camera = pycolmap.Camera(model=lens.name, width=lens.width, height=lens.height, params=list(lens.params))
    pixels = np.stack([u.ravel() + 0.5, v.ravel() + 0.5], axis=-1)
    theirs = np.asarray(camera.cam_ray_from_img(pixels), dtype=np.float64).reshape(lens.height, lens.width, 3)
    use = valid & np.isfinite(theirs).all(-1) & (rays[..., 2] > np.cos(np.radians(89.0)))
    return np.where(use[..., None], theirs, rays), valid


def _exact_hits(origin, directions, triangles):
    """Möller-Trumbore in float64: the distance along unit ``directions`` to ``triangles`` (N, 3, 3)."""
    e1 = triangles[:, 1] - triangles[:, 0]
    e2 = triangles[:, 2] - triangles[:, 0]
    p = np.cross(directions, e2)
    det = np.einsum("ij,ij->i", e1, p)
    q = np.cross(origin - triangles[:, 0], e1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("ij,ij->i", e2, q) / det


def reference_depth(lens, world_to_camera, mesh, rays=None):
    """(depth in the model's contract: planar z for the pinhole family, ray length for fisheyes; +inf for no
    surface, distance from the camera centre, hit triangle (-1: none), valid) for ``world_to_camera``
    (4x4, OpenCV axes) and a trimesh ``mesh``."""
    import trimesh

    rays, valid = pixel_rays(lens) if rays is None else rays
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    rotation, origin = w2c[:3, :3].T, -w2c[:3, :3].T @ w2c[:3, 3]
    directions = rays.reshape(-1, 3) @ rotation.T
    chosen = np.flatnonzero(valid.ravel())
    caster = trimesh.ray.ray_pyembree.RayMeshIntersector(mesh) if trimesh.ray.has_embree else mesh.ray
    triangle = caster.intersects_first(np.broadcast_to(origin, (len(chosen), 3)), directions[chosen])
    distance = np.full(valid.size, np.inf)
    hit_triangle = np.full(valid.size, -1, dtype=np.int64)
    hit = triangle >= 0
    corners = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)[triangle[hit]]]
    distance[chosen[hit]] = _exact_hits(origin, directions[chosen[hit]], corners)
    hit_triangle[chosen[hit]] = triangle[hit]
    distance = distance.reshape(valid.shape)
    with np.errstate(invalid="ignore"):
        depth = distance if lens.depth_kind == "ray_length" else np.where(valid, distance * rays[..., 2], np.inf)
    return depth, distance, hit_triangle.reshape(valid.shape), valid


def interior(hit_triangle, object_of_face):
    """Pixels whose 8 neighbours see the same object (or nothing) in the reference: away from silhouettes."""
    seen = np.where(hit_triangle >= 0, object_of_face[np.maximum(hit_triangle, 0)], 0)
    height, width = seen.shape
    padded = np.pad(seen, 1, constant_values=-1)
    same = np.ones(seen.shape, dtype=bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            same &= padded[dy:dy + height, dx:dx + width] == seen
    return same & (hit_triangle >= 0)


POSES = {"pinhole": ((4.5, -3.5, 4.2), (0.75, 1.5, 2.3)), "fisheye": ((3.2, -1.6, 3.0), (0.75, 1.5, 2.0))}


def scene():
    """(mesh, object of each face, object size): the asymmetric box with its spike (object 1) above a
    30 x 30 floor (object 2), so wide rays (also behind a fisheye's image plane) meet a surface."""
    import trimesh

    thing = asymmetric_mesh()
    floor = trimesh.Trimesh([[-15, -15, 0], [15, -15, 0], [15, 15, 0], [-15, 15, 0]], [[0, 1, 2], [0, 2, 3]],
                            process=False)
    mesh = trimesh.util.concatenate([thing, floor])
    objects = np.r_[np.ones(len(thing.faces), int), np.full(len(floor.faces), 2)]
    size = float(np.linalg.norm(np.ptp(thing.vertices, axis=0)))
    return mesh, objects, size


def lens_view(index: int, lens) -> View:
    """A view of ``lens`` on the scene: close for a fisheye (its wide view fills with the object and the floor)."""
    eye, target = POSES[lens.family]
    c2w = look_at(np.asarray(eye, float), np.asarray(target, float))
    return View(index=index, azimuth_deg=0.0, elevation_deg=0.0, radius=float(np.linalg.norm(eye)),
                camera_to_world=c2w, world_to_camera=world_to_camera_opencv(c2w), lens=lens)
