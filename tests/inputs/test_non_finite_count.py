"""The guard's count of non-finite vertices (mesh_guard.count_non_finite_vertices) on files written by
trimesh, by hand and with numpy (no bpy)."""

import numpy as np
import pytest
import trimesh

from depth_views.errors import DepthViewsError
from depth_views.inputs import mesh_guard
from depth_views.inputs.mesh_guard import count_non_finite_vertices, reading

# Two triangles that share no vertex, so the per-corner STL count equals the per-vertex count.
GOOD = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
FACES = np.array([[0, 1, 2], [3, 4, 5]])
BAD_CASES = {  # name: ({vertex index: replacement}, expected count)
    "clean": ({}, 0),
    "one_nan": ({1: (np.nan, 1.0, 0.0)}, 1),
    "one_inf": ({4: (1.0, np.inf, 1.0)}, 1),
    "two_bad": ({0: (0.0, 0.0, np.nan), 5: (-np.inf, 1.0, 1.0)}, 2),
}


def write_off(mesh, path):
    lines = ["OFF", "# written by hand", f"{len(mesh.vertices)} {len(mesh.faces)} 0"]
    lines += [" ".join(repr(float(value)) for value in vertex) for vertex in mesh.vertices]
    lines += ["3 " + " ".join(str(index) for index in face) for face in mesh.faces]
    path.write_text("\n".join(lines) + "\n")


WRITERS = {
    "obj": (".obj", lambda mesh, path: mesh.export(path)),
    "ply_binary": (".ply", lambda mesh, path: path.write_bytes(
        trimesh.exchange.ply.export_ply(mesh, encoding="binary"))),
    "ply_ascii": (".ply", lambda mesh, path: path.write_bytes(
        trimesh.exchange.ply.export_ply(mesh, encoding="ascii"))),
    "stl_binary": (".stl", lambda mesh, path: path.write_bytes(trimesh.exchange.stl.export_stl(mesh))),
    "stl_ascii": (".stl", lambda mesh, path: path.write_text(trimesh.exchange.stl.export_stl_ascii(mesh))),
    "off": (".off", write_off),
}


def mesh_file(tmp_path, writer, vertices, faces=FACES, name="mesh"):
    suffix, write = WRITERS[writer]
    path = tmp_path / (name + suffix)
    with np.errstate(invalid="ignore"):  # trimesh's face normals of NaN triangles
        write(trimesh.Trimesh(vertices, faces, process=False), path)
    return path


def ply_bytes(fmt, elements, body):
    """A PLY file: ``elements`` is a list of (name, count, [property lines])."""
    header = ["ply", f"format {fmt} 1.0"]
    for name, count, properties in elements:
        header += [f"element {name} {count}"] + [f"property {p}" for p in properties]
    return ("\n".join(header + ["end_header"]) + "\n").encode() + body


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("writer", WRITERS)
def test_counts_bad_vertices_in_every_format(tmp_path, writer, case):
    replacements, expected = BAD_CASES[case]
    vertices = GOOD.copy()
    for index, value in replacements.items():
        vertices[index] = value
    assert count_non_finite_vertices(mesh_file(tmp_path, writer, vertices)) == expected


@pytest.mark.parametrize("writer", WRITERS)
def test_tiny_chunks_give_the_same_count(tmp_path, writer, monkeypatch):
    """Chunk boundaries fall inside lines and records; nothing is lost or counted twice."""
    rng = np.random.default_rng(5)
    vertices = rng.normal(size=(300, 3))
    bad = [0, 7, 150, 299]
    vertices[bad, [0, 1, 2, 0]] = [np.nan, np.inf, -np.inf, np.nan]
    path = mesh_file(tmp_path, writer, vertices, faces=np.arange(300).reshape(100, 3))
    monkeypatch.setattr(reading, "CHUNK_BYTES", 37)
    assert count_non_finite_vertices(path) == len(bad)


@pytest.mark.parametrize("writer", ["stl_binary", "stl_ascii"])
def test_stl_counts_triangle_corners(tmp_path, writer):
    """STL has no shared vertices: a bad vertex used by two triangles counts twice (PLY: once)."""
    vertices = GOOD[:4].copy()
    vertices[2] = (np.nan, 1, 0)
    faces = [[0, 1, 2], [0, 2, 3]]
    assert count_non_finite_vertices(mesh_file(tmp_path, writer, vertices, faces)) == 2
    assert count_non_finite_vertices(mesh_file(tmp_path, "ply_binary", vertices, faces)) == 1


def test_obj_tokens_and_other_records(tmp_path):
    path = tmp_path / "tokens.obj"
    path.write_bytes(
        b"v NaN 1 0\r\n"
        b"v 1 -inf 0\r\n"
        b"  v 1e999 0 0\r\n"          # overflows to inf
        b"v 1 2 3 1.0\r\n"            # w is not a coordinate
        b"v 1 2 3 nan\r\n"
        b"vn nan 0 0\nvt nan 0\n"     # normals and texture coordinates are not vertices
        b"f 1 2 3\n")
    assert count_non_finite_vertices(path) == 3


