"""Count non-finite (NaN / ±inf) vertex coordinates in a mesh file before Blender sees it.

Why this exists: Blender's OBJ, PLY and STL importers silently replace NaN/inf coordinates by 0
(a triangle with vertex ``(nan, 1, 0)`` imports as ``(0, 1, 0)``), so the renderer would produce
depth of a geometry the file does not contain.  Such files must be refused *before* import; see
:data:`SANITISED_BY_BLENDER`.  glTF/GLB positions are checked by :mod:`.mesh_check` (Blender 5.0's
glTF importer zeroes them too); FBX and .blend are not scanned: the NaN survives the import and the
later scene check sees it.

Pure Python + numpy, streaming: files are read in chunks of about :data:`CHUNK_BYTES`, binary
PLY/STL with vectorised numpy reads, text formats by regex / split with one vectorised
bytes-to-float conversion per chunk.  Everything works on bytes, so non-UTF-8 content is harmless.
"""

from __future__ import annotations

import os
import re
from itertools import chain

import numpy as np

from ..errors import DepthViewsError

SANITISED_BY_BLENDER = (
    "Blender's OBJ, PLY and STL importers silently replace NaN/inf vertex coordinates by 0, "
    "so these files are scanned before import and refused when any coordinate is not finite")
CHUNK_BYTES = 4 << 20
MAX_PLY_HEADER_LINES = 100_000

