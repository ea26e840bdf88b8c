"""The OFF reader (no bpy): trimesh's reading of a real mesh, the format's variants, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from depth_views.errors import DepthViewsError
from depth_views.inputs.mesh_guard.off import read_off


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


