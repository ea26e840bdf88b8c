"""Pure-Python pieces: the OFF reader, options, output names and camera files (no bpy needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from depth_views.cameras.files import cameras_document, load_cameras, transforms_document, write_json_atomic
from depth_views.cameras import Intrinsics, sample_views
from depth_views.errors import DepthViewsError
from depth_views.inputs.off_format import read_off
from depth_views.options import RenderOptions, clip_range, normalization_matrix, output_folder_names


def test_off_reader_matches_trimesh_on_a_real_mesh(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    mesh = trimesh.creation.icosphere(subdivisions=2)
    mesh.export(tmp_path / "ball.off")
    vertices, faces = read_off(tmp_path / "ball.off")
    loaded = trimesh.load(tmp_path / "ball.off", process=False)
    assert np.allclose(vertices, loaded.vertices) and np.array_equal(faces, loaded.faces)


def test_off_reader_variants(tmp_path):
    path = tmp_path / "quad.off"
    path.write_text("# ModelNet style: counts on the header line\nOFF 5 2 0\n0 0 0\n1 0 0\n1 1 0\n"
                    "0 1 0\n\n0.5 0.5 1  # apex\n4 0 1 2 3\n3 0 1 4 255 0 0\n")
    vertices, faces = read_off(path)
    assert vertices.shape == (5, 3) and faces == [(0, 1, 2, 3), (0, 1, 4)]
    path.write_text("COFF\n3 1 0\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n0 1 0 0 0 255 255\n3 0 1 2\n")
    assert read_off(path)[1] == [(0, 1, 2)]


@pytest.mark.parametrize("text, words", [
    ("PLY\n3 1 0\n", "not an OFF file"),
    ("OFF\n", "no vertex and face counts"),
    ("OFF\n3 1 0\n0 0 0\n1 0 0\n", "file ends after 2"),
    ("OFF\n3 1 0\n0 0 0\n1 0 x\n0 1 0\n3 0 1 2\n", "vertex 1 is not three numbers"),
    ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "only 3 vertices"),
    ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n2 0 1\n", "at least 3"),
    ("OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "file ends after 1"),
    ("OFF 9999999999 1 0\n", "outside"),
])
def test_off_reader_errors_name_the_file_and_problem(tmp_path, text, words):
    path = tmp_path / "bad.off"
    path.write_text(text)
    with pytest.raises(DepthViewsError, match=words) as caught:
        read_off(path)
    assert str(caught.value).startswith(str(path))


def test_output_folder_names_are_safe_and_distinct():
    names = output_folder_names(["a/chair.obj", "b/chair.ply", "../../x.obj", "c/Chair.obj",
                                 "d/..obj", "e/stühl.glb", "f/ .obj"])
    assert names == ["chair", "chair-2", "x", "Chair-3", "obj", "stühl", "input"]


def test_clip_range_and_normalization():
    near, far = clip_range(10.0, 2.0)
    assert near == 4.0 and far == 24.0
    near, far = clip_range(1.0, 2.0)  # camera within the extent: tiny near plane, nothing clipped
    assert 0 < near < 1e-3 and far == 6.0
    matrix = normalization_matrix([1.0, 2.0, 3.0], 4.0)
    assert np.allclose(matrix @ [1, 2, 3, 1], [0, 0, 0, 1])
    assert np.allclose(matrix @ [5, 2, 3, 1], [0.5, 0, 0, 1])


def test_render_options_validate_names_the_option():
    for options, words in [(RenderOptions(clip_start=2, clip_end=1), "--clip-end"),
                           (RenderOptions(radius=0), "--radius"),
                           (RenderOptions(views=0), "--views"),
                           (RenderOptions(resolution=(0, 10)), "width"),
                           (RenderOptions(exr_compression="dwaa"), "--exr-compression"),
                           (RenderOptions(sampling="grid", grid=(2, 2), views=5), "4 views")]:
        with pytest.raises(DepthViewsError, match=words):
            options.validate()
    assert RenderOptions(fov=90.0, resolution=(100, 50)).intrinsics().K[0, 0] == pytest.approx(50.0)


def test_camera_files_round_trip(tmp_path):
    intrinsics = Intrinsics(64, 48)
    views = sample_views(sampling="fibonacci", n_views=3, center=[0, 0, 0], radius=2.0)
    files = [{"depth": f"depth/{v.index:04d}.exr"} for v in views]
    write_json_atomic(str(tmp_path / "cameras.json"),
                      cameras_document(intrinsics, views, files, units="metres", extra={"x": 1}))
    cameras = load_cameras(tmp_path)
    assert cameras["units"] == "metres" and cameras["depth_kind"] == "planar" and cameras["x"] == 1
    assert np.allclose(cameras["views"][2]["world_to_camera"], views[2].world_to_camera)
    transforms = transforms_document(intrinsics, views, files)
    assert transforms["cx"] == 32.0 and transforms["cy"] == 24.0
    assert json.loads(json.dumps(transforms))["frames"][1]["depth_file_path"] == "depth/0001.exr"
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.json"]  # no temporary file left
    with pytest.raises(DepthViewsError, match="no such file"):
        load_cameras(tmp_path / "missing")
