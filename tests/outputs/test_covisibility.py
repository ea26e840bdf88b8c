"""Covisibility (outputs/covisibility.py): the stored matrix against an independent reprojection written
here from the camera models' stated formulas, against geometry where the answer is known (1 for a view
with itself and for a view whose whole surface another sees, 0 for two views of a slab from either
side, the analytic visibility of two spheres), and what a render stores (real renders: the same
matrix in cameras.json and in the shard's hidden cameras document).

Without bpy: depth cast in numpy through rays built from tests/geometry.py's ``model_rays``; with
bpy: Suzanne (6 views, 48 x 36) and a slab seen from above, below and the side.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from geometry import model_rays, opencv_look_at, ray_hits
from repo import ROOT

from depth_views.cameras.models import CameraModel
from depth_views.errors import DepthViewsError
from depth_views.outputs.covisibility import (CovisibilityView, covisibility_entry, covisibility_matrix, pointmap,
                                              relative_pose, sampling_stride, stored_matrix, symmetric)

SUZANNE = os.path.join(ROOT, "examples", "suzanne.obj")
PLANAR = ("PINHOLE", "ORTHOGRAPHIC")


# -- an independent reprojection, from the stated formulas ----------------------------------------
def rays_of(camera: dict):
    """(origins, directions scaled so that depth d is at origin + d * direction, valid) (H, W, 3)."""
    origins, directions, valid = model_rays(camera)
    if camera["camera_model"] in PLANAR:
        with np.errstate(invalid="ignore", divide="ignore"):
            directions = directions / directions[..., 2:3]   # planar depth is z
    return origins, directions, valid


def project(camera: dict, p: np.ndarray):
    """(u, v, ok, depth as the camera's depth map holds it) of OpenCV camera points ``p`` (N, 3)."""
    x, y, z = p.T
    name, width, height = camera["camera_model"], camera["width"], camera["height"]
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "EQUIRECTANGULAR":
            lon0, lon1 = np.radians(camera["longitude_range_deg"])
            lat0, lat1 = np.radians(camera["latitude_range_deg"])
            lon, lat = np.arctan2(x, z), np.arctan2(-y, np.hypot(x, z))
            u = (lon - lon0) / (lon1 - lon0) * width - 0.5
            v = (lat1 - lat) / (lat1 - lat0) * height - 0.5
            return u, v, np.linalg.norm(p, axis=1) > 0, np.linalg.norm(p, axis=1)
        (fx, _, cx), (_, fy, cy) = np.asarray(camera["K"])[:2]
        if name == "PINHOLE":
            return fx * x / z + cx, fy * y / z + cy, z > 0, z
        if name == "ORTHOGRAPHIC":
            return fx * x + cx, fy * y + cy, np.ones(len(p), bool), z
        theta, phi = np.arctan2(np.hypot(x, y), z), np.arctan2(y, x)
        return (cx + fx * theta * np.cos(phi), cy + fy * theta * np.sin(phi), theta <= width / fx / 2,
                np.linalg.norm(p, axis=1))


def footprint(camera: dict, rows, columns, depth) -> np.ndarray:
    """How far the points at ``depth`` on the rays of pixel (row, column) and of its nearer
    neighbour lie apart, the larger of the two image axes."""
    origins, directions, valid = rays_of(camera)
    height, width = valid.shape
    here = origins[rows, columns] + depth[:, None] * directions[rows, columns]
    out = np.zeros(len(rows))
    for dr, dc in ((0, 1), (1, 0)):
        nearest = np.full(len(rows), np.inf)
        for sign in (-1, 1):
            r, c = rows + sign * dr, columns + sign * dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            r, c = np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)
            there = origins[r, c] + depth[:, None] * directions[r, c]
            distance = np.where(inside & valid[r, c], np.linalg.norm(there - here, axis=1), np.inf)
            nearest = np.minimum(nearest, distance)
        out = np.maximum(out, np.where(np.isfinite(nearest), nearest, 0.0))
    return out


