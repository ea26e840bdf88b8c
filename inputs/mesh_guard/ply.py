"""PLY (ASCII, binary little and big endian): the header parser, the table of PLY types, and the guard.

What it refuses, each found by the hostile-input corpus (``tests/make_corpus.py``; Blender 4.2-5.0):
a header count that is not a number or does not fit in 32 bits (aborts the whole Blender process,
``std::out_of_range: stoi``); a header that declares more elements than the file holds (a binary one
made the importer loop for minutes); face indices out of range, non-numeric ASCII values and
truncated data (silently dropped or read as 0).  The same read counts the vertices with a NaN or
±inf x, y or z (the importer turns them into 0).

Binary data is memory-mapped and checked with structured numpy reads (record by record only where
list lengths vary); ASCII data is streamed in line batches and parsed by numpy's C parser, with an
exact line-by-line reading deciding and wording the refusal where that says no.
"""

from __future__ import annotations

import re
import struct

import numpy as np

from ...errors import DepthViewsError
from . import reading
from .reading import MAX_COUNT, count_non_finite_rows, table_or_none

PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
"""PLY property type -> numpy type (without byte order)."""

HEADER_BYTES = 1 << 20
"""A header must end within this many bytes."""


class Element:
    """One ``element`` of a PLY header with its properties, in file order: ``("scalar", type, name)`` or
    ``("list", count type, item type, name)``, types as in :data:`PLY_TYPES`."""

    def __init__(self, name: str, count: int):
        self.name, self.count = name, count
        self.properties: list[tuple] = []

    @property
    def fixed(self) -> bool:
        """Whether every record has the same size (no list property)."""
        return all(p[0] == "scalar" for p in self.properties)

    def xyz(self) -> list[int] | None:
        """Positions of the scalar properties x, y and z, or None if one is missing or a list is present."""
        names = [p[-1] for p in self.properties]
        if not self.fixed or not {"x", "y", "z"} <= set(names):
            return None
        return [names.index(axis) for axis in "xyz"]