def test_obj_with_non_utf8_comment(tmp_path):
    path = tmp_path / "latin1.obj"
    path.write_bytes(b"# caf\xe9 \xff\xfe\x80\nv 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n")
    assert count_non_finite_vertices(path) == 1


def test_obj_non_numeric_coordinate_is_not_scanned(tmp_path):
    path = tmp_path / "words.obj"
    path.write_text("v 0 0 0\nv one two three\nv 0 1 0\nf 1 2 3\n")
    assert count_non_finite_vertices(path) is None


def test_off_counts_on_header_line_comments_and_colours(tmp_path):
    path = tmp_path / "colour.off"
    path.write_text(
        "# leading comment\nCOFF 4 1 0\n\n"
        "0 0 0 255 0 0 255\n"
        "nan 0 0 255 0 0 255  # a bad vertex\n"
        "0 1 0 nan 0 0 255\n"     # a non-finite colour is not a coordinate
        "0 0 inf 0 0 0 255\n"
        "3 0 1 2\n")
    assert count_non_finite_vertices(path) == 2


@pytest.mark.parametrize("content", ["PLY 3 1 0\n0 0 0\n", "4OFF 1 0 0\n0 0 0 0\n", "OFF BINARY\n",
                                     "OFF\n-1 0 0\n", "OFF\n2 0 0\n0 0 0\n1 1\n", "OFF\n1 0 0\nx y z\n"])
def test_malformed_off_is_not_scanned(tmp_path, content):
    path = tmp_path / "bad.off"
    path.write_text(content)
    assert count_non_finite_vertices(path) is None


def test_big_endian_binary_ply(tmp_path):
    vertices = np.zeros(4, dtype=[("x", ">f4"), ("y", ">f4"), ("z", ">f8")])
    vertices["x"] = [0, 1, np.nan, 1]
    vertices["z"] = [0, 0, 0, -np.inf]
    faces = np.zeros(2, dtype=[("n", "u1"), ("i", ">i4", 3)])
    faces["n"], faces["i"] = 3, [[0, 1, 2], [1, 2, 3]]
    path = tmp_path / "big_endian.ply"
    path.write_bytes(ply_bytes("binary_big_endian",
                               [("vertex", 4, ["float x", "float y", "double z"]),
                                ("face", 2, ["list uchar int vertex_indices"])],
                               vertices.tobytes() + faces.tobytes()))
    assert count_non_finite_vertices(path) == 2


def test_binary_ply_with_normals_and_colours(tmp_path):
    """Unaligned 27-byte records; a NaN normal is not a bad vertex."""
    dtype = [(name, "<f4") for name in ("x", "y", "z", "nx", "ny", "nz")]
    vertices = np.zeros(5, dtype=dtype + [(name, "u1") for name in ("red", "green", "blue")])
    vertices["nx"][0] = np.nan
    vertices["y"][3] = np.nan
    path = tmp_path / "attributes.ply"
    path.write_bytes(ply_bytes(
        "binary_little_endian",
        [("vertex", 5, ["float x", "float y", "float z", "float nx", "float ny", "float nz",
                        "uchar red", "uchar green", "uchar blue"])],
        vertices.tobytes()))
    assert count_non_finite_vertices(path) == 1


def test_ascii_ply_with_face_element_before_vertex(tmp_path):
    path = tmp_path / "face_first.ply"
    path.write_bytes(ply_bytes(
        "ascii", [("face", 2, ["list uchar int vertex_indices"]),
                  ("vertex", 4, ["float x", "float y", "float z"])],
        b"3 0 1 2\n3 1 2 3\n0 0 0\n1 0 0\ninf 1 0\n1 1 nan\n"))
    assert count_non_finite_vertices(path) == 2