def reprojected(depth_a, camera_a, w2c_a, depth_b, camera_b, w2c_b, k=2.0, clip=(0.0, math.inf)) -> tuple[int, int]:
    """(a's surface pixels b sees, a's surface pixels): lifted through a's rays, into b's frame with
    the two poses, nearest pixel of b, b's depth test with k pixel footprints."""
    origins, directions, valid = rays_of(camera_a)
    rows, columns = np.nonzero(valid & np.isfinite(depth_a))
    points = origins[rows, columns] + depth_a[rows, columns, None].astype(np.float64) * directions[rows, columns]
    world = (np.linalg.inv(w2c_a) @ np.c_[points, np.ones(len(points))].T).T
    in_b = (np.asarray(w2c_b) @ world.T).T[:, :3]
    u, v, ok, expected = project(camera_b, in_b)
    column, row = np.floor(u + 0.5), np.floor(v + 0.5)
    ok &= (column >= 0) & (column < camera_b["width"]) & (row >= 0) & (row < camera_b["height"])
    ok &= (expected > clip[0]) & (expected < clip[1])
    column, row = np.where(ok, column, 0).astype(int), np.where(ok, row, 0).astype(int)
    ok &= rays_of(camera_b)[2][row, column]
    seen = depth_b[row, column].astype(np.float64)
    with np.errstate(invalid="ignore"):
        passes = ~np.isfinite(seen) | (expected <= seen + k * footprint(camera_b, row, column, expected))
    return int(np.count_nonzero(ok & passes)), len(rows)


# -- exact depth of simple scenes, cast along those rays --------------------------------------------
SPHERES = [((0.0, 0.0, 0.0), 1.0), ((0.8, -0.7, 0.5), 0.35)]


def cast(camera: dict, w2c, spheres=SPHERES, rectangles=()) -> np.ndarray:
    """Depth (the camera's kind, +inf = nothing, float32) of spheres and rectangles (centre, half-axes)."""
    origins, directions, valid = model_rays(camera)   # unit directions
    rotation = w2c[:3, :3].T
    o = origins.reshape(-1, 3) @ rotation.T - rotation @ w2c[:3, 3]
    d = directions.reshape(-1, 3) @ rotation.T
    t_hit = np.where(valid.reshape(-1), ray_hits(o, d, rectangles, spheres), np.inf)
    if camera["camera_model"] in PLANAR:
        t_hit = np.where(np.isfinite(t_hit), origins.reshape(-1, 3)[:, 2] + t_hit * directions.reshape(-1, 3)[:, 2],
                         np.inf)
    return t_hit.reshape(valid.shape).astype(np.float32)


MODELS = {
    "pinhole": lambda: CameraModel("PINHOLE", 64, 48, np.array([[70.0, 0, 30.2], [0, 66.0, 25.1], [0, 0, 1]])),
    "orthographic": lambda: CameraModel.orthographic(64, 48, 3.6),
    "fisheye": lambda: CameraModel.fisheye(72, 72, 110.0),
    "equirectangular": lambda: CameraModel.equirectangular(128, 64, (-100.0, 100.0), (-60.0, 70.0)),
}
POSITIONS = [(0.4, -3.2, 0.9), (-1.6, -2.6, 0.2), (2.6, -1.5, -1.0), (0.3, 3.0, 1.4)]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_camera_model_equals_an_independent_reprojection(name):
    """Every ordered pair of four views of two spheres, each view's own camera model (the library's
    projection and rays), equals the reprojection written here from the formulas, pixel for pixel
    (a pixel or two may round the other way at a boundary); the diagonal is 1."""
    model = MODELS[name]()
    camera = model.to_json()
    poses = [opencv_look_at(p) for p in POSITIONS]
    depths = [cast(camera, w2c) for w2c in poses]
    matrix = covisibility_matrix([CovisibilityView(d, model, w2c) for d, w2c in zip(depths, poses)], samples=None)
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    spread = []
    for a in range(4):
        for b in range(4):
            seen, surface = reprojected(depths[a], camera, poses[a], depths[b], camera, poses[b])
            assert surface > 150
            assert abs(matrix[a, b] - seen / surface) <= 2.0 / surface, (a, b, matrix[a, b], seen / surface)
            spread.append(seen / surface)
    assert min(spread) < 0.5 < max(spread) < 1.0 + 1e-12   # the pairs differ: the test can tell them apart


