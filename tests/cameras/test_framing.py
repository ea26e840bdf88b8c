"""Framing (cameras/framing.py): bounding sphere, camera distance for every camera model, clip range,
normalisation, camera-in-box."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geometry import project_to_pixels

from depth_views.cameras.framing import (auto_distance, auto_ortho_scale, auto_radius, bounding_sphere,
                                         camera_inside_box)
from depth_views.cameras.conventions import look_at, world_to_camera_opencv
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.sphere import sample_views
from depth_views.errors import DepthViewsError

CENTER = np.array([0.3, -1.2, 0.7])
RADIUS = 2.5
INTRINSICS = Intrinsics(640, 480)
W, H = 24, 16


def test_bounding_sphere_of_box_corners():
    corners = np.array([[x, y, z] for x in (-1, 3) for y in (0, 2) for z in (5, 6)], dtype=float)
    center, radius = bounding_sphere(np.vstack([corners, [[0.5, 1.0, 5.5]]]))
    np.testing.assert_allclose(center, [1, 1, 5.5])
    assert radius == pytest.approx(math.sqrt(2**2 + 1**2 + 0.5**2))


def test_bounding_sphere_bad_input():
    with pytest.raises(DepthViewsError, match="no points"):
        bounding_sphere(np.zeros((0, 3)))
    with pytest.raises(DepthViewsError, match="NaN or infinite"):
        bounding_sphere([[0, 0, 0], [np.inf, 0, 0]])
    with pytest.raises(DepthViewsError, match=r"\(N, 3\)"):
        bounding_sphere([1, 2, 3])


@pytest.mark.parametrize(
    "intrinsics", [Intrinsics(640, 480), Intrinsics(300, 900, lens_mm=20), Intrinsics(256, 256)]
)
def test_auto_radius_silhouette_touches_smaller_fov(intrinsics):
    sphere_radius = 0.8
    distance = auto_radius(sphere_radius, intrinsics, margin=1.0)
    half_fov = math.radians(min(intrinsics.fov_x_deg, intrinsics.fov_y_deg)) / 2
    assert distance == pytest.approx(sphere_radius / math.sin(half_fov))
    camera_to_world = look_at(CENTER + [distance, 0, 0], CENTER)
    world_to_camera = world_to_camera_opencv(camera_to_world)
    right, up, forward = camera_to_world[:3, 0], camera_to_world[:3, 1], -camera_to_world[:3, 2]
    # Points where rays from the camera graze the sphere (the silhouette circle).
    angle = np.linspace(0, 2 * np.pi, 361)[:, None]
    cone = math.asin(sphere_radius / distance)
    rays = math.cos(cone) * forward + math.sin(cone) * (np.cos(angle) * right + np.sin(angle) * up)
    tangent_points = camera_to_world[:3, 3] + math.sqrt(distance**2 - sphere_radius**2) * rays
    np.testing.assert_allclose(np.linalg.norm(tangent_points - CENTER, axis=1), sphere_radius)
    pixels, depth = project_to_pixels(intrinsics, world_to_camera, tangent_points)
    assert np.all(depth > 0)
    offset = np.abs(pixels - intrinsics.K[:2, 2])
    half_size = np.array([intrinsics.width, intrinsics.height]) / 2
    assert np.all(offset <= half_size + 1e-9)
    # The silhouette touches the image edges of the smaller dimension exactly.
    smaller = int(np.argmin(half_size))
    assert offset[:, smaller].max() == pytest.approx(half_size[smaller], rel=1e-9)
    # With a margin the silhouette stays strictly inside; random surface points too.
    rng = np.random.default_rng(0)
    surface = rng.normal(size=(2000, 3))
    surface = CENTER + sphere_radius * surface / np.linalg.norm(surface, axis=1, keepdims=True)
    pixels, _ = project_to_pixels(intrinsics, world_to_camera, surface)
    assert np.all(np.abs(pixels - intrinsics.K[:2, 2]) <= half_size + 1e-9)


def test_auto_radius_scales_with_margin_and_rejects_bad_input():
    tight = auto_radius(1.0, INTRINSICS, margin=1.0)
    assert auto_radius(1.0, INTRINSICS, margin=1.1) == pytest.approx(1.1 * tight)
    with pytest.raises(DepthViewsError, match="bounding radius"):
        auto_radius(0.0, INTRINSICS)
    with pytest.raises(DepthViewsError, match="margin"):
        auto_radius(1.0, INTRINSICS, margin=0)
    with pytest.raises(DepthViewsError, match="inside the object's bounding sphere"):
        auto_radius(1.0, INTRINSICS, margin=0.1)


def test_camera_inside_box():
    assert camera_inside_box([0, 0, 0], [-1, -1, -1], [1, 1, 1])
    assert camera_inside_box([1, 0, 0], [-1, -1, -1], [1, 1, 1])  # on the surface counts
    assert not camera_inside_box([1.01, 0, 0], [-1, -1, -1], [1, 1, 1])
    views = sample_views(sampling="fibonacci", n_views=20, center=CENTER, radius=RADIUS)
    box_min, box_max = CENTER - 1.0, CENTER + 1.0
    assert not any(camera_inside_box(view.position, box_min, box_max) for view in views)


def test_auto_framing():
    assert auto_ortho_scale(40, 20, 1.0, 1.0) == pytest.approx(4.0)      # 2 units on the 20 px side
    fish = CameraModel.fisheye(W, H, 40.0)
    assert auto_distance(fish, 1.0, 1.0) == pytest.approx(1 / math.sin(math.radians(20)))
    # Wide panoramic views are capped at 30 degrees: 2 x margin radii, outside any bounding box.
    assert auto_distance(CameraModel.fisheye(W, H, 180.0), 1.0, 1.1) == pytest.approx(2.2)
    assert auto_distance(CameraModel.equirectangular(W, H), 1.0, 1.1) == pytest.approx(2.2)
    with pytest.raises(DepthViewsError, match="does not hold the view direction"):
        auto_distance(CameraModel.equirectangular(W, H, (10.0, 90.0)), 1.0)


def test_clip_range_keeps_the_whole_sphere_and_normalising_moves_it_to_the_origin():
    from depth_views.cameras.framing import NORMALIZED_RADIUS, clip_range, depth_range_problem, normalization_matrix

    near, far = clip_range(5.0, 1.0)              # outside: half the gap in front, twice the far side behind
    assert (near, far) == (2.0, 12.0)
    near, far = clip_range(0.5, 1.0)              # inside the sphere: a tiny near clip, still everything
    assert near == pytest.approx(1.5e-4) and far == 3.0
    matrix = normalization_matrix(CENTER, 4.0)
    points = CENTER + 4.0 * np.array([[1.0, 0, 0], [0, -1.0, 0]])
    moved = points @ matrix[:3, :3].T + matrix[:3, 3]
    assert np.allclose(np.linalg.norm(moved, axis=1), NORMALIZED_RADIUS)
    assert np.allclose(CENTER @ matrix[:3, :3].T + matrix[:3, 3], 0.0)
    with pytest.raises(DepthViewsError, match="zero size"):
        normalization_matrix(CENTER, 0.0)
    assert depth_range_problem(1.0, 5.0, 1.0) is None
    assert "reaches 1e+09 scene units" in depth_range_problem(1.0, 1e9 - 1.0, 1.0)
    assert "cannot clip nearer than 1e-06" in depth_range_problem(1e-7, 5.0, 1.0)
