"""mesh_guard: the pre-import refusal of meshes Blender would crash on, hang on or silently alter (no bpy)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import make_corpus
from depth_views.errors import DepthViewsError
from depth_views.inputs.mesh_guard import guard_mesh_file

FUZZ_EXAMPLES = int(os.environ.get("DEPTH_VIEWS_FUZZ_EXAMPLES", "200"))

REFUSED_BEFORE_IMPORT = {  # corpus file: words of its error (Blender would crash, hang or misread)
    "billion_vertices_binary.ply": "3000000000 vertex elements",
    "billion_vertices_ascii.ply": "3000000000 vertex elements",
    "billion_faces.ply": "3000000000 face elements",
    "billion_triangles.stl": "4294967295 triangles",
    "billion_vertices.glb": "3000000000 elements",
    "truncated.ply": "truncated",
    "truncated.stl": "truncated",
    "truncated.glb": "truncated",
    "truncated_header.glb": "truncated",
    "index_range.obj": "vertex 100",
    "index_negative.obj": "vertex -50",
    "index_range.ply": "vertex 99",
    "index_negative.ply": "vertex -5",
    "index_range.glb": "vertex 99",
    "missing_bin.gltf": "missing_buffer.bin",
    "escaping_uri.gltf": "buffer 0",
    "nan.obj": "NaN", "nan_binary.ply": "NaN", "nan_ascii.ply": "NaN", "nan_binary.stl": "NaN",
    "nan_ascii.stl": "NaN", "nan.off": "NaN", "nan.glb": "NaN", "overflow.obj": "NaN",
    "utf16.obj": "NUL bytes",
    "empty.ply": "not a PLY file", "empty.glb": "is empty", "empty.gltf": "not valid",
    "not_json.gltf": "not valid", "png_named.glb": "not a GLB file",
}


def test_corpus_files_are_refused_before_import_with_one_line(mesh_corpus):
    folder, cases = mesh_corpus
    names = {case.name for case in cases}
    assert set(REFUSED_BEFORE_IMPORT) <= names
    for name, words in REFUSED_BEFORE_IMPORT.items():
        path = str(folder / name)
        with pytest.raises(DepthViewsError) as caught:
            guard_mesh_file(path)
        message = str(caught.value)
        assert message.startswith(path + ": ") and words in message and "\n" not in message, message


def test_good_corpus_files_pass(mesh_corpus):
    folder, cases = mesh_corpus
    for case in cases:
        if case.expect is None:
            guard_mesh_file(folder / case.name)


def good_meshes(folder):
    """The same box in every checked layout, including the awkward but valid ones."""
    vertices, faces = make_corpus.box_mesh()
    quads = np.array([[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]])
    files = {
        "binary.ply": make_corpus.ply_bytes(vertices, faces),
        "ascii.ply": make_corpus.ply_bytes(vertices, faces, binary=False),
        "quads.ply": make_corpus.ply_bytes(vertices, quads),
        "mixed.ply": make_corpus.ply_bytes(vertices, [*faces[:10], [0, 1, 3, 2]], binary=False),
        "mixed_binary.ply": make_corpus.ply_bytes(vertices, [*faces[:10], [0, 1, 3, 2]]),
        "crlf.ply": make_corpus.ply_bytes(vertices, faces, binary=False).replace(b"\n", b"\r\n"),
        "box.obj": make_corpus.obj_bytes(vertices, faces),
        "relative.obj": make_corpus.obj_bytes(vertices, []) + b"f -8 -7 -5\nf 1/1/1 2//2 3\n",
        "binary.stl": make_corpus.stl_binary_bytes(vertices, faces),
        "ascii.stl": make_corpus.stl_ascii_bytes(vertices, faces),
        "box.glb": make_corpus.glb_bytes(vertices, faces),
        "box.off": make_corpus.off_bytes(vertices, faces),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    document, binary = make_corpus.gltf_parts(vertices, faces, uri="box data.bin")
    (folder / "box data.bin").write_bytes(binary)
    (folder / "box.gltf").write_text(__import__("json").dumps(document))
    files["box.gltf"] = (folder / "box.gltf").read_bytes()
    return files


def test_valid_layouts_pass(tmp_path):
    for name in good_meshes(tmp_path):
        guard_mesh_file(tmp_path / name)


def test_files_written_by_trimesh_pass(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    from meshes import asymmetric_mesh

    mesh = asymmetric_mesh()
    for name in ("a.ply", "a.obj", "a.stl", "a.glb", "a.off"):
        mesh.export(str(tmp_path / name))
        guard_mesh_file(tmp_path / name)
    (tmp_path / "ascii.ply").write_bytes(trimesh.exchange.ply.export_ply(mesh, encoding="ascii"))
    guard_mesh_file(tmp_path / "ascii.ply")


@pytest.mark.parametrize("text, words", [
    ("element vertex abc", "not valid"), ("element vertex", "not valid"), ("element vertex -1", "not valid"),
    ("element vertex 2147483648", "more than any importer"), ("property blob x", "not valid"),
    ("format ascii 2.0 extra", "not valid"), ("property list uchar int", "not valid")])
def test_ply_header_lines_that_crash_blender_are_refused(tmp_path, text, words):
    vertices, faces = make_corpus.box_mesh()
    good = make_corpus.ply_bytes(vertices, faces, binary=False).decode()
    line = {"element": "element vertex 8", "property": "property float x", "format": "format ascii 1.0"}
    if text.startswith("property list"):
        line["property"] = "property list uchar int vertex_indices"
    path = tmp_path / "bad header.ply"
    path.write_text(good.replace(line[text.split()[0]], text, 1))
    with pytest.raises(DepthViewsError, match=words):
        guard_mesh_file(path)


@pytest.mark.parametrize("old, new, words", [
    (b"\n3 0 1 3\n", b"\n3 0 x 3\n", "integer"),
    (b"\n3 0 1 3\n", b"\n3 0 1\n", "list"),
    (b"\n3 0 1 3\n", b"\n-3 0 1 3\n", "list"),
    (b"\n0.25 0.5 1.0\n", b"\nfoo 0.5 1.0\n", "number"),
    (b"\n0.25 0.5 1.0\n", b"\n0.25 0.5\n", "values")])
def test_ascii_ply_data_blender_would_misread_is_refused(tmp_path, old, new, words):
    vertices, faces = make_corpus.box_mesh()
    data = make_corpus.ply_bytes(vertices, faces, binary=False)
    assert old in data
    path = tmp_path / "bad data.ply"
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(DepthViewsError, match=words):
        guard_mesh_file(path)


def test_declared_counts_are_checked_against_the_size_without_reading(tmp_path, monkeypatch):
    """A 2e9-face header on a 400-byte file is refused from the header and the file size alone."""
    vertices, faces = make_corpus.box_mesh()
    path = tmp_path / "big claim.ply"
    path.write_bytes(make_corpus.ply_bytes(vertices, faces, face_count=2_000_000_000))
    monkeypatch.setattr(np, "frombuffer", None)  # no data may be read for such a file
    with pytest.raises(DepthViewsError, match="more than the file can hold"):
        guard_mesh_file(path)


class Seeds(dict):
    def __repr__(self):
        return f"<{len(self)} seed meshes>"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mesh seeds")
    files = good_meshes(folder)
    return Seeds({name: data for name, data in files.items() if not name.endswith(".gltf")})


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(["binary.ply", "ascii.ply", "mixed_binary.ply", "box.obj", "relative.obj",
                             "binary.stl", "ascii.stl", "box.glb", "box.off"]),
       edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.just(1.0), st.floats(0, 1)))
def test_fuzzed_meshes_raise_only_depth_views_error_naming_the_file(seeds, tmp_path, seed, edits, cut):
    buffer = bytearray(seeds[seed])
    for where, value in edits:
        buffer[int(where * (len(buffer) - 1))] = value
    path = tmp_path / ("fuzzed mesh é" + os.path.splitext(seed)[1])
    path.write_bytes(bytes(buffer[:int(cut * len(buffer))]))
    try:
        guard_mesh_file(path)
    except DepthViewsError as error:
        assert str(error).startswith(str(path) + ": ") and "\n" not in str(error), str(error)