def read_header(path, handle) -> tuple[str, list[Element], int]:
    """``(format, elements, data_offset)`` after a strict check of every header line; raises
    :class:`DepthViewsError` naming ``path`` for anything Blender's importer would crash on or misread."""
    head = handle.read(min(reading.file_size(handle), HEADER_BYTES))
    end = re.search(rb"(?:^|\n)end_header[ \t]*\r?\n", head)
    if not (head.startswith(b"ply\n") or head.startswith(b"ply\r\n")):
        raise DepthViewsError(f"{path}: not a PLY file (it does not start with the line 'ply')")
    if end is None:
        raise DepthViewsError(f"{path}: the PLY header has no 'end_header' line (truncated or not PLY)")
    fmt, elements = None, []
    for number, raw in enumerate(head[:end.start()].split(b"\n")[1:], start=2):
        line = raw.decode("ascii", errors="replace").strip()
        words = line.split()
        bad = DepthViewsError(f"{path}: PLY header line {number} is not valid: {line[:80]!r} "
                              "(Blender's importer would crash or misread the file)")
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            if len(words) != 3 or words[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                raise bad
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise bad
            count = int(words[2])
            if count > MAX_COUNT:
                raise DepthViewsError(f"{path}: the PLY header declares {count} {words[1]} elements, "
                                      f"more than any importer can hold ({MAX_COUNT})")
            elements.append(Element(words[1], count))
        elif words[0] == "property" and elements:
            if words[1:2] == ["list"]:
                if len(words) != 5 or words[2] not in PLY_TYPES or words[3] not in PLY_TYPES:
                    raise bad
                elements[-1].properties.append(("list", PLY_TYPES[words[2]], PLY_TYPES[words[3]], words[4]))
            else:
                if len(words) != 3 or words[1] not in PLY_TYPES:
                    raise bad
                elements[-1].properties.append(("scalar", PLY_TYPES[words[1]], words[2]))
        else:
            raise bad
    if fmt is None:
        raise DepthViewsError(f"{path}: the PLY header has no 'format' line")
    return fmt, elements, end.end()


def guard_ply(path, handle, found) -> None:
    """Check a PLY file's header and data; count its non-finite vertices into ``found.non_finite``.

    The vertices counted are those of the first ``vertex`` element, when it has scalar x, y and z
    properties (otherwise ``found.non_finite`` stays None); face indices are checked against the
    header's vertex count.
    """
    fmt, elements, offset = read_header(path, handle)
    counts = {element.name: element.count for element in elements}
    n_vertices = counts.get("vertex", 0)
    counted = next((element for element in elements if element.name == "vertex"), None)
    if counted is not None and counted.xyz() is None:
        counted = None
    size = reading.file_size(handle)
    if fmt == "ascii":
        _guard_ascii(path, handle, elements, offset, n_vertices, size, counted, found)
    else:
        _guard_binary(path, reading.mapped(handle), elements, offset, n_vertices, size,
                      "<" if fmt == "binary_little_endian" else ">", counted, found)


def _is_face_index(element: Element, prop: tuple) -> bool:
    return element.name == "face" and prop[0] == "list" and prop[-1] in ("vertex_indices", "vertex_index")


def _truncated(path, element, done=None) -> DepthViewsError:
    if done is None:
        return DepthViewsError(
            f"{path}: the PLY header declares {element.count} {element.name} elements, more than the "
            "file can hold (truncated or corrupt)")
    return DepthViewsError(
        f"{path}: the PLY file ends after {done} of the {element.count} {element.name} elements its "
        "header declares (truncated or corrupt)")


def _check_indices(path, indices, n_vertices) -> None:
    if len(indices) == 0:
        return
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= n_vertices:
        wrong = high if high >= n_vertices else low
        raise DepthViewsError(
            f"{path}: a face refers to vertex {wrong}, but the file has {n_vertices} vertices "
            f"(indices 0..{n_vertices - 1}); Blender would silently drop such faces")


# --------------------------------------------------------------------------------------------
# Binary

def _guard_binary(path, data, elements, offset, n_vertices, size, order, counted, found) -> None:
    """Walk the elements checking sizes and face indices, then count the vertices: a file refused for
    its structure has none of its vertex data read (unless ``found.count_even_if_refused``)."""
    vertices = None  # (offset, records present, record type) of the counted element
    try:
        for element in elements:
            if element.fixed:
                record = np.dtype([(f"p{i}", order + p[1]) for i, p in enumerate(element.properties)])
                need = element.count * record.itemsize
                present = element.count if offset + need <= size else (size - offset) // max(1, record.itemsize)
                if element is counted:
                    vertices = (offset, present, record)
                if present < element.count:
                    raise _truncated(path, element, present)
                offset += need
                continue
            # The smallest record (empty lists) bounds the count before anything is read.
            smallest = sum(np.dtype(p[1]).itemsize for p in element.properties)
            if offset + element.count * smallest > size:
                raise _truncated(path, element)
            offset = _walk_binary_list_element(path, data, element, offset, size, order, n_vertices)
    except DepthViewsError:
        if vertices is not None and found.count_even_if_refused:
            found.non_finite = _count_binary(data, *vertices, counted.xyz())
        raise
    if vertices is not None:
        found.non_finite = _count_binary(data, *vertices, counted.xyz())


def _count_binary(data, offset, count, record, xyz) -> int:
    """Non-finite x/y/z among ``count`` records from ``offset``, a batch of about CHUNK_BYTES at a time."""
    bad, batch = 0, max(1, reading.CHUNK_BYTES // max(1, record.itemsize))
    for start in range(0, count, batch):
        rows = np.frombuffer(data, record, min(batch, count - start), offset + start * record.itemsize)
        finite = np.ones(len(rows), bool)
        for i in xyz:
            finite &= np.isfinite(rows[f"p{i}"])
        bad += int(np.count_nonzero(~finite))
    return bad


def _walk_binary_list_element(path, data, element, offset, size, order, n_vertices) -> int:
    """Check one element with list properties; return the offset after it.

    Fast path: every record has the same list lengths as the first one (one structured read).
    Otherwise records are walked one by one.
    """
    def fields(lengths):
        out = []
        for i, prop in enumerate(element.properties):
            if prop[0] == "scalar":
                out.append((f"p{i}", order + prop[1]))
            else:
                out.append((f"n{i}", order + prop[1]))
                out.append((f"p{i}", order + prop[2], (lengths[i],)))
        return np.dtype(out)

    lengths, position = {}, offset
    for i, prop in enumerate(element.properties):  # the first record's list lengths
        if position + np.dtype(prop[1]).itemsize > size:
            raise _truncated(path, element, 0)
        if prop[0] == "scalar":
            position += np.dtype(prop[1]).itemsize
            continue
        length = int(np.frombuffer(data, order + prop[1], 1, position)[0])
        if length < 0:
            raise DepthViewsError(f"{path}: PLY {element.name} 0 has a negative list length ({length})")
        lengths[i] = length
        position += np.dtype(prop[1]).itemsize + length * np.dtype(prop[2]).itemsize
    record = fields(lengths)
    if element.count and offset + element.count * record.itemsize <= size:
        rows = np.frombuffer(data, record, element.count, offset)
        if all(np.all(rows[f"n{i}"] == length) for i, length in lengths.items()):
            for i, prop in enumerate(element.properties):
                if _is_face_index(element, prop):
                    _check_indices(path, rows[f"p{i}"], n_vertices)
            return offset + element.count * record.itemsize
    return _walk_binary_records(path, data, element, offset, size, order, n_vertices)


def _walk_binary_records(path, data, element, offset, size, order, n_vertices) -> int:
    readers = []
    for prop in element.properties:
        if prop[0] == "scalar":
            readers.append((None, np.dtype(prop[1]).itemsize, None, False))
        else:
            readers.append((struct.Struct(order + np.dtype(prop[1]).char), None, np.dtype(order + prop[2]),
                            _is_face_index(element, prop)))
    indices_seen = []
    for index in range(element.count):
        for count_struct, width, item, is_face in readers:
            if count_struct is None:
                offset += width
                continue
            if offset + count_struct.size > size:
                raise _truncated(path, element, index)
            (length,) = count_struct.unpack_from(data, offset)
            offset += count_struct.size
            if length < 0:
                raise DepthViewsError(f"{path}: PLY {element.name} {index} has a negative list length ({length})")
            if offset + length * item.itemsize > size:
                raise _truncated(path, element, index)
            if is_face and length:
                indices_seen.append(np.frombuffer(data, item, length, offset))
            offset += length * item.itemsize
        if offset > size:
            raise _truncated(path, element, index)
        if len(indices_seen) > 4096:
            _check_indices(path, np.concatenate(indices_seen), n_vertices)
            indices_seen = []
    if indices_seen:
        _check_indices(path, np.concatenate(indices_seen), n_vertices)
    return offset


# --------------------------------------------------------------------------------------------
# ASCII

def _guard_ascii(path, handle, elements, offset, n_vertices, size, counted, found) -> None:
    handle.seek(offset)
    if sum(element.count for element in elements) * 2 > size - offset:  # a value and a line end each
        raise _truncated(path, max(elements, key=lambda element: element.count))
    batches = reading.line_batches(handle)
    pending: list[bytes] = []
    for element in elements:
        remaining, done, bad = element.count, 0, 0
        while remaining > 0:
            if not pending:
                pending = next(batches, None)
                if pending is None:
                    raise _truncated(path, element, done)
            lines, pending = pending[:remaining], pending[remaining:]
            table = _check_ascii_lines(path, element, lines, done, n_vertices)
            if element is counted:
                bad += count_non_finite_rows(table[:, counted.xyz()])
            remaining -= len(lines)
            done += len(lines)
        if element is counted:
            found.non_finite = bad


def _numbers(path, element, tokens, integer: bool):
    try:
        return np.array(tokens).astype(np.int64 if integer else np.float64)
    except (ValueError, OverflowError):
        for token in tokens:
            try:
                int(token) if integer else float(token)
            except (ValueError, OverflowError):
                raise DepthViewsError(
                    f"{path}: PLY {element.name} data holds {token[:40].decode('ascii', 'replace')!r} "
                    f"where a{'n integer' if integer else ' number'} belongs "
                    "(Blender's importer would silently read it as 0)") from None
        raise


def _check_ascii_lines(path, element, lines, first, n_vertices):
    """Check ``lines`` (records ``first``...) of ``element``; return their values (float64, one row per
    line) for an element without list properties, else None."""
    if element.fixed:
        width = len(element.properties)
        table = table_or_none(lines, np.float64)
        if table is not None and table.shape == (len(lines), width):
            return table
        tokens = b" ".join(lines).split()
        if len(tokens) != width * len(lines):
            for number, line in enumerate(lines, start=first):
                if len(line.split()) != width:
                    raise DepthViewsError(
                        f"{path}: PLY {element.name} {number} has {len(line.split())} values, the header "
                        f"declares {width} (Blender's importer would misread the file)")
        return _numbers(path, element, tokens, integer=False).reshape(len(lines), width)
    if len(element.properties) == 1:  # the usual face line: "3 i j k"
        table = table_or_none(lines, np.int64)
        if table is None:
            width = len(lines[0].split())
            tokens = b" ".join(lines).split()
            if width >= 1 and len(tokens) == width * len(lines):
                table = _numbers(path, element, tokens, integer=True).reshape(len(lines), width)
        if table is not None and table.shape[1] >= 1 and np.all(table[:, 0] == table.shape[1] - 1):
            if _is_face_index(element, element.properties[0]):
                _check_indices(path, table[:, 1:], n_vertices)
            return None
    for number, line in enumerate(lines, start=first):
        values = line.split()
        position, indices = 0, []
        for prop in element.properties:
            if prop[0] == "scalar":
                _numbers(path, element, values[position:position + 1], integer=False)
                position += 1
                continue
            (length,) = _numbers(path, element, values[position:position + 1], integer=True) if \
                position < len(values) else (-1,)
            items = values[position + 1:position + 1 + length] if length >= 0 else []
            if length < 0 or len(items) != length:
                raise DepthViewsError(
                    f"{path}: PLY {element.name} {number} does not hold the list its header declares")
            parsed = _numbers(path, element, items, integer=True)
            if _is_face_index(element, prop):
                indices.append(parsed)
            position += 1 + length
        if position != len(values):
            raise DepthViewsError(
                f"{path}: PLY {element.name} {number} has {len(values)} values, its header declares {position}")
        for parsed in indices:
            _check_indices(path, parsed, n_vertices)
    return None