def test_the_tolerance_is_in_pixel_footprints_of_the_other_view():
    """The same pair with k = 0.5, 2 and 8 footprints gives the independent count each time, and a
    larger k lets more through."""
    model = MODELS["pinhole"]()
    camera, poses = model.to_json(), [opencv_look_at(POSITIONS[0]), opencv_look_at(POSITIONS[1])]
    depths = [cast(camera, w2c) for w2c in poses]
    views = [CovisibilityView(d, model, w2c) for d, w2c in zip(depths, poses)]
    found = []
    for k in (0.5, 2.0, 8.0):
        seen, surface = reprojected(depths[0], camera, poses[0], depths[1], camera, poses[1], k=k)
        value = covisibility_matrix(views, k, samples=None)[0, 1]
        assert abs(value - seen / surface) <= 2.0 / surface
        found.append(value)
    assert found[0] < found[1] < found[2]


def test_two_views_of_a_slab_from_either_side_see_nothing_of_each_other():
    """A 2 x 2 slab 0.4 thick (two faces) seen from straight above and below: each view's whole
    surface is the face the other cannot see: 0 both ways, exactly.  A view from above with twice
    the focal length sees part of what the first sees, all of which the first sees: 1 exactly."""
    rectangles = [((0, 0, 0.2), (1, 0, 0), (0, 1, 0)), ((0, 0, -0.2), (1, 0, 0), (0, 1, 0))]
    wide = CameraModel("PINHOLE", 48, 36, np.array([[40.0, 0, 23.5], [0, 40.0, 17.5], [0, 0, 1]]))
    narrow = CameraModel("PINHOLE", 48, 36, np.array([[80.0, 0, 23.5], [0, 80.0, 17.5], [0, 0, 1]]))
    above, below = opencv_look_at((0.0, 0.0, 4.0)), opencv_look_at((0.0, 0.0, -4.0))
    models = [wide, wide, narrow]
    poses = [above, below, opencv_look_at((0.0, 0.0, 4.0), (0.3, 0.2, 0.0))]
    depths = [cast(m.to_json(), w2c, spheres=(), rectangles=rectangles) for m, w2c in zip(models, poses)]
    assert all(np.isfinite(d).sum() > 150 for d in depths)
    matrix = covisibility_matrix([CovisibilityView(d, m, w2c) for d, m, w2c in zip(depths, models, poses)])
    assert matrix[0, 1] == 0.0 and matrix[1, 0] == 0.0
    assert matrix[2, 1] == 0.0 and matrix[1, 2] == 0.0
    assert matrix[2, 0] == 1.0 and 0.2 < matrix[0, 2] < 0.9
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    np.testing.assert_array_equal(symmetric(matrix), np.minimum(matrix, matrix.T))


def test_a_blank_view_has_a_row_of_zeros():
    model = MODELS["pinhole"]()
    camera, poses = model.to_json(), [opencv_look_at(POSITIONS[0]), opencv_look_at(POSITIONS[1])]
    depths = [cast(camera, poses[0]), np.full((48, 64), np.inf, np.float32)]
    matrix = covisibility_matrix([CovisibilityView(d, model, w2c) for d, w2c in zip(depths, poses)])
    np.testing.assert_array_equal(matrix[1], [0.0, 0.0])
    assert matrix[0, 0] == 1.0


def analytic_visible(points, w2c_b, camera_b, spheres=SPHERES) -> np.ndarray:
    """Truth: inside b's image and the first hit of b's ray through the point is the point."""
    rotation, translation = w2c_b[:3, :3], w2c_b[:3, 3]
    centre = -rotation.T @ translation
    u, v, ok, _ = project(camera_b, points @ rotation.T + translation)
    ok &= (u > -0.5) & (u < camera_b["width"] - 0.5) & (v > -0.5) & (v < camera_b["height"] - 0.5)
    d = points - centre
    length = np.linalg.norm(d, axis=1)
    d /= length[:, None]
    first = np.full(len(points), np.inf)
    for sphere, radius in spheres:
        oc = centre - np.asarray(sphere)
        b, c = d @ oc, oc @ oc - radius ** 2
        with np.errstate(invalid="ignore"):
            t = -b - np.sqrt(b * b - c)
        first = np.minimum(first, np.where(t > 0, t, np.inf))
    return ok & (first >= length * (1 - 1e-6))


