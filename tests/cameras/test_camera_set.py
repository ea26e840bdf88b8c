"""Reading any camera file once (cameras/camera_set.py): the format told from the path, each file opened exactly
once, the set immutable, and the step from a set to views done without I/O and without deriving the
camera model again.  No Blender."""

from __future__ import annotations

import builtins
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from camera_files import KS, H, W, cameras_for, opengl_camera_to_world, write_colmap_binary, write_colmap_text, \
    write_transforms

from depth_views.cameras import camera_set as camera_set_module
from depth_views.cameras.camera_set import (CameraSet, camera_set_intrinsics, camera_set_model, read_camera_file,
                                            views_from_camera_set)
from depth_views.cameras.cameras_json import cameras_document
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.sphere import sample_views
from depth_views.errors import DepthViewsError


@pytest.mark.parametrize("content, message", [
    ('{"frames": []}', "holds no frames"), ("", "cannot read the JSON (the file is empty)"),
    ('{"views": 3}', "neither a transforms"), ("[1, 2]", "is not a JSON object"),
    ('{"fl_x": 50, "frames": [{"file_path": "a.png", "transform_matrix": [[1, 0, 0, 0]]}]}', "shape (1, 4)")])
def test_empty_or_broken_json(tmp_path, content, message):
    path = tmp_path / "cams.json"
    path.write_text(content)
    with pytest.raises(DepthViewsError, match=str(path)) as error:
        read_camera_file(str(path), default_size=(W, H))
    assert message in str(error.value)


def test_what_is_not_a_camera_file(tmp_path):
    for name, message in (("missing.json", "missing.json: no such file"), ("notes.yaml", "unknown camera file type"),
                          ("folder.json", "folder.json: is a folder without a COLMAP model")):
        if name == "notes.yaml":
            (tmp_path / name).write_text("a: 1")
        if name == "folder.json":
            (tmp_path / name).mkdir()
        with pytest.raises(DepthViewsError, match=message):
            read_camera_file(tmp_path / name)


# -- the files each format opens, once ------------------------------------------------------------------

def _every_format(tmp_path) -> dict:
    """{label: (path to read, the files it must open)} for one file of every format."""
    from PIL import Image

    cameras = cameras_for(KS["fx_ne_fy"])
    c2w = [opengl_camera_to_world(c[1]).tolist() for c in cameras]
    (tmp_path / "train").mkdir()
    for i in range(3):
        Image.new("RGB", (W, H)).save(tmp_path / "train" / f"r_{i}.png")
    (tmp_path / "transforms_train.json").write_text(json.dumps(
        {"camera_angle_x": 0.7, "frames": [{"file_path": f"./train/r_{i}", "transform_matrix": m} for i, m in enumerate(c2w)]}))
    views = sample_views(sampling="fibonacci", n_views=3, center=[0, 0, 0], radius=3.0)
    (tmp_path / "cameras.json").write_text(json.dumps(cameras_document(Intrinsics(W, H), views, [{"depth": "d.exr"}] * 3,
                                                                       units="m")))
    np.save(tmp_path / "poses.npy", np.stack([np.asarray(m) for m in c2w]))
    np.savez(tmp_path / "poses.npz", poses=np.stack([np.asarray(m) for m in c2w]))
    text = write_colmap_text(tmp_path / "text", cameras)
    binary = write_colmap_binary(tmp_path / "binary", cameras, points=10)
    return {
        "transforms": (write_transforms(tmp_path / "transforms.json", cameras), ["transforms.json"]),
        "nerf_synthetic": (str(tmp_path / "transforms_train.json"),
                           ["transforms_train.json"] + [f"train/r_{i}.png" for i in range(3)]),
        "cameras.json": (str(tmp_path / "cameras.json"), ["cameras.json"]),
        "npy": (str(tmp_path / "poses.npy"), ["poses.npy"]), "npz": (str(tmp_path / "poses.npz"), ["poses.npz"]),
        "colmap text": (text, ["text/cameras.txt", "text/images.txt"]),
        "colmap images.txt": (os.path.join(text, "images.txt"), ["text/cameras.txt", "text/images.txt"]),
        "colmap binary": (binary, ["binary/cameras.bin", "binary/images.bin"]),
    }


