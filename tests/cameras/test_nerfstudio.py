"""nerfstudio / instant-ngp / NeRF-synthetic transforms (cameras/nerfstudio.py): the reader against files the
tests write from the format's stated conventions (tests/camera_files.py), the writers against nerfstudio's
own ray formulas, and bad input named by file, frame and key.  No Blender."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from camera_files import KS, H, W, assert_frames_match, cameras_for, edited_transforms, opengl_camera_to_world, write_transforms

from depth_views.cameras.camera_set import read_camera_file, views_from_camera_set
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.nerfstudio import nerf_synthetic_documents, split_test_views, transforms_document
from depth_views.cameras.sphere import sample_views
from depth_views.errors import DepthViewsError

MW, MH = 24, 16  # the camera-model tests' image size
MODELS = [CameraModel.perspective(Intrinsics(MW, MH)), CameraModel.fisheye(MW, MH, 200.0), CameraModel.equirectangular(MW, MH),
          CameraModel.equirectangular(MW, MH, (-40.0, 70.0), (-30.0, 50.0))]


# -- reading ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_frame", [False, True])
def test_transforms_reader_follows_nerfstudio_conventions(tmp_path, per_frame):
    cameras = cameras_for(KS["fx_ne_fy"])
    path = write_transforms(tmp_path / "transforms.json", cameras, per_frame=per_frame)
    camera_set = read_camera_file(path)
    assert camera_set.kind == "transforms"
    assert_frames_match(camera_set, cameras)
    assert [f.name for f in camera_set.frames] == [f"images/frame_{i:05d}.png" for i in range(3)]


def test_nerf_synthetic_camera_angle_x_and_image_size(tmp_path):
    from PIL import Image

    (tmp_path / "train").mkdir()
    Image.new("RGBA", (80, 60)).save(tmp_path / "train" / "r_0.png")
    c2w = opengl_camera_to_world(cameras_for(KS["fx_ne_fy"])[0][1])
    document = {"camera_angle_x": 0.6911112070083618,
                "frames": [{"file_path": "./train/r_0", "rotation": 0.0, "transform_matrix": c2w.tolist()},
                           {"file_path": "./train/r_missing", "transform_matrix": c2w.tolist()}]}
    path = tmp_path / "transforms_train.json"
    path.write_text(json.dumps(document))
    first, second = read_camera_file(str(path), default_size=(80, 60)).frames
    focal = 0.5 * 80 / np.tan(0.5 * 0.6911112070083618)
    assert (first.width, first.height) == (80, 60)  # from the image on disk
    assert np.allclose([first.fx, first.fy, first.cx, first.cy], [focal, focal, 39.5, 29.5])
    assert (second.width, second.height) == (80, 60)  # the image need not exist


BAD_TRANSFORMS = {
    "no pose": ({(1, "transform_matrix"): None}, "frame 1 (images/frame_00001.png): no transform_matrix"),
    "nan focal": ({(2, "fl_x"): float("nan")}, "frame 2 (images/frame_00002.png): fl_x is nan"),
    "zero focal": ({(0, "fl_y"): 0}, "frame 0 (images/frame_00000.png): fl_y is 0"),
    "not a rotation": ({(1, "transform_matrix"): [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 5], [0, 0, 0, 1]]},
                       "frame 1 (images/frame_00001.png): the pose's 3x3 part is not a rotation"),
    "mirror": ({(1, "transform_matrix"): [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 5], [0, 0, 0, 1]]},
               "not a rotation"),
    "mixed sizes": ({(2, "w"): 80}, "frame 2 (images/frame_00002.png): image size 80x48 differs from the "
                                    "first frame's 64x48"),
    "distortion without an inverse": ({(0, "k1"): -1e6}, "frame 0 (images/frame_00000.png): camera model OPENCV: the "
                                                        "distortion has no exact inverse within one pixel"),
    "fisheye": ({(1, "camera_model"): "OPENCV_FISHEYE"},
                "frame 1 (images/frame_00001.png): camera model OPENCV_FISHEYE mixed with pinhole frames"),
    "unknown model": ({(0, "camera_model"): "KANNALA"}, "unknown camera model 'KANNALA'"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRANSFORMS))
def test_bad_transforms_name_file_frame_and_problem(tmp_path, case):
    changes, message = BAD_TRANSFORMS[case]
    path = edited_transforms(tmp_path, changes)
    with pytest.raises(DepthViewsError) as error:
        views_from_camera_set(read_camera_file(path))
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("changes, message", [
    ({(1, "w"): None}, "frame 1 (images/frame_00001.png): gives h but not w; give both (the image size) or neither"),
    ({(2, "h"): None}, "frame 2 (images/frame_00002.png): gives w but not h"),
    ({(0, "fl_x"): 1e308}, "frame 0 (images/frame_00000.png): fl_x is 1e+308 pixels; focal lengths go up to 1e+08"),
    ({(0, "h"): 10**9}, "frame 0 (images/frame_00000.png): h is 1000000000 pixels; Blender renders at most 65536"),
    ({(0, "h"): 10**9, (0, "cx"): 1e300}, "h is 1000000000 pixels"),       # the size is named, not the principal point
    ({(0, "fl_x"): 1e308, (0, "cy"): -1e300}, "fl_x is 1e+308 pixels"),
    ({(1, "fl_y"): 0.2}, "focal lengths fx 70 and fy 0.2 differ by more than 200 times"),
    ({(1, "transform_matrix"): [[1, 0, 0, 1e300], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]},
     "frame 1 (images/frame_00001.png): the camera sits 1e+300 scene units from the origin"),
    ({(2, "cx"): "left"}, "frame 2 (images/frame_00002.png): cx is 'left', not a number"),
    ({(2, "w"): 64.5}, "w is 64.5, not a whole number of pixels"),
])
def test_sizes_focal_lengths_and_positions_are_named_as_themselves(tmp_path, changes, message):
    path = edited_transforms(tmp_path, changes)
    with pytest.raises(DepthViewsError) as error:
        views_from_camera_set(read_camera_file(path))
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def _nerf_synthetic(tmp_path, frame_keys, top=None) -> str:
    c2w = opengl_camera_to_world(cameras_for(KS["fx_ne_fy"])[0][1]).tolist()
    document = {**(top or {}), "frames": [{"file_path": "./train/r_0", "transform_matrix": c2w, **frame_keys}]}
    path = tmp_path / "transforms_train.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_a_principal_point_is_never_applied_to_another_image_size(tmp_path):
    """No w and h and no image on disk: intrinsics in pixels cannot be placed on --resolution's size."""
    for keys in ({"cx": 70.75, "cy": 60.25, "camera_angle_x": 0.7}, {"fl_x": 111.0}):
        path = _nerf_synthetic(tmp_path, keys)
        with pytest.raises(DepthViewsError) as error:
            read_camera_file(path, default_size=(W, H))
        assert str(error.value).startswith(f"{path}: frame 0 (./train/r_0): ") and \
            "in pixels of an image size the file does not give (no w and h, no image ./train/r_0 beside the file); " \
            "add w and h" in str(error.value)
    # camera_angle_x alone is a field of view: it fits any size, --resolution's included
    frame = read_camera_file(_nerf_synthetic(tmp_path, {}, {"camera_angle_x": 0.7}), default_size=(W, H)).frames[0]
    assert (frame.width, frame.height, frame.cx, frame.cy) == (W, H, (W - 1) / 2, (H - 1) / 2)
    assert frame.fx == pytest.approx(0.5 * W / math.tan(0.35))
    # with the image on disk, its size is the size, and the principal point belongs to it
    from PIL import Image

    (tmp_path / "train").mkdir()
    Image.new("RGB", (160, 120)).save(tmp_path / "train" / "r_0.png")
    frame = read_camera_file(_nerf_synthetic(tmp_path, {"cx": 70.75, "cy": 60.25, "camera_angle_x": 0.7}),
                             default_size=(W, H)).frames[0]
    assert (frame.width, frame.height, frame.cx, frame.cy) == (160, 120, 70.25, 59.75)


