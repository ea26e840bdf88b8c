"""Read depth maps, channels and headers from OpenEXR files (numpy + OpenEXR, no bpy).

Every failure raises :class:`DepthViewsError` with a one-line message that starts with the path;
no OpenEXR exception escapes. Headers are checked (magic bytes, image size) before any pixel
memory is allocated.
"""

import json
import os
from fnmatch import fnmatchcase
from typing import Mapping

import numpy as np

from ..cameras.limits import MAX_DEPTH
from ..cameras.safe_files import shown
from ..errors import DepthViewsError
from ._backend import OpenEXR
from ._common import EXR_MAGIC, MAX_SAMPLES, as_matrix, check_image_size
from .plain_exr import read_plain_exr

BACKGROUND_THRESHOLD = MAX_DEPTH
"""Depth values >= this (in scene units, normally metres) are background and become +inf.

Blender writes 1e10 where no surface was hit (and +inf once stored as half float). NaN stays NaN;
negative values are returned unchanged.
"""

DEPTH_CHANNEL_CANDIDATES = (
    "Z",
    "Depth.Z",
    "*.Depth.Z",
    "depth.Z",
    "depth.V",
    "V",
    "Y",
    "R",
    "*.Z",
    "*.V",
)
"""Channel names taken as depth, best first (case-sensitive ``fnmatch`` patterns).

Rule: within the first image part that has a match, the first pattern that matches a channel
wins; if a pattern matches several channels (``*``), the alphabetically first is used. ``*`` also
matches dots, so ``*.Depth.Z`` covers Blender multilayer names such as ``ViewLayer.Depth.Z`` and
``RenderLayer.Depth.Z``. ``R`` counts only when the image is grey (``G`` and ``B``, where present,
equal ``R``), i.e. a depth value written as RGB(A). Integer (UINT) channels never count.
"""

_METADATA_ATTRIBUTE = "depth_views"
_METADATA_MATRICES = {"K": (3, 3), "world_to_camera": (4, 4), "camera_to_world": (4, 4)}
_DEEP_TYPES = {"deepscanline", "deeptile"}


def pick_depth_channel(channels: Mapping[str, np.ndarray]) -> str | None:
    """The name of the depth channel among ``channels`` (name -> 2D array), or None.

    Follows :data:`DEPTH_CHANNEL_CANDIDATES`.
    """
    usable = sorted(name for name, pixels in channels.items() if pixels.dtype.kind == "f")
    for pattern in DEPTH_CHANNEL_CANDIDATES:
        for name in usable:
            if fnmatchcase(name, pattern) and (name != "R" or _is_grey(channels)):
                return name
    return None


def read_channels(path, part_index: int = 0) -> dict[str, np.ndarray]:
    """Every channel of one image part (the first by default) as a 2D array, row 0 = top.

    HALF and FLOAT channels come back as float32, UINT channels as uint32; values are as stored
    (no background conversion).
    """
    path = os.fspath(path)
    exr_file = _open_exr(path)
    part = _part(path, exr_file, part_index)
    return {name: _as_float32_or_uint32(channel.pixels) for name, channel in part.channels.items()}


def read_depth(path, channel: str | None = None, *, allow_constant: bool = False) -> np.ndarray:
    """Depth map as a float32 (height, width) array, row 0 = top, background (>= 1e9) = +inf.

    ``channel`` names the channel exactly; by default it is found by
    :data:`DEPTH_CHANNEL_CANDIDATES`. An image of two or more pixels with the same finite value
    everywhere is refused (the "Z channel full of ones" compositor bug) unless ``allow_constant``
    is True. The array covers the file's data window (the whole image for Blender's output).
    """
    depth, _ = _read_depth_and_header(os.fspath(path), channel, allow_constant)
    return depth


def read_depth_with_metadata(
    path, channel: str | None = None, *, allow_constant: bool = False
) -> tuple[np.ndarray, dict]:
    """``(depth, metadata)``: :func:`read_depth` plus our JSON metadata written by ``write_depth``.

    ``metadata`` is ``{}`` when the file has none. ``K``, ``world_to_camera`` and
    ``camera_to_world`` come back as float64 numpy arrays; other keys as JSON gives them.
    """
    path = os.fspath(path)
    depth, header = _read_depth_and_header(path, channel, allow_constant)
    return depth, _parse_metadata(path, header.get(_METADATA_ATTRIBUTE))


