"""glTF 2.0 (.gltf with its buffers, .glb): the guard.

What it refuses (Blender 4.2-5.0): a broken accessor, buffer view or buffer (a missing or short
``.bin``, offsets past the data, counts beyond 32 bits), which ends in a Python traceback inside the
importer instead of a message, and indices beyond the POSITION accessor.  The same read counts the
POSITION values with a NaN or ±inf coordinate (Blender 5.0's glTF importer turns them into 0).  A
.glb is memory-mapped; a .gltf's external buffers are mapped once each.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from urllib.parse import unquote

import numpy as np

from ...errors import DepthViewsError
from . import reading
from .reading import MAX_COUNT

_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


def guard_glb(path, handle, found) -> None:
    """Check a binary glTF; count its non-finite POSITION values into ``found.non_finite``."""
    data = reading.mapped(handle)
    size = len(data)
    if data[:4] == b"glTF" and size < 12:
        raise DepthViewsError(f"{path}: the GLB file ends inside its 12-byte header (truncated)")
    if size < 12 or data[:4] != b"glTF":
        what = f"starts with {bytes(data[:4]).hex()}" if size else "is empty"
        raise DepthViewsError(f"{path}: not a GLB file (it {what}; GLB files start with 'glTF')")
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
    _check_gltf_document(path, _gltf_json(path, bytes(data[start:start + json_length])), binary, found)


def guard_gltf(path, handle, found) -> None:
    """Check a .gltf and the buffers it names; count its non-finite POSITION values into ``found.non_finite``."""
    _check_gltf_document(path, _gltf_json(path, handle.read()), None, found)


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
            data = reading.mapped(stream)
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


def _check_gltf_document(path, document, binary, found) -> None:
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
    found.non_finite = non_finite
