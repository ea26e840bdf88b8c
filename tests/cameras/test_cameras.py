"""Camera sampling and conventions, checked against geometry we know exactly."""

import json
import math

import numpy as np
import pytest

from depth_views.cameras import (
    Intrinsics,
    View,
    auto_radius,
    bounding_sphere,
    camera_inside_box,
    camera_to_world_from_opencv,
    elevation_band,
    look_at,
    sample_fibonacci_sphere,
    sample_grid,
    sample_random_sphere,
    sample_views,
    world_to_camera_opencv,
)
from depth_views.errors import DepthViewsError

CENTER = np.array([0.3, -1.2, 0.7])
RADIUS = 2.5
INTRINSICS = Intrinsics(640, 480)


def project(intrinsics, world_to_camera, points):
    """Pixels (N, 2) and planar depths (N,) of world points (N, 3)."""
    points = np.atleast_2d(points)
    homogeneous = np.c_[points, np.ones(len(points))]
    camera = (world_to_camera @ homogeneous.T).T[:, :3]
    pixels = (intrinsics.K @ camera.T).T
    return pixels[:, :2] / pixels[:, 2:3], camera[:, 2]


def assert_rotation(camera_to_world):
    rotation = camera_to_world[:3, :3]
    assert np.all(np.isfinite(camera_to_world))
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(camera_to_world[3], [0, 0, 0, 1])


# ---------------------------------------------------------------------------- intrinsics


def test_K_landscape_sensor_spans_width():
    K = Intrinsics(640, 480, lens_mm=50, sensor_mm=36).K
    assert K.dtype == np.float64
    np.testing.assert_allclose(
        K, [[50 / 36 * 640, 0, 319.5], [0, 50 / 36 * 640, 239.5], [0, 0, 1]], rtol=0, atol=1e-12
    )


def test_K_portrait_sensor_spans_height():
    intrinsics = Intrinsics(480, 640, lens_mm=50, sensor_mm=36)
    assert intrinsics.focal_px == pytest.approx(50 / 36 * 640)
    np.testing.assert_allclose(intrinsics.K[:2, 2], [239.5, 319.5])
    assert intrinsics.fov_y_deg == pytest.approx(intrinsics.fov_deg)
    assert intrinsics.fov_x_deg < intrinsics.fov_y_deg


def test_fov_matches_blender_angle_and_image_edges():
    intrinsics = Intrinsics(640, 480, lens_mm=50, sensor_mm=36)
    assert intrinsics.fov_deg == pytest.approx(math.degrees(2 * math.atan(18 / 50)))
    assert intrinsics.fov_x_deg == pytest.approx(intrinsics.fov_deg)
    # A ray at half the vertical FOV lands on the top edge of the image (v = -0.5).
    half = math.radians(intrinsics.fov_y_deg) / 2
    v = intrinsics.K[1, 1] * -math.tan(half) + intrinsics.K[1, 2]
    assert v == pytest.approx(-0.5)


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (100, 100)])
@pytest.mark.parametrize("fov", [1.0, 39.6, 90.0, 170.0])
def test_from_fov_round_trip(size, fov):
    intrinsics = Intrinsics.from_fov(*size, fov)
    assert intrinsics.fov_deg == pytest.approx(fov, rel=1e-12)
    assert max(intrinsics.fov_x_deg, intrinsics.fov_y_deg) == pytest.approx(fov, rel=1e-12)
    assert intrinsics.lens_mm == pytest.approx(36 / (2 * math.tan(math.radians(fov / 2))))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(width=0, height=480), "width"),
        (dict(width=640, height=-1), "height"),
        (dict(width=65537, height=480), "65536"),
        (dict(width=64.5, height=480), "integer"),
        (dict(width=640, height=480, lens_mm=0), "lens_mm"),
        (dict(width=640, height=480, sensor_mm=-36), "sensor_mm"),
        (dict(width=640, height=480, lens_mm=float("nan")), "lens_mm"),
    ],
)
def test_bad_intrinsics_raise(kwargs, message):
    with pytest.raises(DepthViewsError, match=message):
        Intrinsics(**kwargs)


@pytest.mark.parametrize("fov", [0, 180, -10, 200])
def test_from_fov_out_of_range_raises(fov):
    with pytest.raises(DepthViewsError, match=r"\(0, 180\)"):
        Intrinsics.from_fov(640, 480, fov)


def test_intrinsics_accept_max_size():
    assert Intrinsics(65536, 1).width == 65536


# ---------------------------------------------------------------------------- samplers


@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_sampler_counts(n):
    for azimuth, elevation in (
        sample_fibonacci_sphere(n),
        sample_random_sphere(n, seed=1),
    ):
        assert azimuth.shape == elevation.shape == (n,)
        assert np.all((azimuth >= 0) & (azimuth < 360))
        assert np.all((elevation >= -90) & (elevation <= 90))
    azimuth, elevation = sample_grid(n, 3)
    assert azimuth.shape == elevation.shape == (3 * n,)


