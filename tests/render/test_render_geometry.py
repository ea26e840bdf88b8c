"""Rendered depth against exact geometry: planes, boxes, an asymmetric object, every importer."""

from __future__ import annotations

import json

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from checks import assert_depth_matches_mesh, load_cameras_json  # noqa: E402
from meshes import asymmetric_mesh, tilted_plane, write_blend, write_mesh  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402

SMALL = ["--resolution", "64", "48", "--quiet"]


def render(inputs, out, *options) -> int:
    return main(["render", *map(str, inputs), "--out", str(out), *SMALL, *map(str, options)])


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb", ".off"])
def test_world_frame_of_each_importer_is_the_file_frame(tmp_path, suffix):
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp_path / f"asym{suffix}")
    assert render([path], tmp_path / "out", "--views", "6") == 0
    assert assert_depth_matches_mesh(tmp_path / "out" / "asym", mesh.vertices, mesh.faces) == 6


def test_world_frame_of_a_blend_file_is_its_scene(tmp_path):
    mesh = asymmetric_mesh()
    path = write_blend(mesh, tmp_path / "asym.blend")
    assert render([path], tmp_path / "out", "--views", "4") == 0
    assert_depth_matches_mesh(tmp_path / "out" / "asym", mesh.vertices, mesh.faces)


def test_tilted_plane_depth_is_exact_and_not_flipped(tmp_path):
    plane = tilted_plane()
    path = write_mesh(plane, tmp_path / "plane.ply")
    # Cameras in the upper hemisphere see the plane's front, an oblique band sees it at grazing angles.
    assert render([path], tmp_path / "out", "--views", "5", "--elevation", "35", "80",
                  "--resolution", "80", "60") == 0
    assert_depth_matches_mesh(tmp_path / "out" / "plane", plane.vertices, plane.faces)


def test_no_half_pixel_shift_on_a_plane_facing_the_camera(tmp_path):
    """Planar depth of the plane z=0 seen from straight above is the height, in every pixel.

    A half-pixel shift or a flip would not show on a flat head-on plane, so the tilted plane test
    covers those; this one pins the value itself and the image orientation with a step.
    """
    import trimesh

    # Two rectangles at different heights: the higher one covers the image's upper half (+Y side).
    low = trimesh.creation.box(extents=(4, 4, 0.01))
    high = trimesh.creation.box(extents=(4, 2, 0.01))
    high.apply_translation((0, 1, 0.5))
    mesh = trimesh.util.concatenate([low, high])
    path = write_mesh(mesh, tmp_path / "step.obj")
    assert render([path], tmp_path / "out", "--sampling", "grid", "--grid", "1", "1",
                  "--elevation", "90", "90", "--radius", "3", "--center", "0", "0", "0") == 0
    cameras = load_cameras_json(tmp_path / "out" / "step")
    depth = read_depth(tmp_path / "out" / "step" / cameras["views"][0]["files"]["depth"])
    # Looking straight down with +Y as image up: the high part (top face z=0.505) is at the top rows.
    assert np.allclose(depth[:20], 3 - 0.505, atol=1e-5)
    assert np.allclose(depth[-20:], 3 - 0.005, atol=1e-5)
    assert_depth_matches_mesh(tmp_path / "out" / "step", mesh.vertices, mesh.faces)


def test_box_from_looking_straight_up_and_down(tmp_path):
    import trimesh

    box = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    path = write_mesh(box, tmp_path / "box.stl")
    for band in (("90", "90"), ("-90", "-90")):
        out = tmp_path / f"out{band[0]}"
        assert render([path], out, "--sampling", "grid", "--grid", "1", "1", "--elevation", *band) == 0
        cameras = load_cameras_json(out / "box")
        w2c = np.asarray(cameras["views"][0]["world_to_camera"])
        assert np.isfinite(w2c).all() and np.isclose(abs(np.linalg.det(w2c[:3, :3])), 1)
        assert_depth_matches_mesh(out / "box", box.vertices, box.faces)