def read_header(path, part_index: int = 0) -> dict:
    """Header attributes of one image part (the first by default) as plain Python/numpy values.

    Matrices and vectors are numpy arrays, boxes ``(min_xy, max_xy)`` tuples of int arrays, enums
    their OpenEXR name (``"ZIP_COMPRESSION"``), ``channels`` a list of channel names. Pixels are
    not read.
    """
    path = os.fspath(path)
    exr_file = _open_exr(path, header_only=True)
    header = _part(path, exr_file, part_index).header
    try:
        return {str(name): _plain(value) for name, value in header.items()}
    except Exception as error:  # a damaged attribute (e.g. a type name that is not UTF-8)
        raise _corrupt(path, error) from None


def _read_depth_and_header(path: str, channel: str | None, allow_constant: bool):
    exr_file = _open_exr(path)
    part, name = _find_depth_channel(path, exr_file, channel)
    pixels = part.channels[name].pixels
    if pixels.dtype.kind != "f":
        raise DepthViewsError(f"{path}: channel {name!r} holds integers (UINT), not depth")
    width, height = _data_window_size(part.header)
    if pixels.shape != (height, width):
        raise DepthViewsError(
            f"{path}: channel {name!r} is subsampled ({pixels.shape[1]} x {pixels.shape[0]} in a "
            f"{width} x {height} image); depth must have one value per pixel"
        )
    depth = pixels.astype(np.float32)
    depth[depth >= BACKGROUND_THRESHOLD] = np.inf
    if not allow_constant:
        _refuse_constant_depth(path, name, depth)
    return depth, part.header


def _refuse_constant_depth(path: str, name: str, depth: np.ndarray) -> None:
    first = depth.flat[0]
    if depth.size > 1 and np.isfinite(first) and np.all(depth == first):
        raise DepthViewsError(
            f"{path}: channel {name!r} has the same value {float(first):g} at every pixel; this "
            f"is the classic 'Z channel full of ones' compositor wiring bug (the depth was "
            f"normalised, or the Image output was saved instead of Depth); pass "
            f"allow_constant=True if a constant depth is really expected"
        )


def _find_depth_channel(path: str, exr_file, channel: str | None):
    """The image part and channel name to read depth from."""
    for part in exr_file.parts:
        if channel is None:
            name = pick_depth_channel({n: c.pixels for n, c in part.channels.items()})
            if name is not None:
                return part, name
        elif channel in part.channels:
            return part, channel
    present = _channel_list(exr_file)
    if channel is not None:
        raise DepthViewsError(f"{path}: no channel named {channel!r}; the file has: {present}")
    raise DepthViewsError(
        f"{path}: no depth channel (looked for {', '.join(DEPTH_CHANNEL_CANDIDATES)}; R only if "
        f"R == G == B); the file has: {present}"
    )


def _open_exr(path: str, *, header_only: bool = False):
    """The OpenEXR.File at ``path`` with all its parts read; DepthViewsError on any problem."""
    _check_magic(path)
    if OpenEXR is None:
        return read_plain_exr(path, header_only=header_only)
    try:
        headers = OpenEXR.File(path, separate_channels=True, header_only=True)
        part_headers = [part.header for part in headers.parts]
    except Exception as error:  # OpenEXR raises RuntimeError, ValueError, ...: all mean corrupt.
        raise _corrupt(path, error) from None
    if not part_headers:
        raise _corrupt(path, "no image parts")
    samples = 0
    for header in part_headers:
        if str(getattr(header.get("type"), "name", "")) in _DEEP_TYPES:
            raise DepthViewsError(f"{path}: deep OpenEXR images are not supported")
        width, height = _data_window_size(header)
        check_image_size(path, width, height)
        samples += width * height * len(header.get("channels", []))
    if samples > MAX_SAMPLES:
        raise DepthViewsError(f"{path}: too much pixel data ({samples} samples); refusing to read")
    if header_only:
        return headers
    try:
        exr_file = OpenEXR.File(path, separate_channels=True)
        complete = len(exr_file.parts) == len(part_headers) and all(
            isinstance(channel.pixels, np.ndarray) and channel.pixels.ndim == 2
            for part in exr_file.parts
            for channel in part.channels.values()
        )
    except Exception as error:
        raise _corrupt(path, error) from None
    if not complete:
        # OpenEXR drops a part whose pixels fail to decode instead of raising.
        raise _corrupt(path, "pixel data could not be decoded")
    return exr_file


