"""Arrays of poses (cameras/pose_arrays.py): .npy and .npz in each pose convention, the header checked before
anything is allocated, pickles never loaded.  No Blender."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

from camera_files import KS, H, W, cameras_for, opengl_camera_to_world

from depth_views.cameras.camera_set import read_camera_file, views_from_camera_set
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.errors import DepthViewsError


@pytest.mark.parametrize("convention", ["opengl", "opencv", "opencv_w2c"])
def test_pose_arrays_in_each_convention(tmp_path, convention):
    cameras = cameras_for(KS["fx_ne_fy"])
    w2c = np.stack([c[1] for c in cameras])
    poses = {"opengl": np.stack([opengl_camera_to_world(m) for m in w2c]),
             "opencv": np.linalg.inv(w2c), "opencv_w2c": w2c}[convention]
    np.save(tmp_path / "poses.npy", poses)
    np.savez(tmp_path / "poses.npz", poses=poses)
    for name in ("poses.npy", "poses.npz"):
        camera_set = read_camera_file(str(tmp_path / name), pose_convention=convention)
        for frame, matrix in zip(camera_set.frames, w2c):
            assert np.allclose(frame.camera_to_world, opengl_camera_to_world(matrix), atol=1e-9)
    fallback = Intrinsics.from_K(W, H, 70.0, 52.0, 24.3, 30.1)
    intrinsics, views = views_from_camera_set(camera_set, fallback=fallback)
    assert intrinsics is fallback and np.allclose(views[1].world_to_camera, w2c[1], atol=1e-9)


def _poses():
    return np.stack([opengl_camera_to_world(c[1]) for c in cameras_for(KS["fx_ne_fy"])])


def test_any_real_number_type_layout_and_byte_order_reads_the_same(tmp_path):
    poses = _poses()
    for name, array in (("f32be.npy", poses.astype(">f4")), ("fortran.npy", np.asfortranarray(poses)),
                        ("rows.npy", poses[:, :3, :]), ("one.npy", poses[0])):
        np.save(tmp_path / name, array)
        camera_set = read_camera_file(tmp_path / name)
        expected = array.astype(np.float64)
        for frame, matrix in zip(camera_set.frames, expected.reshape(-1, *expected.shape[-2:])):
            assert np.array_equal(frame.camera_to_world[:3], matrix[:3])
    np.savez(tmp_path / "only.npz", cameras=poses)        # the only array, whatever its name
    assert len(read_camera_file(tmp_path / "only.npz").frames) == 3


def _npy_with_header(header: str, data: bytes = b"") -> bytes:
    text = header.encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


@pytest.mark.parametrize("content, message", [
    (lambda: _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 4, 4), }"),
     "holds 1000000000000 poses; at most 100000 per render"),
    (lambda: _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4, 4), }", b"\0" * 100),
     "ends early: its header promises 3 poses (384 bytes), but 100 bytes follow"),
    (lambda: _npy_with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 4, 4), }", b"\0" * 256),
     "holds complex numbers (complex128); poses must be real"),
    (lambda: _npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1, 4, 4), }"),
     "holds Python objects (pickle), which Depth Views never loads"),
    (lambda: _npy_with_header("{'descr': '<U4', 'fortran_order': False, 'shape': (1, 4, 4), }"),
     "holds <U4 values, not numbers"),
    (lambda: _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4, 5), }"),
     "poses have shape (2, 4, 5); expected (N, 4, 4)"),
    (lambda: _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4, 4), }"), "holds no poses"),
    (lambda: _npy_with_header("{'descr': '<f8', 'shape': (1, 4, 4), }"), "not a valid .npy array header"),
    (lambda: b"\x93NUMPY\x01", "not a valid .npy array header"),
    (lambda: b"", "is empty (0 bytes)"),
    (lambda: pickle.dumps(np.eye(4)), "is neither a .npy array nor a .npz archive (pickles are never loaded)"),
    (lambda: b"PK\x03\x04 not really a zip", "not a valid .npz archive"),
])
def test_a_bad_array_is_refused_before_anything_is_allocated(tmp_path, content, message):
    path = tmp_path / "poses.npy"
    path.write_bytes(content())
    with pytest.raises(DepthViewsError) as error:
        read_camera_file(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_a_complex_or_non_rigid_pose_array_is_refused_naming_the_pose(tmp_path):
    poses = _poses()
    np.save(tmp_path / "complex.npy", poses + 1e-3j)
    with pytest.raises(DepthViewsError, match="complex.npy: holds complex numbers"):
        read_camera_file(tmp_path / "complex.npy")
    far = poses.copy()
    far[2, 0, 3] = 1e300
    np.save(tmp_path / "far.npy", far)
    with pytest.raises(DepthViewsError, match=r"far.npy: pose 2: the camera sits 1e\+300 scene units from the origin"):
        read_camera_file(tmp_path / "far.npy")
    poses[1, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", poses)
    with pytest.raises(DepthViewsError, match="nan.npy: pose 1: the pose has NaN or infinite entries"):
        read_camera_file(tmp_path / "nan.npy")


def test_npz_archives_name_their_array(tmp_path):
    poses = _poses()
    np.savez(tmp_path / "two.npz", a=poses, b=poses)
    with pytest.raises(DepthViewsError, match=r"two.npz: holds 2 arrays \(a, b\); name the poses array 'poses'"):
        read_camera_file(tmp_path / "two.npz")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("poses.npy", b"\x93NUMPY garbage")
    (tmp_path / "bad.npz").write_bytes(buffer.getvalue())
    with pytest.raises(DepthViewsError, match=r"bad.npz: array poses: .npy format version 32.103 is not supported"):
        read_camera_file(tmp_path / "bad.npz")
    np.savez(tmp_path / "w2c.npz", world_to_camera=np.linalg.inv(poses), extra=np.zeros(3))
    camera_set = read_camera_file(tmp_path / "w2c.npz", pose_convention="opencv_w2c")
    assert len(camera_set.frames) == 3
    with pytest.raises(DepthViewsError, match=r"--pose-convention 'blender': choose one of opengl, opencv, opencv_w2c"):
        read_camera_file(tmp_path / "w2c.npz", pose_convention="blender")
