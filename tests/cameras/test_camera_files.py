"""Cameras people bring, rendered: camera files (transforms.json, COLMAP, cameras.json, .npy) and any pinhole K
render exactly their views.  Each render is checked against an independent ray cast (tests/geometry.py)
with the test's own K and pose, never the numbers our code wrote.  The readers themselves are tested per
format without Blender (test_nerfstudio.py, test_colmap.py, test_cameras_json.py, test_pose_arrays.py,
test_camera_set.py, test_hostile_camera_files.py).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from camera_files import (KS, OPENGL_FROM_OPENCV, POSITIONS, H, K_of, W, cameras_for, edited_transforms,
                          opengl_camera_to_world, write_colmap_text, write_transforms)
from geometry import interior_mask, raycast_planar_depth

from depth_views.cameras.camera_set import read_camera_file


def assert_depth_is_the_ray_cast(folder, cameras, mesh, tolerance=1e-4) -> float:
    """Each view of ``folder`` (in order) against a ray cast with the TEST's K and pose; returns the
    largest interior error relative to the object's size."""
    from depth_views.exr_io import read_depth

    document = json.loads(open(os.path.join(folder, "cameras.json")).read())
    assert len(document["views"]) == len(cameras)
    size = float(np.ptp(mesh.vertices, axis=0).max())
    worst = 0.0
    for view, (K, w2c, width, height) in zip(document["views"], cameras):
        depth = read_depth(os.path.join(folder, view["files"]["depth"]))
        assert depth.shape == (height, width)
        reference = raycast_planar_depth(mesh.vertices, mesh.faces, np.asarray(K), w2c, width, height)
        interior = interior_mask(reference)
        surface = interior & np.isfinite(reference)
        assert surface.sum() > 100, f"view {view['index']} sees too little of the object"
        error = float((np.abs(depth[surface] - reference[surface]) / size).max())
        worst = max(worst, error)
        assert error < tolerance, f"view {view['index']}: depth off by {error:.2e} of the object size"
        assert np.all(np.isposinf(depth[interior & np.isinf(reference)]))
        disagree = np.isfinite(depth) != np.isfinite(reference)
        assert disagree.mean() < 0.01, f"view {view['index']}: {disagree.sum()} pixels hit/miss differ"
        assert np.allclose(view.get("K", document["K"]), K, atol=1e-9)
    return worst


@pytest.fixture
def asym_obj(tmp_path):
    pytest.importorskip("bpy")
    from meshes import asymmetric_mesh, write_mesh

    mesh = asymmetric_mesh()
    return mesh, write_mesh(mesh, tmp_path / "asym.obj")


def render(*argv) -> int:
    from depth_views.cli import main

    return main(["render", *map(str, argv), "--quiet"])


@pytest.mark.parametrize("name", ["fx_ne_fy", "outside_left", "outside_below"])
def test_transforms_file_renders_exactly_its_views(tmp_path, asym_obj, name, capsys):
    mesh, obj = asym_obj
    cameras = cameras_for(KS[name])
    path = write_transforms(tmp_path / "transforms.json", cameras, per_frame=name == "outside_below")
    assert render(obj, "--out", tmp_path / "out", "--cameras", path) == 0
    worst = assert_depth_is_the_ray_cast(tmp_path / "out" / "asym", cameras, mesh)
    document = json.loads(open(tmp_path / "out" / "asym" / "cameras.json").read())
    assert [v["source"] for v in document["views"]] == [f"images/frame_{i:05d}.png" for i in range(3)]
    print(f"{name}: worst interior depth error {worst:.2e} of the object size")


def test_intrinsics_option_on_sphere_views(tmp_path, asym_obj):
    """--intrinsics FX FY CX CY with fx != fy and an off-centre principal point on sampled views."""
    mesh, obj = asym_obj
    assert render(obj, "--out", tmp_path / "out", "--resolution", W, H, "--views", 3, "--radius", 5,
                  "--intrinsics", 70, 52, 24.3, 30.1) == 0
    document = json.loads(open(tmp_path / "out" / "asym" / "cameras.json").read())
    assert document["K"] == KS["fx_ne_fy"] and document["sensor_fit"] == "HORIZONTAL"
    cameras = [(KS["fx_ne_fy"], np.asarray(v["world_to_camera"]), W, H) for v in document["views"]]
    for view in document["views"]:  # the poses are the usual look-at cameras: the test checks them itself
        c2w = np.asarray(view["camera_to_world"])
        assert np.allclose(c2w @ OPENGL_FROM_OPENCV, np.linalg.inv(view["world_to_camera"]), atol=1e-9)
    assert_depth_is_the_ray_cast(tmp_path / "out" / "asym", cameras, mesh)


