"""Axes and poses (cameras/conventions.py): look_at, OpenCV vs Blender axes, quaternions."""

from __future__ import annotations

import numpy as np
import pytest

from geometry import assert_rigid, project_to_pixels

from depth_views.cameras.conventions import (camera_to_world_from_opencv, look_at, quaternion_to_rotation,
                                             rotation_to_quaternion, world_to_camera_opencv)
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.errors import DepthViewsError

INTRINSICS = Intrinsics(640, 480)


def test_look_at_blender_axes():
    # Camera on +X looking at the origin (Blender rotation XYZ (90, 0, 90) degrees):
    # image right is world +Y, image up is world +Z, camera +z points back along +X.
    camera_to_world = look_at([5, 0, 0], [0, 0, 0])
    np.testing.assert_allclose(
        camera_to_world,
        [[0, 0, 1, 5], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]],
        atol=1e-15,
    )


def test_look_at_straight_down_uses_plus_y_up():
    camera_to_world = look_at([1, 2, 10], [1, 2, 0])
    assert_rigid(camera_to_world)
    # Blender's top view: +X right, +Y up, camera -z points to world -Z.
    np.testing.assert_allclose(camera_to_world[:3, :3], np.eye(3), atol=1e-15)


def test_look_at_straight_up_is_valid():
    camera_to_world = look_at([0, 0, -3], [0, 0, 0])
    assert_rigid(camera_to_world)
    np.testing.assert_allclose(camera_to_world[:3, 2], [0, 0, -1])  # looks towards +Z
    np.testing.assert_allclose(camera_to_world[:3, 1], [0, 1, 0])  # fallback up hint +Y


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("offset", [1e-12, -1e-12, 1e-300])
def test_look_at_nearly_parallel_is_valid(sign, offset):
    target = np.zeros(3)
    position = np.array([offset, 0.0, sign * 4.0])
    camera_to_world = look_at(position, target)
    assert_rigid(camera_to_world)
    _, depth = project_to_pixels(INTRINSICS, world_to_camera_opencv(camera_to_world), target)
    assert depth[0] == pytest.approx(4.0)


def test_look_at_with_y_up_looking_along_y():
    camera_to_world = look_at([0, -5, 0], [0, 0, 0], up=(0, 1, 0))
    assert_rigid(camera_to_world)


def test_look_at_bad_inputs():
    with pytest.raises(DepthViewsError, match="equals its look-at target"):
        look_at([1, 1, 1], [1, 1, 1])
    with pytest.raises(DepthViewsError, match="up vector"):
        look_at([1, 1, 1], [0, 0, 0], up=(0, 0, 0))
    with pytest.raises(DepthViewsError, match="3 finite numbers"):
        look_at([1, 1], [0, 0, 0])


def test_opencv_round_trip_and_point_in_front():
    camera_to_world = look_at([3, -2, 1.5], [0.2, 0.1, -0.3])
    world_to_camera = world_to_camera_opencv(camera_to_world)
    np.testing.assert_allclose(camera_to_world_from_opencv(world_to_camera), camera_to_world, atol=1e-14)
    rotation = camera_to_world[:3, :3]
    np.testing.assert_allclose(world_to_camera[:3, :3], np.diag([1, -1, -1]) @ rotation.T, atol=1e-15)
    forward = -camera_to_world[:3, 2]
    _, depth = project_to_pixels(INTRINSICS, world_to_camera, camera_to_world[:3, 3] + 2.0 * forward)
    assert depth[0] == pytest.approx(2.0)
    _, depth = project_to_pixels(INTRINSICS, world_to_camera, camera_to_world[:3, 3] - 2.0 * forward)
    assert depth[0] == pytest.approx(-2.0)


def test_opencv_handles_scaled_matrix_world():
    camera_to_world = look_at([3, -2, 1.5], [0, 0, 0]) @ np.diag([2.0, 2.0, 2.0, 1.0])
    world_to_camera = world_to_camera_opencv(camera_to_world)
    np.testing.assert_allclose(world_to_camera @ camera_to_world, np.diag([1, -1, -1, 1]), atol=1e-14)


def test_singular_matrix_raises():
    with pytest.raises(DepthViewsError, match="singular"):
        world_to_camera_opencv(np.zeros((4, 4)))
    with pytest.raises(DepthViewsError, match="4x4"):
        world_to_camera_opencv(np.eye(3))


def test_quaternions_are_hamilton_wxyz_and_round_trip():
    # 90 degrees about +z: (cos 45, 0, 0, sin 45) maps x to y (Hamilton, as COLMAP writes it).
    half = np.sqrt(0.5)
    np.testing.assert_allclose(quaternion_to_rotation(half, 0, 0, half), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-15)
    rng = np.random.default_rng(3)
    for q in rng.normal(size=(200, 4)) / [1, 1, 1, 1]:
        q = q / np.linalg.norm(q)
        back = rotation_to_quaternion(quaternion_to_rotation(*q))
        assert back[0] >= 0
        np.testing.assert_allclose(back, q if q[0] >= 0 else -q, atol=1e-12)
    for angle in (np.pi, np.pi - 1e-9):  # w near 0: the largest-component branch keeps it exact
        rotation = look_at([0, 0, 0], [np.cos(angle), np.sin(angle), 0.3])[:3, :3]
        np.testing.assert_allclose(quaternion_to_rotation(*rotation_to_quaternion(rotation)), rotation, atol=1e-12)
