"""Rendered passes against exact geometry: distance, normals, masks, png16, point clouds, transparency."""

from __future__ import annotations

import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
from PIL import Image  # noqa: E402

from checks import assert_points_on_mesh, load_cameras_json  # noqa: E402
from geometry import interior_mask, raycast_distance, raycast_hits, raycast_planar_depth  # noqa: E402
from meshes import asymmetric_mesh, write_mesh  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_channels, read_depth  # noqa: E402
from depth_views.outputs import load_views, read_ply  # noqa: E402

SMALL = ["--resolution", "64", "48", "--quiet"]
ALL_PASSES = "depth,distance,normal,mask,rgb"
ALL_FORMATS = "exr,png16,preview,npz,contact_sheet,ply,fused_ply"


def render(inputs, out, *options) -> int:
    return main(["render", *map(str, inputs), "--out", str(out), *SMALL, *map(str, options)])


def transformed(vertices, object_to_world):
    matrix = np.asarray(object_to_world)
    return np.asarray(vertices) @ matrix[:3, :3].T + matrix[:3, 3]


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    """The asymmetric mesh (flat-shaded STL) rendered with every pass and format, normalised."""
    tmp = tmp_path_factory.mktemp("everything")
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp / "asym.stl")
    assert render([path], tmp / "out", "--views", "4", "--normalize", "--passes", ALL_PASSES,
                  "--formats", ALL_FORMATS, "--rgb-samples", "2", "--rgb-exr") == 0
    folder = tmp / "out" / "asym"
    cameras = load_cameras_json(folder)
    return folder, cameras, transformed(mesh.vertices, cameras["object_to_world"]), np.asarray(mesh.faces)


def test_every_chosen_format_is_in_cameras_json_and_on_disk(everything):
    folder, cameras, _, _ = everything
    expected = {"depth", "depth_png16", "distance", "distance_png16", "normal", "rgb", "rgb_exr", "mask",
                "alpha", "preview", "ply"}
    assert len(cameras["views"]) == 4
    for view in cameras["views"]:
        assert set(view["files"]) == expected
        for path in view["files"].values():
            assert os.path.getsize(folder / path) > 0
    assert cameras["files"] == {"npz": "views.npz", "contact_sheet": "contact_sheet.png", "fused_ply": "points.ply"}
    assert all((folder / path).is_file() for path in cameras["files"].values())
    assert cameras["passes"] == ["depth", "distance", "normal", "rgb", "mask"]
    assert cameras["png16"]["scale"] == 1e-4 and cameras["object_ids"] == {"1": "asym"}


def test_distance_pass_matches_unit_ray_casts(everything):
    folder, cameras, vertices, faces = everything
    size = float(np.ptp(vertices, axis=0).max())
    K = np.asarray(cameras["K"])
    for view in cameras["views"]:
        distance = read_depth(folder / view["files"]["distance"])
        planar = raycast_planar_depth(vertices, faces, K, view["world_to_camera"], cameras["width"], cameras["height"])
        reference = raycast_distance(vertices, faces, K, view["world_to_camera"], cameras["width"], cameras["height"])
        surface = interior_mask(planar) & np.isfinite(planar)
        assert surface.sum() > 50
        assert np.abs(distance[surface] - reference[surface]).max() < 1e-4 * size
        assert np.array_equal(np.isfinite(distance), np.isfinite(read_depth(folder / view["files"]["depth"])))


def test_normals_are_the_face_normals_facing_the_camera(everything):
    folder, cameras, vertices, faces = everything
    K = np.asarray(cameras["K"])
    v0, v1, v2 = (vertices[faces[:, i]] for i in range(3))
    face_normals = np.cross(v1 - v0, v2 - v0)
    face_normals /= np.linalg.norm(face_normals, axis=1, keepdims=True)
    for view in cameras["views"]:
        channels = read_channels(folder / view["files"]["normal"])
        world = np.stack([channels[f"world.{c}"] for c in "XYZ"], axis=-1)
        camera = np.stack([channels[f"opencv_camera.{c}"] for c in "XYZ"], axis=-1)
        depth, face = raycast_hits(vertices, faces, K, view["world_to_camera"], cameras["width"], cameras["height"])
        surface = interior_mask(depth) & np.isfinite(depth)
        expected = face_normals[face[surface]]
        rotation = np.asarray(view["world_to_camera"])[:3, :3]
        # Orient the reference towards the camera: the camera-space normal has negative z there.
        flip = np.where((expected @ rotation.T)[:, 2] > 0, -1.0, 1.0)[:, None]
        assert np.abs(world[surface] - expected * flip).max() < 1e-4
        assert np.allclose(camera, world @ rotation.T, atol=1e-5)
        assert np.all(camera[surface][:, 2] < 0)
        background = ~np.isfinite(read_depth(folder / view["files"]["depth"]))
        assert np.all(world[background] == 0) and np.all(camera[background] == 0)