def test_colmap_models_render_exactly(tmp_path, asym_obj):
    mesh, obj = asym_obj
    cameras = cameras_for(KS["outside_left"])
    folder = write_colmap_text(tmp_path / "sparse", cameras)
    assert render(obj, "--out", tmp_path / "text", "--cameras", folder) == 0
    assert_depth_is_the_ray_cast(tmp_path / "text" / "asym", cameras, mesh)
    pycolmap = pytest.importorskip("pycolmap")
    (tmp_path / "bin").mkdir()
    pycolmap.Reconstruction(folder).write_binary(str(tmp_path / "bin"))
    assert render(obj, "--out", tmp_path / "binary", "--cameras", tmp_path / "bin" / "images.bin") == 0
    names = [f.name for f in read_camera_file(str(tmp_path / "bin")).frames]
    order = [["img_001.jpg", "img_002.jpg", "img_003.jpg"].index(n) for n in names]
    assert_depth_is_the_ray_cast(tmp_path / "binary" / "asym", [cameras[i] for i in order], mesh)


def test_own_cameras_json_and_pose_array_and_per_frame_K(tmp_path, asym_obj):
    """Per-frame K (one size), then our cameras.json of that render and a .npy of its poses."""
    mesh, obj = asym_obj
    cameras = [cameras_for(KS["fx_ne_fy"])[0], cameras_for(KS["outside_left"])[1],
               cameras_for(K_of(66.0, 66.0, 31.5, 23.5))[2]]
    path = write_transforms(tmp_path / "transforms.json", cameras, per_frame=True)
    assert render(obj, "--out", tmp_path / "a", "--cameras", path) == 0
    assert_depth_is_the_ray_cast(tmp_path / "a" / "asym", cameras, mesh)
    assert render(obj, "--out", tmp_path / "b", "--cameras", tmp_path / "a" / "asym" / "cameras.json") == 0
    assert_depth_is_the_ray_cast(tmp_path / "b" / "asym", cameras, mesh)
    # our transforms.json carries the per-frame K too (nerfstudio's per-frame keys)
    assert render(obj, "--out", tmp_path / "t", "--cameras", tmp_path / "a" / "asym" / "transforms.json") == 0
    assert_depth_is_the_ray_cast(tmp_path / "t" / "asym", cameras, mesh)
    cameras = cameras_for(KS["fx_ne_fy"])
    np.save(tmp_path / "w2c.npy", np.stack([c[1] for c in cameras]))
    assert render(obj, "--out", tmp_path / "c", "--cameras", tmp_path / "w2c.npy", "--pose-convention", "opencv_w2c",
                  "--resolution", W, H, "--intrinsics", 70, 52, 24.3, 30.1) == 0
    assert_depth_is_the_ray_cast(tmp_path / "c" / "asym", cameras, mesh)


def test_bad_camera_file_is_one_line_and_nothing_is_written(tmp_path, asym_obj, capsys):
    mesh, obj = asym_obj
    path = edited_transforms(tmp_path, {(1, "camera_model"): "OPENCV_FISHEYE"})
    assert render(obj, "--out", tmp_path / "out", "--cameras", path) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [f"depth-views: error: {path}: frame 1 (images/frame_00001.png): camera model "
                     "OPENCV_FISHEYE mixed with pinhole frames (frame 0: OPENCV); one render has one depth kind "
                     "(planar here; split the file)"]
    assert not (tmp_path / "out").exists()