_OBJ_VERTEX = re.compile(rb"^[ \t]*v[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.M)
_STL_VERTEX = re.compile(rb"^[ \t]*vertex[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.M)
_OFF_HEADER = re.compile(rb"^(?:ST)?C?N?OFF(.*)$")  # not 4OFF / nOFF (other dimensions)
_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


class _Unscannable(Exception):
    """The file's content is not what its format says: give up scanning (return None)."""


def count_non_finite_vertices(path) -> int | None:
    """Return how many vertices of the mesh file ``path`` have a NaN or ±inf x, y or z.

    Scans ``.obj`` (``v x y z [w]`` lines), ``.ply`` (ASCII and binary little/big endian),
    ``.stl`` (binary and ASCII, told apart the way Blender does: binary exactly when the size is
    ``84 + 50 * triangle count``) and ``.off``.  For STL, which has no shared vertices, the count
    is per triangle corner.  Tokens such as ``nan``, ``-inf`` or ``1e999`` (overflow) count as
    non-finite.

    Returns ``None`` for other suffixes and for files that cannot be scanned (bad header, a
    non-numeric coordinate, a binary PLY with a list element before ``vertex``...): the importer
    reports the real problem later.  A truncated file is scanned as far as it goes.  Raises
    :class:`DepthViewsError` (message starting with the path) only when the file cannot be read.
    """
    path = os.fspath(path)
    scanner = _SCANNERS.get(os.path.splitext(path)[1].lower())
    if scanner is None:
        return None
    try:
        with open(path, "rb") as handle:
            return int(scanner(handle))
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except (_Unscannable, ValueError, TypeError, IndexError, OverflowError):
        return None


def _count_rows(rows) -> int:
    """Number of ``rows`` (3 byte-string numbers each) with a non-finite value; raises ValueError
    for a token that is not a number.  ``float`` semantics: ``nan``, ``-inf``, ``1e999`` -> non-finite."""
    values = np.fromiter(map(float, chain.from_iterable(rows)), np.float64).reshape(-1, 3)
    return int(np.count_nonzero(~np.isfinite(values).all(axis=1)))


def _text_chunks(handle):
    """Yield the rest of the file in chunks of about CHUNK_BYTES that end at a line end."""
    carry = b""
    while True:
        data = handle.read(CHUNK_BYTES)
        if not data:
            if carry:
                yield carry
            return
        data = carry + data
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) < 4 * CHUNK_BYTES:  # no line end yet (give up on huge lines)
            carry = data
            continue
        cut = cut or len(data)
        carry = data[cut:]
        yield data[:cut]


def _scan_regex(handle, pattern) -> int:
    return sum(_count_rows(pattern.findall(chunk)) for chunk in _text_chunks(handle))


def _scan_obj(handle) -> int:
    return _scan_regex(handle, _OBJ_VERTEX)


def _scan_stl(handle) -> int:
    head = handle.read(84)
    size = handle.seek(0, os.SEEK_END)
    n_triangles = int.from_bytes(head[80:84], "little") if len(head) == 84 else 0
    handle.seek(0)
    if n_triangles == 0 or size != 84 + 50 * n_triangles:  # Blender's own ASCII test
        return _scan_regex(handle, _STL_VERTEX)
    handle.seek(84)
    record = np.dtype([("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
    bad = 0
    while data := handle.read(max(1, CHUNK_BYTES // record.itemsize) * record.itemsize):
        corners = np.frombuffer(data, record, count=len(data) // record.itemsize)["corners"]
        bad += int(np.count_nonzero(~np.isfinite(corners).all(axis=-1)))
    return bad


def _read_ply_header(handle):
    """Return ``(format, elements)``; elements are ``(name, count, [(type, name) or
    ("list", name)])`` in file order.  The handle is left at the first data byte."""
    if handle.readline().strip() != b"ply":
        raise _Unscannable
    fmt, elements = None, []
    for _ in range(MAX_PLY_HEADER_LINES):
        line = handle.readline()
        if not line:
            raise _Unscannable
        words = line.decode("ascii", errors="replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "end_header":
            if fmt is None:
                raise _Unscannable
            return fmt, elements
        if words[0] == "format" and len(words) >= 2:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3:
            if int(words[2]) < 0:
                raise _Unscannable
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements and len(words) >= 3:
            kind = "list" if words[1] == "list" else _PLY_TYPES.get(words[1])
            if kind is None:
                raise _Unscannable
            elements[-1][2].append((kind, words[-1]))
        else:
            raise _Unscannable
    raise _Unscannable


def _scan_ply(handle) -> int:
    fmt, elements = _read_ply_header(handle)
    names = [element[0] for element in elements]
    if "vertex" not in names:
        raise _Unscannable
    before, (_, n_vertices, properties) = elements[:names.index("vertex")], elements[names.index("vertex")]
    columns = [name for _, name in properties]
    if any(kind == "list" for kind, _ in properties) or not {"x", "y", "z"} <= set(columns):
        raise _Unscannable
    if fmt == "ascii":
        return _scan_ply_ascii(handle, sum(count for _, count, _ in before), n_vertices,
                               [columns.index(axis) for axis in "xyz"], len(columns))
    order = {"binary_little_endian": "<", "binary_big_endian": ">"}.get(fmt)
    if order is None:
        raise _Unscannable
    skip = 0
    for _, count, element_properties in before:
        if any(kind == "list" for kind, _ in element_properties):
            raise _Unscannable  # its byte size depends on the data: do not guess
        skip += count * sum(np.dtype(kind).itemsize for kind, _ in element_properties)
    vertex = np.dtype([(name, order + kind) for kind, name in properties])
    handle.seek(skip, os.SEEK_CUR)
    bad, remaining = 0, n_vertices
    batch = max(1, CHUNK_BYTES // vertex.itemsize)
    while remaining > 0 and (data := handle.read(min(batch, remaining) * vertex.itemsize)):
        rows = np.frombuffer(data, vertex, count=len(data) // vertex.itemsize)
        remaining -= len(rows)
        finite = np.isfinite(rows["x"]) & np.isfinite(rows["y"]) & np.isfinite(rows["z"])
        bad += int(np.count_nonzero(~finite))
    return bad


def _scan_ply_ascii(handle, skip, n_vertices, xyz, n_columns) -> int:
    """Skip ``skip`` element lines, then check columns ``xyz`` of the next ``n_vertices`` lines."""
    bad, remaining = 0, n_vertices
    for chunk in _text_chunks(handle):
        lines = chunk.splitlines()
        if skip:
            dropped = min(skip, len(lines))
            skip, lines = skip - dropped, lines[dropped:]
        lines = lines[:remaining]
        remaining -= len(lines)
        tokens = b" ".join(lines).split()
        if len(tokens) == len(lines) * n_columns:  # the usual case: one vertex per line
            bad += _count_rows(zip(*(tokens[i::n_columns] for i in xyz)))
        else:
            rows = [line.split() for line in lines]
            bad += _count_rows([row[i] for i in xyz] for row in rows)  # short row: IndexError
        if remaining <= 0:
            break
    return bad


def _scan_off(handle) -> int:
    header_done, remaining, bad = False, None, 0
    for chunk in _text_chunks(handle):
        rows = []
        for line in chunk.splitlines():
            tokens = line.split(b"#", 1)[0].split()
            if not tokens:
                continue
            if not header_done:
                match = _OFF_HEADER.match(b" ".join(tokens))
                if match is None:
                    raise _Unscannable
                header_done, tokens = True, match.group(1).split()
                if not tokens:
                    continue
            if remaining is None:
                remaining = int(tokens[0])
                if remaining < 0:
                    raise _Unscannable
            elif remaining > 0:
                if len(tokens) < 3:
                    raise _Unscannable
                rows.append(tokens[:3])
                remaining -= 1
            if remaining == 0:
                break
        bad += _count_rows(rows)
        if remaining == 0:
            break
    return bad


_SCANNERS = {".obj": _scan_obj, ".ply": _scan_ply, ".stl": _scan_stl, ".off": _scan_off}
SCANNED_SUFFIXES = tuple(_SCANNERS)  # lower case; anything else gives None