def test_more_frames_than_one_render_holds_are_refused_up_front(tmp_path):
    path = tmp_path / "many.json"
    path.write_text('{"fl_x": 50, "w": 8, "h": 8, "frames": [' + ",".join(["{}"] * 100_001) + "]}")
    with pytest.raises(DepthViewsError, match=r"many.json: holds 100001 frames; at most 100000 per render"):
        read_camera_file(str(path))


# -- writing ------------------------------------------------------------------------------------------


def _nerfstudio_directions(transforms: dict) -> np.ndarray:
    """Camera-space ray directions (OpenGL axes) as nerfstudio's Cameras._generate_rays_from_coords
    computes them (transcribed from nerfstudio/cameras/cameras.py: pixel centres at +0.5,
    coord = ((x - cx)/fx, -(y - cy)/fy), then per camera type)."""
    w, h = transforms["w"], transforms["h"]
    x, y = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    cx_, cy_ = (x - transforms["cx"]) / transforms["fl_x"], -(y - transforms["cy"]) / transforms["fl_y"]
    kind = transforms["camera_model"]
    if kind == "OPENCV":
        d = np.stack([cx_, cy_, -np.ones_like(cx_)], -1)
    elif kind == "OPENCV_FISHEYE":
        theta = np.clip(np.hypot(cx_, cy_), 0.0, math.pi)
        s = np.sin(theta) / theta
        d = np.stack([cx_ * s, cy_ * s, -np.cos(theta)], -1)
    else:
        assert kind == "EQUIRECTANGULAR"
        theta, phi = -math.pi * cx_, math.pi * (0.5 - cy_)
        d = np.stack([-np.sin(theta) * np.sin(phi), np.cos(phi), -np.cos(theta) * np.sin(phi)], -1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


@pytest.mark.parametrize("model", MODELS +
                         [CameraModel.equirectangular(32, 16)], ids=lambda m: f"{m.name}-{m.width}")
def test_nerfstudio_reads_transforms_json_as_the_same_rays(model):
    transforms = transforms_document(Intrinsics(model.width, model.height), [], [], camera_model=model)
    if model.name == "EQUIRECTANGULAR" and model.width == 2 * model.height and \
            model.longitude_range_deg == (-180.0, 180.0):
        # nerfstudio's own expectation for a full 2:1 panorama.
        assert transforms["fl_x"] == transforms["fl_y"] == model.height
        assert (transforms["cx"], transforms["cy"]) == (model.width / 2, model.height / 2)
    if model.name == "OPENCV_FISHEYE":
        assert [transforms[k] for k in ("k1", "k2", "k3", "k4")] == [0.0] * 4
    theirs = _nerfstudio_directions(transforms) * [1, -1, -1]      # OpenGL -> OpenCV axes
    _, ours, valid = model.depth_rays()
    ours = ours / np.maximum(np.linalg.norm(ours, axis=-1, keepdims=True), 1e-300)
    assert np.allclose(theirs[valid], ours[valid], atol=1e-9)


def test_no_transforms_json_for_orthographic():
    model = CameraModel.orthographic(MW, MH, 2.0)
    assert transforms_document(Intrinsics(MW, MH), [], [], camera_model=model) is None


def test_split_spreads_the_test_views_evenly():
    assert split_test_views(16, 0.125) == [i in (4, 12) for i in range(16)]
    assert split_test_views(8, 0.125) == [i == 4 for i in range(8)]
    assert sum(split_test_views(3, 0.9)) == 2 and split_test_views(1, 0.5) == [False]
    assert not any(split_test_views(10, 0.0))
    with pytest.raises(DepthViewsError, match="--test-fraction 1"):
        split_test_views(4, 1.0)


def test_transforms_document_puts_pixel_centres_at_one_half():
    intrinsics = Intrinsics.from_K(W, H, 70.0, 52.0, 24.3, 30.1)
    views = sample_views(sampling="fibonacci", n_views=3, center=[0, 0, 0], radius=2.0)
    files = [{"depth": f"depth/{v.index:04d}.exr"} for v in views]
    transforms = json.loads(json.dumps(transforms_document(intrinsics, views, files)))
    assert (transforms["fl_x"], transforms["fl_y"], transforms["cx"], transforms["cy"]) == (70.0, 52.0, 24.8, 30.6)
    assert transforms["frames"][1]["depth_file_path"] == "depth/0001.exr"
    assert np.array_equal(transforms["frames"][2]["transform_matrix"], views[2].camera_to_world)


def test_nerf_synthetic_holds_only_a_centred_square_pixel_K():
    views = sample_views(sampling="fibonacci", n_views=4, center=[0, 0, 0], radius=2.0)
    files = [{"rgb": f"rgb/{v.index:04d}.png", "depth": f"depth/{v.index:04d}.exr"} for v in views]
    documents = nerf_synthetic_documents(Intrinsics(W, H), views, files, 0.25)
    assert [len(documents[name]["frames"]) for name in ("transforms_train.json", "transforms_test.json")] == [3, 1]
    frame = documents["transforms_test.json"]["frames"][0]
    assert frame["file_path"] == "./rgb/0002" and frame["depth_file_path"] == "./depth/0002.exr"
    focal = W / (2 * math.tan(documents["transforms_train.json"]["camera_angle_x"] / 2))
    assert focal == pytest.approx(Intrinsics(W, H).K[0, 0], rel=1e-12)
    with pytest.raises(DepthViewsError, match="camera_angle_x holds one focal length and a centred principal point"):
        nerf_synthetic_documents(Intrinsics.from_K(W, H, 50.0, 50.0, 20.0, 23.5), views, files, 0.25)
    with pytest.raises(DepthViewsError, match="add --passes rgb"):
        nerf_synthetic_documents(Intrinsics(W, H), views, [{"depth": "d.exr"}] * 4, 0.25)
