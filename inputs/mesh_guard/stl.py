"""STL (binary and ASCII): the guard.

Told apart the way Blender does: binary exactly when the file size is ``84 + 50 * triangle count``.
A binary STL whose size does not match and that does not look like text is truncated: Blender would
read it as an empty ASCII file ("no faces"), so it is refused.  The same read counts the triangle
corners with a NaN or ±inf coordinate (STL shares no vertices; the importer turns them into 0).
"""

from __future__ import annotations

import re
import struct
from itertools import chain

import numpy as np

from ...errors import DepthViewsError
from . import reading
from .reading import count_non_finite_rows, table_or_none

RECORD = np.dtype([("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])

_VERTEX_BODY = re.compile(rb"\n[ \t]*vertex[ \t]+([^\n]*)")
_VERTEX = re.compile(rb"^[ \t]*vertex[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.M)


def guard_stl(path, handle, found) -> None:
    head = handle.read(84)
    size = reading.file_size(handle)
    n_triangles = struct.unpack_from("<I", head, 80)[0] if len(head) == 84 else 0
    if len(head) == 84 and size == 84 + 50 * n_triangles:
        data = reading.mapped(handle)
        bad, batch = 0, max(1, reading.CHUNK_BYTES // RECORD.itemsize)
        for start in range(0, n_triangles, batch):
            records = np.frombuffer(data, RECORD, min(batch, n_triangles - start), 84 + start * RECORD.itemsize)
            bad += count_non_finite_rows(records["corners"].reshape(-1, 3))
        found.non_finite = bad
        return
    if len(head) == 84:
        handle.seek(0)
        sample = handle.read(65536)
        if b"\0" in sample or not sample.lstrip().lower().startswith(b"solid"):
            raise DepthViewsError(
                f"{path}: the binary STL header declares {n_triangles} triangles ({84 + 50 * n_triangles} "
                f"bytes) but the file has {size} bytes (truncated or corrupt)")
    # ASCII (or too short to be binary: the importer reads it as text and says what it finds).
    handle.seek(0)
    bad = 0
    for chunk in reading.text_chunks(handle):
        bad_here = _count_ascii(chunk)
        if bad_here is None:
            return  # a coordinate that is not a number: not counted (the importer reports it)
        bad += bad_here
    found.non_finite = bad


def _count_ascii(chunk: bytes) -> int | None:
    """Non-finite corners among the ``vertex x y z`` lines of ``chunk`` (whole lines), None where one
    of their first three values is not a number."""
    bodies = _VERTEX_BODY.findall(b"\n" + chunk)
    table = table_or_none(bodies, np.float64, columns=(0, 1, 2), spaces_and_tabs=True)
    if table is not None or not bodies:
        return count_non_finite_rows(table) if bodies else 0
    try:  # exactly: lines with fewer than three values are not vertices; float() decides what a number is
        values = np.fromiter(map(float, chain.from_iterable(_VERTEX.findall(chunk))), np.float64)
    except (ValueError, OverflowError):
        return None
    return count_non_finite_rows(values.reshape(-1, 3))