def test_the_default_is_near_the_true_visible_fraction_and_the_sampled_grid_near_every_pixel():
    """Two spheres, six views at 240 x 180 (f = 225): mean error against the analytic visible
    fraction under 1 % with k = 2; the default sampling (a grid of at most 4096 surface pixels, here
    every third pixel) stays within 1 % of every pixel."""
    model = CameraModel("PINHOLE", 240, 180, np.array([[225.0, 0, 119.5], [0, 225.0, 89.5], [0, 0, 1]]))
    camera = model.to_json()
    poses = [opencv_look_at(p) for p in [(0.4, -3.2, 0.9), (-1.6, -2.6, 0.2), (2.6, -1.5, -1.0), (0.3, 3.0, 1.4),
                                  (-2.8, 0.5, 1.5), (1.0, 1.2, -3.0)]]
    depths = [cast(camera, w2c) for w2c in poses]
    views = [CovisibilityView(d, model, w2c) for d, w2c in zip(depths, poses)]
    every, sampled = covisibility_matrix(views, samples=None), covisibility_matrix(views)
    surface = int(np.isfinite(depths[0]).sum())
    assert sampling_stride(surface) == math.ceil(math.sqrt(surface / 4096)) == 3
    truth = np.eye(6)
    for a in range(6):
        origins, directions, _ = rays_of(camera)
        hit = np.isfinite(depths[a])
        points = origins[hit] + depths[a][hit, None] * directions[hit]
        world = (points - poses[a][:3, 3]) @ poses[a][:3, :3]
        for b in range(6):
            if b != a:
                truth[a, b] = analytic_visible(world, poses[b], camera).mean()
    off = ~np.eye(6, dtype=bool)
    assert np.abs(every - truth)[off].mean() < 0.01
    assert np.abs(sampled - every).max() < 0.01 and np.abs(sampled - truth)[off].mean() < 0.01


def test_relative_pose_and_pointmap():
    """T_ab takes camera a's frame to b's; pointmap(depth_b, model_b, T_ba) is b's surface in a's frame."""
    model = MODELS["fisheye"]()
    w2c_a, w2c_b = opencv_look_at(POSITIONS[0]), opencv_look_at(POSITIONS[1], (0.2, 0.1, 0.0))
    T_ab = relative_pose(w2c_a, w2c_b)
    np.testing.assert_allclose(T_ab @ w2c_a, w2c_b, atol=1e-12)
    depth_b = cast(model.to_json(), w2c_b)
    in_a = pointmap(depth_b, model, relative_pose(w2c_b, w2c_a))
    assert in_a.dtype == np.float32 and in_a.shape == depth_b.shape + (3,)
    hit = np.isfinite(depth_b)
    assert np.isnan(in_a[~hit]).all() and np.isfinite(in_a[hit]).all()
    origins, directions, _ = rays_of(model.to_json())
    own = origins[hit] + depth_b[hit, None].astype(np.float64) * directions[hit]
    world = (np.linalg.inv(w2c_b) @ np.c_[own, np.ones(len(own))].T).T
    np.testing.assert_allclose(in_a[hit], (w2c_a @ world.T).T[:, :3], rtol=2e-6, atol=2e-6)


def test_stored_entries_and_bad_inputs():
    model = MODELS["pinhole"]()
    poses = [opencv_look_at(p) for p in POSITIONS[:3]]
    depths = [cast(model.to_json(), w2c) for w2c in poses]
    document = {**model.to_json(), "views": [{"index": i, "world_to_camera": w.tolist()} for i, w in enumerate(poses)]}
    entry = covisibility_entry(document, depths)
    assert entry["views"] == [0, 1, 2] and entry["tolerance_px"] == 2.0 and entry["samples"] == 4096
    assert json.loads(json.dumps(entry)) == entry
    matrix = stored_matrix({**document, "covisibility": entry})
    np.testing.assert_allclose(matrix, covisibility_matrix([CovisibilityView(d, model, w) for d, w in zip(depths, poses)]),
                               atol=5e-7)
    reordered = {**document, "covisibility": entry, "views": document["views"][::-1]}
    np.testing.assert_array_equal(stored_matrix(reordered), matrix[::-1, ::-1])
    assert stored_matrix(document) is None
    with pytest.raises(DepthViewsError, match="covisibility: view 1's depth is 5x4 pixels but its camera is 64x48"):
        covisibility_matrix([CovisibilityView(depths[0], model, poses[0]),
                             CovisibilityView(np.ones((4, 5), np.float32), model, poses[1])])
    with pytest.raises(DepthViewsError, match="tolerance"):
        covisibility_matrix([], -1.0)


