"""The benchmark's meshes, generated with numpy (no downloads) and written as binary PLY.

* ``sphere_32k``: a UV sphere, 256 segments x 64 rings = 32,256 triangles, radius 1.
* ``scan_5k``: a scanned-style object: an icosphere (subdivision 4, 5,120 triangles) stretched into
  an ellipsoid, with low-frequency bumps, per-vertex noise like a scanner's and a hole cut in its
  bottom (a turntable scan never sees the underside): 4,900-odd triangles, open boundary.
* ``torus_1m``: a bumpy torus subdivided into 1024 x 512 quads = 1,048,576 triangles.

The same seed always gives the same files, so every system in a run renders identical geometry.
"""

from __future__ import annotations

import os

import numpy as np

MESHES = ("sphere_32k", "scan_5k", "torus_1m")


def uv_sphere(segments: int = 256, rings: int = 64, radius: float = 1.0):
    """Vertices (N, 3) and triangles (M, 3) of a UV sphere with poles on the Z axis."""
    theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]            # polar angle of the inner rings
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring_vertices = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    vertices = np.vstack([[0, 0, 1], ring_vertices, [0, 0, -1]]) * radius
    top, bottom = 0, len(vertices) - 1

    def ring(i, j):
        return 1 + i * segments + j % segments

    faces = []
    j = np.arange(segments)
    faces.append(np.stack([np.full(segments, top), ring(0, j), ring(0, j + 1)], -1))
    for i in range(rings - 2):
        a, b, c, d = ring(i, j), ring(i + 1, j), ring(i + 1, j + 1), ring(i, j + 1)
        faces += [np.stack([a, b, c], -1), np.stack([a, c, d], -1)]
    faces.append(np.stack([ring(rings - 2, j + 1), ring(rings - 2, j), np.full(segments, bottom)], -1))
    return vertices, np.vstack(faces).astype(np.int32)


def icosphere(subdivisions: int):
    """Vertices on the unit sphere and triangles of a subdivided icosahedron (20 * 4**s faces)."""
    g = (1 + 5 ** 0.5) / 2
    vertices = [[-1, g, 0], [1, g, 0], [-1, -g, 0], [1, -g, 0], [0, -1, g], [0, 1, g], [0, -1, -g],
                [0, 1, -g], [g, 0, -1], [g, 0, 1], [-g, 0, -1], [-g, 0, 1]]
    faces = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
             [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
             [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    vertices = np.array(vertices, float)
    faces = np.array(faces, np.int64)
    for _ in range(subdivisions):
        edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        midpoints = len(vertices) + inverse.reshape(3, -1).T           # (F, 3): mid of 01, 12, 20
        vertices = np.vstack([vertices, 0.5 * (vertices[unique[:, 0]] + vertices[unique[:, 1]])])
        a, b, c = faces.T
        ab, bc, ca = midpoints.T
        faces = np.concatenate([np.stack(f, -1) for f in ([a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca])])
    vertices /= np.linalg.norm(vertices, axis=1, keepdims=True)
    return vertices, faces.astype(np.int32)


def _bumps(directions: np.ndarray, rng: np.random.Generator, n: int = 12, frequency: float = 3.0) -> np.ndarray:
    """A smooth random field on unit ``directions``: a sum of ``n`` random plane waves."""
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    phases = rng.uniform(0, 2 * np.pi, n)
    amplitudes = rng.uniform(0.5, 1.0, n) / n
    return np.sin(frequency * directions @ axes.T + phases) @ amplitudes


def scan_like(seed: int = 6):
    """An ellipsoidal, bumpy, noisy icosphere with a hole in its bottom (few thousand triangles)."""
    rng = np.random.default_rng(seed)
    directions, faces = icosphere(4)
    radius = 1.0 + 0.25 * _bumps(directions, rng) + rng.normal(0.0, 0.004, len(directions))
    vertices = directions * radius[:, None] * np.array([1.0, 0.8, 0.6])
    keep = directions[faces].mean(axis=1)[:, 2] > -0.9           # cut a hole where z is lowest
    return vertices, faces[keep]


def bumpy_torus(major_segments: int = 1024, minor_segments: int = 512, seed: int = 7):
    """A torus (major radius 1, minor 0.35) with bumps, 2 * major * minor triangles."""
    rng = np.random.default_rng(seed)
    u = np.linspace(0, 2 * np.pi, major_segments, endpoint=False)
    v = np.linspace(0, 2 * np.pi, minor_segments, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    surface_directions = np.stack([np.cos(uu) * np.cos(vv), np.sin(uu) * np.cos(vv), np.sin(vv)], -1)
    minor = 0.35 * (1.0 + 0.3 * _bumps(surface_directions.reshape(-1, 3), rng, frequency=6.0)
                    .reshape(uu.shape) * np.cos(3 * uu))
    x = (1.0 + minor * np.cos(vv)) * np.cos(uu)
    y = (1.0 + minor * np.cos(vv)) * np.sin(uu)
    z = minor * np.sin(vv)
    vertices = np.stack([x, y, z], -1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(major_segments), np.arange(minor_segments), indexing="ij")

    def index(a, b):
        return (a % major_segments) * minor_segments + b % minor_segments

    a, b, c, d = index(i, j), index(i + 1, j), index(i + 1, j + 1), index(i, j + 1)
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return vertices, faces.astype(np.int32)


def make_mesh(name: str):
    """Vertices (float64) and triangles (int32) of the named benchmark mesh."""
    if name == "sphere_32k":
        return uv_sphere()
    if name == "scan_5k":
        return scan_like()
    if name == "torus_1m":
        return bumpy_torus()
    raise ValueError(f"unknown benchmark mesh {name!r}; choose one of {', '.join(MESHES)}")


def write_ply(path: str, vertices: np.ndarray, faces: np.ndarray) -> str:
    """Write a binary little-endian PLY (float32 vertices, int32 triangle indices)."""
    header = ("ply\nformat binary_little_endian 1.0\n"
              f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
              f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n")
    face_records = np.empty(len(faces), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    face_records["n"] = 3
    face_records["i"] = faces
    temporary = path + ".tmp"
    with open(temporary, "wb") as stream:
        stream.write(header.encode("ascii"))
        stream.write(np.ascontiguousarray(vertices, dtype="<f4").tobytes())
        stream.write(face_records.tobytes())
    os.replace(temporary, path)
    return path


def ensure_mesh(name: str, folder: str) -> str:
    """The path of ``folder/<name>.ply``, generated the first time it is asked for."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.ply")
    if not os.path.exists(path):
        write_ply(path, *make_mesh(name))
    return path


def read_ply_vertices(path: str) -> np.ndarray:
    """The float32 vertices of a PLY written by :func:`write_ply`, as float64 (N, 3)."""
    with open(path, "rb") as stream:
        header = b""
        while not header.endswith(b"end_header\n"):
            header += stream.readline()
        n = int(header.split(b"element vertex ")[1].split(b"\n")[0])
        return np.frombuffer(stream.read(12 * n), dtype="<f4").reshape(n, 3).astype(np.float64)