def test_auto_radius_keeps_the_whole_object_in_every_view(tmp_path):
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp_path / "asym.obj")
    assert render([path], tmp_path / "out", "--views", "8") == 0
    cameras = load_cameras_json(tmp_path / "out" / "asym")
    for view in cameras["views"]:
        depth = read_depth(tmp_path / "out" / "asym" / view["files"]["depth"])
        border = np.concatenate([depth[0], depth[-1], depth[:, 0], depth[:, -1]])
        assert np.isinf(border).all(), "the object touches the image border"
        assert np.isfinite(depth).mean() > 0.05


def test_normalize_records_the_transform_and_depth_matches_it(tmp_path):
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp_path / "asym.ply")
    assert render([path], tmp_path / "out", "--views", "4", "--normalize", "--radius", "2") == 0
    cameras = load_cameras_json(tmp_path / "out" / "asym")
    object_to_world = np.asarray(cameras["object_to_world"])
    moved = mesh.vertices @ object_to_world[:3, :3].T + object_to_world[:3, 3]
    box_center = 0.5 * (moved.min(axis=0) + moved.max(axis=0))
    assert np.allclose(box_center, 0, atol=1e-9)
    assert np.isclose(np.linalg.norm(moved - box_center, axis=1).max(), 0.5)
    assert all(np.isclose(view["radius"], 2.0) for view in cameras["views"])
    assert_depth_matches_mesh(tmp_path / "out" / "asym", mesh.vertices, mesh.faces,
                              object_to_world=object_to_world)


def test_fov_and_lens_give_the_same_intrinsics(tmp_path):
    import trimesh

    path = write_mesh(trimesh.creation.icosphere(subdivisions=2), tmp_path / "ball.obj")
    assert render([path], tmp_path / "a", "--views", "1", "--fov", "60") == 0
    assert render([path], tmp_path / "b", "--views", "1", "--lens", f"{18 / np.tan(np.radians(30)):.12f}") == 0
    a, b = load_cameras_json(tmp_path / "a" / "ball"), load_cameras_json(tmp_path / "b" / "ball")
    assert np.allclose(a["K"], b["K"]) and np.isclose(a["fov_x_deg"], 60)
    depth_a = read_depth(tmp_path / "a" / "ball" / "depth" / "0000.exr")
    depth_b = read_depth(tmp_path / "b" / "ball" / "depth" / "0000.exr")
    assert np.allclose(depth_a, depth_b, rtol=1e-5)


def test_transforms_json_is_nerfstudio_shaped_and_consistent(tmp_path):
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp_path / "asym.glb")
    assert render([path], tmp_path / "out", "--views", "3") == 0
    folder = tmp_path / "out" / "asym"
    cameras = load_cameras_json(folder)
    transforms = json.loads((folder / "transforms.json").read_text())
    K = np.asarray(cameras["K"])
    assert (transforms["w"], transforms["h"]) == (64, 48)
    assert transforms["fl_x"] == K[0, 0] and transforms["cx"] == K[0, 2] + 0.5 == 32.0
    for frame, view in zip(transforms["frames"], cameras["views"]):
        assert frame["depth_file_path"] == view["files"]["depth"] == "depth/%04d.exr" % view["index"]
        assert np.allclose(frame["transform_matrix"], view["camera_to_world"])
        # camera_to_world (Blender axes) and world_to_camera (OpenCV axes) describe one camera.
        flip = np.diag([1.0, -1.0, -1.0, 1.0])
        assert np.allclose(flip @ np.linalg.inv(view["camera_to_world"]), view["world_to_camera"])


def test_fbx_world_is_the_files_raw_coordinates(tmp_path):
    """FBX has no independent reader here, so Blender writes one in FBX's usual Y-up axes.

    The file then holds (x, z, -y) for each of our vertices (x, y, z); Depth Views must render
    those raw file coordinates, not convert them back to Blender's Z-up.
    """
    mesh = asymmetric_mesh()
    blend = write_blend(mesh, tmp_path / "asym.blend")
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    fbx = str(tmp_path / "asym.fbx")
    bpy.ops.export_scene.fbx(filepath=fbx, axis_forward="-Z", axis_up="Y",
                             apply_scale_options="FBX_SCALE_NONE")
    assert render([fbx], tmp_path / "out", "--views", "4") == 0
    x, y, z = mesh.vertices.T
    file_vertices = np.stack([x, z, -y], axis=1)
    assert_depth_matches_mesh(tmp_path / "out" / "asym", file_vertices, mesh.faces)
