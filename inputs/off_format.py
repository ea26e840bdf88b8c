"""Reader for Object File Format (.off) meshes, which Blender has no importer for.

Handles ``OFF``, ``COFF``, ``NOFF``, ``CNOFF`` and ``STOFF``-style headers (extra per-vertex values
after x y z are ignored), counts on the header line (``OFF 8 6 0``, common in ModelNet), ``#``
comments and blank lines, and polygons of any size (extra per-face colour values are ignored).
Pure Python + numpy; coordinates are returned exactly as written (the file's own frame).
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..errors import DepthViewsError

MAX_DECLARED_ELEMENTS = 200_000_000
_HEADER = re.compile(r"^(ST)?(C)?(N)?(4)?OFF(.*)$")


def _data_lines(text: str):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def read_off(path) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Read ``path`` and return ``(vertices, faces)``.

    ``vertices`` is a float64 array (N, 3); ``faces`` a list of vertex-index tuples (3 or more
    each).  Raises :class:`DepthViewsError` naming the file for a missing or unreadable file, a bad
    header, counts that the file does not hold, non-numeric values and face indices out of range.
    Non-finite coordinates are returned as written; the scene check refuses them later.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace")
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror})") from None
    lines = _data_lines(text)
    header = next(lines, None)
    match = _HEADER.match(header or "")
    if match is None:
        raise DepthViewsError(f"{path}: not an OFF file (the first line should start with 'OFF')")
    if match.group(4):
        raise DepthViewsError(f"{path}: 4OFF (4-D vertices) is not supported")
    counts_text = match.group(5).split() or next(lines, "").split()
    try:
        n_vertices, n_faces = int(counts_text[0]), int(counts_text[1])
    except (IndexError, ValueError):
        raise DepthViewsError(f"{path}: the OFF header has no vertex and face counts") from None
    if not (0 <= n_vertices <= MAX_DECLARED_ELEMENTS and 0 <= n_faces <= MAX_DECLARED_ELEMENTS):
        raise DepthViewsError(
            f"{path}: the OFF header declares {n_vertices} vertices and {n_faces} faces, "
            f"outside 0..{MAX_DECLARED_ELEMENTS}")
    vertices = np.empty((n_vertices, 3), dtype=np.float64)
    for i in range(n_vertices):
        fields = next(lines, "").split()
        if not fields:
            raise DepthViewsError(
                f"{path}: the header declares {n_vertices} vertices but the file ends after {i}")
        try:
            vertices[i] = [float(value) for value in fields[:3]]
        except ValueError:
            raise DepthViewsError(f"{path}: vertex {i} is not three numbers: {' '.join(fields)!r}") from None
    faces = []
    for f in range(n_faces):
        fields = next(lines, "").split()
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
    return vertices, faces