def test_binary_ply_element_before_vertex(tmp_path):
    """A fixed-size element before ``vertex`` is skipped; a list element there is walked record by record
    (a face that refers to a vertex beyond the count is refused before the vertices are read)."""
    vertices = np.array([(0, 0, 0), (np.nan, 0, 0)], dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    fixed = np.array([(1, 2.0), (3, 4.0), (5, 6.0)], dtype=[("id", "<i2"), ("w", "<f8")])
    path = tmp_path / "fixed_first.ply"
    path.write_bytes(ply_bytes("binary_little_endian",
                               [("marker", 3, ["short id", "double w"]),
                                ("vertex", 2, ["float x", "float y", "float z"])],
                               fixed.tobytes() + vertices.tobytes()))
    assert count_non_finite_vertices(path) == 1
    path.write_bytes(ply_bytes("binary_little_endian",
                               [("face", 1, ["list uchar int vertex_indices"]),
                                ("vertex", 2, ["float x", "float y", "float z"])],
                               bytes([3]) + np.arange(3, dtype="<i4").tobytes() + vertices.tobytes()))
    assert count_non_finite_vertices(path) is None   # the face refers to vertex 2 of 2
    path.write_bytes(path.read_bytes().replace(bytes([3]) + np.arange(3, dtype="<i4").tobytes(),
                                               bytes([3]) + np.array([0, 1, 1], "<i4").tobytes()))
    assert count_non_finite_vertices(path) == 1


def test_truncated_binary_stl_never_raises(tmp_path):
    vertices = GOOD.copy()
    vertices[0] = (np.nan, 0, 0)
    data = mesh_file(tmp_path, "stl_binary", vertices).read_bytes()
    for size in (0, 10, 83, 84, 100, len(data) - 1):
        path = tmp_path / f"cut{size}.stl"
        path.write_bytes(data[:size])
        # Like Blender, a size that does not match the triangle count means ASCII: no 'vertex' lines.
        assert count_non_finite_vertices(path) in (None, 0)


def test_truncated_binary_ply_counts_what_is_there(tmp_path):
    vertices = GOOD.copy()
    vertices[0] = (np.nan, 0, 0)
    vertices[5] = (np.inf, 0, 0)
    data = mesh_file(tmp_path, "ply_binary", vertices).read_bytes()
    data_start = data.index(b"end_header\n") + len(b"end_header\n")
    path = tmp_path / "cut.ply"
    path.write_bytes(data[:data_start + 12 * 2 + 5])  # two whole vertices and a bit
    assert count_non_finite_vertices(path) == 1
    for size in (0, 3, data_start - 4):               # inside the header
        path.write_bytes(data[:size])
        assert count_non_finite_vertices(path) is None


XYZ = b"property float x\nproperty float y\nproperty float z\n"
MALFORMED_PLY = {
    "empty": b"",
    "magic_only": b"ply\n",
    "count_not_a_number": b"ply\nformat ascii 1.0\nelement vertex x\n" + XYZ + b"end_header\n",
    "negative_count": b"ply\nformat ascii 1.0\nelement vertex -1\n" + XYZ + b"end_header\n",
    "no_vertex_element": b"ply\nformat binary_little_endian 1.0\nend_header\n",
    "no_y_z": b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nend_header\n",
    "short_row": b"ply\nformat ascii 1.0\nelement vertex 2\n" + XYZ + b"end_header\n1 2\n3 4 5\n",
    "unknown_format": b"ply\nformat binary_middle_endian 1.0\nelement vertex 1\n" + XYZ + b"end_header\n",
    "binary_noise": b"\x00\xff" * 100,
}


@pytest.mark.parametrize("case", MALFORMED_PLY)
def test_malformed_ply_is_not_scanned(tmp_path, case):
    path = tmp_path / "broken.ply"
    path.write_bytes(MALFORMED_PLY[case])
    assert count_non_finite_vertices(path) is None


@pytest.mark.parametrize("suffix", [".glb", ".gltf", ".fbx", ".blend", ".txt", ""])
def test_unscanned_suffix_returns_none(tmp_path, suffix):
    path = tmp_path / ("mesh" + suffix)
    path.write_text("v nan 0 0\n")
    assert count_non_finite_vertices(path) is None


@pytest.mark.parametrize("writer", WRITERS)
def test_cut_or_corrupted_files_never_raise(tmp_path, writer):
    vertices = GOOD.copy()
    vertices[2] = (np.nan, 0, 0)
    data = mesh_file(tmp_path, writer, vertices).read_bytes()
    rng = np.random.default_rng(7)
    path = tmp_path / ("damaged" + WRITERS[writer][0])
    for size in range(0, len(data), 7):
        path.write_bytes(data[:size])
        result = count_non_finite_vertices(path)
        assert result is None or 0 <= result <= 1
    for _ in range(50):
        damaged = np.frombuffer(data, np.uint8).copy()
        damaged[rng.integers(len(data), size=5)] = rng.integers(256, size=5)
        path.write_bytes(damaged.tobytes())
        result = count_non_finite_vertices(path)
        assert result is None or isinstance(result, int)


def test_suffix_case_is_ignored(tmp_path):
    path = tmp_path / "MESH.OBJ"
    path.write_text("v nan 0 0\n")
    assert count_non_finite_vertices(path) == 1
    assert mesh_guard.GUARDED_SUFFIXES == (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")


def test_missing_file_raises_naming_it(tmp_path):
    path = tmp_path / "missing.ply"
    with pytest.raises(DepthViewsError) as caught:
        count_non_finite_vertices(path)
    assert str(caught.value).startswith(str(path))


def test_million_vertex_binary_ply(tmp_path):
    """Size sanity: one vectorised pass (well under a second; the time is not asserted)."""
    vertices = np.zeros((1_000_000, 3), dtype="<f4")
    vertices[[3, 500_000, 999_999], [0, 1, 2]] = [np.nan, np.inf, -np.inf]
    path = tmp_path / "big.ply"
    path.write_bytes(ply_bytes("binary_little_endian",
                               [("vertex", len(vertices), ["float x", "float y", "float z"])],
                               vertices.tobytes()))
    assert count_non_finite_vertices(path) == 3
