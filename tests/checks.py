"""Assertions shared by the render tests: rendered depth against an independent ray cast."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from geometry import backproject, backproject_model, interior_mask, raycast_model, raycast_planar_depth


def load_cameras_json(output_dir) -> dict:
    with open(os.path.join(output_dir, "cameras.json"), encoding="utf-8") as stream:
        return json.load(stream)


def assert_depth_matches_mesh(output_dir, vertices, faces, *, object_to_world=None, tolerance=1e-4,
                              max_disagree=0.005):
    """Every view's depth equals a ray cast of (vertices, faces) using only cameras.json.

    Any camera model: a ``camera_model`` other than PINHOLE is cast with ``geometry.raycast_model``
    (the formulas of docs/camera-models.md) and depth means what that model says.

    Interior pixels agree within ``tolerance`` times the object's size, background is exactly
    +inf, and no more than 0.5% of pixels disagree about hit/miss (silhouette pixels).  Returns
    the number of views checked.
    """
    from depth_views.exr_io import read_depth

    cameras = load_cameras_json(output_dir)
    vertices = np.asarray(vertices, dtype=np.float64)
    if object_to_world is not None:
        vertices = vertices @ np.asarray(object_to_world)[:3, :3].T + np.asarray(object_to_world)[:3, 3]
    size = float(np.ptp(vertices, axis=0).max())
    pinhole = cameras.get("camera_model", "PINHOLE") == "PINHOLE"
    for view in cameras["views"]:
        K = np.asarray(view.get("K", cameras["K"]))  # a camera file's views carry their own K
        depth = read_depth(os.path.join(output_dir, view["files"]["depth"]))
        assert depth.dtype == np.float32 and depth.shape == (cameras["height"], cameras["width"])
        if pinhole:
            reference = raycast_planar_depth(vertices, faces, K, view["world_to_camera"],
                                             cameras["width"], cameras["height"])
        else:
            reference = raycast_model(vertices, faces, cameras, view["world_to_camera"])
        interior = interior_mask(reference)
        surface = interior & np.isfinite(reference)
        background = interior & np.isinf(reference)
        assert surface.sum() > 20, f"view {view['index']} sees almost nothing of the object"
        error = np.abs(depth[surface] - reference[surface]) / size
        assert error.max() < tolerance, f"view {view['index']}: depth off by {error.max():.2e} of the size"
        assert np.all(np.isposinf(depth[background])), f"view {view['index']}: background is not +inf"
        disagree = np.isfinite(depth) != np.isfinite(reference)
        assert disagree.mean() < max_disagree, f"view {view['index']}: {disagree.sum()} pixels hit/miss differ"
        # Backprojection: every hit pixel lifted to 3D lies on the surface (within tolerance).
        interior_depth = np.where(interior, depth, np.inf)
        points = (backproject(interior_depth, K, np.asarray(view["world_to_camera"])) if pinhole
                  else backproject_model(interior_depth, cameras, view["world_to_camera"]))
        assert_points_on_mesh(points, vertices, faces, tolerance * size)
    return len(cameras["views"])


def assert_points_on_mesh(points, vertices, faces, tolerance):
    """Every point lies within ``tolerance`` of some triangle's plane, inside that triangle."""
    if len(points) == 0:
        return
    v0, v1, v2 = (np.asarray(vertices)[np.asarray(faces)[:, i]] for i in range(3))
    normals = np.cross(v1 - v0, v2 - v0)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    best = np.full(len(points), np.inf)
    for start in range(0, len(points), 2048):
        p = points[start:start + 2048, None, :]
        distance = np.abs(np.einsum("ptk,tk->pt", p - v0[None], normals))
        # Inside test: the point is left of every edge, seen along the normal (its offset along the
        # normal does not change these signs).
        e0, e1, e2 = v1 - v0, v2 - v1, v0 - v2
        c0 = np.einsum("ptk,tk->pt", np.cross(e0[None], p - v0[None]), normals)
        c1 = np.einsum("ptk,tk->pt", np.cross(e1[None], p - v1[None]), normals)
        c2 = np.einsum("ptk,tk->pt", np.cross(e2[None], p - v2[None]), normals)
        slack = -tolerance * np.linalg.norm(e0, axis=1)[None]
        inside = (c0 >= slack) & (c1 >= slack) & (c2 >= slack)
        best[start:start + 2048] = np.where(inside, distance, np.inf).min(axis=1)
    assert best.max() < tolerance, f"a back-projected point is {best.max():.2e} off the surface"


def tree_digest(folder) -> dict:
    """{relative path: sha256} of every file under ``folder``."""
    digests = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as stream:
                digests[os.path.relpath(path, folder)] = hashlib.sha256(stream.read()).hexdigest()
    return digests
