"""Lens models (cameras/lens.py) against pycolmap (COLMAP's own implementation) and nerfstudio's ray formulas
(tests/nerfstudio_rays.py): every model's rays, projections, round trips, folds and reach.  No Blender."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lens_cases import CASES, all_lenses, lens_case
from nerfstudio_rays import nerfstudio_rays

from depth_views.cameras.lens import FISHEYE_FAMILY, MODELS, NOT_LENS_MODELS, PINHOLE_FAMILY, LensModel
from depth_views.errors import DepthViewsError

pycolmap = pytest.importorskip("pycolmap")

W, H = 320, 240
LENSES = all_lenses(W, H)
COLMAP_LENSES = [(name, lens) for name, lens in LENSES if lens.spec.colmap_id is not None]
RAY_TOL = 1e-10      # unit-ray components: pycolmap stops its Newton at a step of 1e-5 (so ~1e-11 .. 1e-10)
PIXEL_TOL = 1e-9     # pixels


def colmap_camera(lens: LensModel):
    return pycolmap.Camera(model=lens.name, width=lens.width, height=lens.height, params=list(lens.params))


def sample_pixels(lens: LensModel, step: int = 5):
    """A grid of pixel centres (every ``step``-th, plus the last row and column), ours."""
    us = np.unique(np.r_[np.arange(0, lens.width, step), lens.width - 1]).astype(np.float64)
    vs = np.unique(np.r_[np.arange(0, lens.height, step), lens.height - 1]).astype(np.float64)
    return np.meshgrid(us, vs)


def angle_deg(rays):
    return np.degrees(np.arctan2(np.hypot(rays[..., 0], rays[..., 1]), rays[..., 2]))


# -- the registry -------------------------------------------------------------------------------------

def test_every_pycolmap_lens_model_is_known_with_its_id_and_parameter_order():
    names = [m for m in dir(pycolmap.CameraModelId) if m.isupper() and m != "INVALID"]
    assert len(names) >= 16
    for name in names:
        if name in NOT_LENS_MODELS:
            continue
        assert name in MODELS, f"pycolmap model {name} has no lens model"
        camera = pycolmap.Camera(model=name, width=64, height=48, params=[1.0] * len(MODELS[name].params))
        assert tuple(p.strip() for p in camera.params_info.split(",")) == MODELS[name].params, name
        assert int(camera.model.value) == MODELS[name].colmap_id


def test_families_and_depth_kinds():
    for name in ("OPENCV", "FULL_OPENCV", "SIMPLE_RADIAL", "RADIAL", "FOV", "DIVISION", "NERFSTUDIO_OPENCV"):
        assert MODELS[name].family == PINHOLE_FAMILY and MODELS[name].depth_kind == "planar"
    for name in ("OPENCV_FISHEYE", "SIMPLE_RADIAL_FISHEYE", "RADIAL_FISHEYE", "THIN_PRISM_FISHEYE",
                 "RAD_TAN_THIN_PRISM_FISHEYE", "FISHEYE"):
        assert MODELS[name].family == FISHEYE_FAMILY and MODELS[name].depth_kind == "ray_length"


@pytest.mark.parametrize("name, params, message", [
    ("OPENCV", (1.0, 1.0, 32.0, 24.0), "camera model OPENCV needs 8 parameters (fx fy cx cy k1 k2 p1 p2), got 4"),
    ("OPENCV", (-1.0, 1.0, 32.0, 24.0, 0, 0, 0, 0), "focal lengths must be positive"),
    ("OPENCV", (1.0, 1.0, 32.0, 24.0, float("nan"), 0, 0, 0), "k1=nan; parameters must be finite"),
    ("FOV", (1.0, 1.0, 32.0, 24.0, float("inf")), "omega=inf; parameters must be finite"),
    ("KANNALA", (1.0,), "unknown camera model 'KANNALA'"),
    ("EUCM", (1.0,) * 6, "camera model 'EUCM': its rays can leave the front hemisphere"),
])
def test_bad_parameters_are_refused_in_one_line(name, params, message):
    with pytest.raises(DepthViewsError) as error:
        LensModel(name, 64, 48, params)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_distortion_that_folds_at_the_centre_is_refused():
    lens = LensModel("OPENCV", 64, 48, (50.0, 50.0, 32.0, 24.0, -1e5, 0.0, 0.0, 0.0))
    with pytest.raises(DepthViewsError, match="no exact inverse within one pixel of the principal point "
                                              r"\(its radial profile folds back 0.061 pixels from it\)"):
        lens.check_invertible()
    LensModel("OPENCV", 64, 48, (50.0, 50.0, 32.0, 24.0, -0.3, 0.0, 0.0, 0.0)).check_invertible()


# -- against pycolmap --------------------------------------------------------------------------------

@pytest.mark.parametrize("lens", [lens for _, lens in COLMAP_LENSES], ids=[name for name, _ in COLMAP_LENSES])
def test_unproject_is_pycolmaps_cam_from_img(lens):
    """Our ray of pixel (u, v) = pycolmap's cam_ray_from_img of (u + 0.5, v + 0.5), wherever pycolmap is right
    (its fisheye unprojection goes through the normalised plane: below 90 degrees)."""
    u, v = sample_pixels(lens)
    rays, valid = lens.unproject(u, v)
    pixels = np.stack([u.ravel() + 0.5, v.ravel() + 0.5], axis=-1)
    ref = np.asarray(colmap_camera(lens).cam_ray_from_img(pixels), dtype=np.float64).reshape(rays.shape)
    compare = valid & np.isfinite(ref).all(-1) & (angle_deg(rays) < 89.0)
    assert compare.mean() > 0.25
    differ = compare & (np.abs(rays - ref).max(-1) >= RAY_TOL)
    # pycolmap's Newton stops at a step of 1e-5; where the inverse is badly conditioned (near a fold) that
    # leaves ~1e-10 in its ray.  Where we differ by more, ours is the better inverse under its own projection.
    assert differ.mean() < 0.01
    if differ.any():
        camera = colmap_camera(lens)
        target = np.stack([u[differ] + 0.5, v[differ] + 0.5], -1)
        ours = np.abs(np.asarray(camera.img_from_cam(rays[differ])) - target).max(-1)
        theirs = np.abs(np.asarray(camera.img_from_cam(ref[differ])) - target).max(-1)
        assert ours.max() < PIXEL_TOL and np.all(ours <= theirs)
    normal = np.asarray(colmap_camera(lens).cam_from_img(pixels), dtype=np.float64).reshape(rays.shape[:-1] + (2,))
    ours = rays[..., :2] / np.where(compare, rays[..., 2], 1.0)[..., None]
    assert (np.abs(ours - normal) / np.maximum(1.0, np.abs(ours)))[compare & ~differ].max() < 1e-9


@pytest.mark.parametrize("lens", [lens for _, lens in COLMAP_LENSES], ids=[name for name, _ in COLMAP_LENSES])
def test_project_is_pycolmaps_img_from_cam(lens):
    rng = np.random.default_rng(7)
    rays, valid = lens.unproject(*sample_pixels(lens, 13))
    front = valid & (rays[..., 2] > 0.05)
    points = rays[front] * rng.uniform(0.5, 20.0, size=(int(front.sum()), 1))
    uv, ok = lens.project(points)
    assert ok.all()
    ref = np.asarray(colmap_camera(lens).img_from_cam(points), dtype=np.float64) - 0.5
    tolerance = 1e-7 if lens.name == "FOV" else PIXEL_TOL   # COLMAP's FOV projection: a Taylor branch near the centre
    assert np.abs(uv - ref).max() < tolerance


def test_fov_follows_colmaps_rays_where_its_projection_is_not_their_inverse():
    """COLMAP's FOV distortion for omega < 0.01 uses the undistortion's Taylor factor, so its img_from_cam
    is not the inverse of its cam_from_img.  The rays (cam_from_img) are what we follow."""
    lens = LensModel("FOV", W, H, (250.0, 250.0, 160.0, 120.0, 0.005))
    camera = colmap_camera(lens)
    point = np.array([[0.5, 0.3, 1.0]])
    assert np.abs(np.asarray(camera.cam_from_img(np.asarray(camera.img_from_cam(point)))) - point[:, :2]).max() > 1e-7
    u, v = sample_pixels(lens, 31)
    rays, _ = lens.unproject(u, v)
    ref = np.asarray(camera.cam_ray_from_img(np.stack([u.ravel() + 0.5, v.ravel() + 0.5], -1)))
    assert np.abs(rays.reshape(-1, 3) - ref).max() < 1e-9
    uv, ok = lens.project(point)
    assert ok.all() and np.abs(lens.unproject(*uv.T)[0] - point / np.linalg.norm(point)).max() < 1e-12


# -- exactness: round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("lens", [lens for _, lens in LENSES], ids=[name for name, _ in LENSES])
def test_every_pixel_round_trips(lens):
    """project(unproject(pixel)) = pixel to 1e-9 px at every valid pixel centre; every ray has unit length."""
    u, v = lens.pixel_grid()
    rays, valid = lens.unproject(u, v)
    assert valid.any()
    assert np.abs(np.linalg.norm(rays[valid], axis=-1) - 1).max() < 1e-14
    uv, ok = lens.project(rays[valid])
    assert ok.all()
    assert np.abs(uv - np.stack([u[valid], v[valid]], -1)).max() < PIXEL_TOL


@pytest.mark.parametrize("lens", [lens for _, lens in LENSES], ids=[name for name, _ in LENSES])
def test_points_round_trip(lens):
    rng = np.random.default_rng(3)
    d = rng.normal(size=(4000, 3))
    d[:, 2] = np.abs(d[:, 2]) * (1.0 if lens.family == PINHOLE_FAMILY else rng.choice([-0.3, 1.0], size=4000))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    uv, ok = lens.project(d * 3.0)
    inside = ok & (uv[:, 0] > -0.5) & (uv[:, 0] < lens.width - 0.5) & (uv[:, 1] > -0.5) & (uv[:, 1] < lens.height - 0.5)
    assert inside.sum() > 50
    rays, valid = lens.unproject(uv[inside, 0], uv[inside, 1])
    assert valid.all() and np.abs(rays - d[inside]).max() < 1e-11


def test_principal_point_convention_and_no_flip():
    """COLMAP's principal point is ours + 0.5: our pixel (cx, cy) looks straight down the axis; a pixel right of
    and below it looks right (+x) and down (+y)."""
    lens = LensModel("OPENCV", 640, 480, (500.0, 510.0, 320.5, 240.5, -0.2, 0.05, 0.001, 0.002))
    assert lens.principal_point == (320.0, 240.0)
    assert np.array_equal(lens.K, [[500, 0, 320], [0, 510, 240], [0, 0, 1]])
    ray, valid = lens.unproject(320.0, 240.0)
    assert valid and np.abs(ray - [0, 0, 1]).max() < 1e-15
    ray, _ = lens.unproject(400.0, 300.0)
    assert ray[0] > 0 and ray[1] > 0


# -- fisheyes beyond 90 degrees, reach, folds -------------------------------------------------------

def test_a_fisheye_sees_beyond_90_degrees():
    lens = lens_case("OPENCV_FISHEYE-180", W, H)
    u, v = lens.pixel_grid()
    rays, valid = lens.unproject(u, v)
    behind = valid & (rays[..., 2] < 0)
    assert behind.sum() > 1000
    uv, ok = lens.project(rays[behind])
    assert ok.all() and np.abs(uv - np.stack([u[behind], v[behind]], -1)).max() < PIXEL_TOL
    a, b, _ = lens.undistort(u, v)
    assert np.allclose(np.hypot(a, b)[valid], np.radians(angle_deg(rays))[valid], atol=1e-12)
    ref = np.asarray(colmap_camera(lens).cam_ray_from_img(np.stack([u.ravel() + 0.5, v.ravel() + 0.5], -1)))
    front = valid & (angle_deg(rays) < 85) & np.isfinite(ref.reshape(rays.shape)).all(-1)
    assert np.abs(rays - ref.reshape(rays.shape))[front].max() < RAY_TOL


def test_pixels_beyond_a_fisheyes_reach_have_no_ray():
    lens = lens_case("OPENCV_FISHEYE-180", W, H)
    profile = lens.radial_profile()
    assert profile.reason == "reach" and profile.rho_max == pytest.approx(math.pi)
    u, v = lens.pixel_grid()
    _, valid = lens.unproject(u, v)
    (fx, fy), (cx, cy) = lens.focal, lens.principal_point
    assert np.array_equal(valid, np.hypot((u - cx) / fx, (v - cy) / fy) <= profile.rho_d_max)
    assert (~valid).sum() > 100
    assert not lens.project(np.array([[0.0, 0.0, -1.0]]))[1][0]


def test_pixels_beyond_a_barrels_fold_have_no_ray():
    lens = lens_case("OPENCV-folded", W, H)
    profile = lens.radial_profile()
    assert profile.reason == "fold"
    k1, k2 = lens.named_params()["k1"], lens.named_params()["k2"]
    rho = np.linspace(0, 5, 200001)
    g = rho * (1 + k1 * rho ** 2 + k2 * rho ** 4)
    first_max = np.argmax(np.diff(g) <= 0)
    assert profile.rho_max == pytest.approx(rho[first_max], abs=1e-4)
    assert profile.rho_d_max == pytest.approx(g[first_max], rel=1e-8)
    u, v = lens.pixel_grid()
    rays, valid = lens.unproject(u, v)
    (fx, fy), (cx, cy) = lens.focal, lens.principal_point
    assert np.array_equal(valid, np.hypot((u - cx) / fx, (v - cy) / fy) < profile.rho_d_max)
    assert 0.05 < valid.mean() < 0.95 and np.all(rays[~valid] == 0)
    _, ok = lens.project(np.array([[profile.rho_max * 1.01, 0.0, 1.0], [0.0, profile.rho_max * 0.99, 1.0],
                                   [0.1, 0.1, -1.0]]))
    assert ok.tolist() == [False, True, False]


def test_fov_and_division_limits():
    fov = LensModel("FOV", W, H, (75.0, 75.0, 160.0, 120.0, 1.4))
    u, v = fov.pixel_grid()
    _, valid = fov.unproject(u, v)
    rho_d = np.hypot((u - 159.5) / 75.0, (v - 119.5) / 75.0)
    assert np.array_equal(valid, rho_d * 1.4 < math.pi / 2) and (~valid).any()
    division = LensModel("DIVISION", W, H, (100.0, 100.0, 160.0, 120.0, -0.5))
    _, valid = division.unproject(u, v)
    rho_d = np.hypot((u - 159.5) / 100.0, (v - 119.5) / 100.0)
    assert np.array_equal(valid, 1 - 0.5 * rho_d ** 2 > 0) and (~valid).any()


def test_an_asymmetric_fold_is_masked_consistently():
    """A thin-prism fisheye pushed until it folds: every valid pixel's solution has a positive Jacobian on the
    way from the centre and round trips; project agrees with unproject on what is seen."""
    lens = LensModel("THIN_PRISM_FISHEYE", 160, 120, (75.0, 75.0, 80.0, 60.0, -0.35, 0.02, 0.01, -0.02,
                                                        0.0, 0.0, 0.02, 0.01))
    u, v = lens.pixel_grid()
    rays, valid = lens.unproject(u, v)
    assert 0.2 < valid.mean() < 1.0
    uv, ok = lens.project(rays[valid])
    assert ok.all() and np.abs(uv - np.stack([u[valid], v[valid]], -1)).max() < PIXEL_TOL


# -- the depth contract -------------------------------------------------------------------------------

def test_depth_rays_and_distance_to_depth():
    pinhole, fisheye = lens_case("OPENCV", W, H), lens_case("OPENCV_FISHEYE", W, H)
    d, valid = pinhole.depth_rays()
    assert np.all(d[valid][:, 2] == 1.0)
    unit, _ = pinhole.unproject(*pinhole.pixel_grid())
    distance = np.full(valid.shape, 5.0)
    assert np.allclose(pinhole.distance_to_depth(distance)[valid], 5.0 * unit[valid][:, 2], rtol=1e-15, atol=0)
    d, valid = fisheye.depth_rays()
    assert np.allclose(np.linalg.norm(d[valid], axis=-1), 1.0, atol=1e-15)
    folded = lens_case("OPENCV-folded", W, H)
    assert np.array_equal(np.isinf(folded.distance_to_depth(distance)), ~folded.depth_rays()[1])


def test_pixel_box_holds_every_pixel_that_sees_the_points():
    lens = lens_case("OPENCV_FISHEYE", W, H)
    rng = np.random.default_rng(5)
    points = rng.normal(size=(200, 3)) * 0.3 + [0.4, -0.2, 3.0]
    u0, u1, v0, v1 = lens.pixel_box(points)
    uv, ok = lens.project(points)
    assert ok.all()
    assert u0 <= uv[:, 0].min() and uv[:, 0].max() < u1 and v0 <= uv[:, 1].min() and uv[:, 1].max() < v1
    assert (u1 - u0) * (v1 - v0) < 0.5 * W * H
    assert lens.pixel_box(points * [1, 1, -1]) is None


# -- nerfstudio ---------------------------------------------------------------------------------------

NS = {"fl_x": 250.0, "fl_y": 252.0, "cx": 161.3, "cy": 118.9}


@pytest.mark.parametrize("camera_model, keys, model", [
    ("OPENCV", {"k1": -0.12, "k2": 0.03, "p1": 0.001, "p2": -0.0008}, "OPENCV"),
    ("OPENCV", {"k1": -0.12, "k2": 0.03, "k3": -0.004, "p1": 0.001, "p2": -0.0008}, "FULL_OPENCV"),
    ("OPENCV", {"k1": -0.12, "k2": 0.03, "k3": -0.004, "k4": 0.0007, "p1": 0.001, "p2": -0.0008}, "NERFSTUDIO_OPENCV"),
    ("OPENCV_FISHEYE", {"k1": 0.02, "k2": -0.004, "k3": 0.001, "k4": -0.0002}, "OPENCV_FISHEYE"),
    ("OPENCV_FISHEYE", {"k1": 0.02, "k2": -0.004, "k3": 0.001, "k4": -0.0002, "p1": 0.0005, "p2": -0.0003},
     "THIN_PRISM_FISHEYE"),
])
def test_nerfstudio_keys_give_nerfstudios_rays(camera_model, keys, model):
    """from_nerfstudio picks the model whose rays are exactly nerfstudio's (its Newton run to convergence in
    float64; nerfstudio itself runs 10 float32 steps, within 1e-6), and to_nerfstudio gives the keys back."""
    f = 1.0 if camera_model == "OPENCV" else 0.44
    lens = LensModel.from_nerfstudio(camera_model, W, H, NS["fl_x"] * f, NS["fl_y"] * f, NS["cx"], NS["cy"], keys)
    assert lens.name == model
    ours, valid = lens.unproject(*lens.pixel_grid())
    distortion = [keys.get(k, 0.0) for k in ("k1", "k2", "k3", "k4", "p1", "p2")]
    theirs = nerfstudio_rays(camera_model, W, H, NS["fl_x"] * f, NS["fl_y"] * f, NS["cx"], NS["cy"], distortion,
                             iterations=40, dtype=np.float64)
    assert valid.all() and np.abs(ours - theirs).max() < 1e-12
    approx = nerfstudio_rays(camera_model, W, H, NS["fl_x"] * f, NS["fl_y"] * f, NS["cx"], NS["cy"], distortion)
    assert np.abs(ours - approx).max() < 2e-6
    back = lens.to_nerfstudio()
    again = LensModel.from_nerfstudio(back["camera_model"], back["w"], back["h"], back["fl_x"], back["fl_y"],
                                      back["cx"], back["cy"], back)
    assert again.key == lens.key


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_nerfstudio_reproduces_our_rays_or_says_it_cannot(name):
    lens = lens_case(name, 96, 72)
    keys = lens.to_nerfstudio()
    cannot = {"FULL_OPENCV", "FOV", "RAD_TAN_THIN_PRISM_FISHEYE", "SIMPLE_DIVISION", "DIVISION", "THIN_PRISM_FISHEYE"}
    assert (keys is None) == (name in cannot)
    if keys is None:
        return
    ours, valid = lens.unproject(*lens.pixel_grid())
    theirs = nerfstudio_rays(keys["camera_model"], keys["w"], keys["h"], keys["fl_x"], keys["fl_y"], keys["cx"],
                             keys["cy"], [keys.get(k, 0.0) for k in ("k1", "k2", "k3", "k4", "p1", "p2")],
                             iterations=60, dtype=np.float64)
    assert np.abs(ours - theirs)[valid].max() < 1e-9


def test_nerfstudio_k4_is_not_colmaps_k4():
    """nerfstudio's k4 multiplies r^8; COLMAP FULL_OPENCV's k4 divides (1 + k4 r^2 + ...)."""
    ns = LensModel.from_nerfstudio("OPENCV", W, H, 250.0, 252.0, 161.3, 118.9, {"k1": -0.1, "k2": 0.02, "k4": 0.01})
    naive = LensModel("FULL_OPENCV", W, H, (250.0, 252.0, 161.3, 118.9, -0.1, 0.02, 0, 0, 0, 0.01, 0, 0))
    assert np.abs(ns.unproject(*ns.pixel_grid())[0] - naive.unproject(*naive.pixel_grid())[0]).max() > 1e-3
