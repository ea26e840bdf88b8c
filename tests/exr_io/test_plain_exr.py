"""The pure-numpy EXR fallback used inside Blender < 4.2, checked against the OpenEXR package."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from depth_views.errors import DepthViewsError
from depth_views.exr_io import _backend, read_depth_with_metadata, read_header, reading, write_depth, writing
from depth_views.exr_io.plain_exr import read_plain_exr, write_plain_exr

K = np.array([[40.0, 0, 15.5], [0, 40.0, 9.5], [0, 0, 1]])
WORLD_TO_CAMERA = np.array([[0, 1, 0, 0.1], [-0.5, 0, -0.866, 0.2], [-0.866, 0, 0.5, 4.7], [0, 0, 0, 1.0]])


@pytest.fixture
def depth():
    rng = np.random.default_rng(3)
    values = rng.uniform(0.5, 7.0, size=(20, 32)).astype(np.float32)
    values[0, :5] = np.inf
    values[3, 3] = 1e10
    return values


@pytest.fixture
def fallback(monkeypatch):
    """Both readers and writers on the plain fallback, as inside Blender 3.x."""
    monkeypatch.setattr(reading, "OpenEXR", None)
    monkeypatch.setattr(writing, "OpenEXR", None)


def test_fallback_writes_files_that_openexr_reads_identically(tmp_path, depth, fallback):
    write_depth(tmp_path / "plain.exr", depth, K=K, world_to_camera=WORLD_TO_CAMERA, metadata={"view_index": 3},
                compression="zip")
    exr = OpenEXR.File(str(tmp_path / "plain.exr"))
    header = exr.header()
    assert header["compression"] == OpenEXR.NO_COMPRESSION  # uncompressed whatever is asked
    stored = exr.channels()["Z"].pixels
    assert stored.dtype == np.float32 and np.array_equal(stored, depth)
    assert np.allclose(header["worldToCamera"], writing_matrix(WORLD_TO_CAMERA))
    assert '"view_index": 3' in header["depth_views"]


def writing_matrix(world_to_camera):
    from depth_views.exr_io import openexr_world_to_camera
    return openexr_world_to_camera(world_to_camera)


def test_fallback_and_openexr_files_read_back_the_same(tmp_path, depth, monkeypatch):
    write_depth(tmp_path / "openexr.exr", depth, K=K, world_to_camera=WORLD_TO_CAMERA, compression="none")
    monkeypatch.setattr(writing, "OpenEXR", None)
    write_depth(tmp_path / "plain.exr", depth, K=K, world_to_camera=WORLD_TO_CAMERA)
    for name in ("openexr.exr", "plain.exr"):  # the package reads both ...
        values, metadata = read_depth_with_metadata(tmp_path / name)
        assert np.array_equal(values, np.where(depth >= 1e9, np.inf, depth))
        assert np.allclose(metadata["K"], K) and np.allclose(metadata["world_to_camera"], WORLD_TO_CAMERA)
    monkeypatch.setattr(reading, "OpenEXR", None)
    for name in ("openexr.exr", "plain.exr"):  # ... and so does the fallback
        values, metadata = read_depth_with_metadata(tmp_path / name)
        assert np.array_equal(values, np.where(depth >= 1e9, np.inf, depth))
        assert np.allclose(metadata["K"], K) and np.allclose(metadata["world_to_camera"], WORLD_TO_CAMERA)
        header = read_header(tmp_path / name)
        assert header["compression"] == "NO_COMPRESSION" and header["channels"] == ["Z"]
        assert np.allclose(header["worldToCamera"], writing_matrix(WORLD_TO_CAMERA))


def test_fallback_reads_half_float_and_uint_channels_written_by_openexr(tmp_path):
    rng = np.random.default_rng(0)
    channels = {"R": rng.uniform(0, 2, (6, 9)).astype(np.float16),
                "V": rng.uniform(0, 2, (6, 9)).astype(np.float32),
                "id": rng.integers(0, 2**31, (6, 9)).astype(np.uint32)}
    OpenEXR.File({"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage},
                 dict(channels)).write(str(tmp_path / "mixed.exr"))
    read = read_plain_exr(str(tmp_path / "mixed.exr")).parts[0].channels
    assert set(read) == set(channels)
    for name, values in channels.items():
        assert read[name].pixels.dtype == values.dtype and np.array_equal(read[name].pixels, values)


def test_plain_writer_roundtrips_several_channels(tmp_path):
    channels = {"B": np.full((3, 4), 2.5, np.float32), "A": np.arange(12, dtype=np.float32).reshape(3, 4)}
    write_plain_exr(str(tmp_path / "two.exr"), channels, {"note": "héllo"})
    exr = OpenEXR.File(str(tmp_path / "two.exr"))
    assert exr.header()["note"] == "héllo"
    assert all(np.array_equal(exr.channels()[name].pixels, values) for name, values in channels.items())


def test_fallback_refuses_compressed_and_truncated_files_naming_them(tmp_path, depth, fallback, monkeypatch):
    monkeypatch.setattr(writing, "OpenEXR", OpenEXR)
    write_depth(tmp_path / "zip.exr", depth, compression="zip")
    with pytest.raises(DepthViewsError, match=r"zip\.exr: ZIP_COMPRESSION files need the OpenEXR package"):
        read_depth_with_metadata(tmp_path / "zip.exr")
    write_depth(tmp_path / "cut.exr", depth, compression="none")
    data = (tmp_path / "cut.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[: len(data) - 100])
    with pytest.raises(DepthViewsError, match=r"cut\.exr: corrupt or truncated"):
        read_depth_with_metadata(tmp_path / "cut.exr")
    (tmp_path / "head.exr").write_bytes(data[:30])
    with pytest.raises(DepthViewsError, match=r"head\.exr: corrupt or truncated"):
        read_depth_with_metadata(tmp_path / "head.exr")


def test_backend_is_the_fallback_inside_old_blender_and_by_request(monkeypatch):
    class OldBlender:
        class app:  # noqa: N801 - mimics bpy.app
            version = (3, 4, 1)

    monkeypatch.setitem(__import__("sys").modules, "bpy", OldBlender)
    assert _backend.load_openexr() is None
    OldBlender.app.version = (4, 2, 0)
    assert _backend.load_openexr() is OpenEXR
    monkeypatch.setenv("DEPTH_VIEWS_PLAIN_EXR", "1")
    assert _backend.load_openexr() is None