def _check_magic(path: str) -> None:
    try:
        with open(path, "rb") as stream:
            magic = stream.read(4)
    except FileNotFoundError:
        raise DepthViewsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DepthViewsError(f"{path}: is a folder, not an OpenEXR file") from None
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror})") from None
    if magic != EXR_MAGIC:
        found = f"starts with {magic.hex()}" if magic else "is empty"
        raise DepthViewsError(
            f"{path}: not an OpenEXR file (it {found}; OpenEXR files start with {EXR_MAGIC.hex()})"
        )


def _corrupt(path: str, detail) -> DepthViewsError:
    first_line = (str(detail).strip().splitlines() or ["unknown error"])[0][:200]
    return DepthViewsError(f"{path}: corrupt or truncated OpenEXR file ({first_line})")


def _data_window_size(header: dict) -> tuple[int, int]:
    (x_min, y_min), (x_max, y_max) = header["dataWindow"]
    return int(x_max) - int(x_min) + 1, int(y_max) - int(y_min) + 1


def _part(path: str, exr_file, part_index: int):
    if not 0 <= part_index < len(exr_file.parts):
        raise DepthViewsError(
            f"{path}: no image part {part_index} (the file has {len(exr_file.parts)})"
        )
    return exr_file.parts[part_index]


def _channel_list(exr_file, limit: int = 30) -> str:
    names = []
    for part in exr_file.parts:
        names += [name for name in part.channels if name not in names]
    listed = ", ".join(shown(name) for name in sorted(names)[:limit]) or "no channels"   # a fuzzed name may hold \n
    return listed + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def _is_grey(channels: Mapping[str, np.ndarray]) -> bool:
    red = channels["R"]
    return all(
        other not in channels or np.array_equal(channels[other], red, equal_nan=True)
        for other in ("G", "B")
    )


def _as_float32_or_uint32(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.uint32 if pixels.dtype.kind in "ui" else np.float32)


def _parse_metadata(path: str, text) -> dict:
    if text is None:
        return {}
    try:
        metadata = json.loads(text) if isinstance(text, str) else None
    except ValueError as error:
        raise DepthViewsError(
            f"{path}: header attribute {_METADATA_ATTRIBUTE!r} is not valid JSON ({error})"
        ) from None
    if not isinstance(metadata, dict):
        raise DepthViewsError(
            f"{path}: header attribute {_METADATA_ATTRIBUTE!r} is not a JSON object"
        )
    for key, shape in _METADATA_MATRICES.items():
        if metadata.get(key) is not None:
            metadata[key] = as_matrix(path, f"metadata {key!r}", metadata[key], shape)
    return metadata


def _plain(value):
    """An OpenEXR header value as plain Python/numpy data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        if value and OpenEXR is not None and all(isinstance(item, OpenEXR.Channel) for item in value):
            return [item.name for item in value]
        return type(value)(_plain(item) for item in value)
    if hasattr(type(value), "__members__") and hasattr(value, "name"):
        return str(value.name)
    if OpenEXR is not None and isinstance(value, OpenEXR.TileDescription):
        return {
            "x_size": value.xSize,
            "y_size": value.ySize,
            "mode": str(value.mode.name),
            "rounding_mode": str(value.roundingMode.name),
        }
    try:
        return str(value)
    except UnicodeDecodeError:  # an unknown attribute whose type name is not UTF-8
        return f"<unreadable {type(value).__name__}>"
