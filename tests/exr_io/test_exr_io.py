"""Tests for depth_views.exr_io on files written with OpenEXR itself, shaped like Blender's."""

import os
import struct

import numpy as np
import OpenEXR
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depth_views.errors import DepthViewsError
from depth_views.exr_io import (
    BACKGROUND_THRESHOLD,
    opencv_world_to_camera,
    pick_depth_channel,
    read_channels,
    read_depth,
    read_depth_with_metadata,
    read_header,
    write_depth,
)

HEIGHT, WIDTH = 6, 8


def ramp(dtype=np.float32) -> np.ndarray:
    """A (HEIGHT, WIDTH) depth ramp, 1.0 .. 1.47 m, different at every pixel."""
    return (1.0 + 0.01 * np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH)).astype(dtype)


def write_exr(path, channels: dict, **header) -> str:
    """Write a single-part scanline EXR with OpenEXR directly (not through write_depth)."""
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header}
    OpenEXR.File(header, channels).write(str(path))
    return str(path)


def rgba(value: np.ndarray) -> dict:
    return {"R": value, "G": value.copy(), "B": value.copy(), "A": np.ones_like(value)}


def look_at_world_to_camera_opencv(eye, target) -> np.ndarray:
    """OpenCV world-to-camera (x right, y down, z forward) of a camera at ``eye``; world z is up."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = np.stack([right, down, forward])
    world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ eye
    return world_to_camera


# --- which channel is depth ------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout, depth_name",
    [
        ({"Z": "depth", **{c: "colour" for c in "RGBA"}}, "Z"),  # single layer, RGBA + Z buffer
        ({"V": "depth"}, "V"),
        ({"Y": "depth"}, "Y"),
        ({"R": "depth", "G": "depth", "B": "depth", "A": "ones"}, "R"),
        (
            {
                "ViewLayer.Depth.Z": "depth",
                **{f"ViewLayer.Combined.{c}": "colour" for c in "RGBA"},
            },
            "ViewLayer.Depth.Z",
        ),
        (
            {"RenderLayer.Depth.Z": "depth", "RenderLayer.Combined.R": "colour"},
            "RenderLayer.Depth.Z",
        ),
        ({"Depth.Z": "depth", "Image.R": "colour"}, "Depth.Z"),
        ({"depth.V": "depth"}, "depth.V"),
        ({"Cam.Mist.Z": "depth"}, "Cam.Mist.Z"),
    ],
)
def test_depth_channel_is_found_in_blender_layouts(tmp_path, layout, depth_name):
    depth = ramp()
    arrays = {"depth": depth, "colour": np.random.default_rng(0).random(depth.shape, np.float32)}
    arrays["ones"] = np.ones_like(depth)
    path = write_exr(
        tmp_path / "in.exr", {name: arrays[kind].copy() for name, kind in layout.items()}
    )
    result = read_depth(path)
    assert result.dtype == np.float32 and result.shape == (HEIGHT, WIDTH)
    np.testing.assert_array_equal(result, depth)
    assert pick_depth_channel(read_channels(path)) == depth_name


def test_candidate_order():
    grey = np.zeros((2, 2), np.float32)
    assert pick_depth_channel({"Y": grey, "Z": grey, "V": grey}) == "Z"
    assert pick_depth_channel({"A.Depth.Z": grey, "B.Depth.Z": grey, "Depth.Z": grey}) == "Depth.Z"
    assert pick_depth_channel({"B.Depth.Z": grey, "A.Depth.Z": grey}) == "A.Depth.Z"
    assert pick_depth_channel({"R": grey, "G": grey + 1, "B": grey}) is None  # colour, not depth
    assert pick_depth_channel({"Z": grey.astype(np.uint32), "V": grey}) == "V"  # UINT never depth
    assert pick_depth_channel({"A": grey}) is None


def test_colour_rgb_is_not_depth_and_error_lists_channels(tmp_path):
    colour = np.random.default_rng(1).random((HEIGHT, WIDTH, 3), np.float32)
    path = write_exr(
        tmp_path / "beauty.exr", {"R": colour[..., 0], "G": colour[..., 1], "B": colour[..., 2]}
    )
    with pytest.raises(DepthViewsError) as error:
        read_depth(path)
    message = str(error.value)
    assert message.startswith(path) and "no depth channel" in message and "B, G, R" in message


def test_explicit_channel_is_used_exactly(tmp_path):
    path = write_exr(tmp_path / "in.exr", {"Z": ramp(), "Mist": ramp() * 2})
    np.testing.assert_array_equal(read_depth(path, "Mist"), ramp() * 2)
    with pytest.raises(DepthViewsError, match=r"no channel named 'Depth'.*Mist, Z"):
        read_depth(path, "Depth")


# --- values -------------------------------------------------------------------------------------


def test_half_float_depth_becomes_float32_within_half_precision(tmp_path):
    depth = ramp() * 10
    depth[0, 0] = np.inf  # Blender's 1e10 background is +inf once stored as half
    path = write_exr(tmp_path / "half.exr", {"Z": depth.astype(np.float16)})
    result = read_depth(path)
    assert result.dtype == np.float32
    assert result[0, 0] == np.inf
    np.testing.assert_allclose(result.ravel()[1:], depth.ravel()[1:], rtol=2**-11)
    assert read_channels(path)["Z"].dtype == np.float32


def test_background_becomes_inf_nan_and_negative_are_kept(tmp_path):
    depth = ramp()
    depth[0, :3] = [1e10, np.inf, BACKGROUND_THRESHOLD]
    depth[1, 0], depth[1, 1] = np.nan, -2.5
    result = read_depth(write_exr(tmp_path / "bg.exr", {"Z": depth}))
    assert np.all(np.isposinf(result[0, :3]))
    assert np.isnan(result[1, 0]) and result[1, 1] == -2.5
    np.testing.assert_array_equal(result[2:], depth[2:])


def test_constant_depth_is_refused_as_compositor_bug(tmp_path):
    path = write_exr(tmp_path / "ones.exr", {"Z": np.ones((HEIGHT, WIDTH), np.float32)})
    with pytest.raises(DepthViewsError) as error:
        read_depth(path)
    message = str(error.value)
    assert message.startswith(path)
    assert "Z channel full of ones" in message and "allow_constant=True" in message
    assert "\n" not in message
    np.testing.assert_array_equal(read_depth(path, allow_constant=True), 1.0)


def test_all_background_is_accepted(tmp_path):
    path = write_exr(tmp_path / "empty.exr", {"Z": np.full((HEIGHT, WIDTH), 1e10, np.float32)})
    assert np.all(np.isposinf(read_depth(path)))


# --- layout: rows, tiles, parts, dtypes ---------------------------------------------------------


def test_read_channels_rows_top_to_bottom_and_dtypes(tmp_path):
    path = write_exr(
        tmp_path / "mixed.exr",
        {
            "Z": ramp(),
            "H": ramp(np.float16),
            "id": np.arange(HEIGHT * WIDTH, dtype=np.uint32).reshape(HEIGHT, WIDTH),
        },
        lineOrder=OpenEXR.DECREASING_Y,
    )
    channels = read_channels(path)
    assert {name: a.dtype for name, a in channels.items()} == {
        "Z": np.float32,
        "H": np.float32,
        "id": np.uint32,
    }
    np.testing.assert_array_equal(channels["Z"], ramp())  # row 0 is the top row as written
    assert channels["id"][0, 1] == 1 and channels["id"][1, 0] == WIDTH
    with pytest.raises(DepthViewsError, match="holds integers"):
        read_depth(path, "id")


def test_tiled_file(tmp_path):
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize = 4, 4
    path = write_exr(tmp_path / "tiled.exr", {"Z": ramp()}, type=OpenEXR.tiledimage, tiles=tiles)
    np.testing.assert_array_equal(read_depth(path), ramp())


def test_multipart_takes_first_part_with_depth(tmp_path):
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    colour = np.random.default_rng(2).random((3, HEIGHT, WIDTH), np.float32)
    beauty = OpenEXR.Part({**header, "name": "beauty"}, dict(zip("RGB", colour)))
    depth_part = OpenEXR.Part({**header, "name": "depth"}, {"Z": ramp()})
    other_depth = OpenEXR.Part({**header, "name": "later"}, {"Z": ramp() + 5})
    path = str(tmp_path / "multi.exr")
    OpenEXR.File([beauty, depth_part, other_depth]).write(path)
    np.testing.assert_array_equal(read_depth(path), ramp())
    assert sorted(read_channels(path)) == ["B", "G", "R"]
    assert list(read_channels(path, part_index=1)) == ["Z"]
    assert read_header(path, part_index=1)["name"] == "depth"
    with pytest.raises(DepthViewsError, match="no image part 3"):
        read_channels(path, part_index=3)


def test_read_header_gives_plain_values(tmp_path):
    path = write_exr(
        tmp_path / "h.exr", {"Z": ramp()}, BlenderMultiChannel="Blender V2.55.1 and newer"
    )
    header = read_header(path)
    assert header["channels"] == ["Z"]
    assert header["compression"] == "ZIP_COMPRESSION"
    assert header["BlenderMultiChannel"] == "Blender V2.55.1 and newer"
    (x_min, y_min), (x_max, y_max) = header["dataWindow"]
    assert (x_max - x_min + 1, y_max - y_min + 1) == (WIDTH, HEIGHT)


# --- broken input -------------------------------------------------------------------------------


def test_missing_file_directory_and_wrong_magic(tmp_path):
    missing = str(tmp_path / "nope.exr")
    with pytest.raises(DepthViewsError, match=f"^{missing}: no such file"):
        read_depth(missing)
    with pytest.raises(DepthViewsError, match="is a folder"):
        read_depth(tmp_path)
    png = tmp_path / "image.exr"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(DepthViewsError, match=f"^{png}: not an OpenEXR file"):
        read_depth(png)
    empty = tmp_path / "empty.exr"
    empty.write_bytes(b"")
    with pytest.raises(DepthViewsError, match="not an OpenEXR file .*empty"):
        read_header(empty)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.1])
def test_truncated_file_names_the_file(tmp_path, fraction):
    data = open(write_exr(tmp_path / "full.exr", {"Z": ramp()}), "rb").read()
    cut = tmp_path / "cut.exr"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(DepthViewsError) as error:
        read_depth(cut)
    assert str(error.value).startswith(f"{cut}: corrupt or truncated OpenEXR file")


def test_absurd_declared_size_is_refused_before_reading_pixels(tmp_path):
    data = bytearray(
        open(
            write_exr(tmp_path / "ok.exr", {"Z": ramp()}, compression=OpenEXR.NO_COMPRESSION), "rb"
        ).read()
    )
    key = b"dataWindow\0box2i\0"
    start = data.index(key) + len(key) + 4  # skip the attribute size
    data[start : start + 16] = struct.pack("<4i", 0, 0, 99_999, 99_999)  # 100000 x 100000 pixels
    huge = tmp_path / "huge.exr"
    huge.write_bytes(bytes(data))
    with pytest.raises(DepthViewsError, match=f"^{huge}: implausible image size 100000 x 100000"):
        read_depth(huge)


# --- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "zip", "zips", "piz", "rle"])
def test_write_depth_round_trip_is_bit_exact(tmp_path, compression):
    depth = np.random.default_rng(3).uniform(0.1, 100.0, (33, 47)).astype(np.float32)
    depth[::7, ::5] = np.inf
    depth[3, 4] = np.nan
    path = tmp_path / "out.exr"
    write_depth(path, depth, compression=compression)
    result, metadata = read_depth_with_metadata(path)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result.view(np.uint32), depth.view(np.uint32))
    assert metadata == {"depth_kind": "planar"}
    assert read_header(path)["channels"] == ["Z"]
    assert read_channels(path)["Z"].dtype == np.float32


def test_write_depth_accepts_non_contiguous_arrays(tmp_path):
    # The OpenEXR binding copies raw buffers and ignores strides; write_depth must not.
    wide = np.random.default_rng(4).random((WIDTH, 2 * HEIGHT))
    for index, depth in enumerate([wide.T, wide[:, ::2], np.asfortranarray(wide)]):
        write_depth(tmp_path / f"{index}.exr", depth)
        np.testing.assert_array_equal(
            read_depth(tmp_path / f"{index}.exr"), depth.astype(np.float32)
        )


def test_header_world_to_camera_follows_openexr_convention(tmp_path):
    world_to_camera = look_at_world_to_camera_opencv(eye=[1.0, -4.0, 2.0], target=[0.0, 0.0, 0.5])
    path = tmp_path / "cam.exr"
    write_depth(path, ramp(), world_to_camera=world_to_camera)
    stored = read_header(path)["worldToCamera"]
    assert stored.dtype == np.float32  # M44f
    flip_y = np.diag([1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(stored, (flip_y @ world_to_camera).T, atol=1e-6)
    np.testing.assert_allclose(opencv_world_to_camera(stored), world_to_camera, atol=1e-6)
    # Meaning, per the OpenEXR docs: row vector times matrix; camera x right, y up, z forward.
    in_front_and_above = np.array([0.0, 0.0, 1.5, 1.0])  # above the target, camera looks at it
    x, y, z, w = in_front_and_above @ stored
    assert z > 0 and y > 0 and abs(x) < 1e-5 * z and w == pytest.approx(1.0)


def test_camera_to_world_gives_same_header_and_inconsistent_poses_are_refused(tmp_path):
    world_to_camera = look_at_world_to_camera_opencv(eye=[3.0, 2.0, 1.0], target=[0.0, 0.0, 0.0])
    camera_to_world_blender = np.linalg.inv(np.diag([1.0, -1.0, -1.0, 1.0]) @ world_to_camera)
    write_depth(tmp_path / "a.exr", ramp(), world_to_camera=world_to_camera)
    write_depth(tmp_path / "b.exr", ramp(), camera_to_world=camera_to_world_blender)
    np.testing.assert_allclose(
        read_header(tmp_path / "a.exr")["worldToCamera"],
        read_header(tmp_path / "b.exr")["worldToCamera"],
        atol=1e-6,
    )
    with pytest.raises(DepthViewsError, match="different cameras"):
        write_depth(
            tmp_path / "c.exr", ramp(), world_to_camera=world_to_camera, camera_to_world=np.eye(4)
        )


def test_world_to_ndc_projects_pixel_centres(tmp_path):
    K = np.array([[500.0, 0.0, 3.2], [0.0, 480.0, 2.7], [0.0, 0.0, 1.0]])
    world_to_camera = look_at_world_to_camera_opencv(eye=[0.5, -3.0, 1.0], target=[0.0, 0.0, 0.0])
    path = tmp_path / "ndc.exr"
    write_depth(path, ramp(), K=K, world_to_camera=world_to_camera)
    world_to_ndc = read_header(path)["worldToNDC"]
    point = np.array([0.001, 0.002, 0.003, 1.0])
    u, v, depth = K @ (world_to_camera @ point)[:3]
    u, v = u / depth, v / depth
    x, y, _, w = point @ world_to_ndc.astype(float)
    np.testing.assert_allclose([x / w, y / w], [(u + 0.5) / WIDTH, (v + 0.5) / HEIGHT], rtol=1e-5)


def test_metadata_json_round_trip(tmp_path):
    K = np.array([[600.0, 0.0, 3.5], [0.0, 600.0, 2.5], [0.0, 0.0, 1.0]])
    world_to_camera = look_at_world_to_camera_opencv(eye=[0.0, -2.0, 0.0], target=[0.0, 0.0, 0.0])
    camera_to_world = np.linalg.inv(np.diag([1.0, -1.0, -1.0, 1.0]) @ world_to_camera)
    extra = {
        "depth_kind": "euclidean",
        "frame": np.int64(7),
        "scene": {"name": "chair", "scale": [1, 2]},
    }
    path = tmp_path / "meta.exr"
    write_depth(
        path,
        ramp(),
        K=K,
        world_to_camera=world_to_camera,
        camera_to_world=camera_to_world,
        metadata=extra,
    )
    _, metadata = read_depth_with_metadata(path)
    np.testing.assert_array_equal(metadata.pop("K"), K)
    np.testing.assert_array_equal(metadata.pop("world_to_camera"), world_to_camera)
    np.testing.assert_array_equal(metadata.pop("camera_to_world"), camera_to_world)
    assert metadata == {
        "depth_kind": "euclidean",
        "frame": 7,
        "scene": {"name": "chair", "scale": [1, 2]},
    }


def test_file_without_our_metadata_gives_empty_dict(tmp_path):
    _, metadata = read_depth_with_metadata(write_exr(tmp_path / "plain.exr", {"Z": ramp()}))
    assert metadata == {}


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "depth.exr"
    write_depth(path, ramp())
    write_depth(path, ramp() + 1)  # overwrite in place
    assert os.listdir(tmp_path) == ["depth.exr"]
    np.testing.assert_array_equal(read_depth(path), ramp() + 1)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DepthViewsError, match="cannot write into folder"):
        write_depth(path, ramp() + 2)
    assert os.listdir(tmp_path) == ["depth.exr"]
    np.testing.assert_array_equal(read_depth(path), ramp() + 1)  # old file untouched


@pytest.mark.parametrize("compression", ["dwaa", "DWAB", "b44", "b44a", "pxr24"])
def test_lossy_compression_is_refused(tmp_path, compression):
    with pytest.raises(DepthViewsError, match="lossy"):
        write_depth(tmp_path / "x.exr", ramp(), compression=compression)
    assert not os.listdir(tmp_path)


def test_write_errors(tmp_path):
    with pytest.raises(DepthViewsError, match="2D array"):
        write_depth(tmp_path / "x.exr", np.zeros((2, 3, 1), np.float32))
    with pytest.raises(DepthViewsError, match="unknown compression"):
        write_depth(tmp_path / "x.exr", ramp(), compression="best")
    with pytest.raises(DepthViewsError, match=r"K must be 3x3"):
        write_depth(tmp_path / "x.exr", ramp(), K=np.eye(4))
    with pytest.raises(DepthViewsError, match="JSON"):
        write_depth(tmp_path / "x.exr", ramp(), metadata={"when": object()})
    missing_folder = tmp_path / "no" / "such"
    with pytest.raises(DepthViewsError, match=f"folder {missing_folder} does not exist"):
        write_depth(missing_folder / "x.exr", ramp())


def test_unwritable_folder_is_named(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        with pytest.raises(DepthViewsError, match=f"cannot write into folder {folder}"):
            write_depth(folder / "x.exr", ramp())
        assert not os.listdir(folder)
    finally:
        folder.chmod(0o700)


# --- fuzz ---------------------------------------------------------------------------------------


def _valid_small_exr_bytes(folder) -> bytes:
    depth = ramp()
    depth[0, 0] = 1e10
    path = folder / "seed.exr"
    write_depth(path, depth, K=np.eye(3), world_to_camera=np.eye(4), compression="zip")
    return path.read_bytes()


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mutations=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    keep_fraction=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
def test_mutated_files_give_depth_or_depth_views_error(tmp_path, mutations, keep_fraction):
    seed = tmp_path / "seed.bytes"
    if not seed.exists():
        seed.write_bytes(_valid_small_exr_bytes(tmp_path))
    data = bytearray(seed.read_bytes())
    for position, value in mutations:
        data[position % len(data)] = value
    if keep_fraction is not None:
        data = data[: int(len(data) * keep_fraction)]
    path = tmp_path / "mutated.exr"
    path.write_bytes(bytes(data))
    try:
        depth = read_depth(path, allow_constant=True)
    except DepthViewsError as error:
        assert str(error).startswith(str(path))
    else:
        assert depth.dtype == np.float32 and depth.ndim == 2
