"""The whole RGB-D set on real textured assets from packages (issue 16).

Colour shows the file's textures (no magenta, colour variance), depth is exact against an
independent ray cast (Embree through trimesh, on the mesh trimesh loads from the same file), masks
agree with depth, a missing texture is named, one pose for every view and pass, the xyz pass is
the back-projected depth.  Assets: tests/assets.py (skips, saying which package, when absent).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
trimesh = pytest.importorskip("trimesh")
from PIL import Image  # noqa: E402

from assets import assimp_model, khronos_models, sweethome_furniture  # noqa: E402
from docs_blocks import docs_block  # noqa: E402
from geometry import interior_mask  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_channels, read_depth  # noqa: E402
from repo import ROOT  # noqa: E402

RES = ["--resolution", "64", "64"]
DUCK, DUCK_GLTF = "KhronosSampleModels/Duck/glTF_Binary/Duck.glb", "KhronosSampleModels/Duck/glTF/Duck.gltf"
BOX, BOX_DRACO = "Box/glTF_Binary/Box.glb", "Box/glTF_Binary/Box_Draco.glb"
CESIUM_MAN = "CesiumMan/glTF_Binary/CesiumMan.glb"


# docs/rgbd.md's command is the one every test here runs (on each asset, plus the option under test).
DOC_COMMAND = shlex.split(docs_block("docs/rgbd.md", "command").replace("\\\n", " "))
assert DOC_COMMAND[:5] == ["depth-views", "render", "oakChair.obj", "--out", "out"], DOC_COMMAND
DOC_OPTIONS = DOC_COMMAND[5:]


def render(path, out, *options) -> dict:
    """Render ``path`` with docs/rgbd.md's command (3 views, 64x64, 4 colour samples) into ``out``; its
    cameras.json."""
    code = main(["render", str(path), "--out", str(out), *DOC_OPTIONS, *map(str, options)])
    assert code == 0
    folder = os.path.join(str(out), os.path.splitext(os.path.basename(str(path)))[0])
    with open(os.path.join(folder, "cameras.json"), encoding="utf-8") as stream:
        cameras = json.load(stream)
    cameras["folder"] = folder
    return cameras


def view_arrays(cameras, view) -> dict:
    folder, files = cameras["folder"], view["files"]
    rgba = np.asarray(Image.open(os.path.join(folder, files["rgb"])).convert("RGBA"))
    xyz = read_channels(os.path.join(folder, files["xyz"]))
    return {"depth": read_depth(os.path.join(folder, files["depth"])), "rgba": rgba,
            "mask": np.asarray(Image.open(os.path.join(folder, files["mask"]))),
            "xyz": np.stack([xyz[c] for c in "XYZ"], axis=-1)}


def embree_planar_depth(mesh, K, world_to_camera, width, height) -> np.ndarray:
    """Planar depth at pixel centres by Embree (trimesh), from the stated conventions: OpenCV camera
    axes, pixel (u, v) centred at integer coordinates (cameras.json's K)."""
    pytest.importorskip("embreex")
    from trimesh.ray.ray_pyembree import RayMeshIntersector

    K, world_to_camera = np.asarray(K, dtype=np.float64), np.asarray(world_to_camera, dtype=np.float64)
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1).reshape(-1, 3)
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    origin = -rotation.T @ translation
    directions = rays @ rotation          # camera -> world, row vectors
    locations, index_ray, _ = RayMeshIntersector(mesh).intersects_location(
        np.repeat(origin[None], len(directions), axis=0), directions, multiple_hits=False)
    depth = np.full(len(directions), np.inf)
    depth[index_ray] = (locations - origin) @ rotation[2]
    return depth.reshape(height, width)


def trimesh_of(path) -> "trimesh.Trimesh":
    """The file's triangles in its own frame, as trimesh loads them (no processing)."""
    loaded = trimesh.load(str(path), process=False, force="scene")
    return loaded.to_geometry() if hasattr(loaded, "to_geometry") else loaded.dump(concatenate=True)


def assert_depth_exact(cameras, mesh) -> None:
    size = float(np.ptp(mesh.vertices, axis=0).max())
    width, height = cameras["width"], cameras["height"]
    for view in cameras["views"]:
        depth = view_arrays(cameras, view)["depth"]
        reference = embree_planar_depth(mesh, cameras["K"], view["world_to_camera"], width, height)
        inner = interior_mask(reference)
        both = inner & np.isfinite(reference)
        assert both.sum() > 20
        assert np.array_equal(np.isfinite(depth[inner]), np.isfinite(reference[inner]))
        assert np.abs(depth[both] - reference[both]).max() < 1e-4 * size


