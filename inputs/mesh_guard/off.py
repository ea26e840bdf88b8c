"""Object File Format (.off): the reader (Blender has no importer for it) and, on the same read, the guard.

Handles ``OFF``, ``COFF``, ``NOFF``, ``CNOFF`` and ``STOFF``-style headers (extra per-vertex values
after x y z are ignored), counts on the header line (``OFF 8 6 0``, common in ModelNet), ``#``
comments and blank lines, and polygons of any size (extra per-face colour values are ignored).
Coordinates are returned exactly as written (the file's own frame).  The guard reads the file once
and hands the parsed mesh to the import, so an OFF file is opened once in all.  Pure Python + numpy:
numpy's C parser reads the usual layouts (one vertex per line, faces of one size); an exact
line-by-line reading decides, and words the refusal, where that says no.
"""

from __future__ import annotations

import os
import re

import numpy as np

from ...errors import DepthViewsError
from .reading import count_non_finite_rows, table_or_none

MAX_DECLARED_ELEMENTS = 200_000_000
_HEADER = re.compile(r"^(ST)?(C)?(N)?(4)?OFF(.*)$")


def read_off(path) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Read ``path`` and return ``(vertices, faces)``.

    ``vertices`` is a float64 array (N, 3); ``faces`` a list of vertex-index tuples (3 or more
    each).  Raises :class:`DepthViewsError` naming the file for a missing or unreadable file, a bad
    header, counts that the file does not hold, non-numeric values and face indices out of range.
    Non-finite coordinates are returned as written (:func:`guard_off` counts them).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror})") from None
    return parse_off(path, data)


def guard_off(path, handle, found) -> None:
    """Read an OFF file as :func:`read_off` does; the mesh goes to ``found.parsed_mesh`` and the count of
    vertices with a NaN or ±inf coordinate to ``found.non_finite`` (set once the vertices are read)."""
    found.parsed_mesh = parse_off(path, handle.read(), found)


def _data_lines(text: str) -> list[str]:
    """The non-blank lines of ``text`` with ``#`` comments and surrounding white space removed."""
    if "#" in text:
        return list(filter(None, (line.split("#", 1)[0].strip() for line in text.splitlines())))
    return list(filter(None, map(str.strip, text.splitlines())))


def parse_off(path, data: bytes, found=None) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The OFF file ``path`` whose bytes are ``data`` as ``(vertices, faces)`` (see :func:`read_off`)."""
    lines = _data_lines(data.decode("utf-8", errors="replace"))
    header = lines[0] if lines else None
    match = _HEADER.match(header or "")
    if match is None:
        raise DepthViewsError(f"{path}: not an OFF file (the first line should start with 'OFF')")
    if match.group(4):
        raise DepthViewsError(f"{path}: 4OFF (4-D vertices) is not supported")
    first = 1
    counts_text = match.group(5).split()
    if not counts_text:
        counts_text = lines[1].split() if len(lines) > 1 else []
        first = 2
    try:
        n_vertices, n_faces = int(counts_text[0]), int(counts_text[1])
    except (IndexError, ValueError):
        raise DepthViewsError(f"{path}: the OFF header has no vertex and face counts") from None
    if not (0 <= n_vertices <= MAX_DECLARED_ELEMENTS and 0 <= n_faces <= MAX_DECLARED_ELEMENTS):
        raise DepthViewsError(
            f"{path}: the OFF header declares {n_vertices} vertices and {n_faces} faces, "
            f"outside 0..{MAX_DECLARED_ELEMENTS}")
    vertex_lines = lines[first:first + n_vertices]
    face_lines = lines[first + n_vertices:first + n_vertices + n_faces]
    vertices = _vertices(path, vertex_lines, n_vertices)
    if found is not None:
        found.non_finite = count_non_finite_rows(vertices)
    return vertices, _faces(path, face_lines, n_faces, n_vertices)


def _vertices(path, lines: list[str], n_vertices: int) -> np.ndarray:
    table = table_or_none(lines, np.float64, columns=(0, 1, 2)) if len(lines) == n_vertices else None
    if table is not None and table.shape == (n_vertices, 3):
        return table
    if n_vertices == 0:
        return np.empty((0, 3), dtype=np.float64)
    vertices = np.empty((len(lines), 3), dtype=np.float64)
    for i in range(n_vertices):
        fields = lines[i].split() if i < len(lines) else []
        if not fields:
            raise DepthViewsError(
                f"{path}: the header declares {n_vertices} vertices but the file ends after {i}")
        try:
            vertices[i] = [float(value) for value in fields[:3]]
        except ValueError:
            raise DepthViewsError(f"{path}: vertex {i} is not three numbers: {' '.join(fields)!r}") from None
    return vertices


def _faces(path, lines: list[str], n_faces: int, n_vertices: int) -> list[tuple[int, ...]]:
    table = table_or_none(lines, np.int64) if len(lines) == n_faces else None
    if table is not None and len(table):
        size = int(table[0, 0])
        indices = table[:, 1:1 + size]
        if (size >= 3 and table.shape[1] >= 1 + size and np.all(table[:, 0] == size)
                and indices.min() >= 0 and indices.max() < n_vertices):
            return list(zip(*indices.T.tolist()))
    faces = []
    for f in range(n_faces):
        fields = lines[f].split() if f < len(lines) else []
        if not fields:
            raise DepthViewsError(f"{path}: the header declares {n_faces} faces but the file ends after {f}")
        try:
            size = int(fields[0])
            face = tuple(int(index) for index in fields[1:1 + size])
        except ValueError:
            raise DepthViewsError(f"{path}: face {f} is not a list of integers: {' '.join(fields)!r}") from None
        if size < 3 or len(face) != size:
            raise DepthViewsError(f"{path}: face {f} should list {size} (at least 3) vertex indices")
        if min(face) < 0 or max(face) >= n_vertices:
            raise DepthViewsError(
                f"{path}: face {f} refers to vertex {max(face) if max(face) >= n_vertices else min(face)}, "
                f"but there are only {n_vertices} vertices")
        faces.append(face)
    return faces
