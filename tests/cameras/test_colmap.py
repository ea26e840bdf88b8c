"""COLMAP models (cameras/colmap.py): text and binary readers against files the tests write from COLMAP's stated
conventions (tests/camera_files.py) and against pycolmap, every image read or the file refused, and the
text-model export read back by pycolmap and by our reader.  No Blender."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from camera_files import KS, H, K_of, W, assert_frames_match, cameras_for, write_colmap_binary, write_colmap_text

from depth_views.cameras.camera_set import read_camera_file, views_from_camera_set
from depth_views.cameras.colmap import colmap_text_model
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.sphere import sample_views
from depth_views.errors import DepthViewsError


@pytest.mark.parametrize("model", ["PINHOLE", "SIMPLE_PINHOLE", "OPENCV"])
def test_colmap_text_reader_follows_colmap_conventions(tmp_path, model):
    K = KS["outside_left"] if model != "SIMPLE_PINHOLE" else K_of(55.0, 55.0, 20.0, 40.0)
    cameras = cameras_for(K)
    folder = write_colmap_text(tmp_path / "sparse", cameras, model=model)
    for path in (folder, os.path.join(folder, "images.txt")):
        camera_set = read_camera_file(path)
        assert camera_set.kind == "colmap"
        assert_frames_match(camera_set, cameras)
    assert [f.name for f in camera_set.frames] == ["img_001.jpg", "img_002.jpg", "img_003.jpg"]


def test_colmap_binary_reader_reads_what_pycolmap_writes(tmp_path):
    pycolmap = pytest.importorskip("pycolmap")
    cameras = cameras_for(KS["fx_ne_fy"])
    text = write_colmap_text(tmp_path / "text", cameras)
    reconstruction = pycolmap.Reconstruction(text)
    (tmp_path / "bin").mkdir()
    reconstruction.write_binary(str(tmp_path / "bin"))
    assert os.path.isfile(tmp_path / "bin" / "images.bin")
    from_binary = read_camera_file(str(tmp_path / "bin"))
    by_name = {f.name: f for f in from_binary.frames}
    for frame in read_camera_file(text).frames:
        other = by_name[frame.name]
        assert np.allclose(other.camera_to_world, frame.camera_to_world, atol=1e-12)
        assert [other.fx, other.fy, other.cx, other.cy] == [frame.fx, frame.fy, frame.cx, frame.cy]


def test_bad_colmap_models(tmp_path):
    cameras = cameras_for(KS["fx_ne_fy"])
    folder = write_colmap_text(tmp_path / "m", cameras, model="OPENCV")
    original = open(os.path.join(folder, "cameras.txt")).read()
    open(os.path.join(folder, "cameras.txt"), "w").write(original.replace(" 0.0 0.0 0.0 0.0", " 0.02 0.0 0.0 0.0"))
    views = views_from_camera_set(read_camera_file(folder))[1]   # distortion: each view carries its lens
    assert [view.lens.name for view in views] == ["OPENCV"] * 3 and views[0].lens.named_params()["k1"] == 0.02
    open(os.path.join(folder, "cameras.txt"), "w").write(original.replace(" 0.0 0.0 0.0 0.0", " -1e6 0.0 0.0 0.0"))
    with pytest.raises(DepthViewsError, match=r"images.txt: frame 0 \(img_001.jpg\): camera model OPENCV: the "
                                              "distortion has no exact inverse within one pixel of the principal point"):
        views_from_camera_set(read_camera_file(folder))
    open(os.path.join(folder, "cameras.txt"), "w").write("1 WEIRD 64 48 1 2 3\n")
    with pytest.raises(DepthViewsError, match="unknown COLMAP camera model 'WEIRD'"):
        read_camera_file(folder)
    open(os.path.join(folder, "images.txt"), "w").write("# nothing\n")
    open(os.path.join(folder, "cameras.txt"), "w").write("1 PINHOLE 64 48 50 50 32 24\n")
    with pytest.raises(DepthViewsError, match="holds no images"):
        read_camera_file(folder)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "cameras.bin").write_bytes(struct.pack("<Q", 1) + b"\x01\x00")
    (tmp_path / "b" / "images.bin").write_bytes(b"")
    with pytest.raises(DepthViewsError, match=r"cameras.bin: its header says 1 cameras, but 10 bytes cannot hold them"):
        read_camera_file(str(tmp_path / "b"))
    (tmp_path / "b" / "cameras.bin").write_bytes(struct.pack("<QiiQQ3d", 1, 1, 1, 64, 48, 50.0, 50.0, 32.0))
    with pytest.raises(DepthViewsError, match="cameras.bin: the file ends early"):  # PINHOLE has 4 parameters
        read_camera_file(str(tmp_path / "b"))


def _images_txt(folder, text):
    with open(os.path.join(folder, "images.txt"), "w", encoding="utf-8") as stream:
        stream.write(text)


def _image_lines(folder) -> list[str]:
    return [line for line in open(os.path.join(folder, "images.txt")).read().splitlines()
            if line.strip() and not line.startswith("#")]


def test_images_without_points_lines_are_all_read(tmp_path):
    """COLMAP follows every image line by its POINTS2D line; a file without them (or without some) still
    gives every image, in order, never every other one."""
    cameras = cameras_for(KS["fx_ne_fy"])
    folder = write_colmap_text(tmp_path / "m", cameras)
    lines = _image_lines(folder)
    _images_txt(folder, "\n".join(lines) + "\n")                          # no POINTS2D lines at all
    assert_frames_match(read_camera_file(folder), cameras)
    _images_txt(folder, f"{lines[0]}\n1.5 2.5 -1 3.0 4.0 7\n{lines[1]}\n{lines[2]}\n")   # only the first has one
    camera_set = read_camera_file(folder)
    assert_frames_match(camera_set, cameras)
    assert [f.name for f in camera_set.frames] == ["img_001.jpg", "img_002.jpg", "img_003.jpg"]
    _images_txt(folder, f"# Number of images: 3, mean observations per image: 0\n{lines[0]}\n\n{lines[1]}\n\n"
                        f"{lines[2]}\n1 2 3\n")
    assert len(read_camera_file(folder).frames) == 3


@pytest.mark.parametrize("images, message", [
    ("{0}\nnot points at all\n{1}\n\n", "images.txt: line 2: is neither the POINTS2D line of image 1 "
                                           "(X Y POINT3D_ID triples, or an empty line) nor an image line"),
    ("{0}\n\n{1}\n\n{0}\n\n", "images.txt: image 1: appears twice (line 1: img_001.jpg and line 5: img_001.jpg)"),
    ("# Number of images: 4, mean observations per image: 0\n{0}\n\n{1}\n\n",
     "images.txt: its header says 'Number of images: 4' but it holds 2 images"),
    ("{0}\n\n1 0.5 0.5 0.5 0.5 0 0 0 1\n\n", "images.txt: line 3: needs IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME"),
    ("{0}\n\n2 1 0 0 0 1e300 0 0 1 far.jpg\n\n", "images.txt: image 2 (far.jpg): the camera sits 1e+300 scene units"),
    ("{0}\n\n2 1 0 0 0 nan 0 0 1 nan.jpg\n\n", "images.txt: image 2 (nan.jpg): translation is 'nan'; it must be finite"),
    ("{0}\n\n2 1 0 0 0 0 0 0 9 lost.jpg\n\n", "images.txt: image 2 (lost.jpg): camera 9 is not in the cameras file"),
])
def test_an_image_is_never_dropped_silently(tmp_path, images, message):
    folder = write_colmap_text(tmp_path / "m", cameras_for(KS["fx_ne_fy"]))
    lines = _image_lines(folder)
    _images_txt(folder, images.format(*lines))
    with pytest.raises(DepthViewsError) as error:
        read_camera_file(folder)
    text = str(error.value)
    assert text.startswith(os.path.join(folder, "images.txt") + ": ") and message in text and "\n" not in text


def test_repeated_camera_ids_are_refused_naming_both(tmp_path):
    folder = write_colmap_text(tmp_path / "t", cameras_for(KS["fx_ne_fy"]))
    with open(os.path.join(folder, "cameras.txt"), "a") as stream:
        stream.write("2 PINHOLE 64 48 50 50 32 24\n")
    with pytest.raises(DepthViewsError, match=r"cameras.txt: camera 2: is defined twice \(lines 3 and 5\)$"):
        read_camera_file(folder)
    folder = write_colmap_binary(tmp_path / "b", cameras_for(KS["fx_ne_fy"]), camera_ids=[1, 2, 1])
    with pytest.raises(DepthViewsError, match=r"cameras.bin: camera 1: is defined twice \(records 0 and 2\)$"):
        read_camera_file(folder)
    folder = write_colmap_binary(tmp_path / "i", cameras_for(KS["fx_ne_fy"]), image_ids=[4, 5, 4])
    with pytest.raises(DepthViewsError, match=r"images.bin: image 4: appears twice \(records 0: img_001.jpg and "
                                              r"2: img_003.jpg\)$"):
        read_camera_file(folder)


def test_binary_model_with_points_is_read_like_the_text_one(tmp_path):
    cameras = cameras_for(KS["outside_left"])
    binary = read_camera_file(write_colmap_binary(tmp_path / "b", cameras, points=1000))
    assert binary.kind == "colmap"
    assert_frames_match(binary, cameras)
    assert [f.name for f in binary.frames] == ["img_001.jpg", "img_002.jpg", "img_003.jpg"]
    with open(tmp_path / "b" / "images.bin", "r+b") as stream:   # the last image's points cut short
        stream.truncate(os.path.getsize(tmp_path / "b" / "images.bin") - 24)
    with pytest.raises(DepthViewsError, match=r"images.bin: image 3 \(img_003.jpg\): its header says 1000 points, "
                                              r"more than the file holds"):
        read_camera_file(tmp_path / "b")


def test_a_file_of_a_model_needs_its_partner(tmp_path):
    folder = write_colmap_text(tmp_path / "m", cameras_for(KS["fx_ne_fy"]))
    os.remove(os.path.join(folder, "cameras.txt"))
    with pytest.raises(DepthViewsError, match=r"images.txt: no cameras.txt beside it \(a COLMAP model needs both\)"):
        read_camera_file(os.path.join(folder, "images.txt"))
    with pytest.raises(DepthViewsError, match="is a folder without a COLMAP model"):
        read_camera_file(folder)


# -- writing ------------------------------------------------------------------------------------------

def _views_and_files(n=4):
    views = sample_views(sampling="fibonacci", n_views=n, center=[0.1, 0.2, 0.3], radius=3.0)
    return views, [{"rgb": f"rgb/{v.index:04d}.png", "depth": f"depth/{v.index:04d}.exr"} for v in views]


def test_text_model_export_reads_back_as_the_same_cameras(tmp_path):
    intrinsics = Intrinsics.from_K(W, H, 70.0, 52.0, 24.3, 30.1)
    views, files = _views_and_files()
    model = colmap_text_model(intrinsics, views, files, points=np.arange(6.0).reshape(2, 3))
    folder = tmp_path / "colmap"
    folder.mkdir()
    for name, text in model.items():
        (folder / name).write_text(text)
    camera_set = read_camera_file(folder)
    assert [f.name for f in camera_set.frames] == [f["rgb"] for f in files]
    back, again = views_from_camera_set(camera_set)
    assert np.allclose(back.K, intrinsics.K, atol=1e-12)
    for view, read in zip(views, again):
        assert np.allclose(read.world_to_camera, view.world_to_camera, atol=1e-12)
    pycolmap = pytest.importorskip("pycolmap")
    reconstruction = pycolmap.Reconstruction(str(folder))
    assert len(reconstruction.images) == 4 and len(reconstruction.cameras) == 1 and len(reconstruction.points3D) == 2
    camera = next(iter(reconstruction.cameras.values()))
    point = np.array([0.1, -0.2, 1.0])
    assert np.allclose(np.ravel(camera.img_from_cam(point)), (intrinsics.K @ point)[:2] + 0.5, atol=1e-9)


def test_text_model_export_of_a_fisheye_and_of_names_it_cannot_hold(tmp_path):
    views, files = _views_and_files(2)
    fisheye = CameraModel.fisheye(W, H, 170.0)
    model = colmap_text_model(Intrinsics(W, H), views, files, fisheye_K=fisheye.K)
    line = [x for x in model["cameras.txt"].splitlines() if not x.startswith("#")]
    assert line == [f"1 OPENCV_FISHEYE {W} {H} " + " ".join(repr(float(v)) for v in
                    (fisheye.K[0, 0], fisheye.K[1, 1], fisheye.K[0, 2] + 0.5, fisheye.K[1, 2] + 0.5, 0, 0, 0, 0))]
    with pytest.raises(DepthViewsError, match="image name 'rgb/a b.png' has a space"):
        colmap_text_model(Intrinsics(W, H), views, [{"rgb": "rgb/a b.png"}] * 2)
