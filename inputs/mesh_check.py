"""Refuse mesh files that Blender's importers would crash on, hang on, or silently read wrongly.

Why this exists (each found by the hostile-input corpus in ``tests/make_corpus.py``; Blender 4.2-5.0):

- PLY: a header count that is not a number or does not fit in 32 bits aborts the whole Blender
  process (``std::out_of_range: stoi``); a binary header that declares far more faces than the file
  holds makes the importer loop for minutes; face indices out of range, non-numeric ASCII values and
  truncated data are silently dropped or read as 0.
- OBJ: faces that refer to vertices that do not exist are silently dropped; a UTF-16 file is read as
  garbage geometry.
- glTF/GLB: NaN/inf positions are silently turned into 0 (5.0), and a broken accessor or a missing
  buffer ends in a Python traceback instead of a message.
- STL: a truncated binary file is read as an empty ASCII file ("no faces").
- Every format: NaN/inf coordinates (see :mod:`.mesh_scan`).

:func:`check_mesh_file` raises :class:`DepthViewsError` (one line, starting with the path) for such
files and returns for anything it has no objection to; the importer still reports problems this
module does not look for.  Pure Python + numpy, streaming or memory-mapped, vectorised on the common
layouts, so a file is read once at about disk speed; declared counts are checked against the file
size before anything is allocated for them.
"""

from __future__ import annotations

import base64
import json
import mmap
import os
import re
import struct
from urllib.parse import unquote

import numpy as np

from ..errors import DepthViewsError
from .mesh_scan import _PLY_TYPES, CHUNK_BYTES, count_non_finite_vertices

MAX_COUNT = 2**31 - 1
"""Largest element count a 32-bit importer can hold; larger declared counts crash Blender."""

_LINE_BATCH = 200_000