def unit_directions(azimuth, elevation):
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.c_[np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)]


def test_fibonacci_is_roughly_uniform():
    directions = unit_directions(*sample_fibonacci_sphere(500))
    assert np.linalg.norm(directions.mean(axis=0)) < 0.01
    _, elevation = sample_fibonacci_sphere(1000)
    assert np.mean(elevation >= 0) == pytest.approx(0.5, abs=0.01)
    # Equal-area bands: a quarter of the sphere's area lies above 30 degrees.
    assert np.mean(elevation >= 30) == pytest.approx(0.25, abs=0.01)


def test_fibonacci_band_is_uniform_in_sin_elevation():
    _, elevation = sample_fibonacci_sphere(400, elevation_range=(10, 50))
    assert elevation.min() >= 10 and elevation.max() <= 50
    z = np.sin(np.radians(elevation))
    half_z = (np.sin(np.radians(10)) + np.sin(np.radians(50))) / 2
    assert np.mean(z <= half_z) == pytest.approx(0.5, abs=0.01)


def test_random_is_reproducible_and_uniform():
    first = sample_random_sphere(50, seed=7)
    again = sample_random_sphere(50, seed=7)
    other = sample_random_sphere(50, seed=8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])
    directions = unit_directions(*sample_random_sphere(20000, seed=0))
    assert np.linalg.norm(directions.mean(axis=0)) < 0.03


def test_random_respects_band():
    _, elevation = sample_random_sphere(2000, seed=3, elevation_range=(-20, 35))
    assert elevation.min() >= -20 and elevation.max() <= 35


def test_grid_angles_exact_elevation_major():
    azimuth, elevation = sample_grid(4, 3)
    np.testing.assert_allclose(azimuth, [0, 90, 180, 270] * 3)
    np.testing.assert_allclose(elevation, [-60] * 4 + [0] * 4 + [60] * 4, atol=1e-12)
    azimuth, elevation = sample_grid(2, 3, elevation_range=(0, 90))
    np.testing.assert_allclose(azimuth, [0, 180] * 3)
    np.testing.assert_allclose(elevation, [15, 15, 45, 45, 75, 75])


def test_elevation_band_combines_flags():
    assert elevation_band(False, None) == (-90.0, 90.0)
    assert elevation_band(True, None) == (0.0, 90.0)
    assert elevation_band(False, (-10, 40)) == (-10.0, 40.0)
    assert elevation_band(True, (-10, 40)) == (0.0, 40.0)
    with pytest.raises(DepthViewsError, match="hemisphere"):
        elevation_band(True, (-60, -10))


@pytest.mark.parametrize("band", [(40, 10), (-100, 0), (0, 91), (float("nan"), 10), (5,)])
def test_bad_band_raises(band):
    with pytest.raises(DepthViewsError, match="elevation range"):
        sample_fibonacci_sphere(10, elevation_range=band)


@pytest.mark.parametrize("n", [0, -3, 2.5, None, True])
def test_bad_counts_raise(n):
    with pytest.raises(DepthViewsError, match="positive integer"):
        sample_fibonacci_sphere(n)


# ---------------------------------------------------------------------------- look_at and matrices


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
    assert_rotation(camera_to_world)
    # Blender's top view: +X right, +Y up, camera -z points to world -Z.
    np.testing.assert_allclose(camera_to_world[:3, :3], np.eye(3), atol=1e-15)


def test_look_at_straight_up_is_valid():
    camera_to_world = look_at([0, 0, -3], [0, 0, 0])
    assert_rotation(camera_to_world)
    np.testing.assert_allclose(camera_to_world[:3, 2], [0, 0, -1])  # looks towards +Z
    np.testing.assert_allclose(camera_to_world[:3, 1], [0, 1, 0])  # fallback up hint +Y


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("offset", [1e-12, -1e-12, 1e-300])
def test_look_at_nearly_parallel_is_valid(sign, offset):
    target = np.zeros(3)
    position = np.array([offset, 0.0, sign * 4.0])
    camera_to_world = look_at(position, target)
    assert_rotation(camera_to_world)
    _, depth = project(INTRINSICS, world_to_camera_opencv(camera_to_world), target)
    assert depth[0] == pytest.approx(4.0)


def test_look_at_with_y_up_looking_along_y():
    camera_to_world = look_at([0, -5, 0], [0, 0, 0], up=(0, 1, 0))
    assert_rotation(camera_to_world)


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
    _, depth = project(INTRINSICS, world_to_camera, camera_to_world[:3, 3] + 2.0 * forward)
    assert depth[0] == pytest.approx(2.0)
    _, depth = project(INTRINSICS, world_to_camera, camera_to_world[:3, 3] - 2.0 * forward)
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


