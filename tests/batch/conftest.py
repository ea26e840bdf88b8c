"""Fixtures of the batch tests."""

from __future__ import annotations

import pytest

from meshes import asymmetric_mesh, box_obj, tilted_plane, write_mesh


@pytest.fixture
def four_meshes(tmp_path):
    """A source folder of four meshes in three formats, one in a subfolder: boxes/tall.obj,
    boxes/flat.obj (off the origin), asym.ply and plane.stl."""
    src = tmp_path / "src"
    box_obj(src / "boxes" / "tall.obj", size=(0.5, 0.7, 2.0))
    box_obj(src / "boxes" / "flat.obj", size=(2.0, 1.5, 0.3), offset=(1, 2, 3))
    write_mesh(asymmetric_mesh(), src / "asym.ply")
    write_mesh(tilted_plane(), src / "plane.stl")
    return src