def check_mesh_file(path) -> None:
    """Raise :class:`DepthViewsError` naming ``path`` if Blender must not import the file as it is.

    Checks the structure (header, declared counts against the file size, face indices in range,
    binary sizes) of ``.ply``, ``.obj``, ``.stl``, ``.glb`` and ``.gltf`` files, and refuses NaN or
    infinite vertex coordinates in those and ``.off`` files.  Other suffixes pass unchecked.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    checker = _CHECKERS.get(suffix)
    try:
        if checker is not None:
            with open(path, "rb") as handle:
                checker(path, handle)
        non_finite = count_non_finite_vertices(path)
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if non_finite:
        raise DepthViewsError(
            f"{path}: {non_finite} vertices have NaN or infinite coordinates "
            "(Blender's importer would silently turn them into 0)")


def _size(handle) -> int:
    return os.fstat(handle.fileno()).st_size


def _mapped(handle):
    """The whole file as a read-only buffer (memory-mapped; empty bytes for an empty file)."""
    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if _size(handle) else b""


# --------------------------------------------------------------------------------------------
# PLY

class _Element:
    def __init__(self, name: str, count: int):
        self.name, self.count = name, count
        self.properties: list[tuple] = []  # ("scalar", dtype, name) or ("list", count_dtype, item_dtype, name)

    @property
    def fixed(self) -> bool:
        return all(p[0] == "scalar" for p in self.properties)


def _ply_header(path, handle):
    """``(format, elements, data_offset)`` after a strict check of every header line."""
    head = handle.read(min(_size(handle), 1 << 20))
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
            elements.append(_Element(words[1], count))
        elif words[0] == "property" and elements:
            if words[1:2] == ["list"]:
                if len(words) != 5 or words[2] not in _PLY_TYPES or words[3] not in _PLY_TYPES:
                    raise bad
                elements[-1].properties.append(("list", _PLY_TYPES[words[2]], _PLY_TYPES[words[3]], words[4]))
            else:
                if len(words) != 3 or words[1] not in _PLY_TYPES:
                    raise bad
                elements[-1].properties.append(("scalar", _PLY_TYPES[words[1]], words[2]))
        else:
            raise bad
    if fmt is None:
        raise DepthViewsError(f"{path}: the PLY header has no 'format' line")
    return fmt, elements, end.end()


def _is_face_index(element: _Element, prop: tuple) -> bool:
    return element.name == "face" and prop[0] == "list" and prop[-1] in ("vertex_indices", "vertex_index")


def _check_ply(path, handle) -> None:
    fmt, elements, offset = _ply_header(path, handle)
    counts = {element.name: element.count for element in elements}
    n_vertices = counts.get("vertex", 0)
    size = _size(handle)
    if fmt == "ascii":
        _check_ply_ascii(path, handle, elements, offset, n_vertices, size)
    else:
        _check_ply_binary(path, _mapped(handle), elements, offset, n_vertices, size,
                          "<" if fmt == "binary_little_endian" else ">")


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


def _check_ply_binary(path, data, elements, offset, n_vertices, size, order) -> None:
    for element in elements:
        scalars_before = []
        for prop in element.properties:
            if prop[0] == "list":
                break
            scalars_before.append(prop)
        if element.fixed:
            record = np.dtype([(f"p{i}", order + p[1]) for i, p in enumerate(element.properties)])
            need = element.count * record.itemsize
            if offset + need > size:
                raise _truncated(path, element, (size - offset) // max(1, record.itemsize))
            offset += need
            continue
        # The smallest record (empty lists) bounds the count before anything is read.
        smallest = sum(np.dtype(p[1]).itemsize for p in element.properties)
        if offset + element.count * smallest > size:
            raise _truncated(path, element)
        offset = _walk_binary_list_element(path, data, element, offset, size, order, n_vertices)


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


def _ascii_lines(handle):
    """Non-blank lines of the rest of the file, in lists of at most _LINE_BATCH."""
    carry = b""
    while True:
        data = handle.read(CHUNK_BYTES)
        if not data:
            lines = [line for line in carry.split(b"\n") if line.strip()]
            if lines:
                yield lines
            return
        data = carry + data
        cut = data.rfind(b"\n") + 1
        carry, data = data[cut:], data[:cut]
        lines = [line for line in data.split(b"\n") if line.strip()]
        for start in range(0, len(lines), _LINE_BATCH):
            yield lines[start:start + _LINE_BATCH]


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


def _check_ply_ascii(path, handle, elements, offset, n_vertices, size) -> None:
    handle.seek(offset)
    if sum(element.count for element in elements) * 2 > size - offset:  # a value and a line end each
        raise _truncated(path, max(elements, key=lambda element: element.count))
    batches = _ascii_lines(handle)
    pending: list[bytes] = []
    for element in elements:
        remaining, done = element.count, 0
        while remaining > 0:
            if not pending:
                pending = next(batches, None)
                if pending is None:
                    raise _truncated(path, element, done)
            lines, pending = pending[:remaining], pending[remaining:]
            _check_ascii_lines(path, element, lines, done, n_vertices)
            remaining -= len(lines)
            done += len(lines)


def _check_ascii_lines(path, element, lines, first, n_vertices) -> None:
    tokens = b" ".join(lines).split()
    if element.fixed:
        width = len(element.properties)
        if len(tokens) != width * len(lines):
            for number, line in enumerate(lines, start=first):
                if len(line.split()) != width:
                    raise DepthViewsError(
                        f"{path}: PLY {element.name} {number} has {len(line.split())} values, the header "
                        f"declares {width} (Blender's importer would misread the file)")
        _numbers(path, element, tokens, integer=False)
        return
    if len(element.properties) == 1:  # the usual face line: "3 i j k"
        width = len(lines[0].split())
        if width >= 1 and len(tokens) == width * len(lines):
            table = _numbers(path, element, tokens, integer=True).reshape(len(lines), width)
            if np.all(table[:, 0] == width - 1):
                if _is_face_index(element, element.properties[0]):
                    _check_indices(path, table[:, 1:], n_vertices)
                return
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


# --------------------------------------------------------------------------------------------
# OBJ

_OBJ_FACE = re.compile(rb"^[ \t]*f[ \t]+([^\r\n]*)", re.M)
_OBJ_VERTEX_OR_FACE = re.compile(rb"^[ \t]*(v|f)[ \t]+([^\r\n]*)", re.M)
_OBJ_VERTEX_START = re.compile(rb"^[ \t]*v[ \t]", re.M)


def _check_obj(path, handle) -> None:
    n_vertices, highest = 0, 0
    carry = b""
    while True:
        data = handle.read(CHUNK_BYTES)
        chunk = carry + data
        if data:
            cut = chunk.rfind(b"\n") + 1
            carry, chunk = chunk[cut:], chunk[:cut]
        if b"\0" in chunk:
            raise DepthViewsError(
                f"{path}: the OBJ file holds NUL bytes, so it is not a text OBJ (saved as UTF-16, or "
                "binary data); save it as ASCII or UTF-8")
        bodies = _OBJ_FACE.findall(chunk)
        if bodies:
            tokens = [token.split(b"/", 1)[0] for token in b" ".join(bodies).split() if token != b"\\"]
            try:
                indices = np.array(tokens).astype(np.int64)
            except (ValueError, OverflowError):
                raise DepthViewsError(f"{path}: an OBJ face line holds a vertex index that is not an "
                                      "integer") from None
            if np.any(indices <= 0):  # zero or relative indices: follow the file line by line
                n_vertices = _obj_relative_faces(path, chunk, n_vertices)
                highest = max(highest, int(indices.max(initial=0)))
                if not data:
                    break
                continue
            highest = max(highest, int(indices.max(initial=0)))
        n_vertices += len(_OBJ_VERTEX_START.findall(chunk))
        if not data:
            break
    if highest > n_vertices:
        raise DepthViewsError(
            f"{path}: a face refers to vertex {highest}, but the file has {n_vertices} vertices; "
            "Blender would silently drop such faces")


def _obj_relative_faces(path, chunk, n_vertices) -> int:
    for kind, body in _OBJ_VERTEX_OR_FACE.findall(chunk):
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


# --------------------------------------------------------------------------------------------
# STL

def _check_stl(path, handle) -> None:
    head = handle.read(84)
    size = _size(handle)
    if len(head) < 84:
        return  # too short to be binary: the importer reads it as (empty) ASCII and says so
    n_triangles = struct.unpack_from("<I", head, 80)[0]
    if size == 84 + 50 * n_triangles:
        return
    handle.seek(0)
    sample = handle.read(65536)
    if b"\0" in sample or not sample.lstrip().lower().startswith(b"solid"):
        raise DepthViewsError(
            f"{path}: the binary STL header declares {n_triangles} triangles ({84 + 50 * n_triangles} "
            f"bytes) but the file has {size} bytes (truncated or corrupt)")


# --------------------------------------------------------------------------------------------
# glTF / GLB

_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


def _check_glb(path, handle) -> None:
    data = _mapped(handle)
    size = len(data)
    if data[:4] == b"glTF" and size < 12:
        raise DepthViewsError(f"{path}: the GLB file ends inside its 12-byte header (truncated)")
    if size < 12 or data[:4] != b"glTF":
        found = f"starts with {bytes(data[:4]).hex()}" if size else "is empty"
        raise DepthViewsError(f"{path}: not a GLB file (it {found}; GLB files start with 'glTF')")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise DepthViewsError(f"{path}: GLB version {version}; only glTF 2.0 is supported")
    if length != size:
        raise DepthViewsError(f"{path}: the GLB header says {length} bytes but the file has {size} "
                              "(truncated or corrupt)")
    chunks, offset = {}, 12
    while offset + 8 <= size:
        chunk_length, kind = struct.unpack_from("<I4s", data, offset)
        if offset + 8 + chunk_length > size:
            raise DepthViewsError(f"{path}: a GLB chunk runs past the end of the file (truncated or corrupt)")
        chunks.setdefault(kind, (offset + 8, chunk_length))
        offset += 8 + chunk_length
    if b"JSON" not in chunks:
        raise DepthViewsError(f"{path}: the GLB file has no JSON chunk")
    start, json_length = chunks[b"JSON"]
    binary = None
    if b"BIN\0" in chunks:
        bin_start, bin_length = chunks[b"BIN\0"]
        binary = memoryview(data)[bin_start:bin_start + bin_length]
    _check_gltf_document(path, _gltf_json(path, bytes(data[start:start + json_length])), binary)


def _check_gltf(path, handle) -> None:
    _check_gltf_document(path, _gltf_json(path, handle.read()), None)


def _gltf_json(path, text: bytes) -> dict:
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise DepthViewsError(f"{path}: the glTF JSON is not valid ({str(error)[:100]})") from None
    if not isinstance(document, dict):
        raise DepthViewsError(f"{path}: the glTF JSON is not an object")
    return document


def _gltf_buffer(path, document, index, binary):
    buffers = document.get("buffers") or []
    if not isinstance(index, int) or not 0 <= index < len(buffers) or not isinstance(buffers[index], dict):
        raise DepthViewsError(f"{path}: glTF refers to buffer {index!r}, which does not exist")
    buffer = buffers[index]
    uri = buffer.get("uri")
    if uri is None:
        if binary is None:
            raise DepthViewsError(f"{path}: glTF buffer {index} has no data (no uri and no GLB binary chunk)")
        data = binary
    elif not isinstance(uri, str):
        raise DepthViewsError(f"{path}: glTF buffer {index} has a uri that is not a string")
    elif uri.startswith("data:"):
        try:
            data = base64.b64decode(uri.split(",", 1)[1], validate=False)
        except (IndexError, ValueError):
            raise DepthViewsError(f"{path}: glTF buffer {index} has a data: uri that is not base64") from None
    else:
        file = os.path.join(os.path.dirname(os.path.abspath(path)), unquote(uri))
        if not os.path.isfile(file):
            raise DepthViewsError(f"{path}: glTF buffer {index} refers to {uri!r}, which does not exist "
                                  f"next to the .gltf (looked for {file})")
        with open(file, "rb") as stream:
            data = _mapped(stream) if os.path.getsize(file) else b""
    declared = buffer.get("byteLength")
    if not isinstance(declared, int) or declared < 0 or declared > len(data):
        raise DepthViewsError(f"{path}: glTF buffer {index} declares {declared!r} bytes but holds "
                              f"{len(data)} (truncated or wrong file)")
    return data


def _gltf_accessor_values(path, document, index, binary, buffers_cache):
    """The accessor's values as an (count, width) array, or None where we do not check it."""
    accessors = document.get("accessors") or []
    if not isinstance(index, int) or not 0 <= index < len(accessors) or not isinstance(accessors[index], dict):
        raise DepthViewsError(f"{path}: glTF refers to accessor {index!r}, which does not exist")
    accessor = accessors[index]
    count, kind = accessor.get("count"), _COMPONENTS.get(accessor.get("componentType"))
    width = _WIDTHS.get(accessor.get("type"))
    if not isinstance(count, int) or count < 0 or kind is None or width is None:
        raise DepthViewsError(f"{path}: glTF accessor {index} has an invalid count, type or componentType")
    if count > MAX_COUNT:
        raise DepthViewsError(f"{path}: glTF accessor {index} declares {count} elements, "
                              f"more than any importer can hold ({MAX_COUNT})")
    if "bufferView" not in accessor or "sparse" in accessor:
        return None
    views = document.get("bufferViews") or []
    view_index = accessor["bufferView"]
    if not isinstance(view_index, int) or not 0 <= view_index < len(views) or not isinstance(views[view_index], dict):
        raise DepthViewsError(f"{path}: glTF accessor {index} refers to bufferView {view_index!r}, which does not exist")
    view = views[view_index]
    buffer_index = view.get("buffer")
    if buffer_index not in buffers_cache:
        buffers_cache[buffer_index] = _gltf_buffer(path, document, buffer_index, binary)
    data = buffers_cache[buffer_index]
    item = np.dtype(kind)
    element = item.itemsize * width
    stride = view.get("byteStride") or element
    view_offset, view_length = view.get("byteOffset", 0), view.get("byteLength")
    offset = accessor.get("byteOffset", 0)
    numbers = (stride, view_offset, view_length, offset)
    if not all(isinstance(n, int) and n >= 0 for n in numbers) or stride < element:
        raise DepthViewsError(f"{path}: glTF accessor {index} or its bufferView has invalid offsets or stride")
    need = offset + (stride * (count - 1) + element if count else 0)
    if view_offset + view_length > len(data) or need > view_length:
        raise DepthViewsError(
            f"{path}: glTF accessor {index} declares {count} elements ({need} bytes), more than its "
            f"buffer holds (truncated or corrupt)")
    if count == 0:
        return np.empty((0, width), item)
    return np.ndarray((count, width), dtype=item, buffer=data, offset=view_offset + offset,
                      strides=(stride, item.itemsize))