def assert_textured_colour(cameras, *, min_std: float = 8.0, coverage: float = 0.05) -> None:
    """Every view: alpha = mask = depth coverage, no magenta, colours vary over the object."""
    for view in cameras["views"]:
        arrays = view_arrays(cameras, view)
        hit = np.isfinite(arrays["depth"])
        assert np.array_equal(arrays["mask"] > 0, hit)
        alpha = arrays["rgba"][..., 3]
        # colour coverage = geometry coverage, up to the anti-aliased silhouette (one pixel)
        assert np.mean((alpha > 127) != hit) < coverage
        colours = arrays["rgba"][..., :3][hit & (alpha > 127)].astype(np.int32)
        magenta = (colours[:, 0] > 200) & (colours[:, 1] < 60) & (colours[:, 2] > 200)
        assert magenta.mean() < 0.01
        assert colours.std(axis=0).max() > min_std


@pytest.fixture(scope="module")
def khronos(tmp_path_factory):
    return khronos_models(tmp_path_factory.mktemp("khronos"), [DUCK, DUCK_GLTF, BOX, BOX_DRACO, CESIUM_MAN])


@pytest.fixture(scope="module")
def oak_chair(tmp_path_factory):
    return sweethome_furniture("oakChair", tmp_path_factory.mktemp("furniture"))


def test_obj_mtl_textures_show_in_colour_and_depth_is_exact(oak_chair, tmp_path):
    cameras = render(oak_chair, tmp_path)
    assert cameras["missing_textures"] == []
    assert_textured_colour(cameras)
    assert_depth_exact(cameras, trimesh_of(oak_chair))
    assert cameras["rgb"]["bounces"] == 3 and cameras["rgb"]["lighting"] == "headlight"


def _mean_colour(cameras) -> np.ndarray:
    pixels = [view_arrays(cameras, v)["rgba"] for v in cameras["views"]]
    return np.array([p[..., :3][p[..., 3] > 250].mean(axis=0) for p in pixels])


def test_mtl_found_by_other_names_and_textures_by_wrong_paths(oak_chair, tmp_path):
    """An absolute mtllib path from another machine, a chair.obj.mtl library, a Windows texture path:
    all find the files beside the OBJ and give the same colour as the untouched asset."""
    source = os.path.dirname(oak_chair)
    reference = _mean_colour(render(oak_chair, tmp_path / "reference"))
    obj = open(oak_chair, encoding="utf-8").read()
    mtl = open(os.path.join(source, "oakChair.mtl"), encoding="utf-8").read()
    cases = {"absolute": (obj.replace("mtllib oakChair.mtl", "mtllib /home/someone/chairs/oakChair.mtl"),
                          {"oakChair.mtl": mtl}),
             "obj_mtl": (obj, {"oakChair.obj.mtl": mtl}),
             "windows_texture": (obj, {"oakChair.mtl": mtl.replace("map_Kd oak.jpg", "map_Kd C:\\Users\\a\\OAK.JPG")})}
    for name, (obj_text, mtls) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "oakChair.obj").write_text(obj_text, encoding="utf-8")
        for mtl_name, text in mtls.items():
            (folder / mtl_name).write_text(text, encoding="utf-8")
        shutil.copy(os.path.join(source, "oak.jpg"), folder / "oak.jpg")
        cameras = render(folder / "oakChair.obj", tmp_path / f"out_{name}")
        assert cameras["missing_textures"] == [], name
        assert np.abs(_mean_colour(cameras) - reference).max() < 3.0, name


def test_missing_texture_is_named_and_never_magenta(oak_chair, tmp_path, capsys):
    folder = tmp_path / "no_texture"
    folder.mkdir()
    for name in ("oakChair.obj", "oakChair.mtl"):
        shutil.copy(os.path.join(os.path.dirname(oak_chair), name), folder / name)
    cameras = render(folder / "oakChair.obj", tmp_path / "out")
    [missing] = cameras["missing_textures"]
    assert missing.startswith("oak.jpg (") and missing.endswith("oak.jpg)")
    assert f"texture {missing} not found" in capsys.readouterr().err
    assert_textured_colour(cameras, min_std=0.0)  # no magenta; the base colour is uniform


