"""Every camera model rendered by Blender against an independent ray caster (tests/geometry.py).

The caster uses only cameras.json and the formulas of docs/camera-models.md; the object is the
asymmetric box with a spike, so a swapped or mirrored axis moves surface.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from checks import assert_depth_matches_mesh, assert_points_on_mesh, load_cameras_json  # noqa: E402
from meshes import asymmetric_mesh, write_mesh  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_channels, read_depth  # noqa: E402
from depth_views.outputs import load_views  # noqa: E402

MODELS = {
    "perspective": [],
    "orthographic": [],
    "fisheye": ["--fisheye-fov", "200"],
    "equirectangular": ["--radius", "3.5"],
    "equirectangular-range": ["--longitude-range", "-40", "70", "--latitude-range", "-30", "50"],
}


def _render(tmp_path, model, extra, *more):
    mesh = asymmetric_mesh()
    path = write_mesh(mesh, tmp_path / "asym.ply")
    name = model.split("-")[0]
    width, height = ("128", "64") if name == "equirectangular" else ("96", "80")
    out = tmp_path / "out"
    code = main(["render", path, "--out", str(out), "--resolution", width, height, "--quiet", "--views", "3",
                 "--camera-model", name, *extra, *more])
    assert code == 0
    return mesh, out / "asym"


def assert_model_depth_matches(folder, mesh):
    """tests/checks.py's check for any camera model (silhouettes of wide views: up to 1 % of pixels)."""
    assert_depth_matches_mesh(folder, mesh.vertices, mesh.faces, max_disagree=0.01)
    return load_cameras_json(folder)


@pytest.mark.parametrize("model", list(MODELS))
def test_every_camera_model_matches_an_independent_ray_caster(tmp_path, model):
    mesh, folder = _render(tmp_path, model, MODELS[model], "--passes", "depth,distance,normal,mask,xyz",
                           "--formats", "exr,png16,preview,npz,ply")
    cameras = assert_model_depth_matches(folder, mesh)
    name = model.split("-")[0]
    expected = {"perspective": "PINHOLE", "orthographic": "ORTHOGRAPHIC", "fisheye": "OPENCV_FISHEYE",
                "equirectangular": "EQUIRECTANGULAR"}[name]
    assert cameras["camera_model"] == expected
    assert cameras["depth_kind"] == ("planar" if name in ("perspective", "orthographic") else "ray_length")
    loaded = load_views(folder)
    depth = loaded["depth"]
    assert loaded["camera_model"].name == expected
    # The library's own backprojection (given the loaded model) puts the points on the surface too.
    from depth_views.outputs.geometry import backproject
    points = backproject(depth[0], loaded["camera_model"], loaded["world_to_camera"][0])
    assert_points_on_mesh(points, mesh.vertices, mesh.faces, 1e-3 * float(np.ptp(mesh.vertices, axis=0).max()))
    # the xyz pass is that backprojection laid out as an image, for every model
    channels = read_channels(folder / cameras["views"][0]["files"]["xyz"])
    xyz = np.stack([channels[c] for c in "XYZ"], axis=-1)
    assert np.array_equal(np.isfinite(depth[0]), np.isfinite(xyz[..., 0]))
    assert np.allclose(xyz[np.isfinite(depth[0])], points, rtol=0, atol=1e-5 * float(np.ptp(mesh.vertices, axis=0).max()))
    # distance is measured along the ray: equal to depth except for a pinhole's planar z.
    if name != "perspective":
        hit = np.isfinite(depth)
        assert np.array_equal(hit, np.isfinite(loaded["distance"]))
        assert np.allclose(loaded["distance"][hit], depth[hit], rtol=1e-6)
    # mask and normals exist exactly where there is depth.
    assert np.array_equal(loaded["mask"] > 0, np.isfinite(depth))
    assert np.allclose(np.linalg.norm(loaded["normal"][np.isfinite(depth)], axis=-1), 1.0, atol=1e-4)
    for view in cameras["views"]:
        meta = json.loads(_exr_metadata(folder / view["files"]["depth"]))
        assert meta["depth_kind"] == cameras["depth_kind"]
        assert os.path.getsize(folder / view["files"]["preview"]) > 0
        assert os.path.getsize(folder / view["files"]["ply"]) > 0
    transforms = folder / "transforms.json"
    assert transforms.exists() == (name != "orthographic")