def test_mask_and_alpha_agree_with_depth_pixel_for_pixel(everything):
    folder, cameras, _, _ = everything
    for view in cameras["views"]:
        depth = read_depth(folder / view["files"]["depth"])
        with Image.open(folder / view["files"]["mask"]) as image:
            ids = np.array(image)
        with Image.open(folder / view["files"]["alpha"]) as image:
            alpha = np.array(image)
        assert np.array_equal(np.isfinite(depth), ids > 0)
        assert set(np.unique(ids)) <= {0, 1}
        assert np.array_equal(alpha == 255, ids > 0) and set(np.unique(alpha)) <= {0, 255}


def test_png16_read_with_pillow_matches_the_exr_within_half_a_count(everything):
    folder, cameras, _, _ = everything
    scale = cameras["png16"]["scale"]
    assert sum(cameras["png16"]["clipped_pixels"].values()) == 0
    for view in cameras["views"]:
        for name in ("depth", "distance"):
            exr = read_depth(folder / view["files"][name])
            with Image.open(folder / view["files"][f"{name}_png16"]) as image:
                assert float(image.text["depth_views.scale"]) == scale
                metres = np.array(image).astype(np.float64) * scale
            hit = np.isfinite(exr)
            assert np.array_equal(metres > 0, hit)
            assert np.abs(metres[hit] - exr[hit]).max() <= 0.5 * scale * (1 + 1e-6)


def test_point_clouds_lie_on_the_surface(everything):
    folder, cameras, vertices, faces = everything
    size = float(np.ptp(vertices, axis=0).max())
    fused = read_ply(folder / "points.ply")
    n_hits = sum(np.isfinite(read_depth(folder / v["files"]["depth"])).sum() for v in cameras["views"])
    assert len(fused["points"]) == n_hits and {"colors", "normals"} <= set(fused)
    assert_points_on_mesh(fused["points"].astype(np.float64), vertices, faces, 1e-4 * size)
    first = read_ply(folder / cameras["views"][0]["files"]["ply"])
    assert np.array_equal(first["points"], fused["points"][:len(first["points"])])


def test_rgb_is_shaded_and_its_alpha_covers_the_object(everything):
    folder, cameras, _, _ = everything
    for view in cameras["views"]:
        with Image.open(folder / view["files"]["rgb"]) as image:
            assert image.mode == "RGBA"
            rgba = np.array(image)
        depth = read_depth(folder / view["files"]["depth"])
        interior = interior_mask(depth)
        assert np.all(rgba[interior & np.isfinite(depth), 3] == 255)
        assert np.all(rgba[interior & ~np.isfinite(depth), 3] == 0)
        assert rgba[np.isfinite(depth), :3].mean() > 20            # lit, not black
        linear = read_channels(folder / view["files"]["rgb_exr"])
        assert {"R", "G", "B", "A"} <= set(linear)


def test_load_views_and_npz_hold_every_pass(everything):
    folder, cameras, _, _ = everything
    views = load_views(folder)
    assert views["depth"].shape == (4, 48, 64) and views["normal"].shape == (4, 48, 64, 3)
    assert views["mask"].dtype == np.uint16 and views["rgb"].shape == (4, 48, 64, 4)
    assert np.allclose(views["world_to_camera"][2], cameras["views"][2]["world_to_camera"])
    with np.load(folder / "views.npz") as npz:
        assert np.array_equal(npz["depth"], views["depth"])
        assert np.array_equal(npz["mask"], views["mask"])
        assert npz["K"].shape == (3, 3) and npz["camera_to_world"].shape == (4, 4, 4)
    sheet = Image.open(folder / "contact_sheet.png")
    assert sheet.size[0] >= 2 * 64 and sheet.size[1] >= 2 * 48


def _two_object_blend(path, transparent_plane: bool):
    """A box (``box``) behind a square (``square``, optionally fully transparent) seen from +Z."""
    import trimesh

    bpy.ops.wm.read_factory_settings(use_empty=True)
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    square_vertices = [[-0.8, -0.3, 1.0], [0.8, -0.3, 1.0], [0.8, 0.3, 1.0], [-0.8, 0.3, 1.0]]
    for name, vertices, faces in (("box", box.vertices.tolist(), box.faces.tolist()),
                                  ("square", square_vertices, [[0, 1, 2], [0, 2, 3]])):
        data = bpy.data.meshes.new(name)
        data.from_pydata(vertices, [], faces)
        obj = bpy.data.objects.new(name, data)
        bpy.context.scene.collection.objects.link(obj)
        if name == "square" and transparent_plane:
            material = bpy.data.materials.new("glass")
            from depth_views.compositor.compat import enable_material_nodes
            enable_material_nodes(material)
            nodes = material.node_tree.nodes
            nodes.clear()
            transparent = nodes.new("ShaderNodeBsdfTransparent")
            output = nodes.new("ShaderNodeOutputMaterial")
            material.node_tree.links.new(transparent.outputs[0], output.inputs["Surface"])
            data.materials.append(material)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return (np.asarray(box.vertices), np.asarray(box.faces)), (np.asarray(square_vertices), np.array([[0, 1, 2], [0, 2, 3]]))