def test_gltf_embedded_and_external_images(khronos, tmp_path):
    for relative in (DUCK, DUCK_GLTF):
        cameras = render(khronos[relative], tmp_path / relative.split("/")[-2])
        assert cameras["missing_textures"] == []
        assert_textured_colour(cameras)
        assert_depth_exact(cameras, trimesh_of(khronos[DUCK]))


def test_gltf_draco_depth_is_exact(khronos, tmp_path):
    import glob

    import io_scene_gltf2

    if not glob.glob(os.path.join(os.path.dirname(io_scene_gltf2.__file__), "*extern_draco*")):
        pytest.skip("this Blender's glTF importer ships no Draco decoder (pip bpy 4.2)")
    # trimesh cannot decode Draco, so the reference is the same box without compression.
    draco = render(khronos[BOX_DRACO], tmp_path / "draco")
    assert_depth_exact(draco, trimesh_of(khronos[BOX]))


def test_gltf_missing_external_image_is_named(khronos, tmp_path, capsys):
    folder = tmp_path / "duck"
    shutil.copytree(os.path.dirname(khronos[DUCK_GLTF]), folder)
    os.remove(folder / "DuckCM.png")
    cameras = render(folder / "Duck.gltf", tmp_path / "out")
    assert [t.split(" ")[0] for t in cameras["missing_textures"]] == ["DuckCM.png"]
    assert "DuckCM.png" in capsys.readouterr().err
    assert_textured_colour(cameras, min_std=0.0)


def test_fbx_with_lights_renders_and_ascii_fbx_still_fails(tmp_path, capsys):
    spider = assimp_model("FBX/spider.fbx")
    cameras = render(spider, tmp_path, "--rgb-lighting", "auto")
    assert cameras["rgb"]["lighting"] == "file"   # the file has lights
    assert len(cameras["missing_textures"]) == 4  # its textures point at D:/projects/...
    for view in cameras["views"]:
        arrays = view_arrays(cameras, view)
        assert np.array_equal(arrays["mask"] > 0, np.isfinite(arrays["depth"]))
    ascii_fbx = assimp_model("FBX/embedded_ascii/box.FBX")
    assert main(["render", ascii_fbx, "--out", str(tmp_path / "ascii"), "--views", "1", *RES, "--quiet"]) == 1
    assert "ASCII FBX" in capsys.readouterr().err


def test_fbx_textures_beside_the_file_are_found_whatever_path_it_gives(tmp_path):
    """spider.fbx names its textures D:/projects/.../OBJ/*.jpg; copied beside it they are found."""
    spider = assimp_model("FBX/spider.fbx")
    folder = tmp_path / "spider"
    folder.mkdir()
    shutil.copy(spider, folder / "spider.fbx")
    for name in ("drkwood2.jpg", "engineflare1.jpg", "SpiderTex.jpg", "wal67ar_small.jpg"):
        shutil.copy(assimp_model(f"OBJ/{name}"), folder / name)
    found = render(folder / "spider.fbx", tmp_path / "found", "--rgb-lighting", "white")
    assert found["missing_textures"] == []
    lost = render(spider, tmp_path / "lost", "--rgb-lighting", "white")
    assert len(lost["missing_textures"]) == 4
    for view_found, view_lost in zip(found["views"], lost["views"]):
        assert np.array_equal(view_arrays(found, view_found)["depth"], view_arrays(lost, view_lost)["depth"])
    # (Blender's FBX importer reads this file's materials as fully transparent, alpha 0, so its colour
    # is empty with or without textures; the textures are found and loaded all the same.)


def test_lighting_choices_differ_and_are_recorded(khronos, tmp_path):
    means = {}
    for lighting in ("headlight", "white"):
        cameras = render(khronos[DUCK], tmp_path / lighting, "--rgb-lighting", lighting)
        assert cameras["rgb"]["lighting"] == lighting
        means[lighting] = _mean_colour(cameras).mean()
    # A white environment of strength 1 lights a diffuse surface far more than the dim ambient + sun.
    assert means["white"] > means["headlight"] + 10


