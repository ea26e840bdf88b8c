"""A rendered lens read the way an OpenCV user reads it: ``K`` from cameras.json, the distortion
coefficients from ``lens_params[4:8]`` (k1 k2 p1 p2 for OPENCV, k1..k4 for OPENCV_FISHEYE), OpenCV's own
inverse (``cv2.undistortPointsIter``, ``cv2.fisheye.undistortPoints``) at each pixel centre, and the ray
met with the floor of the scene: the EXR holds that distance (fisheye, ray length) or that z (OPENCV,
planar), where a half-pixel error would show.  The pixels whose ray passes the object are left out."""

from __future__ import annotations

import json

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
cv2 = pytest.importorskip("cv2")

from meshes import asymmetric_mesh, write_mesh  # noqa: E402

from depth_views import read_depth  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.compositor.compat import custom_camera_problem  # noqa: E402

pytestmark = pytest.mark.skipif(custom_camera_problem() is not None,
                                reason=f"lens renders need Cycles' Custom camera: {custom_camera_problem()}")

FLOOR_HALF = 30.0
TOLERANCE = 1e-5            # relative; measured 1.3e-6 at most on bpy 5.0.1
CRITERIA = (3, 200, 1e-14)  # cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS
LENSES = {   # a ScanNet++-like DSLR fisheye (docs/camera-models.md) and a phone-like OPENCV lens
    "OPENCV_FISHEYE": ("789.2 791.4 880.3 590.1 -0.0306 -0.0048 0.0012 -0.0002", (1752, 1168)),
    "OPENCV": ("500.0 480.0 330.5 235.5 -0.12 0.03 0.0012 -0.0008", (640, 480)),
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    import trimesh

    folder = tmp_path_factory.mktemp("lens_opencv")
    floor = trimesh.Trimesh([[-FLOOR_HALF, -FLOOR_HALF, 0], [FLOOR_HALF, -FLOOR_HALF, 0],
                             [FLOOR_HALF, FLOOR_HALF, 0], [-FLOOR_HALF, FLOOR_HALF, 0]], [[0, 1, 2], [0, 2, 3]],
                            process=False)
    write_mesh(trimesh.util.concatenate([asymmetric_mesh(), floor]), folder / "scene.ply")
    return folder


def opencv_rays(model: str, K, coefficients, u, v) -> np.ndarray:
    """OpenCV's undistorted (x/z, y/z, 1) of our pixel centres (OpenCV's pixel convention is ours)."""
    pixels = np.stack([u, v], axis=-1)[:, None, :]
    if model == "OPENCV_FISHEYE":
        normalised = cv2.fisheye.undistortPoints(pixels, K, coefficients, criteria=CRITERIA)
    else:
        normalised = cv2.undistortPointsIter(pixels, K, coefficients, None, None, CRITERIA)
    normalised = normalised.reshape(-1, 2)
    return np.c_[normalised, np.ones(len(normalised))]


def floor_depth(model, K, coefficients, world_to_camera, u, v):
    """What the EXR must hold where each pixel's ray meets the floor (z = 0), the ray's parameter along
    (x/z, y/z, 1) in world axes, the camera centre and the world directions."""
    rotation, centre = world_to_camera[:3, :3], -world_to_camera[:3, :3].T @ world_to_camera[:3, 3]
    directions = opencv_rays(model, K, coefficients, u, v) @ rotation   # camera -> world axes
    s = -centre[2] / directions[:, 2]
    depth = s * np.linalg.norm(directions, axis=1) if model == "OPENCV_FISHEYE" else s   # ray length, or z
    return depth, s, centre, directions


def misses_the_object(centre, directions, s, margin=0.05):
    """True where the segment from the camera to the floor point stays outside the object's bounding box."""
    low, high = asymmetric_mesh().bounds + np.array([[-margin], [margin]])
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (low - centre) / directions, (high - centre) / directions
    enter = np.nanmax(np.minimum(t0, t1), axis=1)
    leave = np.nanmin(np.maximum(t0, t1), axis=1)
    return ~((leave >= enter) & (enter < s) & (leave > 0))


@pytest.mark.parametrize("model", list(LENSES))
def test_opencv_reads_our_lens_and_finds_the_rendered_floor(scene, model, monkeypatch):
    params, (width, height) = LENSES[model]
    monkeypatch.chdir(scene)
    assert main(["render", "scene.ply", "--out", f"out_{model}", "--lens-model", model, "--lens-params",
                 *params.split(), "--resolution", str(width), str(height), "--sampling", "grid", "--grid", "1", "1",
                 "--elevation", "60", "60", "--radius", "5", "--quiet"]) == 0
    folder = scene / f"out_{model}" / "scene"
    cameras = json.loads((folder / "cameras.json").read_text())
    assert (cameras["camera_model"], cameras["depth_kind"]) == \
        (model, "ray_length" if model == "OPENCV_FISHEYE" else "planar")
    K, coefficients = np.array(cameras["K"]), np.array(cameras["lens_params"][4:8])
    view = cameras["views"][0]
    rendered = read_depth(str(folder / view["files"]["depth"]))

    us, vs = np.meshgrid(np.arange(0, width, 5.0), np.arange(0, height, 5.0))
    u, v = us.ravel(), vs.ravel()
    world_to_camera = np.array(view["world_to_camera"])
    expected, s, centre, directions = floor_depth(model, K, coefficients, world_to_camera, u, v)
    floor_point = centre + s[:, None] * directions
    seen = ((s > 0) & misses_the_object(centre, directions, s)
            & (np.abs(floor_point[:, :2]) < FLOOR_HALF - 1).all(axis=1))
    assert seen.sum() > 0.5 * len(u)
    got = rendered[v[seen].astype(int), u[seen].astype(int)]
    assert np.isfinite(got).all()
    error = np.abs(got - expected[seen]) / expected[seen]
    assert error.max() < TOLERANCE, (np.median(error), error.max())

    # the tolerance tells pixels apart: half a pixel across or down moves most floor depths by 10x more
    moved = np.zeros(seen.sum())
    for du, dv in ((0.5, 0.0), (0.0, 0.5)):
        shifted, *_ = floor_depth(model, K, coefficients, world_to_camera, u + du, v + dv)
        moved = np.maximum(moved, np.abs(shifted[seen] - expected[seen]) / expected[seen])
    assert np.mean(moved > 10 * TOLERANCE) > 0.9, np.median(moved)
