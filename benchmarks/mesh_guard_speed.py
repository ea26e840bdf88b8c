"""How fast the pre-import guard reads a big mesh, and how often it opens it (prints a table).

    python benchmarks/mesh_guard_speed.py [--triangles 1000000] [--reps 3] [--folder DIR] [--formats obj ply ...]

Writes a grid of about ``--triangles`` triangles (numpy only, cached in ``--folder``, default a
folder under the system temp dir) as OBJ (with an ``mtllib`` line), binary and ASCII PLY, binary and
ASCII STL and OFF, then times, per file, with the page cache warm (best of ``--reps``):

- **read**: reading the file in 4 MiB chunks and doing nothing (the disk-speed reference);
- **guard**: everything Depth Views reads before Blender's importer runs.  With
  ``depth_views.inputs.mesh_guard`` that is :func:`guard_mesh_file` (for OFF it also parses the mesh
  the import then builds); on a tree from before it (commit 45016a8 and older) it is what
  ``load_input`` did there: ``check_mesh_file`` (structure, then the non-finite scan), for OBJ the MTL
  search's whole-file read, for OFF ``read_off``.

``opens`` counts the Python-level opens of the mesh path during one guard (an audit hook on
``open``).  Not a pass/fail test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time

import numpy as np

FORMATS = ("obj", "ply", "ply_ascii", "stl", "stl_ascii", "off")
SUFFIX = {"obj": ".obj", "ply": ".ply", "ply_ascii": ".ply", "stl": ".stl", "stl_ascii": ".stl", "off": ".off"}


def grid_mesh(triangles: int):
    """A bumpy height-field grid: vertices (N, 3) float64 and triangles (M, 3) int64, M ~ ``triangles``."""
    n = max(1, int(round((triangles / 2) ** 0.5)))
    u, v = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1), indexing="ij")
    z = 0.05 * np.sin(12 * u) * np.cos(9 * v)
    vertices = np.stack([u, v, z], -1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a = (i * (n + 1) + j).ravel()
    b, c, d = a + (n + 1), a + (n + 2), a + 1
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)])
    return vertices, faces


def _text_rows(prefix: str, array: np.ndarray, fmt: str) -> bytes:
    line = prefix + " ".join([fmt] * array.shape[1]) + "\n"
    return ("".join(line % tuple(row) for row in array.tolist())).encode()


def write(kind: str, path: str, vertices, faces) -> None:
    if kind == "obj":
        data = b"# benchmark grid\nmtllib grid.mtl\no grid\n" + _text_rows("v ", vertices, "%.6f") + \
            b"usemtl grey\n" + _text_rows("f ", faces + 1, "%d")
    elif kind == "ply":
        head = (f"ply\nformat binary_little_endian 1.0\nelement vertex {len(vertices)}\nproperty float x\n"
                f"property float y\nproperty float z\nelement face {len(faces)}\n"
                "property list uchar int vertex_indices\nend_header\n").encode()
        records = np.zeros(len(faces), [("n", "u1"), ("i", "<i4", 3)])
        records["n"], records["i"] = 3, faces
        data = head + vertices.astype("<f4").tobytes() + records.tobytes()
    elif kind == "ply_ascii":
        head = (f"ply\nformat ascii 1.0\nelement vertex {len(vertices)}\nproperty float x\n"
                f"property float y\nproperty float z\nelement face {len(faces)}\n"
                "property list uchar int vertex_indices\nend_header\n").encode()
        data = head + _text_rows("", vertices, "%.6f") + _text_rows("3 ", faces, "%d")
    elif kind == "stl":
        records = np.zeros(len(faces), [("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
        records["corners"] = vertices[faces]
        data = bytes(80) + np.uint32(len(faces)).tobytes() + records.tobytes()
    elif kind == "stl_ascii":
        corners = vertices[faces]
        parts = [b"solid grid\n"]
        for triangle in corners.tolist():
            parts.append(b"facet normal 0 0 1\n outer loop\n" + b"".join(
                b"  vertex %.6f %.6f %.6f\n" % tuple(corner) for corner in triangle) + b" endloop\nendfacet\n")
        data = b"".join(parts) + b"endsolid grid\n"
    elif kind == "off":
        data = f"OFF\n{len(vertices)} {len(faces)} 0\n".encode() + _text_rows("", vertices, "%.6f") + \
            _text_rows("3 ", faces, "%d")
    else:
        raise ValueError(kind)
    with open(path + ".part", "wb") as stream:
        stream.write(data)
    os.replace(path + ".part", path)


def guard_under_test():
    """``(label, function(path))``: this tree's guard, or the pre-guard reads of older trees."""
    try:
        from depth_views.inputs.mesh_guard import guard_mesh_file
    except ImportError:
        pass
    else:
        return "mesh_guard.guard_mesh_file (one read)", guard_mesh_file
    from depth_views.inputs.mesh_check import check_mesh_file
    from depth_views.inputs.off_format import read_off

    mtllib = re.compile(rb"^[ \t]*mtllib[ \t]+([^\r\n]+?)[ \t]*$", re.MULTILINE)

    def before(path):
        check_mesh_file(path)
        if path.endswith(".obj"):  # inputs/textures.py obj_material_libraries, as load_input ran it
            with open(path, "rb") as stream:
                [m.group(1) for m in mtllib.finditer(stream.read())]
        if path.endswith(".off"):
            read_off(path)

    return "check_mesh_file + MTL search / read_off (before)", before


def read_only(path) -> None:
    with open(path, "rb") as stream:
        while stream.read(4 << 20):
            pass


def best_of(function, path, reps: int) -> float:
    function(path)  # warm the page cache and imports
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function(path)
        times.append(time.perf_counter() - start)
    return min(times)


def count_opens(function, path) -> int:
    target = os.path.realpath(path)
    seen = []
    active = [True]

    def hook(event, args):
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            try:
                if os.path.realpath(os.fsdecode(args[0])) == target:
                    seen.append(args)
            except (TypeError, ValueError):
                pass

    sys.addaudithook(hook)
    try:
        function(path)
    finally:
        active[0] = False
    return len(seen)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--folder", default=os.path.join(tempfile.gettempdir(), "depth-views-mesh-guard-bench"))
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args(argv)
    os.makedirs(args.folder, exist_ok=True)
    label, guard = guard_under_test()
    vertices = faces = None
    print(f"guard: {label}; {args.triangles} triangles requested; best of {args.reps}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| file | MB | read s | guard s | guard MB/s | guard / read | opens |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in args.formats:
        path = os.path.join(args.folder, f"grid_{args.triangles}_{kind}{SUFFIX[kind]}")
        if not os.path.exists(path):
            if vertices is None:
                vertices, faces = grid_mesh(args.triangles)
            write(kind, path, vertices, faces)
        megabytes = os.path.getsize(path) / 1e6
        read_s = best_of(read_only, path, args.reps)
        guard_s = best_of(guard, path, args.reps)
        opens = count_opens(guard, path)
        print(f"| {os.path.basename(path)} | {megabytes:.0f} | {read_s:.3f} | {guard_s:.3f} | "
              f"{megabytes / guard_s:.0f} | {guard_s / read_s:.0f}x | {opens} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
