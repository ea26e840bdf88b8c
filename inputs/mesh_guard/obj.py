"""Wavefront OBJ: the guard, which also collects the ``mtllib`` names for the import.

What it refuses (Blender 4.2-5.0): faces that refer to vertices that do not exist (silently dropped
by the importer), and files holding NUL bytes (UTF-16 or binary: read as garbage geometry).  The same
read counts the ``v`` lines whose x, y or z is NaN or ±inf (the importer turns them into 0; a ``w``
or colour after them is not a coordinate) and collects the material libraries, so that the MTL
search (:mod:`depth_views.inputs.textures`) need not read the file again.

Streamed in chunks of whole lines; per chunk, the ``v`` and ``f`` lines are found by regex and parsed
by numpy's C parser, with an exact token-by-token reading deciding where that says no.  Everything
works on bytes, so non-UTF-8 content is harmless.
"""

from __future__ import annotations

import re
from itertools import chain

import numpy as np

from ...errors import DepthViewsError
from . import reading
from .reading import count_non_finite_rows, table_or_none

MTLLIB = re.compile(rb"^[ \t]*mtllib[ \t]+([^\r\n]+?)[ \t]*\r?$", re.M)
"""An ``mtllib`` line; the group is the rest of the line (one name, as Blender's importer reads it)."""

_VERTEX_BODY = re.compile(rb"\n[ \t]*v[ \t]+([^\n]*)")   # searched in b"\n" + chunk
_FACE_BODY = re.compile(rb"\n[ \t]*f[ \t]+([^\r\n]*)")
_VERTEX = re.compile(rb"^[ \t]*v[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.M)
_VERTEX_OR_FACE = re.compile(rb"^[ \t]*(v|f)[ \t]+([^\r\n]*)", re.M)
_AFTER_SLASH = re.compile(rb"/\S*")
_SPACES = (b" ", b"\t", b"\x0b", b"\x0c")  # the white space a face body can hold (bytes.split's, less line ends)
_DIGITS_AND_SPACE = b"0123456789 \t\r\n\x0b\x0c"


def guard_obj(path, handle, found) -> None:
    """Check an OBJ file's face indices and encoding; count its non-finite vertices into
    ``found.non_finite`` and its ``mtllib`` names into ``found.material_libraries``."""
    n_vertices, highest = 0, 0
    non_finite: int | None = 0
    for chunk in reading.text_chunks(handle):
        if b"\0" in chunk:
            raise DepthViewsError(
                f"{path}: the OBJ file holds NUL bytes, so it is not a text OBJ (saved as UTF-16, or "
                "binary data); save it as ASCII or UTF-8")
        if b"mtllib" in chunk:
            found.material_libraries += [name.decode("utf-8", errors="replace") for name in MTLLIB.findall(chunk)]
        lined = b"\n" + chunk
        vertices = _VERTEX_BODY.findall(lined)
        if non_finite is not None and vertices:
            bad = _count_vertices(vertices, chunk)
            non_finite = None if bad is None else non_finite + bad
        faces = _FACE_BODY.findall(lined)
        if faces:
            indices = _face_indices(path, faces)
            if np.any(indices <= 0):  # zero or relative indices: follow the chunk line by line
                n_vertices = _relative_faces(path, chunk, n_vertices)
                highest = max(highest, int(indices.max(initial=0)))
                continue
            highest = max(highest, int(indices.max(initial=0)))
        n_vertices += len(vertices)
    found.non_finite = non_finite
    if highest > n_vertices:
        raise DepthViewsError(
            f"{path}: a face refers to vertex {highest}, but the file has {n_vertices} vertices; "
            "Blender would silently drop such faces")


def _count_vertices(bodies: list[bytes], chunk: bytes) -> int | None:
    """Non-finite rows among the first three values of the ``v`` lines (``bodies``: the rest of each
    line) of ``chunk``; None where one of them is not a number."""
    table = table_or_none(bodies, np.float64, columns=(0, 1, 2), spaces_and_tabs=True)
    if table is not None:
        return count_non_finite_rows(table)
    try:  # exactly: lines with fewer than three values are not counted; float() decides what a number is
        values = np.fromiter(map(float, chain.from_iterable(_VERTEX.findall(chunk))), np.float64)
    except (ValueError, OverflowError):
        return None
    return count_non_finite_rows(values.reshape(-1, 3))


def _face_indices(path, bodies: list[bytes]) -> np.ndarray:
    """Every vertex index of the face lines (``bodies``: the rest of each ``f`` line), as int64; the
    texture and normal indices after a ``/`` are dropped, and so are ``\\`` line continuations."""
    joined = b" ".join(bodies)
    numbers = joined
    if b"/" in joined and not (joined.startswith(b"/") or any(space + b"/" in joined for space in _SPACES)):
        numbers = _AFTER_SLASH.sub(b"", joined)
    if not numbers.translate(None, _DIGITS_AND_SPACE):  # only unsigned integers: numpy's C parser
        values = np.fromstring(numbers, dtype=np.int64, sep=" ")
        if not len(values) or int(values.max()) < 2**62:  # larger ones may have been clamped
            return values
    tokens = [token.split(b"/", 1)[0] for token in joined.split() if token != b"\\"]
    try:
        return np.array(tokens).astype(np.int64)
    except (ValueError, OverflowError):
        raise DepthViewsError(f"{path}: an OBJ face line holds a vertex index that is not an "
                              "integer") from None


def _relative_faces(path, chunk, n_vertices) -> int:
    for kind, body in _VERTEX_OR_FACE.findall(chunk):
        if kind == b"v":
            n_vertices += 1
            continue
        for token in body.split():
            if token == b"\\":
                continue
            index = int(token.split(b"/", 1)[0])
            if index == 0 or (index < 0 and -index > n_vertices):
                raise DepthViewsError(
                    f"{path}: a face refers to vertex {index} when {n_vertices} vertices have been "
                    "defined; Blender would silently drop such faces")
    return n_vertices