def test_camera_looking_away_warns_and_renders_empty(tmp_path, asym_obj, capsys):
    mesh, obj = asym_obj
    cameras = cameras_for(KS["fx_ne_fy"])
    away = np.array(cameras[1][1])
    away[:3, :3] = np.diag([-1.0, 1.0, -1.0]) @ away[:3, :3]   # turned half around its y axis
    away[:3, 3] = -away[:3, :3] @ POSITIONS[1]
    cameras[1] = (cameras[1][0], away, W, H)
    path = write_transforms(tmp_path / "transforms.json", cameras)
    assert render(obj, "--out", tmp_path / "out", "--cameras", path) == 0
    assert "view 1 (images/frame_00001.png): the object is not in view; that view is empty" in capsys.readouterr().err
    from depth_views.exr_io import read_depth

    document = json.loads(open(tmp_path / "out" / "asym" / "cameras.json").read())
    assert np.all(np.isinf(read_depth(tmp_path / "out" / "asym" / document["views"][1]["files"]["depth"])))


def test_python_api_and_batch_take_a_camera_file(tmp_path, asym_obj):
    mesh, obj = asym_obj
    from depth_views.options import RenderOptions
    from depth_views.render.job import render_input

    cameras = cameras_for(KS["outside_below"])
    path = write_transforms(tmp_path / "transforms.json", cameras)
    report = render_input(obj, str(tmp_path / "api"), RenderOptions(cameras_file=path))
    assert report.n_views == 3
    assert_depth_is_the_ray_cast(tmp_path / "api", cameras, mesh)
    from depth_views.cli import main

    source = tmp_path / "meshes"
    source.mkdir()
    os.replace(obj, source / "asym.obj")
    assert main(["batch", str(source), "--out", str(tmp_path / "batch"), "--cameras", path, "--workers", "1",
                 "--formats", "exr,colmap", "--quiet", "--progress", "lines"]) == 0
    assert_depth_is_the_ray_cast(tmp_path / "batch" / "asym", cameras, mesh)
    exported = read_camera_file(str(tmp_path / "batch" / "asym" / "colmap"))
    assert [f.name for f in exported.frames] == ["depth/0000.exr", "depth/0001.exr", "depth/0002.exr"]
    for frame, (K, w2c, _, _) in zip(exported.frames, cameras):
        assert np.allclose(frame.camera_to_world, opengl_camera_to_world(w2c), atol=1e-9)
        assert np.allclose([frame.fx, frame.fy, frame.cx, frame.cy], [K[0][0], K[1][1], K[0][2], K[1][2]])


def test_radius_and_fov_ranges_render_and_are_recorded(tmp_path, asym_obj):
    from checks import assert_depth_matches_mesh

    mesh, obj = asym_obj
    assert render(obj, "--out", tmp_path / "out", "--resolution", W, H, "--views", 3, "--radius", "5:7",
                  "--fov", "40:55", "--seed", 3) == 0
    document = json.loads(open(tmp_path / "out" / "asym" / "cameras.json").read())
    radii = [v["radius"] for v in document["views"]]
    fovs = [v["fov_x_deg"] for v in document["views"]]
    assert all(5 <= r <= 7 for r in radii) and len(set(radii)) == 3
    assert all(40 <= f <= 55 for f in fovs) and len({v["K"][0][0] for v in document["views"]}) == 3
    for view in document["views"]:
        assert np.isclose(np.linalg.norm(np.asarray(view["position"]) - document["center"]), view["radius"])
    assert assert_depth_matches_mesh(tmp_path / "out" / "asym", mesh.vertices, mesh.faces) == 3


