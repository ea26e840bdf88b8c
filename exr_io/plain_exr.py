"""Uncompressed scanline OpenEXR files in pure numpy: the fallback where the OpenEXR package cannot run.

Blender 3.x links its own OpenEXR library, and the OpenEXR wheel's copy clashes with it inside that
process (measured on Debian's Blender 3.4.1 with the 3.3 and 3.5 wheels: a crash or garbage pixels).
There, the add-on reads and writes EXRs through this module instead.  It handles the subset Depth
Views itself writes inside such a Blender: one part, scanlines, no compression, HALF/FLOAT/UINT
channels without subsampling, and the attribute types string, m44f, float, int, v2f, box2i.  Files
it writes are ordinary OpenEXR files (any reader opens them).  Everything else raises
:class:`DepthViewsError` naming the file.  Layout: the OpenEXR file-layout document
(magic, version, header attributes, offset table, scanline blocks), little-endian throughout.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from ..errors import DepthViewsError
from ._common import EXR_MAGIC, check_image_size

_PIXEL_TYPES = {0: np.dtype("<u4"), 1: np.dtype("<f2"), 2: np.dtype("<f4")}
_PIXEL_TYPE_OF = {dtype: code for code, dtype in _PIXEL_TYPES.items()}
_SINGLE_PART_SCANLINE = 2
_FLAG_TILED, _FLAG_LONG_NAMES, _FLAG_DEEP, _FLAG_MULTIPART = 0x200, 0x400, 0x800, 0x1000
_COMPRESSION_NAMES = ("NO_COMPRESSION", "RLE_COMPRESSION", "ZIPS_COMPRESSION", "ZIP_COMPRESSION",
                      "PIZ_COMPRESSION", "PXR24_COMPRESSION", "B44_COMPRESSION", "B44A_COMPRESSION",
                      "DWAA_COMPRESSION", "DWAB_COMPRESSION", "HTJ2K256_COMPRESSION", "HTJ2K32_COMPRESSION")


@dataclass
class PlainChannel:
    pixels: np.ndarray


@dataclass
class PlainPart:
    header: dict
    channels: dict = field(default_factory=dict)


@dataclass
class PlainExrFile:
    """The shape reading.py expects of an ``OpenEXR.File``: ``parts[i].header`` and ``.channels``."""

    parts: list


def write_plain_exr(path: str, channels: dict, attributes: dict) -> None:
    """Write ``channels`` ({name: 2D array}, float32/float16/uint32) uncompressed to ``path``.

    ``attributes``: extra header attributes, ``str`` as string and 4x4 arrays as m44f; the required
    ones (channels, compression, windows, line order...) are written here.  Not atomic by itself.
    """
    names = sorted(channels)
    arrays = [np.ascontiguousarray(channels[name]) for name in names]
    height, width = arrays[0].shape
    arrays = [a.astype(a.dtype.newbyteorder("<")) for a in arrays]
    header = bytearray(EXR_MAGIC + struct.pack("<i", _SINGLE_PART_SCANLINE))
    chlist = b"".join(name.encode() + b"\0" + struct.pack("<iB3xii", _PIXEL_TYPE_OF[a.dtype], 0, 1, 1)
                      for name, a in zip(names, arrays)) + b"\0"
    box = struct.pack("<4i", 0, 0, width - 1, height - 1)
    header += _attribute("channels", "chlist", chlist)
    header += _attribute("compression", "compression", b"\0")
    header += _attribute("dataWindow", "box2i", box)
    header += _attribute("displayWindow", "box2i", box)
    header += _attribute("lineOrder", "lineOrder", b"\0")
    header += _attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0))
    header += _attribute("screenWindowCenter", "v2f", struct.pack("<2f", 0.0, 0.0))
    header += _attribute("screenWindowWidth", "float", struct.pack("<f", 1.0))
    for name, value in attributes.items():
        if isinstance(value, str):
            header += _attribute(name, "string", value.encode("utf-8"))
        elif np.shape(value) == (4, 4):
            header += _attribute(name, "m44f", np.asarray(value, dtype="<f4").tobytes())
        else:
            raise DepthViewsError(f"{path}: cannot store header attribute {name!r} ({type(value).__name__})")
    header += b"\0"
    line_size = sum(a.dtype.itemsize * width for a in arrays)
    first_block = len(header) + 8 * height
    offsets = first_block + np.arange(height, dtype="<u8") * (8 + line_size)
    with open(path, "wb") as stream:
        stream.write(header)
        stream.write(offsets.tobytes())
        for y in range(height):
            stream.write(struct.pack("<ii", y, line_size))
            for array in arrays:
                stream.write(array[y].tobytes())


def _attribute(name: str, kind: str, data: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(data)) + data


def read_plain_exr(path: str, *, header_only: bool = False) -> PlainExrFile:
    """Read an uncompressed single-part scanline EXR; DepthViewsError for anything else."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read ({error.strerror})") from None
    reader = _Reader(path, data)
    header = reader.header()
    if header_only:
        return PlainExrFile([PlainPart(header)])
    return PlainExrFile([PlainPart(header, reader.pixels(header))])


