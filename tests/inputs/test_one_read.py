"""One read of a mesh file before Blender's (issue 19): the guard opens the file once and hands on what
the import needs (an OBJ's material libraries, the parsed OFF mesh); a render opens an OBJ or a PLY at
most twice in all, Blender's importer included.

Python-level opens are counted with an audit hook (``open`` events: ``open``, ``io.open``, ``os.open``);
Blender's C++ importers open the file with ``fopen``, which only strace sees.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import make_corpus
from depth_views.errors import DepthViewsError
from depth_views.inputs.mesh_guard import GUARDED_SUFFIXES, MeshFileFacts, guard_mesh_file

_RECORDING: list = []   # [list of opened paths] while a test records
_HOOKED = []


def _audit(event, args):
    if event == "open" and _RECORDING and isinstance(args[0], (str, bytes, os.PathLike)):
        _RECORDING[0].append(os.path.realpath(os.fsdecode(args[0])))


@pytest.fixture
def opened():
    """A list that gets the real path of every file this process opens (Python-level) during the test."""
    if not _HOOKED:
        sys.addaudithook(_audit)  # audit hooks cannot be removed: this one records only inside the fixture
        _HOOKED.append(True)
    paths: list = []
    _RECORDING.append(paths)
    yield paths
    _RECORDING.clear()


def opens_of(paths, path) -> int:
    return paths.count(os.path.realpath(path))


def box_files(folder):
    """The corpus box (8 vertices, 12 triangles) in every guarded layout; OBJ with two material libraries."""
    vertices, faces = make_corpus.box_mesh()
    obj = b"mtllib box.mtl\r\nmtllib  other lib.mtl \n" + make_corpus.obj_bytes(vertices, faces)
    files = {
        "box.obj": obj,
        "binary.ply": make_corpus.ply_bytes(vertices, faces),
        "ascii.ply": make_corpus.ply_bytes(vertices, faces, binary=False),
        "binary.stl": make_corpus.stl_binary_bytes(vertices, faces),
        "ascii.stl": make_corpus.stl_ascii_bytes(vertices, faces),
        "box.off": make_corpus.off_bytes(vertices, faces),
        "box.glb": make_corpus.glb_bytes(vertices, faces),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    document, binary = make_corpus.gltf_parts(vertices, faces, uri="box.bin")
    (folder / "box.bin").write_bytes(binary)
    (folder / "box.gltf").write_text(json.dumps(document))
    return [folder / name for name in [*files, "box.gltf"]]


def test_the_guard_opens_the_file_once_and_hands_on_what_the_import_needs(tmp_path, opened):
    vertices, faces = make_corpus.box_mesh()
    paths = box_files(tmp_path)
    assert {os.path.splitext(p)[1] for p in paths} == set(GUARDED_SUFFIXES)
    facts = {}
    for path in paths:
        before = len(opened)
        facts[path.name] = guard_mesh_file(path)
        assert opens_of(opened[before:], path) == 1, path.name
        if path.name == "box.gltf":
            assert opens_of(opened[before:], tmp_path / "box.bin") == 1   # its buffer, once
    for name, fact in facts.items():
        assert isinstance(fact, MeshFileFacts) and fact.path == str(tmp_path / name)
        assert fact.format == os.path.splitext(name)[1][1:] and fact.non_finite == 0, name
    assert facts["box.obj"].material_libraries == ("box.mtl", "other lib.mtl")
    assert all(fact.material_libraries == () for name, fact in facts.items() if name != "box.obj")
    off_vertices, off_faces = facts["box.off"].parsed_mesh
    assert np.array_equal(off_vertices, vertices) and off_faces == [tuple(face) for face in faces.tolist()]
    assert all(fact.parsed_mesh is None for name, fact in facts.items() if name != "box.off")


def test_files_of_other_types_are_not_opened(tmp_path, opened):
    for name in ("scene.fbx", "scene.blend"):
        (tmp_path / name).write_bytes(b"not looked at")
        before = len(opened)
        fact = guard_mesh_file(tmp_path / name)
        assert fact.non_finite is None and fact.format == name.split(".")[1]
        assert opened[before:] == []


def test_a_refused_file_is_opened_once_too(tmp_path, opened):
    vertices, faces = make_corpus.box_mesh()
    vertices[3] = (np.nan, 0, 0)
    path = tmp_path / "nan.ply"
    path.write_bytes(make_corpus.ply_bytes(vertices, faces))
    before = len(opened)
    with pytest.raises(DepthViewsError, match="1 vertices have NaN"):
        guard_mesh_file(path)
    assert opens_of(opened[before:], path) == 1


# --------------------------------------------------------------------------------------------
# With Blender: load_input and a whole render.

def textured_obj(folder):
    """An OBJ naming 'Box.MTL' while the file beside it is 'box.mtl' (found only by the MTL search)."""
    vertices, faces = make_corpus.box_mesh()
    (folder / "box.mtl").write_text("newmtl red_paint\nKd 0.8 0.1 0.1\n")
    path = folder / "box.obj"
    path.write_bytes(b"mtllib Box.MTL\nusemtl red_paint\n" + make_corpus.obj_bytes(vertices, faces))
    return path


def test_load_input_opens_the_mesh_once_in_python(tmp_path, opened):
    pytest.importorskip("bpy")
    import bpy

    from depth_views.inputs.scene_import import checked_geometry, load_input

    vertices, faces = make_corpus.box_mesh()
    paths = [textured_obj(tmp_path)]
    for name, data in (("box.ply", make_corpus.ply_bytes(vertices, faces)),
                       ("box.off", make_corpus.off_bytes(vertices, faces)),
                       ("box.stl", make_corpus.stl_binary_bytes(vertices, faces))):
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    for path in paths:
        before = len(opened)
        loaded = load_input(path)
        assert opens_of(opened[before:], path) == 1, path.name  # the guard; Blender's fopen is not seen here
        world = checked_geometry(loaded)
        assert np.allclose(np.unique(world, axis=0), np.unique(vertices, axis=0), atol=1e-6), path.name
        if path.suffix == ".obj":  # the MTL the guard's mtllib names led to, under the name the OBJ gives
            assert [m.name for m in bpy.data.materials] == ["red_paint"]
            assert np.allclose(bpy.data.materials["red_paint"].diffuse_color[:3], (0.8, 0.1, 0.1))


def test_mtl_substitutes_take_the_names_the_guard_read(tmp_path):
    pytest.importorskip("bpy")
    from depth_views.inputs.textures import mtl_substitutes

    path = textured_obj(tmp_path)
    names = guard_mesh_file(path).material_libraries
    assert names == ("Box.MTL",)
    assert mtl_substitutes(str(path), names) == {"Box.MTL": str(tmp_path / "box.mtl")}
    assert mtl_substitutes(str(path), ()) == {}


def test_a_render_opens_an_obj_and_a_ply_at_most_twice(tmp_path):
    """strace over ``depth-views render``: the guard's open and Blender importer's, nothing more."""
    pytest.importorskip("bpy")
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    vertices, faces = make_corpus.box_mesh()
    obj = textured_obj(tmp_path)
    ply = tmp_path / "box.ply"
    ply.write_bytes(make_corpus.ply_bytes(vertices, faces))
    log = tmp_path / "opens.log"
    command = [strace, "-f", "-qq", "-y", "-e", "trace=open,openat,openat2", "-o", str(log),
               sys.executable, "-m", "depth_views", "render", str(obj), str(ply), "--out", str(tmp_path / "out"),
               "--resolution", "32", "32", "--views", "1", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["box", "box-2"]
    text = log.read_text(errors="replace")
    for path in (obj, ply):
        # -y prints the file an fd refers to: opens through the MTL search's symlink count too.
        opens = re.findall(r"= \d+<" + re.escape(os.path.realpath(path)) + ">", text)
        assert 1 <= len(opens) <= 2, (path.name, len(opens))
