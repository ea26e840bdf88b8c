"""Write the hostile-input corpus: broken meshes and broken EXRs, each with what must happen to it.

Everything is generated (pure Python: numpy, struct, OpenEXR), so no binaries are committed and the
corpus is rebuilt in a temporary folder by every test run.  Run it by hand to look at the files:

    python tests/make_corpus.py /tmp/corpus        # writes meshes/ and exr/ there

Each :class:`Case` says what the file is and what Depth Views must do with it: ``expect`` is a piece
of the one-line error (``None``: the file is fine and must render / read).
"""

from __future__ import annotations

import json
import os
import struct
import sys
from dataclasses import dataclass

import numpy as np

BILLIONS = 3_000_000_000  # a declared element count no real file near this size can hold


@dataclass(frozen=True)
class Case:
    """One corpus file: its name, the words its error must contain (None: it must work), what it is."""

    name: str
    expect: str | None
    what: str


# --------------------------------------------------------------------------------------------
# A good mesh: an asymmetric box 1 x 2 x 3 off the origin (12 triangles, outward winding).

def box_mesh(size=(1.0, 2.0, 3.0), offset=(0.25, 0.5, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float64)
    vertices = corners * np.asarray(size) + np.asarray(offset)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = np.array([tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))], dtype=np.int64)
    return vertices, faces


# --------------------------------------------------------------------------------------------
# Writers (by hand, so that every byte is under our control).

def obj_bytes(vertices, faces, *, header: bytes = b"") -> bytes:
    lines = [header] if header else []
    lines += [b"v %r %r %r" % tuple(float(c) for c in v) for v in vertices]
    lines += [b"f " + b" ".join(b"%d" % (i + 1) for i in face) for face in faces]
    return b"\n".join(lines) + b"\n"


def ply_bytes(vertices, faces, *, binary: bool = True, vertex_count: int | None = None,
              face_count: int | None = None) -> bytes:
    vertices = np.asarray(vertices, dtype="<f4")
    n_vertices = len(vertices) if vertex_count is None else vertex_count
    n_faces = (0 if faces is None else len(faces)) if face_count is None else face_count
    header = ["ply", "format " + ("binary_little_endian" if binary else "ascii") + " 1.0",
              f"element vertex {n_vertices}", "property float x", "property float y", "property float z"]
    if faces is not None:
        header += [f"element face {n_faces}", "property list uchar int vertex_indices"]
    head = ("\n".join(header + ["end_header"]) + "\n").encode()
    faces = [] if faces is None else faces
    if binary:
        body = vertices.tobytes() + b"".join(
            struct.pack("<B", len(f)) + np.asarray(f, "<i4").tobytes() for f in faces)
    else:
        body = "".join(" ".join(repr(float(c)) for c in v) + "\n" for v in vertices).encode()
        body += "".join(f"{len(f)} " + " ".join(str(int(i)) for i in f) + "\n" for f in faces).encode()
    return head + body


def stl_binary_bytes(vertices, faces, *, count: int | None = None) -> bytes:
    triangles = np.asarray(vertices, dtype="<f4")[np.asarray(faces)]
    records = b"".join(struct.pack("<3f", 0, 0, 0) + t.tobytes() + b"\0\0" for t in triangles)
    return b"binary STL by make_corpus".ljust(80, b" ") + struct.pack(
        "<I", len(triangles) if count is None else count) + records


def stl_ascii_bytes(vertices, faces) -> bytes:
    lines = ["solid corpus"]
    for face in faces:
        lines += ["facet normal 0 0 0", " outer loop"]
        lines += [" vertex " + " ".join(repr(float(c)) for c in vertices[i]) for i in face]
        lines += [" endloop", "endfacet"]
    return ("\n".join(lines + ["endsolid corpus"]) + "\n").encode()


def off_bytes(vertices, faces, *, vertex_count: int | None = None) -> bytes:
    n_vertices = len(vertices) if vertex_count is None else vertex_count
    lines = ["OFF", f"{n_vertices} {len(faces)} 0"]
    lines += [" ".join(repr(float(c)) for c in v) for v in vertices]
    lines += [f"{len(f)} " + " ".join(str(int(i)) for i in f) for f in faces]
    return ("\n".join(lines) + "\n").encode()