class _Reader:
    def __init__(self, path: str, data: bytes):
        self.path, self.data, self.position = path, data, 0
        self.channel_details: list = []

    def fail(self, problem: str) -> DepthViewsError:
        return DepthViewsError(f"{self.path}: {problem}")

    def take(self, size: int) -> bytes:
        if size < 0 or self.position + size > len(self.data):
            raise self.fail("corrupt or truncated OpenEXR file (ends inside the header or pixels)")
        chunk = self.data[self.position:self.position + size]
        self.position += size
        return chunk

    def name(self) -> str:
        end = self.data.find(b"\0", self.position, self.position + 256)
        if end < 0:
            raise self.fail("corrupt or truncated OpenEXR file (unterminated attribute name)")
        text = self.data[self.position:end].decode("latin-1")
        self.position = end + 1
        return text

    def header(self) -> dict:
        if self.take(4) != EXR_MAGIC:
            raise self.fail("not an OpenEXR file")
        (version,) = struct.unpack("<i", self.take(4))
        if version & (_FLAG_TILED | _FLAG_DEEP | _FLAG_MULTIPART):
            raise self.fail("tiled, deep or multi-part OpenEXR files need the OpenEXR package, "
                            "which cannot be used inside this Blender")
        header: dict = {}
        while True:
            name = self.name()
            if not name:
                break
            kind = self.name()
            (size,) = struct.unpack("<i", self.take(4))
            header[name] = self._value(name, kind, self.take(size))
        for required in ("channels", "compression", "dataWindow"):
            if required not in header:
                raise self.fail(f"corrupt OpenEXR file (no {required} attribute)")
        return header

    def _value(self, name: str, kind: str, raw: bytes):
        if kind == "chlist":
            self.channel_details = self._channels(raw)
            return [name for name, *_ in self.channel_details]
        if kind == "compression":
            code = raw[0] if raw else -1
            return _COMPRESSION_NAMES[code] if 0 <= code < len(_COMPRESSION_NAMES) else f"UNKNOWN({code})"
        if kind == "box2i" and len(raw) == 16:
            x0, y0, x1, y1 = struct.unpack("<4i", raw)
            return (np.array([x0, y0]), np.array([x1, y1]))
        if kind == "string":
            return raw.decode("utf-8", errors="replace")
        if kind == "m44f" and len(raw) == 64:
            return np.frombuffer(raw, dtype="<f4").reshape(4, 4).astype(np.float32)
        if kind == "float" and len(raw) == 4:
            return struct.unpack("<f", raw)[0]
        if kind == "int" and len(raw) == 4:
            return struct.unpack("<i", raw)[0]
        if kind == "v2f" and len(raw) == 8:
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        if kind == "lineOrder":
            return ("INCREASING_Y", "DECREASING_Y", "RANDOM_Y")[raw[0]] if raw and raw[0] < 3 else "UNKNOWN"
        return raw  # other attribute types are kept as bytes

    def _channels(self, raw: bytes) -> list:
        channels, position = [], 0
        while position < len(raw) and raw[position] != 0:
            end = raw.find(b"\0", position)
            if end < 0 or end + 17 > len(raw):
                raise self.fail("corrupt OpenEXR file (channel list)")
            name = raw[position:end].decode("latin-1")
            pixel_type, _, x_sampling, y_sampling = struct.unpack("<iB3xii", raw[end + 1:end + 17])
            if pixel_type not in _PIXEL_TYPES:
                raise self.fail(f"corrupt OpenEXR file (channel {name!r} has pixel type {pixel_type})")
            channels.append((name, pixel_type, x_sampling, y_sampling))
            position = end + 17
        return channels

    def pixels(self, header: dict) -> dict:
        if header["compression"] != "NO_COMPRESSION":
            raise self.fail(f"{header['compression']} files need the OpenEXR package, which cannot be "
                            f"used inside this Blender (only uncompressed files can be read here)")
        (x0, y0), (x1, y1) = header["dataWindow"]
        width, height = int(x1) - int(x0) + 1, int(y1) - int(y0) + 1
        check_image_size(self.path, width, height)
        channels = self.channel_details
        if any(xs != 1 or ys != 1 for _, _, xs, ys in channels):
            raise self.fail("subsampled channels need the OpenEXR package")
        dtypes = [_PIXEL_TYPES[t] for _, t, _, _ in channels]
        line_size = sum(d.itemsize * width for d in dtypes)
        offsets = np.frombuffer(self.take(8 * height), dtype="<u8")
        planes = [np.empty((height, width), dtype=d) for d in dtypes]
        for offset in offsets:
            if offset + 8 + line_size > len(self.data):
                raise self.fail("corrupt or truncated OpenEXR file (a scanline lies past the end)")
            y, size = struct.unpack_from("<ii", self.data, int(offset))
            row = y - int(y0)
            if size != line_size or not 0 <= row < height:
                raise self.fail("corrupt OpenEXR file (bad scanline block)")
            position = int(offset) + 8
            for plane, dtype in zip(planes, dtypes):
                plane[row] = np.frombuffer(self.data, dtype=dtype, count=width, offset=position)
                position += dtype.itemsize * width
        return {name: PlainChannel(plane.astype(plane.dtype.newbyteorder("="))) for (name, *_), plane
                in zip(channels, planes)}

