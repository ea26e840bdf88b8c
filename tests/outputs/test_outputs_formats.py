"""The bpy-free output formats: distance, normals, png16, previews, PLY, npz, load_views."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from geometry import backproject as reference_backproject  # noqa: E402
from geometry import raycast_distance, raycast_planar_depth  # noqa: E402

from depth_views.cameras.atomic_write import write_json_atomic  # noqa: E402
from depth_views.cameras.cameras_json import cameras_document  # noqa: E402
from depth_views.cameras import Intrinsics, look_at, sample_views, world_to_camera_opencv  # noqa: E402
from depth_views.errors import DepthViewsError  # noqa: E402
from depth_views.exr_io import read_channels, read_depth, write_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402
from depth_views.outputs import (COLORMAPS, Png16ClippingWarning, backproject, contact_sheet,  # noqa: E402
                                 depth_preview, distance_to_planar, load_views, normals_world_to_camera,
                                 planar_to_distance, preview_range, read_ply, read_png16, write_ply,
                                 write_png16)
from depth_views.outputs.png16 import encode_png16, png16_scale  # noqa: E402
from depth_views.outputs.writer import OutputWriter, planned_view_files  # noqa: E402

PLANE = (np.array([[-2, -2, 0.3], [2, -2, -0.4], [2, 2, 0.1], [-2, 2, 0.6]], float), np.array([[0, 1, 2], [0, 2, 3]]))


def _plane_view(width=40, height=30):
    intrinsics = Intrinsics(width, height, lens_mm=35.0)
    camera_to_world = look_at((1.5, -2.0, 3.0), (0.1, 0.2, 0.0))
    return intrinsics, world_to_camera_opencv(camera_to_world)


def test_distance_from_planar_depth_matches_unit_ray_casts():
    intrinsics, world_to_camera = _plane_view()
    K = intrinsics.K
    depth = raycast_planar_depth(*PLANE, K, world_to_camera, intrinsics.width, intrinsics.height)
    reference = raycast_distance(*PLANE, K, world_to_camera, intrinsics.width, intrinsics.height)
    distance = planar_to_distance(depth.astype(np.float32), K)
    assert distance.dtype == np.float32
    hit = np.isfinite(reference)
    assert hit.mean() > 0.5 and np.array_equal(np.isfinite(distance), hit)
    assert np.abs(distance[hit] - reference[hit]).max() < 1e-5 * reference[hit].max()
    # Off-centre pixels are farther than their planar depth; the principal point is not.
    assert np.all(distance[hit] >= depth[hit] * (1 - 1e-6))
    assert np.allclose(distance_to_planar(distance, K)[hit], depth[hit], rtol=1e-6)


def test_distance_at_a_known_pixel():
    K = np.array([[100.0, 0, 1.5], [0, 100.0, 1.0], [0, 0, 1]])
    depth = np.full((3, 4), 2.0, np.float32)
    depth[0, 0] = np.inf
    distance = planar_to_distance(depth, K)
    assert np.isposinf(distance[0, 0])
    assert distance[1, 3] == pytest.approx(2.0 * np.sqrt(1 + (1.5 / 100) ** 2), rel=1e-7)
    assert distance[2, 1] == pytest.approx(2.0 * np.sqrt(1 + 0.005 ** 2 + 0.01 ** 2), rel=1e-7)


def test_backproject_puts_pixels_back_on_the_plane():
    intrinsics, world_to_camera = _plane_view()
    depth = raycast_planar_depth(*PLANE, intrinsics.K, world_to_camera, intrinsics.width, intrinsics.height)
    points, (rows, columns) = backproject(depth, intrinsics.K, world_to_camera, return_pixels=True)
    assert np.allclose(points, reference_backproject(depth, intrinsics.K, world_to_camera))
    assert len(rows) == np.isfinite(depth).sum()
    v0, v1, v2 = PLANE[0][:3]
    normal = np.cross(v1 - v0, v2 - v0)
    # Points of the first triangle's plane (both triangles are coplanar only approximately: check per face).
    on_some_face = np.abs((points - v0) @ normal / np.linalg.norm(normal)) < 1e-9
    assert on_some_face.any()


def test_normals_into_opencv_camera_axes():
    camera_to_world = look_at((0.0, -5.0, 0.0), (0.0, 0.0, 0.0))  # looking along +Y, world +Z up
    world_to_camera = world_to_camera_opencv(camera_to_world)
    normals = np.array([[0, -1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0]], float)
    camera = normals_world_to_camera(normals, world_to_camera)
    # Facing the camera -> -z; world up -> image up (-y); world +X -> image right (+x); zero stays zero.
    assert np.allclose(camera, [[0, 0, -1], [0, -1, 0], [1, 0, 0], [0, 0, 0]], atol=1e-7)


def test_png16_round_trip_with_pillow_within_half_a_count(tmp_path):
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 2.0, (20, 30)).astype(np.float32)
    depth[:3] = np.inf
    write_depth(tmp_path / "d.exr", depth)
    scale = 1e-4
    assert write_png16(tmp_path / "d.png", depth, scale, units="metres") == 0
    with Image.open(tmp_path / "d.png") as image:
        values = np.array(image)
        assert float(image.text["depth_views.scale"]) == scale
        assert image.mode.startswith("I")
    exr = read_depth(tmp_path / "d.exr")
    assert np.all(values[:3] == 0)
    metres = values[3:].astype(np.float64) * scale
    assert np.abs(metres - exr[3:]).max() <= 0.5 * scale + 1e-9
    back = read_png16(tmp_path / "d.png")
    assert np.isposinf(back[:3]).all() and np.allclose(back[3:], metres, atol=1e-7)
    assert png16_scale(tmp_path / "d.png") == scale


def test_png16_clips_and_counts_never_wraps(tmp_path):
    depth = np.array([[1.0, 7.0, 1e-6, np.inf], [6.5535, 6.5537, 0.0, np.nan]], np.float32)
    counts, below, above = encode_png16(depth, 1e-4)
    assert (below, above) == (1, 2)
    assert counts.tolist() == [[10000, 65535, 1, 0], [65535, 65535, 0, 0]]
    with pytest.warns(Png16ClippingWarning, match="2 beyond 6.5535 units.*1 below"):
        assert write_png16(tmp_path / "c.png", depth) == 3
    # A coarser scale takes the far values without clipping.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert write_png16(tmp_path / "c2.png", depth[:, :2], 1e-3) == 0
    with pytest.raises(DepthViewsError, match="png16-scale"):
        write_png16(tmp_path / "bad.png", depth, 0.0)


def test_colormaps_are_256_entry_tables():
    for table in COLORMAPS.values():
        assert table.shape == (256, 3) and table.dtype == np.uint8
    assert COLORMAPS["viridis"][0].tolist() == [68, 1, 84] and COLORMAPS["viridis"][255].tolist() == [253, 231, 37]


def test_preview_ranges_on_known_values():
    depth = np.array([[2.0, 3.0], [np.inf, 4.0]])
    assert preview_range(depth, "view") == (2.0, 4.0)
    assert preview_range(np.full((2, 2), np.inf), "view") == (0.0, 1.0)
    near, far = preview_range(depth, "object", camera_position=(0, 0, 5), center=(0, 0, 0), object_radius=1.0)
    assert (near, far) == (4.0, 6.0)
    assert preview_range(depth, "fixed", near=1.0, far=9.0) == (1.0, 9.0)
    with pytest.raises(DepthViewsError, match="fixed"):
        preview_range(depth, "fixed", near=3.0, far=2.0)
    with pytest.raises(DepthViewsError, match="choose one of"):
        preview_range(depth, "percentile")


def test_preview_colours_near_bright_far_dark_background_flat():
    depth = np.array([[2.0, 3.0], [np.inf, 4.0]])
    viridis = COLORMAPS["viridis"]
    image = depth_preview(depth, 2.0, 4.0, colormap="viridis", background=(10, 20, 30))
    assert image.dtype == np.uint8 and image.shape == (2, 2, 3)
    assert image[0, 0].tolist() == viridis[255].tolist()          # near = top of the map (bright)
    assert image[1, 1].tolist() == viridis[0].tolist()            # far = bottom
    assert image[0, 1].tolist() == viridis[128].tolist()          # halfway: round(0.5 * 255)
    assert image[1, 0].tolist() == [10, 20, 30]
    inverted = depth_preview(depth, 2.0, 4.0, colormap="viridis", invert=True)
    assert inverted[0, 0].tolist() == viridis[0].tolist()
    # Outside the range: clipped to the ends.
    clipped = depth_preview(np.array([[1.0, 9.0]]), 2.0, 4.0, colormap="turbo")
    assert clipped[0, 0].tolist() == COLORMAPS["turbo"][255].tolist()
    assert clipped[0, 1].tolist() == COLORMAPS["turbo"][0].tolist()


def test_contact_sheet_tiles_and_labels():
    tiles = [np.full((40, 50, 3), 60 * i, np.uint8) for i in range(5)]
    sheet = contact_sheet(tiles, [f"#{i} 1.0-2.0" for i in range(5)])
    pixels = np.array(sheet)
    assert sheet.mode == "RGB" and pixels.shape[0] > 2 * 40 and pixels.shape[1] >= 3 * 50
    for value in (0, 60, 120, 180, 240):
        assert (np.all(pixels == value, axis=-1)).sum() >= 40 * 50
    assert (pixels.min(axis=-1) > 200).any()                        # label text is drawn (white)


def test_ply_round_trip_and_trimesh_reads_it(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    rng = np.random.default_rng(1)
    points = rng.normal(size=(50, 3))
    colors = rng.integers(0, 255, (50, 3)).astype(np.uint8)
    normals = rng.normal(size=(50, 3)).astype(np.float32)
    write_ply(tmp_path / "p.ply", points, colors=colors, normals=normals, comments=["test"])
    back = read_ply(tmp_path / "p.ply")
    assert np.allclose(back["points"], points, atol=1e-6)
    assert np.array_equal(back["colors"], colors) and np.allclose(back["normals"], normals)
    cloud = trimesh.load(tmp_path / "p.ply")
    assert np.allclose(cloud.vertices, points, atol=1e-6)
    assert open(tmp_path / "p.ply", "rb").read(60).startswith(b"ply\nformat binary_little_endian 1.0\n")


def test_output_writer_writes_every_chosen_format_and_load_views_reads_them(tmp_path):
    options = RenderOptions(passes=("depth", "distance", "normal", "rgb", "mask"), rgb_exr=True,
                            formats=("exr", "png16", "preview", "npz", "contact_sheet", "ply", "fused_ply"),
                            resolution=(32, 24))
    options.validate()
    intrinsics = options.lens_intrinsics()
    views = sample_views(sampling="fibonacci", n_views=3, center=(0, 0, 0), radius=4.0)
    writer = OutputWriter(str(tmp_path), options, intrinsics, 3, units="m", center=np.zeros(3),
                          object_radius=1.0, object_ids={1: "thing"})
    writer.prepare()
    rng = np.random.default_rng(2)
    files, rendered = [], []
    for view in views:
        depth = rng.uniform(3.0, 5.0, (24, 32)).astype(np.float32)
        depth[:4] = np.inf
        normal = np.zeros((24, 32, 3), np.float32)
        normal[..., 0] = 2.0                                      # not unit: the writer normalises
        passes = {"depth": depth, "normal": normal, "mask": np.isfinite(depth).astype(np.uint16),
                  "rgb": rng.uniform(0, 1, (24, 32, 4)).astype(np.float32)}
        rendered.append(passes)
        files.append(writer.write_view(view, passes))
    top, extra = writer.finish()
    write_json_atomic(tmp_path / "cameras.json",
                      cameras_document(intrinsics, views, files, units="m", extra=extra))
    document = json.loads((tmp_path / "cameras.json").read_text())
    expected = {"depth", "depth_png16", "distance", "distance_png16", "normal", "rgb", "rgb_exr", "mask",
                "alpha", "preview", "ply"}
    for view in document["views"]:
        assert set(view["files"]) == expected
        assert all(os.path.isfile(tmp_path / path) for path in view["files"].values())
    assert set(document["files"]) == {"npz", "contact_sheet", "fused_ply"}
    assert document["png16"]["scale"] == 1e-4 and document["object_ids"] == {"1": "thing"}
    assert document["preview"]["view_ranges"][0] == pytest.approx([3.0, 5.0])   # |c - 0| -/+ 1
    channels = read_channels(tmp_path / files[0]["normal"])
    assert {"world.X", "world.Y", "world.Z", "opencv_camera.X", "opencv_camera.Y", "opencv_camera.Z"} <= set(channels)

    loaded = load_views(tmp_path)
    assert loaded["depth"].shape == (3, 24, 32) and loaded["depth"].dtype == np.float32
    assert np.array_equal(loaded["depth"][0], rendered[0]["depth"])
    assert np.allclose(loaded["distance"][0][4:], planar_to_distance(rendered[0]["depth"], intrinsics.K)[4:])
    assert np.allclose(loaded["normal"][0][4:], [1, 0, 0]) and np.all(loaded["normal"][0][:4] == 0)
    assert loaded["rgb"].shape == (3, 24, 32, 4) and loaded["mask"].dtype == np.uint16
    assert np.array_equal(loaded["alpha"], np.isfinite(loaded["depth"]))
    assert np.allclose(loaded["rgb_linear"][1], rendered[1]["rgb"])
    with np.load(tmp_path / "views.npz") as npz:
        assert npz["depth"].shape == (3, 24, 32) and npz["world_to_camera"].shape == (3, 4, 4)
        assert npz["normal"].shape == (3, 24, 32, 3) and npz["mask"].dtype == np.uint16
    fused = read_ply(tmp_path / "points.ply")
    assert len(fused["points"]) == 3 * 20 * 32 and "colors" in fused and "normals" in fused
    assert np.allclose(fused["points"][:640], backproject(rendered[0]["depth"], intrinsics.K,
                                                          views[0].world_to_camera), atol=1e-5)


def test_transforms_json_points_at_png16_depth_when_there_is_no_exr():
    from depth_views.cameras.nerfstudio import transforms_document

    options = RenderOptions(formats=("png16",), resolution=(8, 6))
    options.validate()
    views = sample_views(sampling="fibonacci", n_views=2, center=(0, 0, 0), radius=3.0)
    files = [planned_view_files(v.index, 2, options) for v in views]
    document = transforms_document(options.lens_intrinsics(), views, files, png16_scale=2e-4)
    assert document["depth_unit_scale_factor"] == 2e-4
    assert document["frames"][1]["depth_file_path"] == "depth_png16/0001.png"
    exr = transforms_document(options.lens_intrinsics(), views, [{"depth": "depth/0000.exr"}] * 2)
    assert exr["depth_unit_scale_factor"] == 1.0 and exr["frames"][0]["file_path"] == "depth/0000.exr"