def test_animated_skinned_pose_is_one_frame_for_every_view_and_pass(khronos, tmp_path):
    """CesiumMan (skinned, animated): --frame chooses the pose; depth, mask and colour show it alike."""
    coverage = {}
    for frame in (1, 20):
        cameras = render(khronos[CESIUM_MAN], tmp_path / f"f{frame}", "--frame", frame, "--views", "2")
        assert cameras["frame"] == frame and "--frame" in cameras["pose"]
        for view in cameras["views"]:
            arrays = view_arrays(cameras, view)
            hit = np.isfinite(arrays["depth"])
            assert np.array_equal(arrays["mask"] > 0, hit)
            assert np.mean((arrays["rgba"][..., 3] > 127) != hit) < 0.05
        coverage[frame] = [np.isfinite(view_arrays(cameras, v)["depth"]) for v in cameras["views"]]
        assert cameras["bounding_box"]
    assert any(np.mean(a != b) > 0.005 for a, b in zip(coverage[1], coverage[20]))
    default = render(khronos[CESIUM_MAN], tmp_path / "default", "--views", "2")
    assert default["frame"] == 1 and "opens in" in default["pose"]


def test_xyz_pass_is_the_surface_point_of_every_pixel(khronos, tmp_path):
    mesh = trimesh_of(khronos[DUCK])
    cameras = render(khronos[DUCK], tmp_path)
    size = float(np.ptp(mesh.vertices, axis=0).max())
    for view in cameras["views"]:
        arrays = view_arrays(cameras, view)
        hit = np.isfinite(arrays["depth"])
        assert np.array_equal(np.isfinite(arrays["xyz"]).all(axis=-1), hit)
        # the camera sees each point at its depth along the optical axis
        world_to_camera = np.asarray(view["world_to_camera"])
        camera = arrays["xyz"][hit] @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
        assert np.abs(camera[:, 2] - arrays["depth"][hit]).max() < 1e-5 * size
        # ... and projects back onto its own pixel centre
        K = np.asarray(cameras["K"])
        projected = camera @ K.T
        rows, columns = np.nonzero(hit)
        assert np.abs(projected[:, 0] / projected[:, 2] - columns).max() < 1e-3
        assert np.abs(projected[:, 1] / projected[:, 2] - rows).max() < 1e-3
    normalised = render(khronos[DUCK], tmp_path / "nocs", "--normalize")
    for view in normalised["views"]:
        xyz = view_arrays(normalised, view)["xyz"]
        radius = np.linalg.norm(xyz[np.isfinite(xyz).all(axis=-1)], axis=-1)
        assert radius.max() <= 0.5 + 1e-5 and radius.max() > 0.3


def _cutout_glb(path) -> None:
    """A glTF ``alphaMode: MASK`` leaf: a green square whose left half (x < 0) has alpha 0, 0.5 in
    front of a red box (file frame, +z towards the leaf's front)."""
    from trimesh.visual.material import PBRMaterial
    from trimesh.visual.texture import TextureVisuals

    texture = np.zeros((8, 8, 4), dtype=np.uint8)
    texture[..., 1] = 255
    texture[:, 4:, 3] = 255                     # opaque where u > 0.5, i.e. x > 0
    leaf = trimesh.Trimesh([[-1, -1, 0.5], [1, -1, 0.5], [1, 1, 0.5], [-1, 1, 0.5]], [[0, 1, 2], [0, 2, 3]],
                           process=False)
    leaf.visual = TextureVisuals(uv=[[0, 0], [1, 0], [1, 1], [0, 1]], material=PBRMaterial(
        baseColorTexture=Image.fromarray(texture, "RGBA"), alphaMode="MASK", alphaCutoff=0.5,
        metallicFactor=0.0, doubleSided=True))
    box = trimesh.creation.box(extents=(1.6, 1.6, 0.4))
    box.apply_translation((0, 0, -0.5))
    box.visual = TextureVisuals(material=PBRMaterial(baseColorFactor=[255, 0, 0, 255], metallicFactor=0.0))
    trimesh.Scene({"leaf": leaf, "box": box}).export(str(path))


def test_alpha_cutout_is_see_through_in_colour_and_in_depth_with_keep_transparency(tmp_path):
    path = tmp_path / "leaf.glb"
    _cutout_glb(path)
    seen_through = 0
    for keep in (False, True):
        cameras = render(path, tmp_path / f"keep{keep}", "--views", "6", *(["--keep-transparency"] if keep else []))
        for view in cameras["views"]:
            arrays = view_arrays(cameras, view)
            hit = np.isfinite(arrays["depth"])
            assert np.array_equal(arrays["mask"] > 0, hit)
            xyz = arrays["xyz"][hit]
            on_leaf = np.abs(xyz[:, 2] - 0.5) < 1e-3
            cut = on_leaf & (xyz[:, 0] < -0.05)          # the leaf's transparent half
            if keep:
                assert not cut.any()                    # depth and mask see through it
                continue
            # opaque depth stops at the whole leaf; colour sees through its transparent half
            rgba = arrays["rgba"][hit][cut]
            seen_through += len(rgba)
            green = (rgba[:, 1] > 100) & (rgba[:, 0] < 60) & (rgba[:, 3] > 200)
            assert not green.any()
    assert seen_through > 50