def _exr_metadata(path) -> str:
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        return exr.header()["depth_views"]


def test_fisheye_outside_the_image_circle_is_background(tmp_path):
    """A 90-degree fisheye 1 unit above a 20 x 20 floor sees floor everywhere inside its circle
    (rays up to 84 degrees off axis reach it) and nothing outside."""
    import trimesh

    floor = trimesh.Trimesh([[-10, -10, 0], [10, -10, 0], [10, 10, 0], [-10, 10, 0]], [[0, 1, 2], [0, 2, 3]],
                            process=False)
    path = write_mesh(floor, tmp_path / "floor.ply")
    out = tmp_path / "out"
    assert main(["render", path, "--out", str(out), "--resolution", "40", "30", "--quiet",
                 "--sampling", "grid", "--grid", "1", "1", "--elevation", "90", "90",
                 "--camera-model", "fisheye", "--fisheye-fov", "90", "--radius", "1", "--center", "0.3", "0.2", "0",
                 "--clip-start", "0.01", "--clip-end", "100"]) == 0
    folder = out / "floor"
    cameras = load_cameras_json(folder)
    u, v = np.meshgrid(np.arange(40), np.arange(30))
    K = np.asarray(cameras["K"])
    assert np.isclose(K[0, 0], 40 / np.radians(90)) and np.isclose(K[1, 1], 30 / np.radians(90))
    theta = np.hypot((u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1])
    depth = read_depth(folder / cameras["views"][0]["files"]["depth"])
    inside, outside = theta < np.radians(45) - 0.03, theta > np.radians(45) + 0.03
    assert inside.sum() > 500 and outside.sum() > 50
    assert np.isfinite(depth[inside]).all() and np.isinf(depth[outside]).all()
    # Ray length to the floor z = 0 from height 1: 1 / cos(theta).
    assert np.allclose(depth[inside], 1.0 / np.cos(theta[inside]), rtol=1e-5)


def options_from_args(args):
    from depth_views.cli import build_parser, options_from_args as parse

    return parse(build_parser().parse_args(["render", "x.ply", "--out", "o", *args]))


def test_batch_renders_a_camera_model_like_render(tmp_path):
    mesh = asymmetric_mesh()
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    write_mesh(mesh, dataset / "asym.ply")
    args = ["--resolution", "128", "64", "--views", "2", "--quiet", "--camera-model", "equirectangular",
            "--latitude-range", "-60", "60", "--radius", "3.5"]
    assert main(["batch", str(dataset), "--out", str(tmp_path / "batch"), *args, "--workers", "1"]) == 0
    assert main(["render", str(dataset / "asym.ply"), "--out", str(tmp_path / "render"), *args]) == 0
    batch, single = tmp_path / "batch" / "asym", tmp_path / "render" / "asym"
    cameras = assert_model_depth_matches(batch, mesh)
    assert cameras["camera_model"] == "EQUIRECTANGULAR" and cameras["latitude_range_deg"] == [-60.0, 60.0]
    for view in cameras["views"]:
        name = view["files"]["depth"]
        assert np.array_equal(read_depth(batch / name), read_depth(single / name))
    from depth_views.batch import stream_views

    streamed = list(stream_views(str(dataset), str(tmp_path / "batch"), options_from_args(args), workers=1,
                                 include_finished=True))
    assert len(streamed) == 2 and all(v.camera_model.name == "EQUIRECTANGULAR" and v.K is None for v in streamed)


def test_panorama_settings_are_found_on_this_blender():
    from depth_views.compositor.compat import panorama_settings

    data = bpy.data.cameras.new("probe")
    owner = panorama_settings(data)
    for name in ("panorama_type", "fisheye_fov", "latitude_min", "latitude_max", "longitude_min", "longitude_max"):
        assert hasattr(owner, name), name
    owner.panorama_type = "EQUIRECTANGULAR"
    assert owner.panorama_type == "EQUIRECTANGULAR"
    bpy.data.cameras.remove(data)