def test_panel_from_file_renders_the_file_views_like_the_cli(tmp_path, asym_obj):
    import bpy

    import depth_views
    from meshes import write_blend

    mesh, obj = asym_obj
    cameras = cameras_for(KS["outside_left"])
    path = write_transforms(tmp_path / "transforms.json", cameras)
    blend = write_blend(mesh, tmp_path / "scene.blend")
    depth_views.register()
    try:
        bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
        settings = bpy.context.scene.depth_views
        settings.target, settings.output_dir = "SCENE", str(tmp_path / "panel")
        settings.camera_source = "FILE"
        with pytest.raises(RuntimeError, match="choose a Camera File"):  # an ERROR report, CANCELLED
            bpy.ops.depth_views.render()
        settings.camera_file = edited_transforms(tmp_path, {(1, "k1"): -1e6})
        with pytest.raises(RuntimeError, match=r"frame 1 \(images/frame_00001.png\): camera model OPENCV: the "
                                               "distortion has no exact inverse"):
            bpy.ops.depth_views.render()
        assert not (tmp_path / "panel" / "cameras.json").exists()
        path = write_transforms(tmp_path / "transforms.json", cameras)
        settings.camera_file = path
        assert bpy.ops.depth_views.preview_cameras() == {"FINISHED"}
        previews = sorted((o for o in bpy.data.objects if o.type == "CAMERA"), key=lambda o: o.name)
        assert len(previews) == 3
        assert np.allclose(np.array(previews[1].matrix_world), opengl_camera_to_world(cameras[1][1]), atol=1e-6)
        assert bpy.ops.depth_views.render() == {"FINISHED"}
    finally:
        depth_views.unregister()
    assert_depth_is_the_ray_cast(tmp_path / "panel", cameras, mesh)
    assert render(obj, "--out", tmp_path / "cli", "--cameras", path) == 0
    from depth_views.exr_io import read_depth

    for index in range(3):
        panel = read_depth(tmp_path / "panel" / "depth" / f"{index:04d}.exr")
        cli = read_depth(tmp_path / "cli" / "asym" / "depth" / f"{index:04d}.exr")
        assert np.allclose(panel, cli, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("argv, message", [
    (["--radius", "0:2"], "--radius 0:2: need 0 < LOW <= HIGH"),
    (["--fov", "0:50"], "--fov 0:50: need 0 < LOW <= HIGH < 180 degrees"),
    (["--fov", "30:50", "--intrinsics", "50", "50", "31.5", "23.5"], "cannot go with --intrinsics"),
    (["--intrinsics", "50", "-1", "31.5", "23.5"], "--intrinsics 50 -1 31.5 23.5: focal length fy must be a positive"),
    (["--formats", "exr,nerf_synthetic"], "add --passes rgb"),
    (["--passes", "rgb", "--formats", "exr,nerf_synthetic", "--test-fraction", "1"], "--test-fraction 1: must be"),
])
def test_bad_range_intrinsics_and_export_options_are_one_line(tmp_path, capsys, argv, message):
    from depth_views.cli import main

    assert main(["render", "mesh.obj", "--out", str(tmp_path / "out"), *argv]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0] and not (tmp_path / "out").exists()


def test_a_reversed_range_is_an_argparse_error(capsys):
    from depth_views.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["render", "mesh.obj", "--out", "out", "--radius", "3:2"])
    assert stop.value.code == 2 and "--radius: range '3:2': need finite LOW <= HIGH" in capsys.readouterr().err


def test_camera_file_with_normalize_or_ranges_is_refused(tmp_path, capsys):
    from depth_views.cli import main

    path = write_transforms(tmp_path / "transforms.json", cameras_for(KS["fx_ne_fy"]))
    for extra, message in ((["--normalize"], "leave out --normalize"), (["--radius", "2:3"], "--cameras renders")):
        assert main(["render", "mesh.obj", "--out", str(tmp_path / "out"), "--cameras", path, *extra]) == 2
        assert message in capsys.readouterr().err


def test_the_colour_render_sees_through_the_same_K_as_depth(tmp_path, asym_obj):
    """The rgb pass renders in a scene of its own (persistent data); it shares the camera's lens shift and
    must share the render's pixel aspect too: per-frame K (fx != fy, off-centre) give a colour image whose
    alpha covers exactly the pixels depth hits (a few anti-aliased edge pixels aside)."""
    from PIL import Image

    from depth_views.exr_io import read_depth

    mesh, obj = asym_obj
    cameras = [cameras_for(KS["fx_ne_fy"])[0], cameras_for(KS["outside_left"])[1],
               cameras_for(K_of(66.0, 66.0, 31.5, 23.5))[2]]
    path = write_transforms(tmp_path / "transforms.json", cameras, per_frame=True)
    assert render(obj, "--out", tmp_path / "rgb", "--cameras", path, "--passes", "depth,rgb",
                  "--rgb-samples", "1", "--no-denoise") == 0
    folder = tmp_path / "rgb" / "asym"
    document = json.loads((folder / "cameras.json").read_text())
    for view in document["views"]:
        hit = np.isfinite(read_depth(folder / view["files"]["depth"]))
        alpha = np.asarray(Image.open(folder / view["files"]["rgb"]).convert("RGBA"))[..., 3] > 127
        assert hit.sum() > 50
        assert np.count_nonzero(hit != alpha) <= 0.1 * hit.sum(), view["source"]