def gltf_parts(vertices, faces, *, vertex_count: int | None = None, uri: str | None = None):
    """``(json_document, binary_buffer)`` of a one-mesh glTF 2.0 (buffer inline in a GLB by default)."""
    positions = np.asarray(vertices, dtype="<f4")
    indices = np.asarray(faces, dtype="<u4").reshape(-1)
    binary = positions.tobytes() + indices.tobytes()
    with np.errstate(invalid="ignore"):
        low, high = positions.min(axis=0), positions.max(axis=0)
    buffer = {"byteLength": len(binary)}
    if uri is not None:
        buffer["uri"] = uri
    document = {
        "asset": {"version": "2.0", "generator": "depth_views make_corpus"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": "mesh"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "type": "VEC3",
             "count": len(positions) if vertex_count is None else vertex_count,
             "min": [float(v) if np.isfinite(v) else 0.0 for v in low],
             "max": [float(v) if np.isfinite(v) else 0.0 for v in high]},
            {"bufferView": 1, "componentType": 5125, "type": "SCALAR", "count": len(indices)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": indices.nbytes}],
        "buffers": [buffer],
    }
    return document, binary


def glb_bytes(vertices, faces, **kwargs) -> bytes:
    document, binary = gltf_parts(vertices, faces, **kwargs)
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def truncated(data: bytes, fraction: float = 0.6) -> bytes:
    return data[:int(len(data) * fraction)]


# --------------------------------------------------------------------------------------------
# The mesh corpus.

def write_mesh_corpus(folder) -> list[Case]:
    """Write every hostile mesh into ``folder`` (created); return the cases, good ones included."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    vertices, faces = box_mesh()
    cases: list[Case] = []

    def add(name: str, data: bytes, expect: str | None, what: str) -> None:
        with open(os.path.join(folder, name), "wb") as stream:
            stream.write(data)
        cases.append(Case(name, expect, what))

    # Empty files of every type.
    for suffix in (".obj", ".ply", ".stl", ".glb", ".gltf", ".off", ".fbx", ".blend"):
        add("empty" + suffix, b"", "empty", f"empty {suffix} file (0 bytes)")

    # No faces: vertices only, points only, lines only.
    add("zero_faces.obj", obj_bytes(vertices, []), "no faces", "OBJ with vertices and no faces")
    add("zero_faces.ply", ply_bytes(vertices, [], binary=False), "no faces", "PLY with 'element face 0'")
    add("points_only.ply", ply_bytes(vertices, None, binary=True), "no faces", "binary PLY point cloud")
    add("points_only.obj", obj_bytes(vertices, []) + b"p 1 2 3 4 5 6 7 8\n", "no faces",
        "OBJ with point elements only")
    add("lines_only.obj", obj_bytes(vertices, []) + b"l 1 2 3 4\nl 5 6 7 8\n", "no faces",
        "OBJ with polylines only")

    # NaN / inf coordinates (every format, binary and text).
    bad = vertices.copy()
    bad[2] = (np.nan, 1.0, 2.0)
    bad[5] = (0.5, np.inf, 1.0)
    add("nan.obj", obj_bytes(bad, faces), "NaN", "OBJ with nan and inf coordinates")
    add("nan_binary.ply", ply_bytes(bad, faces), "NaN", "binary PLY with nan and inf")
    add("nan_ascii.ply", ply_bytes(bad, faces, binary=False), "NaN", "ASCII PLY with nan and inf")
    add("nan_binary.stl", stl_binary_bytes(bad, faces), "NaN", "binary STL with nan and inf")
    add("nan_ascii.stl", stl_ascii_bytes(bad, faces), "NaN", "ASCII STL with nan and inf")
    add("nan.off", off_bytes(bad, faces), "NaN", "OFF with nan and inf")
    add("nan.glb", glb_bytes(bad, faces), "NaN", "GLB with nan and inf in POSITION")
    add("overflow.obj", obj_bytes(vertices, faces).replace(b"v 0.25 ", b"v 1e999 ", 1), "NaN",
        "OBJ with a coordinate beyond float range (1e999)")

    # Face indices out of range.
    wild = faces.copy()
    wild[3] = (0, 1, 99)
    add("index_range.obj", obj_bytes(vertices, wild), "index_range.obj", "OBJ face refers to vertex 100 of 8")
    add("index_negative.obj", obj_bytes(vertices, faces) + b"f -1 -2 -50\n", "index_negative.obj",
        "OBJ relative face index before the first vertex")
    add("index_range.ply", ply_bytes(vertices, wild), "index_range.ply", "binary PLY face index 99 of 8")
    add("index_negative.ply", ply_bytes(vertices, np.where(wild == 99, -5, wild), binary=False),
        "index_negative.ply", "ASCII PLY face index -5")
    add("index_range.off", off_bytes(vertices, wild), "only 8 vertices", "OFF face index 99 of 8")
    add("index_range.glb", glb_bytes(vertices, wild), "index_range.glb", "GLB index 99 of 8 vertices")

    # Truncated binaries.
    add("truncated.ply", truncated(ply_bytes(vertices, faces)), "truncated.ply", "binary PLY cut at 60 %")
    add("truncated.stl", truncated(stl_binary_bytes(vertices, faces)), "truncated.stl",
        "binary STL cut at 60 %")
    add("truncated.glb", truncated(glb_bytes(vertices, faces)), "truncated.glb", "GLB cut at 60 %")
    add("truncated_header.glb", glb_bytes(vertices, faces)[:10], "truncated_header.glb",
        "GLB cut inside its 12-byte header")

    # glTF whose .bin is missing (and one whose buffer URI tries to leave its folder).
    document, _ = gltf_parts(vertices, faces, uri="missing_buffer.bin")
    add("missing_bin.gltf", json.dumps(document).encode(), "missing_bin.gltf", "glTF whose .bin is missing")
    document, _ = gltf_parts(vertices, faces, uri="../../../../../../etc/hostname")
    add("escaping_uri.gltf", json.dumps(document).encode(), "escaping_uri.gltf",
        "glTF buffer URI pointing outside its folder (../../etc/hostname)")
    add("not_json.gltf", b"{\"asset\": {\"version\": \"2.0\"}, \xff\xfe", "not_json.gltf",
        "glTF that is not JSON")

    # Absurd declared counts: must neither allocate for them nor loop over them.
    add("billion_vertices_binary.ply", ply_bytes(vertices, faces, vertex_count=BILLIONS),
        "billion_vertices_binary.ply", "binary PLY header claiming 3e9 vertices")
    add("billion_vertices_ascii.ply", ply_bytes(vertices, faces, binary=False, vertex_count=BILLIONS),
        "billion_vertices_ascii.ply", "ASCII PLY header claiming 3e9 vertices")
    add("billion_faces.ply", ply_bytes(vertices, faces, face_count=BILLIONS),
        "billion_faces.ply", "binary PLY header claiming 3e9 faces")
    add("billion_triangles.stl", stl_binary_bytes(vertices, faces, count=0xFFFFFFFF),
        "billion_triangles.stl", "binary STL header claiming 4294967295 triangles")
    add("billion_vertices.off", off_bytes(vertices, faces, vertex_count=BILLIONS),
        "billion_vertices.off", "OFF header claiming 3e9 vertices")
    add("billion_vertices.glb", glb_bytes(vertices, faces, vertex_count=BILLIONS),
        "billion_vertices.glb", "GLB accessor claiming 3e9 vertices")

    # Huge coordinates.
    add("huge_1e30.obj", obj_bytes(vertices * 1e30, faces), "huge_1e30.obj", "box scaled to 1e30 units")
    far = np.vstack([vertices, [[1e30, 0.0, 0.0]]])
    add("one_far_vertex.obj", obj_bytes(far, np.vstack([faces, [[0, 1, 8]]])), "one_far_vertex.obj",
        "box plus one triangle reaching 1e30")

    # Degenerate triangles.
    flat = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]], dtype=float)
    add("all_degenerate.obj", obj_bytes(flat, [[0, 1, 2], [1, 2, 3], [0, 0, 3]]), "zero area",
        "OBJ whose every triangle has zero area")
    add("some_degenerate.obj", obj_bytes(np.vstack([vertices, flat]),
                                         np.vstack([faces, [[8, 9, 10], [0, 0, 1], [3, 3, 3]]])),
        None, "good box plus zero-area and repeated-index triangles (must render)")

    # Text encodings.
    add("latin1_names.obj", obj_bytes(vertices, faces, header=b"# mod\xe8le \xe9t\xe9\no caf\xe9 \xff\xfe\n"
                                       b"mtllib mat\xe9riaux.mtl\nusemtl m\xe9tal\n"),
        None, "OBJ with Latin-1 (non-UTF-8) comments, names and a missing .mtl (must render)")
    add("utf16.obj", obj_bytes(vertices, faces).decode().encode("utf-16"), "utf16.obj",
        "OBJ saved as UTF-16 (not a text encoding OBJ readers know)")

    # Files that are not what their suffix says.
    add("png_named.glb", b"\x89PNG\r\n\x1a\n" + bytes(200), "png_named.glb", "PNG bytes named .glb")
    add("garbage.fbx", b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", 7400) + bytes(64),
        "garbage.fbx", "FBX header followed by zeros")
    add("garbage.blend", b"BLENDER-v405RENDH" + bytes(100), "garbage.blend", ".blend header then zeros")
    add("text.blend", b"not a blend file\n", "text.blend", "text named .blend")
    return cases


# --------------------------------------------------------------------------------------------
# The EXR corpus.

def _ramp(width=16, height=8) -> np.ndarray:
    return (1.0 + np.arange(width * height, dtype=np.float32).reshape(height, width) / 64).astype(np.float32)


def write_exr_corpus(folder) -> list[Case]:
    """Write every hostile EXR into ``folder`` (created); return the cases, readable ones included.

    ``expect`` None means :func:`depth_views.exr_io.read_depth` must read the file.
    """
    import OpenEXR

    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    cases: list[Case] = []
    depth = _ramp()

    def path_of(name):
        return os.path.join(folder, name)

    def write(name, header, channels, expect, what):
        OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header},
                     channels).write(path_of(name))
        cases.append(Case(name, expect, what))

    def write_bytes(name, data, expect, what):
        with open(path_of(name), "wb") as stream:
            stream.write(data)
        cases.append(Case(name, expect, what))

    write("good.exr", {}, {"Z": depth}, None, "float Z (must read)")
    write("half.exr", {}, {"Z": depth.astype(np.float16)}, None, "half-float Z (must read)")
    write("constant.exr", {}, {"Z": np.ones_like(depth)}, "same value", "Z of ones everywhere")
    write("no_depth.exr", {}, {"R": depth, "G": depth * 2, "B": depth * 3}, "no depth channel",
          "colour channels only, no depth")
    write("uint_z.exr", {}, {"Z": (depth * 10).astype(np.uint32)}, "no depth channel", "Z stored as UINT")
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize, tiles.mode = 8, 8, OpenEXR.ONE_LEVEL
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.tiledimage, "tiles": tiles},
                 {"Z": depth}).write(path_of("tiled.exr"))
    cases.append(Case("tiled.exr", None, "tiled image (must read)"))
    parts = [OpenEXR.Part({"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage},
                          {"R": depth, "G": depth * 2}, name="colour"),
             OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                          {"Z": depth}, name="depth")]
    OpenEXR.File(parts).write(path_of("multipart.exr"))
    cases.append(Case("multipart.exr", None, "two parts, depth in the second (must read)"))

    good = open(path_of("good.exr"), "rb").read()
    write_bytes("empty.exr", b"", "is empty", "0 bytes")
    write_bytes("wrong_magic.exr", b"\x89PNG\r\n\x1a\n" + good[8:], "not an OpenEXR file", "PNG magic, EXR body")
    write_bytes("magic_only.exr", good[:4], "corrupt", "the four magic bytes only")
    for fraction in (0.1, 0.5, 0.9):
        write_bytes(f"truncated_{int(fraction * 100)}.exr", truncated(good, fraction), "corrupt",
                    f"float EXR cut at {int(fraction * 100)} %")
    huge = _with_data_window(good, 0, 0, 1_000_000 - 1, 1_000_000 - 1)
    write_bytes("huge_declared.exr", huge, "implausible image size", "header declares 1e6 x 1e6 pixels")
    inverted = _with_data_window(good, 10, 10, 0, 0)
    write_bytes("inverted_window.exr", inverted, "inverted_window.exr", "data window max < min")
    return cases


def _with_data_window(exr: bytes, x_min: int, y_min: int, x_max: int, y_max: int) -> bytes:
    """``exr`` with its dataWindow attribute replaced (and displayWindow, so both agree)."""
    data = bytearray(exr)
    for name in (b"dataWindow\0box2i\0", b"displayWindow\0box2i\0"):
        at = data.index(name) + len(name) + 4  # after the name, type and the 4-byte size
        data[at:at + 16] = struct.pack("<4i", x_min, y_min, x_max, y_max)
    return bytes(data)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: make_corpus.py FOLDER", file=sys.stderr)
        return 2
    meshes = write_mesh_corpus(os.path.join(argv[0], "meshes"))
    exrs = write_exr_corpus(os.path.join(argv[0], "exr"))
    for kind, cases in (("meshes", meshes), ("exr", exrs)):
        for case in cases:
            outcome = "must work" if case.expect is None else f"error containing {case.expect!r}"
            print(f"{kind}/{case.name}: {case.what} -> {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