@pytest.mark.parametrize("width, height", [(48, 40), (37, 53)])
def test_orthographic_cropped_border_render_equals_the_full_frame(tmp_path, width, height):
    """The render border applies to orthographic views, and changes no pixel; panoramic views never crop."""
    from depth_views.cameras import sample_views
    from depth_views.inputs.scene_import import load_input
    from depth_views.options import RenderOptions
    from depth_views.render.plan import plan_views
    from depth_views.render.renderer import DepthRenderer
    from depth_views.resolved import resolve

    mesh = asymmetric_mesh()
    loaded = load_input(write_mesh(mesh, tmp_path / "asym.ply"))
    views = sample_views(sampling="fibonacci", n_views=4, center=mesh.bounds.mean(axis=0), radius=6.0)
    for camera, least in (({"camera_model": "orthographic", "ortho_scale": 5.0}, 3),
                          ({"camera_model": "orthographic", "ortho_scale": 2.5}, 1),   # the object leaves the frame
                          ({"camera_model": "fisheye", "fisheye_fov": 120.0}, 0)):
        setup = resolve(RenderOptions(resolution=(width, height), clip_start=0.1, clip_end=50.0,
                                      passes=("depth", "normal", "mask"), **camera))
        plan = plan_views(loaded, setup, views=views)
        model = plan.camera
        with DepthRenderer(setup, plan, scene=loaded.scene) as renderer:
            full = [renderer.render_passes(view) for view in views]
        cropped = 0
        with DepthRenderer(setup, plan, scene=loaded.scene, bounds_points=mesh.vertices) as renderer:
            for view, a in zip(views, full):
                b = renderer.render_passes(view)
                cropped += renderer._crop_box not in (None, (0, width, 0, height))
                assert np.isfinite(a["depth"]).any()
                for name in ("depth", "normal", "mask"):
                    assert np.array_equal(a[name], b[name]), (model.name, name)
        assert (cropped >= least) if least else cropped == 0, (model.name, model.K[0, 0], cropped)


@pytest.mark.parametrize("model", ["orthographic", "fisheye", "equirectangular-range"])
@pytest.mark.parametrize("source", ["cameras.json", "transforms.json"])
def test_every_model_renders_back_from_its_own_camera_files(tmp_path, model, source):
    """Render -> cameras.json / nerfstudio transforms.json -> --cameras: the same camera, depth-identical
    views (orthographic has no transforms.json: nerfstudio cannot describe it)."""
    if model == "orthographic" and source == "transforms.json":
        pytest.skip("no transforms.json for orthographic views (docs/camera-models.md)")
    mesh, folder = _render(tmp_path, model, MODELS[model])
    again = tmp_path / "again"
    assert main(["render", str(tmp_path / "asym.ply"), "--out", str(again), "--quiet",
                 "--cameras", str(folder / source)]) == 0
    first, second = load_cameras_json(folder), load_cameras_json(again / "asym")
    for key in ("camera_model", "depth_kind", "width", "height"):
        assert first[key] == second[key], key
    for key in ("longitude_range_deg", "latitude_range_deg"):  # transforms.json holds them as fl/cx/cy
        assert np.allclose(first.get(key, np.nan), second.get(key, np.nan), rtol=0, atol=1e-9, equal_nan=True), key
    if first["K"] is not None:
        assert np.allclose(first["K"], second["K"], rtol=1e-12, atol=1e-9)
    assert [v["source"] for v in second["views"]] and len(second["views"]) == len(first["views"])
    size = float(np.ptp(mesh.vertices, axis=0).max())
    for one, two in zip(first["views"], second["views"]):
        a = read_depth(folder / one["files"]["depth"])
        b = read_depth(again / "asym" / two["files"]["depth"])
        assert np.array_equal(np.isinf(a), np.isinf(b))
        both = np.isfinite(a)
        assert np.abs(a[both] - b[both]).max() <= 1e-6 * size