def test_reading_opens_each_file_exactly_once(tmp_path, monkeypatch):
    opened = []
    real_os_open, real_open = os.open, builtins.open

    def counting_os_open(path, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return real_os_open(path, *args, **kwargs)

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.path.realpath(file))
        return real_open(file, *args, **kwargs)

    formats = _every_format(tmp_path)
    monkeypatch.setattr(os, "open", counting_os_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    for label, (path, files) in formats.items():
        opened.clear()
        camera_set = read_camera_file(path, default_size=(W, H))
        views_from_camera_set(camera_set, fallback=Intrinsics(W, H))
        mine = sorted(p for p in opened if p.startswith(os.path.realpath(tmp_path)))
        assert mine == sorted(os.path.realpath(tmp_path / f) for f in files), label


def test_strace_sees_each_file_opened_once(tmp_path):
    """The same with the kernel's count (strace), in a fresh process."""
    if shutil.which("strace") is None:
        pytest.skip("no strace")
    formats = _every_format(tmp_path)
    script = ("import sys; from depth_views.cameras.camera_set import read_camera_file\n"
              "for path in sys.argv[1:]: read_camera_file(path, default_size=(64, 48))\n")
    for label, (path, files) in formats.items():
        log = tmp_path / f"strace-{label.replace(' ', '_')}.log"
        result = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log),
                                 sys.executable, "-c", script, path], capture_output=True, text=True)
        if result.returncode != 0 and not log.exists():
            pytest.skip(f"strace cannot trace here: {result.stderr.strip()[-200:]}")
        assert result.returncode == 0, result.stderr
        opened = [os.path.normpath(match.group(1)) for line in log.read_text().splitlines() if "ENOENT" not in line
                  for match in [re.search(r'open\w*\((?:AT_FDCWD, )?"([^"]+)"', line)] if match]
        for name in files:
            assert opened.count(os.path.join(str(tmp_path), name)) == 1, (label, name)


# -- from a set to views ------------------------------------------------------------------------------

def test_the_set_is_immutable_and_its_model_is_derived_once(tmp_path, monkeypatch):
    fisheye = CameraModel.fisheye(W, H, 170.0)
    views = sample_views(sampling="fibonacci", n_views=5, center=[0, 0, 0], radius=3.0)
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps(cameras_document(Intrinsics(W, H), views, [{"depth": "d.exr"}] * 5, units="m",
                                                camera_model=fisheye)))
    camera_set = read_camera_file(path)
    calls = []
    real = camera_set_module.frame_camera_model
    monkeypatch.setattr(camera_set_module, "frame_camera_model", lambda *a: calls.append(a[1]) or real(*a))
    intrinsics, model = camera_set_intrinsics(camera_set)       # no object, no centre needed
    assert (intrinsics.width, intrinsics.height) == (W, H) and model.to_json() == fisheye.to_json()
    for center in ((0, 0, 0), (1, 2, 3), (0, 0, 0)):
        first, again = views_from_camera_set(camera_set, center=center)
        assert first is intrinsics and all(v.intrinsics is None for v in again)
    assert camera_set_model(camera_set) is model
    assert calls == [0, 1, 2, 3, 4]                              # once per frame, for all those calls
    with pytest.raises(dataclasses.FrozenInstanceError):
        camera_set.frames = ()
    with pytest.raises(ValueError):
        camera_set.frames[0].camera_to_world[0, 3] = 5.0
    for view, read in zip(views, again):
        assert np.allclose(read.world_to_camera, view.world_to_camera, atol=1e-12)
        assert read.radius == pytest.approx(3.0) and read.azimuth_deg == pytest.approx(view.azimuth_deg)


def test_a_set_travels_as_json_and_gives_the_same_views(tmp_path):
    path = write_transforms(tmp_path / "transforms.json", cameras_for(KS["outside_left"]), per_frame=True)
    camera_set = read_camera_file(path)
    again = CameraSet.from_json(json.loads(json.dumps(camera_set.to_json())))
    assert (again.path, again.kind) == (camera_set.path, camera_set.kind)
    for a, b in zip(views_from_camera_set(camera_set, center=(1, 0, 0))[1],
                    views_from_camera_set(again, center=(1, 0, 0))[1]):
        assert np.array_equal(a.world_to_camera, b.world_to_camera) and np.array_equal(a.intrinsics.K, b.intrinsics.K)
        assert (a.azimuth_deg, a.elevation_deg, a.radius, a.source) == (b.azimuth_deg, b.elevation_deg, b.radius, b.source)


def test_pose_arrays_take_the_fallback_intrinsics_and_angles_follow_the_centre(tmp_path):
    poses = np.stack([np.eye(4)] * 2)
    poses[0, :3, 3], poses[1, :3, 3] = (1.0, 1.0, 2.0), (0.0, -3.0, 0.0)
    np.save(tmp_path / "p.npy", poses)
    camera_set = read_camera_file(tmp_path / "p.npy")
    with pytest.raises(DepthViewsError, match=r"p.npy: frame 0 \(pose_0\): no intrinsics; give --intrinsics or --fov"):
        camera_set_intrinsics(camera_set)
    fallback = Intrinsics(W, H)
    intrinsics, views = views_from_camera_set(camera_set, fallback=fallback, center=(1.0, 1.0, 0.0))
    assert intrinsics is fallback and views[0].intrinsics is fallback
    assert (views[0].radius, views[0].elevation_deg) == (2.0, 90.0)
    assert views[1].radius == pytest.approx(math.hypot(1.0, 4.0))
    assert views[1].azimuth_deg == pytest.approx(math.degrees(math.atan2(-4.0, -1.0)) % 360)
