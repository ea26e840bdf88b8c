"""Exports training code reads unchanged (--formats colmap, nerf_synthetic), read back with pycolmap and
our readers, and round trips: render -> export -> --cameras export -> the same depth."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One render of the asymmetric mesh with every camera export (module scope: Blender is slow)."""
    pytest.importorskip("bpy")
    import sys

    sys.modules["bpy"].ops.wm.read_factory_settings(use_empty=True)
    from meshes import asymmetric_mesh, write_mesh

    from depth_views.cli import main

    tmp = tmp_path_factory.mktemp("exports")
    mesh = asymmetric_mesh()
    obj = write_mesh(mesh, tmp / "asym.obj")
    assert main(["render", obj, "--out", str(tmp / "out"), "--resolution", "48", "40", "--views", "8",
                 "--passes", "depth,rgb", "--rgb-samples", "1", "--no-denoise", "--formats", "exr,colmap,nerf_synthetic",
                 "--test-fraction", "0.25", "--quiet"]) == 0
    return mesh, obj, tmp, tmp / "out" / "asym"


def _depths(folder):
    from depth_views.exr_io import read_depth

    document = json.loads(open(os.path.join(folder, "cameras.json")).read())
    return document, [read_depth(os.path.join(folder, v["files"]["depth"])) for v in document["views"]]


def test_colmap_export_reads_back_with_pycolmap(rendered):
    pycolmap = pytest.importorskip("pycolmap")
    _, _, _, folder = rendered
    document, _ = _depths(folder)
    model = pycolmap.Reconstruction(str(folder / "colmap"))
    assert len(model.images) == 8 and len(model.cameras) == 1 and len(model.points3D) > 100
    camera = next(iter(model.cameras.values()))
    K = np.asarray(document["K"])
    assert (camera.width, camera.height) == (48, 40) and camera.model_name == "PINHOLE"
    # pycolmap projects a camera-frame point with COLMAP's convention (pixel centres at +0.5).
    point = np.array([0.1, -0.2, 1.0])
    assert np.allclose(np.ravel(camera.img_from_cam(point)), (K @ point)[:2] + 0.5, atol=1e-9)
    by_name = {image.name: image for image in model.images.values()}
    for view in document["views"]:
        image = by_name[view["files"]["rgb"]]
        pose = image.cam_from_world() if callable(image.cam_from_world) else image.cam_from_world
        assert np.allclose(pose.matrix(), np.asarray(view["world_to_camera"])[:3], atol=1e-9)
        assert os.path.isfile(folder / image.name)
    # Every 3D point lies on the mesh surface it was lifted from: inside the object's bounding box.
    xyz = np.array([p.xyz for p in model.points3D.values()])
    box = np.asarray(document["bounding_box"])
    assert np.all(xyz >= box[0] - 1e-4) and np.all(xyz <= box[1] + 1e-4)


def test_nerf_synthetic_export_is_what_the_loaders_read(rendered):
    from PIL import Image

    _, _, _, folder = rendered
    document, _ = _depths(folder)
    train = json.loads(open(folder / "transforms_train.json").read())
    test = json.loads(open(folder / "transforms_test.json").read())
    assert len(train["frames"]) == 6 and len(test["frames"]) == 2
    # 3D Gaussian Splatting / NeRF loaders: focal = W / (2 tan(camera_angle_x / 2)), image = file_path + ".png".
    focal = 48 / (2 * math.tan(train["camera_angle_x"] / 2))
    assert math.isclose(focal, document["K"][0][0], rel_tol=1e-12)
    views = {v["files"]["rgb"]: v for v in document["views"]}
    for frame in train["frames"] + test["frames"]:
        assert not frame["file_path"].endswith(".png")
        image = frame["file_path"][2:] + ".png"
        assert Image.open(folder / image).size == (48, 40)
        assert np.allclose(frame["transform_matrix"], views[image]["camera_to_world"], atol=0)
        assert os.path.isfile(folder / frame["depth_file_path"])


@pytest.mark.parametrize("export", ["colmap", "transforms_train.json", "transforms.json", "cameras.json"])
def test_round_trip_through_each_export_gives_the_same_depth(rendered, export):
    from depth_views.cli import main

    mesh, obj, tmp, folder = rendered
    document, depths = _depths(folder)
    out = tmp / f"again-{export}"
    assert main(["render", obj, "--out", str(out), "--cameras", str(folder / export), "--quiet"]) == 0
    again, again_depths = _depths(out / "asym")
    wanted = list(range(8))
    if export == "transforms_train.json":
        train = json.loads(open(folder / export).read())["frames"]
        names = [f["file_path"][2:] + ".png" for f in train]
        wanted = [i for i, v in enumerate(document["views"]) if v["files"]["rgb"] in names]
    assert len(again_depths) == len(wanted)
    size = float(np.ptp(mesh.vertices, axis=0).max())
    for depth, index in zip(again_depths, wanted):
        original = depths[index]
        assert np.array_equal(np.isfinite(depth), np.isfinite(original))
        hit = np.isfinite(depth)
        assert np.abs(depth[hit] - original[hit]).max() <= 1e-6 * size
    assert np.allclose(again["views"][0]["K"], document["K"], atol=1e-9)


def test_nerf_synthetic_refuses_what_it_cannot_hold(tmp_path):
    pytest.importorskip("bpy")
    from meshes import asymmetric_mesh, write_mesh

    from depth_views.cli import main

    obj = write_mesh(asymmetric_mesh(), tmp_path / "asym.obj")
    assert main(["render", obj, "--out", str(tmp_path / "a"), "--formats", "exr,nerf_synthetic", "--quiet"]) == 2
    assert main(["render", obj, "--out", str(tmp_path / "b"), "--resolution", "32", "32", "--views", "2",
                 "--passes", "rgb", "--formats", "exr,nerf_synthetic", "--intrinsics", "40", "44", "15.5", "15.5",
                 "--quiet"]) == 1
    assert not (tmp_path / "b" / "asym" / "cameras.json").exists()