def test_a_fisheye_file_with_distortion_or_other_fovs_per_frame_needs_the_lens_camera(tmp_path, capsys):
    """A fisheye file whose frames differ in FOV, or with distortion, is no longer one Blender fisheye: each
    frame renders through its own lens (Cycles' Custom camera, Blender 4.5+; tests/render/test_lens_render.py
    checks the depth), and Blender 4.2 refuses it in one line, rendering nothing."""
    from depth_views.compositor.compat import custom_camera_problem

    mesh, folder = _render(tmp_path, "fisheye", MODELS["fisheye"])
    document = json.loads((folder / "transforms.json").read_text())
    document["frames"][1].update(fl_x=document["fl_x"] * 1.5, fl_y=document["fl_y"] * 1.5)  # another FOV
    (tmp_path / "mixed.json").write_text(json.dumps(document))
    document["frames"][1].pop("fl_x"), document["frames"][1].pop("fl_y")
    document["k1"] = 0.05
    (tmp_path / "distorted.json").write_text(json.dumps(document))
    problem = custom_camera_problem()
    for name in ("mixed.json", "distorted.json"):
        out = tmp_path / name.replace(".json", "")
        code = main(["render", str(tmp_path / "asym.ply"), "--out", str(out), "--quiet", "--cameras",
                     str(tmp_path / name)])
        error = capsys.readouterr().err.strip().splitlines()
        if problem is None:
            cameras = load_cameras_json(out / "asym")
            assert code == 0 and cameras["camera_model"] == "OPENCV_FISHEYE" and "lens_params" in cameras
        else:
            assert code == 2 and error == [f"depth-views: error: camera model OPENCV_FISHEYE (a lens model) {problem}"]
            assert not (out / "asym").exists()


def test_a_fisheye_render_exports_a_colmap_opencv_fisheye_model_that_pycolmap_reads(tmp_path):
    """--formats colmap on a fisheye render: COLMAP OPENCV_FISHEYE with k = 0, whose pycolmap projection is
    the equidistant contract (pixel centres at +0.5 in COLMAP), and which --cameras renders back."""
    pycolmap = pytest.importorskip("pycolmap")
    mesh, folder = _render(tmp_path, "fisheye", MODELS["fisheye"], "--formats", "exr,colmap")
    cameras = load_cameras_json(folder)
    K = np.asarray(cameras["K"])
    reconstruction = pycolmap.Reconstruction(str(folder / "colmap"))
    camera = next(iter(reconstruction.cameras.values()))
    assert camera.model_name == "OPENCV_FISHEYE" and len(reconstruction.images) == 3
    direction = np.array([0.3, -0.2, 0.5])  # ~36 degrees off the axis
    theta = math.atan2(np.linalg.norm(direction[:2]), direction[2])
    unit = direction[:2] / np.linalg.norm(direction[:2])
    expected = np.array([K[0, 0] * theta * unit[0] + K[0, 2], K[1, 1] * theta * unit[1] + K[1, 2]]) + 0.5
    assert np.allclose(np.ravel(camera.img_from_cam(direction)), expected, atol=1e-9)
    again = tmp_path / "again"
    assert main(["render", str(tmp_path / "asym.ply"), "--out", str(again), "--quiet",
                 "--cameras", str(folder / "colmap")]) == 0
    assert load_cameras_json(again / "asym")["camera_model"] == "OPENCV_FISHEYE"
    for one, two in zip(cameras["views"], load_cameras_json(again / "asym")["views"]):
        a, b = read_depth(folder / one["files"]["depth"]), read_depth(again / "asym" / two["files"]["depth"])
        assert np.array_equal(np.isinf(a), np.isinf(b)) and np.allclose(a[np.isfinite(a)], b[np.isfinite(b)],
                                                                         rtol=0, atol=1e-6)


@pytest.mark.parametrize("model", ["orthographic", "fisheye", "equirectangular-range"])
def test_the_colour_render_uses_the_same_camera_model(tmp_path, model):
    """The rgb pass (a scene of its own sharing the camera) shows the object where depth does."""
    from PIL import Image

    mesh, folder = _render(tmp_path, model, MODELS[model], "--passes", "depth,rgb", "--rgb-samples", "1",
                           "--no-denoise")
    for view in load_cameras_json(folder)["views"]:
        hit = np.isfinite(read_depth(folder / view["files"]["depth"]))
        alpha = np.asarray(Image.open(folder / view["files"]["rgb"]).convert("RGBA"))[..., 3] > 127
        assert hit.sum() > 50
        assert np.count_nonzero(hit != alpha) <= 0.1 * hit.sum()
