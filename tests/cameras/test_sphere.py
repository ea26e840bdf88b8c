"""Views on a sphere (cameras/sphere.py): samplers, elevation bands, look-at views, radius/FOV ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geometry import assert_rigid, project_to_pixels

from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.sphere import (elevation_band, sample_fibonacci_sphere, sample_grid, sample_random_sphere,
                                        sample_views, vary_views)
from depth_views.errors import DepthViewsError

CENTER = np.array([0.3, -1.2, 0.7])
RADIUS = 2.5
INTRINSICS = Intrinsics(640, 480)
W, H = 64, 48


def unit_directions(azimuth, elevation):
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.c_[np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)]


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
        assert_rigid(view.camera_to_world)
        pixel, depth = project_to_pixels(INTRINSICS, view.world_to_camera, CENTER)
        np.testing.assert_allclose(pixel[0], principal_point, atol=1e-9)
        assert depth[0] == pytest.approx(RADIUS)
        # Position matches the documented angle convention.
        az, el = math.radians(view.azimuth_deg), math.radians(view.elevation_deg)
        direction = [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
        np.testing.assert_allclose(view.position, CENTER + RADIUS * np.array(direction), atol=1e-12)
        # Image up is world up: a point above the centre lands on a smaller row, same column.
        if abs(view.elevation_deg) < 89:
            above, _ = project_to_pixels(INTRINSICS, view.world_to_camera, CENTER + [0, 0, 0.1])
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
        assert_rigid(view.camera_to_world)
        pixel, depth = project_to_pixels(INTRINSICS, view.world_to_camera, CENTER)
        np.testing.assert_allclose(pixel[0], [319.5, 239.5], atol=1e-9)
        assert depth[0] == pytest.approx(RADIUS)


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


def test_ranges_are_uniform_reproducible_and_keep_directions():
    views = sample_views(sampling="fibonacci", n_views=400, center=(1, 2, 3), radius=2.0)
    varied = vary_views(views, (1, 2, 3), seed=7, radius_range=(1.5, 2.2), fov_range=(30, 60), width=W, height=H)
    again = vary_views(views, (1, 2, 3), seed=7, radius_range=(1.5, 2.2), fov_range=(30, 60), width=W, height=H)
    radii = np.array([v.radius for v in varied])
    fovs = np.array([v.intrinsics.fov_deg for v in varied])
    assert radii.min() >= 1.5 and radii.max() <= 2.2 and abs(radii.mean() - 1.85) < 0.03
    assert fovs.min() >= 30 and fovs.max() <= 60 and abs(fovs.mean() - 45) < 1.5
    assert np.array_equal(radii, [v.radius for v in again])
    for view, base in zip(varied, views):
        assert np.isclose(np.linalg.norm(view.position - (1, 2, 3)), view.radius)
        assert np.allclose(view.camera_to_world[:3, :3], base.camera_to_world[:3, :3], atol=1e-12)
    other = vary_views(views, (1, 2, 3), seed=8, radius_range=(1.5, 2.2))
    assert not np.array_equal(radii, [v.radius for v in other])