def _check_gltf_document(path, document, binary) -> None:
    meshes = document.get("meshes") or []
    if not isinstance(meshes, list):
        raise DepthViewsError(f"{path}: the glTF 'meshes' entry is not a list")
    cache: dict = {}
    non_finite = 0
    for mesh_number, mesh in enumerate(meshes):
        for primitive in (mesh or {}).get("primitives") or []:
            if not isinstance(primitive, dict):
                raise DepthViewsError(f"{path}: glTF mesh {mesh_number} has a primitive that is not an object")
            attributes = primitive.get("attributes") or {}
            if "POSITION" not in attributes:
                continue
            positions = _gltf_accessor_values(path, document, attributes["POSITION"], binary, cache)
            accessor = document["accessors"][attributes["POSITION"]]
            n_positions = accessor["count"]
            if positions is not None and positions.dtype.kind == "f":
                non_finite += int(np.count_nonzero(~np.isfinite(positions).all(axis=1)))
            if "indices" in primitive:
                indices = _gltf_accessor_values(path, document, primitive["indices"], binary, cache)
                if indices is not None and indices.size and int(indices.max()) >= n_positions:
                    raise DepthViewsError(
                        f"{path}: glTF mesh {mesh_number} refers to vertex {int(indices.max())}, but its "
                        f"POSITION accessor has {n_positions} vertices")
    if non_finite:
        raise DepthViewsError(
            f"{path}: {non_finite} vertices have NaN or infinite coordinates "
            "(Blender's glTF importer would silently turn them into 0)")


_CHECKERS = {".ply": _check_ply, ".obj": _check_obj, ".stl": _check_stl, ".glb": _check_glb,
             ".gltf": _check_gltf}