# -- real renders ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """Suzanne, 6 views at 48 x 36, as folders and as shards; a slab from above, below and the side."""
    pytest.importorskip("bpy")
    from camera_files import world_to_camera_seeing, write_transforms
    from meshes import box_obj

    from depth_views.cli import main

    tmp = tmp_path_factory.mktemp("covisibility")
    common = ["--resolution", "48", "36", "--quiet"]
    assert main(["render", SUZANNE, "--out", str(tmp / "folders"), "--views", "6", *common]) == 0
    assert main(["render", SUZANNE, "--out", str(tmp / "wds"), "--views", "6", "--formats", "webdataset",
                 *common]) == 0
    slab = box_obj(str(tmp / "in" / "slab.obj"), size=(2.0, 2.0, 0.4), offset=(-1.0, -1.0, -0.2))
    K = [[40.0, 0.0, 23.5], [0.0, 40.0, 17.5], [0.0, 0.0, 1.0]]
    cameras = [(K, world_to_camera_seeing(p, (0.0, 0.0, 0.0), K, 48, 36), 48, 36)
               for p in [(0.0, 0.0, 4.0), (0.0, 0.0, -4.0), (3.5, 0.5, 2.0)]]
    file = write_transforms(str(tmp / "slab_cameras.json"), cameras, per_frame=True)
    assert main(["render", slab, "--out", str(tmp / "slab"), "--cameras", file, *common]) == 0
    return tmp


def test_a_render_stores_the_same_matrix_in_both_layouts(renders):
    from depth_views.cameras.cameras_json import load_cameras
    from depth_views.datasets import DepthViews
    from depth_views.exr_io import read_depth

    folder = load_cameras(renders / "folders" / "suzanne")
    (shard,) = list(DepthViews(str(renders / "wds")).cameras())
    entry = folder["covisibility"]
    assert shard["covisibility"] == entry and entry["views"] == list(range(6))
    matrix = np.array(entry["matrix"])
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    assert matrix[~np.eye(6, dtype=bool)].min() < 0.5 < matrix[~np.eye(6, dtype=bool)].max() < 1.0
    camera = {"camera_model": "PINHOLE", "K": folder["K"], "width": 48, "height": 36}
    views = folder["views"]
    depths = [read_depth(str(renders / "folders" / "suzanne" / v["files"]["depth"])) for v in views]
    for a in range(6):
        for b in range(6):
            seen, surface = reprojected(depths[a], camera, views[a]["world_to_camera"], depths[b], camera,
                                        views[b]["world_to_camera"], clip=(folder["clip_start"], folder["clip_end"]))
            assert surface == round(views[a]["coverage"] * 48 * 36)
            assert abs(matrix[a, b] - seen / surface) <= 1.0 / surface + 1e-6, (a, b)


def test_a_rendered_slab_seen_from_either_side(renders):
    """A 2 x 2 x 0.4 box seen from straight above, straight below and from above at the side."""
    from depth_views.cameras.cameras_json import load_cameras

    cameras = load_cameras(renders / "slab" / "slab")
    matrix = np.array(cameras["covisibility"]["matrix"])
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    assert matrix[0, 1] == 0.0 and matrix[1, 0] == 0.0          # top face / bottom face: 0.4 apart
    assert matrix[0, 2] == 1.0                                   # the side camera sees all of the top face
    assert 0.3 < matrix[2, 0] < 0.95                             # ... and a side face, which the top camera does not
    # The bottom face and the side face meet at an edge: a point of one within the tolerance (2 pixel
    # footprints, 0.19 here: the slab is only 4 footprints thick at 48 x 36) behind the other counts as
    # seen: a strip along the edge, and the lower half of the side face from below.
    assert 0.0 < matrix[1, 2] < 0.15 and 0.0 < matrix[2, 1] < 0.25