def test_docs_contact_sheets_script_tiles_colour_depth_normal_mask_per_view(tmp_path):
    """examples/rgbd_sheets.py (docs/rgbd.md's images), quickly: one row of four tiles per view."""
    import importlib.util

    sweethome_furniture("oakChair", tmp_path / "probe")  # skips without the package
    spec = importlib.util.spec_from_file_location(
        "rgbd_sheets", os.path.join(ROOT, "examples", "rgbd_sheets.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--docs", str(tmp_path / "docs"), "--views", "2", "--resolution", "32", "--samples", "2"]) == 0
    for name in script.ASSETS:
        sheet = np.asarray(Image.open(tmp_path / "docs" / f"rgbd_{name}.png").convert("RGB"))
        assert sheet.shape[1] >= 4 * 32 and sheet.shape[0] >= 2 * 32


def test_rgbd_benchmark_script_runs_and_scores(oak_chair, tmp_path, capsys):
    """benchmarks/rgbd.py (docs/rgbd.md), tiny: one asset, two views, every setting timed and scored."""
    import importlib.util
    import sys

    benchmarks = os.path.join(ROOT, "benchmarks")
    sys.path.insert(0, benchmarks)
    spec = importlib.util.spec_from_file_location("rgbd_bench", os.path.join(benchmarks, "rgbd.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows_file = tmp_path / "rows.json"
    assert bench.main(["--assets", "oakChair", "--views", "2", "--resolution", "32", "--samples", "2",
                       "--reference-samples", "8", "--work-dir", str(tmp_path / "work"), "--json", str(rows_file)]) == 0
    rows = {row["setting"]: row for row in json.loads(rows_file.read_text())}
    assert set(rows) == {"ours", "ours-no-denoise", "geometry"}
    assert all(row["cpu_s"] > 0 and row["peak_rss_mb"] > 50 for row in rows.values())
    assert 15 < rows["ours"]["psnr_object_db"] < 100 and "psnr_db" not in rows["geometry"]
    assert "| oakChair | ours |" in capsys.readouterr().out


TEXTURE_TRANSFORM = "KhronosSampleModels/TextureTransformTest/glTF/TextureTransformTest.gltf"


def test_gltf_khr_texture_transform_reaches_the_colour(tmp_path):
    """KHR_texture_transform (Khronos TextureTransformTest): three squares share UV.png (a 2 x 2 atlas) and
    one UV layout spanning half of it, with offsets (0.5, 0), (0, 0.5) and (0.5, 0.5).  Seen head-on, each
    square shows the quadrant its offset selects (read from UV.png itself: top-right, bottom-left,
    bottom-right; glTF's v runs down the image); without the transform all three would show the top-left one."""
    path = khronos_models(tmp_path / "khronos", [TEXTURE_TRANSFORM])[TEXTURE_TRANSFORM]
    scene = trimesh.load(path)
    squares = {}
    for name in ("Offset U", "Offset V", "Offset UV"):
        matrix, geometry = scene.graph[name]
        squares[name] = trimesh.transform_points(scene.geometry[geometry].bounds, matrix)
    size, distance = 256, 12.0
    focal = (size / 2) * distance / 1.7   # the 3.4-unit-wide grid fills the image, nearly orthographic
    cameras = {"camera_model": "OPENCV", "w": size, "h": size, "fl_x": focal, "fl_y": focal,
               "cx": size / 2, "cy": size / 2,
               "frames": [{"file_path": "front.png", "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0.5],
                                                                          [0, 0, 1, distance], [0, 0, 0, 1]]}]}
    (tmp_path / "front.json").write_text(json.dumps(cameras))
    assert main(["render", path, "--out", str(tmp_path / "out"), "--quiet", "--cameras", str(tmp_path / "front.json"),
                 "--passes", "depth,rgb", "--rgb-samples", "16", "--rgb-lighting", "white"]) == 0
    folder = tmp_path / "out" / "TextureTransformTest"
    view = json.loads((folder / "cameras.json").read_text())["views"][0]
    rgb = np.asarray(Image.open(folder / view["files"]["rgb"]).convert("RGB")).astype(np.float64)
    K, world_to_camera = np.asarray(view["K"]), np.asarray(view["world_to_camera"])
    atlas = np.asarray(Image.open(os.path.join(os.path.dirname(path), "UV.png")).convert("RGB")).astype(np.float64)
    h, w = atlas.shape[0] // 2, atlas.shape[1] // 2
    quadrants = {"top-left": atlas[:h, :w], "top-right": atlas[:h, w:], "bottom-left": atlas[h:, :w],
                 "bottom-right": atlas[h:, w:]}
    quadrant_colour = {name: q.reshape(-1, 3).mean(axis=0) for name, q in quadrants.items()}
    expected = {"Offset U": "top-right", "Offset V": "bottom-left", "Offset UV": "bottom-right"}
    for name, bounds in squares.items():
        corners = np.c_[bounds, np.ones(2)] @ world_to_camera.T
        uv = (corners[:, :3] @ K.T)[:, :2] / corners[:, 2:3]
        (u0, v0), (u1, v1) = np.floor(uv.min(axis=0)).astype(int), np.ceil(uv.max(axis=0)).astype(int)
        assert u1 - u0 > 40 and v1 - v0 > 40
        inset_u, inset_v = (u1 - u0) // 10, (v1 - v0) // 10
        colour = rgb[v0 + inset_v:v1 - inset_v, u0 + inset_u:u1 - inset_u].reshape(-1, 3).mean(axis=0)
        distances = {q: float(np.linalg.norm(colour - c)) for q, c in quadrant_colour.items()}
        assert min(distances, key=distances.get) == expected[name], (name, colour.round(), distances)
        assert distances[expected[name]] < 0.5 * distances["top-left"], (name, distances)


DRAGON = "KhronosSampleModels/DragonAttenuation/glTF/DragonAttenuation.gltf"


def test_gltf_transmission_shows_in_colour_and_depth_stays_on_the_surface(tmp_path):
    """KHR_materials_transmission (Khronos DragonAttenuation, a glass dragon before a cloth backdrop): the
    colour of the dragon's pixels changes when the file's transmission is taken away (same file, that one
    extension deleted), while depth and masks are identical: depth is the dragon's surface either way."""
    path = khronos_models(tmp_path / "khronos", [DRAGON])[DRAGON]
    document = json.loads(open(path, encoding="utf-8").read())
    opaque = [m for m in document["materials"] if "KHR_materials_transmission" in m.get("extensions", {})]
    assert opaque, "the sample model lost its transmission"
    for material in opaque:
        del material["extensions"]["KHR_materials_transmission"]
    opaque_path = os.path.join(os.path.dirname(path), "DragonOpaque.gltf")
    with open(opaque_path, "w", encoding="utf-8") as stream:
        json.dump(document, stream)
    options = ["--views", "2", "--resolution", "128", "128", "--quiet", "--passes", "depth,mask,rgb",
               "--rgb-samples", "16", "--rgb-lighting", "white", "--elevation", "10", "30"]
    for name, source in (("glass", path), ("opaque", opaque_path)):
        assert main(["render", source, "--out", str(tmp_path / name), *options]) == 0
    glass = json.loads((tmp_path / "glass" / "DragonAttenuation" / "cameras.json").read_text())
    opaque_doc = json.loads((tmp_path / "opaque" / "DragonOpaque" / "cameras.json").read_text())
    dragon_id = next(int(i) for i, n in glass["object_ids"].items() if n.startswith("Dragon"))
    changed = []
    for one, two in zip(glass["views"], opaque_doc["views"]):
        a = tmp_path / "glass" / "DragonAttenuation"
        b = tmp_path / "opaque" / "DragonOpaque"
        np.testing.assert_array_equal(read_depth(a / one["files"]["depth"]), read_depth(b / two["files"]["depth"]))
        mask = np.asarray(Image.open(a / one["files"]["mask"]))
        np.testing.assert_array_equal(mask, np.asarray(Image.open(b / two["files"]["mask"])))
        dragon = mask == dragon_id
        assert dragon.sum() > 300
        colour_a = np.asarray(Image.open(a / one["files"]["rgb"]).convert("RGB")).astype(float)[dragon]
        colour_b = np.asarray(Image.open(b / two["files"]["rgb"]).convert("RGB")).astype(float)[dragon]
        changed.append(float(np.abs(colour_a - colour_b).mean()))
    assert min(changed) > 10, changed