TOP_VIEW = ["--sampling", "grid", "--grid", "1", "1", "--elevation", "90", "90", "--radius", "5",
            "--center", "0", "0", "0", "--passes", "mask", "--formats", "exr"]


def _depth_and_ids(folder):
    cameras = load_cameras_json(folder)
    view = cameras["views"][0]
    depth = read_depth(folder / view["files"]["depth"])
    with Image.open(folder / view["files"]["mask"]) as image:
        return cameras, view, depth, np.array(image)


def test_mask_ids_name_the_object_each_pixel_sees(tmp_path):
    box, square = _two_object_blend(tmp_path / "two.blend", transparent_plane=False)
    assert render([tmp_path / "two.blend"], tmp_path / "out", *TOP_VIEW) == 0
    cameras, view, depth, ids = _depth_and_ids(tmp_path / "out" / "two")
    assert cameras["object_ids"] == {"1": "box", "2": "square"}
    K, w2c, size = np.asarray(cameras["K"]), view["world_to_camera"], (cameras["width"], cameras["height"])
    box_depth = raycast_planar_depth(*box, K, w2c, *size)
    square_depth = raycast_planar_depth(*square, K, w2c, *size)
    nearest = np.minimum(box_depth, square_depth)
    interior = interior_mask(nearest)
    expected = np.where(square_depth < box_depth, 2, np.where(np.isfinite(box_depth), 1, 0))
    assert np.array_equal(ids[interior], expected[interior])
    assert {1, 2} <= set(np.unique(ids[interior]))
    assert np.array_equal(np.isfinite(depth), ids > 0)


def test_transparent_surfaces_are_opaque_by_default_and_seen_through_on_request(tmp_path):
    box, square = _two_object_blend(tmp_path / "glass.blend", transparent_plane=True)
    assert render([tmp_path / "glass.blend"], tmp_path / "opaque", *TOP_VIEW) == 0
    assert render([tmp_path / "glass.blend"], tmp_path / "through", *TOP_VIEW, "--keep-transparency") == 0
    cameras, view, opaque, opaque_ids = _depth_and_ids(tmp_path / "opaque" / "glass")
    _, _, through, through_ids = _depth_and_ids(tmp_path / "through" / "glass")
    K, w2c, size = np.asarray(cameras["K"]), view["world_to_camera"], (cameras["width"], cameras["height"])
    box_depth = raycast_planar_depth(*box, K, w2c, *size)
    square_depth = raycast_planar_depth(*square, K, w2c, *size)
    covered = interior_mask(square_depth) & np.isfinite(square_depth) & interior_mask(box_depth)
    assert covered.sum() > 20
    # Default: the transparent square counts as a surface (depth 4, id 2).
    assert np.allclose(opaque[covered], square_depth[covered], atol=1e-5)
    assert np.all(opaque_ids[covered] == 2)
    # --keep-transparency: Cycles writes depth only at surfaces reaching the alpha threshold.
    behind = covered & np.isfinite(box_depth)
    assert np.allclose(through[behind], box_depth[behind], atol=1e-5)
    assert np.all(through_ids[behind] == 1)
    assert np.array_equal(np.isfinite(through), through_ids > 0)


def test_rgb_with_workbench_and_default_output_is_unchanged(tmp_path):
    path = write_mesh(asymmetric_mesh(), tmp_path / "asym.obj")
    assert render([path], tmp_path / "plain", "--views", "1") == 0
    plain = load_cameras_json(tmp_path / "plain" / "asym")
    assert plain["views"][0]["files"] == {"depth": "depth/0000.exr"}
    assert sorted(os.listdir(tmp_path / "plain" / "asym")) == ["cameras.json", "depth", "transforms.json"]
    assert render([path], tmp_path / "wb", "--views", "1", "--passes", "rgb", "--rgb-engine", "workbench") == 0
    folder = tmp_path / "wb" / "asym"
    cameras = load_cameras_json(folder)
    with Image.open(folder / cameras["views"][0]["files"]["rgb"]) as image:
        rgba = np.array(image)
    depth = read_depth(folder / "depth" / "0000.exr")
    assert np.array_equal(depth, read_depth(tmp_path / "plain" / "asym" / "depth" / "0000.exr"))
    interior = interior_mask(depth)
    # Workbench draws on the GPU (EGL on 4.5): its alpha may come back as 254/255.
    assert np.all(rgba[interior & np.isfinite(depth), 3] >= 250)
    assert np.all(rgba[interior & ~np.isfinite(depth), 3] == 0)
    assert cameras["rgb"]["engine"] == "workbench"