# ---------------------------------------------------------------------------- views


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sampling="fibonacci", n_views=60),
        dict(sampling="random", n_views=60, seed=4),
        dict(sampling="grid", n_views=None, grid=(12, 5)),
        dict(sampling="fibonacci", n_views=40, elevation_range=(0, 90)),
        dict(sampling="grid", n_views=6, grid=(3, 2), elevation_range=(-30, 30)),
    ],
)
def test_views_look_at_center(kwargs):
    views = sample_views(center=CENTER, radius=RADIUS, **kwargs)
    expected = kwargs["n_views"] or np.prod(kwargs["grid"])
    assert len(views) == expected
    assert [view.index for view in views] == list(range(expected))
    low, high = kwargs.get("elevation_range", (-90, 90))
    principal_point = [(INTRINSICS.width - 1) / 2, (INTRINSICS.height - 1) / 2]
    for view in views:
        assert low <= view.elevation_deg <= high
        assert np.linalg.norm(view.position - CENTER) == pytest.approx(RADIUS, rel=1e-12)
        assert_rotation(view.camera_to_world)
        pixel, depth = project(INTRINSICS, view.world_to_camera, CENTER)
        np.testing.assert_allclose(pixel[0], principal_point, atol=1e-9)
        assert depth[0] == pytest.approx(RADIUS)
        # Position matches the documented angle convention.
        az, el = math.radians(view.azimuth_deg), math.radians(view.elevation_deg)
        direction = [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
        np.testing.assert_allclose(view.position, CENTER + RADIUS * np.array(direction), atol=1e-12)
        # Image up is world up: a point above the centre lands on a smaller row, same column.
        if abs(view.elevation_deg) < 89:
            above, _ = project(INTRINSICS, view.world_to_camera, CENTER + [0, 0, 0.1])
            assert above[0, 1] < principal_point[1]
            assert above[0, 0] == pytest.approx(principal_point[0], abs=1e-9)


def test_hemisphere_views_are_above_center():
    band = elevation_band(True, None)
    views = sample_views(sampling="random", n_views=300, center=CENTER, radius=RADIUS, elevation_range=band)
    assert all(view.elevation_deg >= 0 for view in views)
    assert all(view.position[2] >= CENTER[2] - 1e-12 for view in views)


def test_views_at_the_poles_are_valid():
    views = []
    for band in [(90, 90), (-90, -90)]:
        views += sample_views(
            sampling="grid", n_views=2, grid=(2, 1), center=CENTER, radius=RADIUS, elevation_range=band
        )
    for view in views:
        assert_rotation(view.camera_to_world)
        pixel, depth = project(INTRINSICS, view.world_to_camera, CENTER)
        np.testing.assert_allclose(pixel[0], [319.5, 239.5], atol=1e-9)
        assert depth[0] == pytest.approx(RADIUS)


def test_view_to_json_and_read_only():
    view = sample_views(sampling="fibonacci", n_views=3, center=CENTER, radius=RADIUS)[1]
    data = json.loads(json.dumps(view.to_json()))
    assert data["index"] == 1
    assert data["radius"] == RADIUS
    np.testing.assert_allclose(data["position"], view.position)
    np.testing.assert_allclose(data["camera_to_world"], view.camera_to_world)
    np.testing.assert_allclose(data["world_to_camera"], view.world_to_camera)
    with pytest.raises(ValueError):
        view.camera_to_world[0, 0] = 5.0
    assert isinstance(view, View)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sampling="spiral", n_views=10), "fibonacci, random, grid"),
        (dict(sampling="fibonacci", n_views=0), "positive integer"),
        (dict(sampling="fibonacci", n_views=10, radius=0.0), "radius"),
        (dict(sampling="fibonacci", n_views=10, radius=-1.0), "radius"),
        (dict(sampling="grid", n_views=10), r"grid=\(n_azimuth, n_elevation\)"),
        (dict(sampling="grid", n_views=10, grid=(4, 3)), "12 views"),
        (dict(sampling="grid", n_views=None, grid=(0, 3)), "azimuths"),
        (dict(sampling="random", n_views=10, grid=(5, 2)), "only used with sampling 'grid'"),
        (dict(sampling="fibonacci", n_views=10, center=(0, 0)), "center"),
    ],
)
def test_bad_view_options_raise(kwargs, message):
    options = dict(center=CENTER, radius=RADIUS)
    options.update(kwargs)
    with pytest.raises(DepthViewsError, match=message):
        sample_views(**options)


# ---------------------------------------------------------------------------- framing


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
    pixels, depth = project(intrinsics, world_to_camera, tangent_points)
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
    pixels, _ = project(intrinsics, world_to_camera, surface)
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
