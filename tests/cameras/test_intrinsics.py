"""Intrinsics (cameras/intrinsics.py): K of a Blender lens and sensor, field of view, any pinhole K."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from depth_views.cameras.intrinsics import Intrinsics
from depth_views.errors import DepthViewsError


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


def test_general_K_validation():  # noqa: N802
    W, H = 64, 48
    with pytest.raises(DepthViewsError, match="focal length fy must be a positive"):
        Intrinsics.from_K(W, H, 50.0, 0.0, 30.0, 20.0)
    with pytest.raises(DepthViewsError, match="principal point cx must be a finite"):
        Intrinsics.from_K(W, H, 50.0, 50.0, float("nan"), 20.0)
    with pytest.raises(DepthViewsError, match="beyond Blender's lens shift"):
        Intrinsics.from_K(W, H, 50.0, 50.0, 20 * W, 20.0)
    K = Intrinsics.from_K(W, H, 70.0, 52.0, 24.3, 30.1).K
    assert np.array_equal(K, np.array([[70.0, 0.0, 24.3], [0.0, 52.0, 30.1], [0.0, 0.0, 1.0]]))


@pytest.mark.parametrize("K, message", [
    ((1e308, 50.0, 1e300, 20.0), "focal length fx is 1e+308 pixels; at most 1e+08"),     # not the principal point
    ((50.0, 1e9, 31.5, 23.5), "focal length fy is 1e+09 pixels"),
    ((50.0, 0.2, 31.5, 23.5), "focal lengths fx 50 and fy 0.2 differ by more than 200 times, Blender's largest pixel"),
    ((50.0, 50.0, 10**400, 23.5), "pinhole intrinsics must be four numbers"),
])
def test_each_bad_K_value_is_named_as_itself(K, message):
    with pytest.raises(DepthViewsError, match=re.escape(message)):
        Intrinsics.from_K(64, 48, *K)
    with pytest.raises(DepthViewsError, match=r"image height must be between 1 and 65536 pixels, got 1000000000"):
        Intrinsics.from_K(64, 10**9, *K)             # the size is checked before K
    assert Intrinsics.from_K(64, 48, 50.0 * 199, 50.0, 31.5, 23.5).blender_camera()["pixel_aspect_y"] == \
        pytest.approx(199)                           # within Blender's range: accepted
