"""Lens models rendered by Blender (Cycles' Custom camera, bpy 4.5 and 5.0) against an independent ray caster
whose rays come from pycolmap (tests/lens_reference.py), for every model of tests/lens_cases.py; the one-line
refusal where Blender has no Custom camera (4.2).

Per model, 64 x 48 pixels: the pixels that see a surface are the reference's, depth (planar z for the pinhole
family, ray length for fisheyes) within 1e-4 of the object size on interior pixels, normals and object ids
through the same camera; what a half-pixel shift or a horizontal flip would give is shown to be far outside
those tolerances (the test has the power to see them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from lens_cases import CASES, lens_case  # noqa: E402
from lens_reference import interior, lens_view, reference_depth, scene  # noqa: E402

from depth_views.cameras.lens import LensModel  # noqa: E402
from depth_views.compositor.compat import custom_camera_problem  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402

W, H = 64, 48
TOLERANCE = 1e-4            # of the object's size
HAS_CUSTOM_CAMERA = custom_camera_problem() is None
needs_custom_camera = pytest.mark.skipif(not HAS_CUSTOM_CAMERA, reason="Cycles' Custom camera: Blender 4.5 or newer")
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every lens case rendered once, in one Blender scene (one view per model, each with its own lens)."""
    if not HAS_CUSTOM_CAMERA:
        pytest.skip("Cycles' Custom camera: Blender 4.5 or newer")
    from depth_views.render.job import render_views

    mesh, objects, size = scene()
    path = tmp_path_factory.mktemp("lens") / "scene.ply"
    mesh.export(path)
    lenses = [lens_case(name, W, H) for name in CASES]
    views = [lens_view(i, lens) for i, lens in enumerate(lenses)]
    first = lenses[0]
    options = RenderOptions(resolution=(W, H), lens_model=first.name, lens_params=first.params,
                            passes=("depth", "normal", "mask"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    results = {result.view.index: result for result in render_views(options, mesh=str(path), views=views)}
    return {name: (results[i], lenses[i]) for i, name in enumerate(CASES)}, mesh, objects, size


@needs_custom_camera
@pytest.mark.parametrize("name", list(CASES))
def test_each_lens_model_matches_an_independent_ray_caster(rendered, name):
    results, mesh, objects, size = rendered
    result, lens = results[name]
    assert result.camera_model.lens is lens and result.camera_model.depth_kind == lens.depth_kind
    depth, reference_view = result.depth, result.view.world_to_camera
    ref, _, triangle, valid = reference_depth(lens, reference_view, mesh)
    # the pixels without a ray (beyond a fold or a fisheye's reach) are background, the others see what the
    # reference sees, except where a ray grazes a silhouette within float32 (at most one pixel of 3072)
    assert np.isinf(depth[~valid]).all()
    assert np.sum(np.isfinite(depth) != np.isfinite(ref)) <= 1
    inner = interior(triangle, objects) & np.isfinite(depth)
    assert inner.sum() > 0.5 * np.isfinite(ref).sum() > 200
    error = np.abs(depth[inner] - ref[inner]) / size
    assert error.max() < TOLERANCE, f"{name}: {error.max():.2e}"
    # the same camera for the object mask (one object: the imported file) and the normals
    assert np.array_equal(result.mask > 0, np.isfinite(depth))
    face_normals = np.asarray(mesh.face_normals)[triangle[inner]]
    assert np.abs(np.abs(np.einsum("ij,ij->i", result.normal[inner], face_normals)) - 1).max() < 1e-4
    # the test's power: a principal point moved by half a pixel, or a mirrored image, is far outside
    n = lens.spec.n_focal
    shifted = LensModel(lens.name, W, H, lens.params[:n] + (lens.params[n] + 0.5,) + lens.params[n + 1:])
    ref_shifted = reference_depth(shifted, reference_view, mesh)[0]
    both = inner & np.isfinite(ref_shifted)
    assert np.percentile(np.abs(depth[both] - ref_shifted[both]) / size, 90) > 20 * TOLERANCE
    mirrored = inner & np.isfinite(ref[:, ::-1])
    assert np.percentile(np.abs(depth[mirrored] - ref[:, ::-1][mirrored]) / size, 90) > 20 * TOLERANCE


@needs_custom_camera
def test_lens_colour_is_transparent_where_there_is_no_ray(tmp_path):
    """The colour pass through a folded barrel lens: pixels beyond the fold are transparent (Cycles makes them
    opaque black), pixels that see a surface opaque, and the depth of the same run is the geometry render's."""
    from depth_views.render.job import render_views

    mesh, _, _ = scene()
    path = tmp_path / "scene.ply"
    mesh.export(path)
    lens = lens_case("OPENCV-folded", W, H)
    options = RenderOptions(resolution=(W, H), lens_model=lens.name, lens_params=lens.params,
                            passes=("depth", "rgb"), rgb_samples=4, rgb_denoise=False)
    (result,) = list(render_views(options, mesh=str(path), views=[lens_view(0, lens)]))
    valid = lens.depth_rays()[1]
    assert 0.05 < (~valid).mean() < 0.95
    assert np.all(result.rgb[~valid] == 0)
    hit = np.isfinite(result.depth)
    padded = np.pad(hit, 1)
    inside = hit & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    assert inside.sum() > 100 and np.all(result.rgb[inside][:, 3] > 0.99)


@pytest.mark.skipif(HAS_CUSTOM_CAMERA, reason="this Blender has Cycles' Custom camera")
def test_a_blender_without_the_custom_camera_refuses_a_lens_in_one_line(tmp_path, capsys):
    """Blender 4.2: a lens model is refused up front, in one line naming the Blender it needs, and nothing is
    rendered without its distortion; a file without distortion renders as before."""
    from depth_views.cli import main

    mesh, _, _ = scene()
    path = tmp_path / "scene.ply"
    mesh.export(path)
    lens = lens_case("OPENCV", W, H)
    code = main(["render", str(path), str(path), "--out", str(tmp_path / "out"), "--resolution", str(W), str(H),
                 "--views", "2", "--lens-model", lens.name, "--lens-params", *map(str, lens.params), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert lines[0] == (f"depth-views: error: camera model OPENCV (a lens model) needs Blender 4.5 or newer "
                        f"(Cycles' Custom camera); this is Blender {bpy.app.version_string}")
    assert not (tmp_path / "out" / "scene" / "depth").exists()
    undistorted = (*lens.params[:4], 0.0, 0.0, 0.0, 0.0)   # zero distortion: Blender's own perspective camera
    assert main(["render", str(path), "--out", str(tmp_path / "plain"), "--resolution", str(W), str(H), "--views",
                 "2", "--lens-model", "OPENCV", "--lens-params", *map(str, undistorted), "--quiet"]) == 0


@needs_custom_camera
@pytest.mark.parametrize("family", ["pinhole", "fisheye"])
def test_render_export_and_render_again_gives_the_same_depth(tmp_path, family):
    """A COLMAP model of two lenses rendered, then its exports (COLMAP, transforms.json, cameras.json) given
    back as --cameras: the same lenses, the same depth (bit for bit where the parameters travel exactly)."""
    from camera_files import write_colmap_lenses

    from depth_views.cli import main
    from depth_views.exr_io import read_depth

    mesh, _, _ = scene()
    path = tmp_path / "scene.ply"
    mesh.export(path)
    names = ["OPENCV", "RADIAL"] if family == "pinhole" else ["OPENCV_FISHEYE", "RADIAL_FISHEYE"]
    cameras = []
    for i, name in enumerate(names):
        view = lens_view(i, lens_case(name, W, H))
        cameras.append((view.lens.name, W, H, view.lens.params, view.world_to_camera))
    source = write_colmap_lenses(tmp_path / "sparse", cameras)
    common = ["--resolution", str(W), str(H), "--quiet"]
    assert main(["render", str(path), "--cameras", source, "--out", str(tmp_path / "first"), "--formats",
                 "exr,colmap", *common]) == 0
    first = tmp_path / "first" / "scene"
    document = json.loads((first / "cameras.json").read_text())
    assert [view.get("camera_model", document["camera_model"]) for view in document["views"]] == names
    depth = [read_depth(first / view["files"]["depth"]) for view in document["views"]]
    assert all(np.isfinite(d).mean() > 0.2 for d in depth)
    for export in ("colmap", "transforms.json", "cameras.json"):
        out = tmp_path / export.split(".")[0]
        assert main(["render", str(path), "--cameras", str(first / export), "--out", str(out), *common]) == 0
        again = json.loads((out / "scene" / "cameras.json").read_text())
        for view, expected in zip(again["views"], depth):
            got = read_depth(out / "scene" / view["files"]["depth"])
            assert np.array_equal(np.isfinite(got), np.isfinite(expected)), export
            assert np.abs(got[np.isfinite(got)] - expected[np.isfinite(got)]).max() <= 1e-6, export


@needs_custom_camera
def test_outputs_state_the_lens(tmp_path, capsys):
    """views.npz carries each view's K and lens without pickles, the EXR metadata states the camera model with
    its parameters, and a lens nerfstudio cannot describe (FOV) gets no transforms.json but a warning."""
    import OpenEXR

    from depth_views.cli import main
    from depth_views.outputs import load_views

    mesh, _, _ = scene()
    path = tmp_path / "scene.ply"
    mesh.export(path)
    lens = lens_case("FOV", W, H)
    assert main(["render", str(path), "--out", str(tmp_path / "out"), "--resolution", str(W), str(H), "--views", "2",
                 "--lens-model", "FOV", "--lens-params", *map(str, lens.params), "--passes", "depth,distance,xyz",
                 "--formats", "exr,npz", "--quiet"]) == 0
    err = capsys.readouterr().err
    folder = tmp_path / "out" / "scene"
    assert "no transforms.json: nerfstudio's transforms.json cannot describe FOV cameras" in err
    assert not (folder / "transforms.json").exists()
    with np.load(folder / "views.npz") as npz:           # allow_pickle is off: no object arrays
        assert npz["view_K"].dtype == np.float64 and np.allclose(npz["view_K"][0], lens.K)
        assert list(npz["view_camera_model"]) == ["FOV", "FOV"] and np.array_equal(npz["view_lens_params"][1], lens.params)
        assert str(npz["camera_model"]) == "FOV"
    cameras = json.loads((folder / "cameras.json").read_text())
    with OpenEXR.File(str(folder / cameras["views"][0]["files"]["depth"])) as exr:
        meta = json.loads(exr.header()["depth_views"])
    assert meta["camera_model"]["camera_model"] == "FOV" and meta["camera_model"]["lens_params"] == list(lens.params)
    assert meta["depth_kind"] == "planar"
    loaded = load_views(folder)
    assert loaded["camera_model"].lens.key == lens.key
    hit = np.isfinite(loaded["depth"][0])
    # distance and xyz through the same lens: distance = depth * |(a, b, 1)| and xyz on the ray
    a, b, _ = lens.undistorted_grid()
    assert np.allclose(loaded["distance"][0][hit], (loaded["depth"][0] * np.sqrt(1 + a * a + b * b))[hit], rtol=1e-6)
    c2w = np.linalg.inv(loaded["world_to_camera"][0])
    rays = np.stack([a, b, np.ones_like(a)], -1) * loaded["depth"][0][..., None]
    assert np.allclose(loaded["xyz"][0][hit], (rays[hit] @ c2w[:3, :3].T + c2w[:3, 3]), atol=1e-5)


@needs_custom_camera
def test_a_lens_with_few_pixels_that_have_a_ray_is_warned_about(tmp_path, capsys):
    """A COLMAP OPENCV camera with k1 = -40 (a typo's order of magnitude) folds 17 px from its centre: it
    renders (COLMAP's model is valid), and the run says, naming the file and the lens, that 2 % of the
    pixels have a ray.  The same camera with k1 = -0.12 renders without that warning."""
    from depth_views.cli import main

    mesh, _, _ = scene()
    mesh.export(tmp_path / "scene.ply")
    for k1, warned in (("-40", True), ("-0.12", False)):
        sparse = tmp_path / f"sparse{k1}"
        sparse.mkdir()
        (sparse / "cameras.txt").write_text(f"1 OPENCV 160 120 190.0 170.0 70.5 66.5 {k1} 0.03 0 0\n")
        (sparse / "images.txt").write_text("1 1 0 0 0 0 0 6 1 a.png\n\n")
        assert main(["render", str(tmp_path / "scene.ply"), "--cameras", str(sparse),
                     "--out", str(tmp_path / f"out{k1}"), "--quiet"]) == 0
        warnings = [line for line in capsys.readouterr().err.splitlines() if "have a ray" in line]
        if warned:
            assert warnings == [f"depth-views: warning: {sparse}: camera model OPENCV (190 170 70.5 66.5 -40 0.03 0 0): "
                                "only 2.0 % of the image's pixels have a ray (the others lie beyond the lens's fold "
                                "or reach and render as background); check its distortion parameters"]
        else:
            assert warnings == []


@needs_custom_camera
def test_the_panels_from_file_renders_a_distorted_camera_file(tmp_path):
    """The add-on's Cameras From: From File with a distorted COLMAP model renders what the CLI renders."""
    import depth_views
    from camera_files import write_colmap_lenses
    from meshes import write_blend

    from depth_views.cli import main
    from depth_views.exr_io import read_depth

    mesh, _, _ = scene()
    lens = lens_case("OPENCV", W, H)
    source = write_colmap_lenses(tmp_path / "sparse", [(lens.name, W, H, lens.params, lens_view(0, lens).world_to_camera)])
    blend = write_blend(mesh, tmp_path / "scene.blend")
    mesh.export(tmp_path / "scene.ply")
    depth_views.register()
    try:
        bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
        settings = bpy.context.scene.depth_views
        settings.target, settings.output_dir = "SCENE", str(tmp_path / "panel")
        settings.camera_source, settings.camera_file = "FILE", source
        assert bpy.ops.depth_views.render() == {"FINISHED"}
    finally:
        depth_views.unregister()
    panel = json.loads((tmp_path / "panel" / "cameras.json").read_text())
    assert panel["camera_model"] == "OPENCV" and panel["lens_params"] == list(lens.params)
    assert main(["render", str(tmp_path / "scene.ply"), "--cameras", source, "--out", str(tmp_path / "cli"),
                 "--quiet"]) == 0
    a = read_depth(tmp_path / "panel" / "depth" / "0000.exr")
    b = read_depth(tmp_path / "cli" / "scene" / "depth" / "0000.exr")
    assert np.array_equal(np.isfinite(a), np.isfinite(b)) and np.isfinite(a).mean() > 0.3
    assert np.abs(a[np.isfinite(a)] - b[np.isfinite(a)]).max() <= 1e-5


def test_the_custom_camera_feature_test_follows_the_camera_types_of_this_blender(tmp_path):
    """compositor/compat.py's version differences for lens models, on every supported Blender: the Custom
    camera exists where the camera type enum has CUSTOM (4.5, 5.0), and there Cycles compiles the shipped
    shader; elsewhere (4.2) the one line names the version it needs."""
    from depth_views.compositor.compat import compile_osl, gpu_backends_with_custom_camera
    from depth_views.render.lens_camera import SHADER_FILE

    types = {item.identifier for item in bpy.types.Camera.bl_rna.properties["type"].enum_items}
    problem = custom_camera_problem()
    assert gpu_backends_with_custom_camera() == ("OPTIX",)
    if "CUSTOM" not in types:
        assert problem == (f"needs Blender 4.5 or newer (Cycles' Custom camera); this is Blender "
                           f"{bpy.app.version_string}")
        return
    assert problem is None
    bytecode = compile_osl(SHADER_FILE, str(tmp_path / "lens_camera.oso"))
    assert bytecode.startswith("OpenShadingLanguage") and "shader lens_camera" in bytecode
