"""Camera models (cameras/models.py) without Blender: rays, projection, depth kinds, bad input.

How each format writes and reads them: test_cameras_json.py, test_nerfstudio.py; framing: test_framing.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geometry import model_rays

from depth_views.cameras.cameras_json import cameras_document
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.sphere import sample_views
from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions
from depth_views.outputs.geometry import backproject, planar_to_distance

W, H = 24, 16


def models():
    return [CameraModel.perspective(Intrinsics(W, H)), CameraModel.orthographic(W, H, 3.0),
            CameraModel.fisheye(W, H, 200.0), CameraModel.equirectangular(W, H),
            CameraModel.equirectangular(W, H, (-40.0, 70.0), (-30.0, 50.0))]


@pytest.mark.parametrize("model", models(), ids=lambda m: m.name)
def test_rays_agree_with_the_formulas_and_project_back_to_their_pixels(model):
    document = {**cameras_document(Intrinsics(W, H), [], [], units="", camera_model=model)}
    origins, unit, valid = model_rays(document)          # tests/geometry.py: from the stated formulas
    ours_origins, ours, ours_valid = model.depth_rays()
    assert np.array_equal(valid, ours_valid)
    ours_unit = ours / np.maximum(np.linalg.norm(ours, axis=-1, keepdims=True), 1e-300)
    assert np.allclose(ours_unit[valid], unit[valid], atol=1e-12)
    assert np.allclose(ours_origins, origins, atol=1e-12)
    if model.depth_kind == "planar":
        assert np.allclose(ours[..., 2], 1.0)
    else:
        assert np.allclose(np.linalg.norm(ours[valid], axis=-1), 1.0)
    points = (origins + 2.5 * unit)[valid]
    uv, ok = model.project(points)
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    assert ok.all()
    assert np.allclose(uv, np.stack([u[valid], v[valid]], -1), atol=1e-9)


def test_equirectangular_default_is_the_full_sphere_straight_ahead_at_the_centre():
    model = CameraModel.equirectangular(4, 2)
    _, directions, _ = model.depth_rays()
    # Column 1/2 straddle longitude 0; the right half looks right (+x), the top row up (-y).
    assert directions[0, 2, 0] > 0 and directions[0, 1, 0] < 0
    assert directions[0, :, 1].max() < 0 and directions[1, :, 1].min() > 0
    lon = np.degrees(np.arctan2(directions[0, :, 0], directions[0, :, 2]))
    assert np.allclose(lon, [-135, -45, 45, 135])


def test_orthographic_and_fisheye_focal_lengths():
    ortho = CameraModel.orthographic(40, 20, 4.0)
    assert ortho.K[0, 0] == ortho.K[1, 1] == 10.0          # 40 px across 4 units (the larger side)
    fish = CameraModel.fisheye(40, 20, 180.0)
    assert np.isclose(fish.K[0, 0], 40 / math.pi) and np.isclose(fish.K[1, 1], 20 / math.pi)


@pytest.mark.parametrize("model", models(), ids=lambda m: m.name)
def test_distance_and_backprojection_follow_the_model(model):
    depth = np.full((H, W), 2.0, dtype=np.float32)
    _, _, valid = model.depth_rays()
    depth[~valid] = np.inf
    distance = planar_to_distance(depth, model if model.name != "PINHOLE" else model.K)
    if model.name == "PINHOLE":
        assert np.all(distance[valid] > 2.0)
    else:
        assert np.array_equal(distance, depth)
    view = sample_views(sampling="fibonacci", n_views=1, center=(0, 0, 0), radius=5.0)[0]
    points = backproject(depth, model, view.world_to_camera)
    camera = points @ view.world_to_camera[:3, :3].T + view.world_to_camera[:3, 3]
    if model.depth_kind == "planar":
        assert np.allclose(camera[:, 2], 2.0)
    else:
        assert np.allclose(np.linalg.norm(camera, axis=1), 2.0)


@pytest.mark.parametrize("settings, message", [
    ({"camera_model": "fisheye", "fisheye_fov": 0.0}, "--fisheye-fov 0: must be a positive"),
    ({"camera_model": "fisheye", "fisheye_fov": -10.0}, "--fisheye-fov -10"),
    ({"camera_model": "fisheye", "fisheye_fov": 361.0}, "--fisheye-fov 361: an equidistant fisheye sees at most 360"),
    ({"camera_model": "orthographic", "ortho_scale": 0.0}, "--ortho-scale 0: must be a positive"),
    ({"camera_model": "orthographic", "ortho_scale": -2.0}, "--ortho-scale -2"),
    ({"camera_model": "equirectangular", "latitude_range": (10.0, 10.0)}, "--latitude-range 10 10: the range is empty"),
    ({"camera_model": "equirectangular", "latitude_range": (-100.0, 10.0)}, "--latitude-range -100 10: out of bounds"),
    ({"camera_model": "equirectangular", "longitude_range": (50.0, -50.0)}, "--longitude-range 50 -50: out of bounds"),
    ({"camera_model": "equirectangular", "longitude_range": (-190.0, 0.0)}, "--longitude-range -190 0: out of bounds"),
    ({"camera_model": "fisheye", "engine": "eevee"}, "--camera-model fisheye needs --engine cycles"),
    ({"camera_model": "pinhole"}, "--camera-model 'pinhole': choose one of"),
    # the pinhole-only features of camera files and exports (docs/camera-files.md)
    ({"camera_model": "fisheye", "intrinsics": (40.0, 30.0, 20.0, 10.0)}, "--camera-model fisheye: cannot go with --intrinsics"),
    ({"camera_model": "orthographic", "fov_range": (30.0, 50.0)}, "cannot go with --fov LOW:HIGH"),
    ({"camera_model": "equirectangular", "cameras_file": "/x/transforms.json"}, "cannot go with --cameras"),
    ({"camera_model": "orthographic", "formats": ("exr", "colmap")}, "cannot go with --formats colmap"),
])
def test_bad_options_name_the_option(settings, message):
    with pytest.raises(DepthViewsError) as error:
        RenderOptions(resolution=(W, H), **settings).validate()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("model, K", [
    ("OPENCV_FISHEYE", [[W / math.pi, 0, 3.0], [0, H / math.pi, (H - 1) / 2], [0, 0, 1]]),
    ("ORTHOGRAPHIC", [[10.0, 0, (W - 1) / 2], [0, 10.0, 2.0], [0, 0, 1]]),
    ("OPENCV_FISHEYE", [[W / math.pi, 0, (W - 1) / 2], [0, W / math.pi, (H - 1) / 2], [0, 0, 1]]),
])
def test_a_principal_point_or_focal_length_the_model_cannot_have(model, K):
    document = {"camera_model": model, "width": W, "height": H, "K": K}
    with pytest.raises(DepthViewsError) as error:
        CameraModel.from_document(document, {"index": 7}, source="cams/cameras.json")
    assert str(error.value).startswith(f"cams/cameras.json view 7: camera_model {model} needs")
