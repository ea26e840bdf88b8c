"""Write depth maps to OpenEXR files with camera metadata (numpy + OpenEXR, no bpy)."""

import errno
import json
import os
import uuid

import numpy as np

from ..errors import DepthViewsError
from ._backend import OpenEXR
from ._common import as_matrix, check_image_size
from .plain_exr import read_plain_exr, write_plain_exr
from .camera_attributes import (
    OPENCV_TO_BLENDER_CAMERA,
    openexr_world_to_camera,
    openexr_world_to_ndc,
)

COMPRESSIONS = {
    "none": "NO_COMPRESSION",
    "zip": "ZIP_COMPRESSION",
    "zips": "ZIPS_COMPRESSION",
    "piz": "PIZ_COMPRESSION",
    "rle": "RLE_COMPRESSION",
}
"""Lossless compressions ``write_depth`` accepts: our name -> OpenEXR's name.  Where the OpenEXR
package cannot be used (inside Blender < 4.2) files are written uncompressed whatever is asked."""

LOSSY_COMPRESSIONS = ("pxr24", "b44", "b44a", "dwaa", "dwab")


def write_depth(
    path,
    depth,
    *,
    K=None,
    world_to_camera=None,
    camera_to_world=None,
    metadata: dict | None = None,
    compression: str = "zip",
) -> None:
    """Write ``depth`` (2D, scene units, +inf = background) as one 32-bit FLOAT channel ``Z``.

    Values are stored exactly as float32 (float64 input is rounded to float32; +inf and NaN kept).
    The file appears atomically: it is written to a hidden temporary file in the same folder and
    then renamed over ``path``.

    Camera (all optional):
    - ``K``: 3x3 OpenCV intrinsics in pixels, pixel centres at integer coordinates.
    - ``world_to_camera``: 4x4 world-to-camera in OpenCV camera axes (x right, y down, z forward).
    - ``camera_to_world``: 4x4 camera-to-world in Blender camera axes (x right, y up, z back).
      If both poses are given they must describe the same camera.

    Header: the standard ``worldToCamera`` M44f when a pose is given and ``worldToNDC`` when ``K``
    is given too (conventions in :mod:`.camera_attributes`), and the string attribute
    ``depth_views``: JSON with ``depth_kind`` ("planar" unless ``metadata`` says otherwise), the
    keys of ``metadata`` (numpy arrays become lists) and ``K``/``world_to_camera``/
    ``camera_to_world`` as given (each only when given; they override same-named metadata keys).

    ``compression``: one of ``COMPRESSIONS``; lossy ones are refused. Bad input, an unwritable
    folder or a failed write raise DepthViewsError.
    """
    path = os.fspath(path)
    write_channels(path, {"Z": _as_depth_float32(path, depth)}, K=K, world_to_camera=world_to_camera,
                   camera_to_world=camera_to_world,
                   metadata={"depth_kind": "planar", **_checked_metadata(path, metadata)},
                   compression=compression)


def write_channels(
    path,
    channels: dict,
    *,
    K=None,
    world_to_camera=None,
    camera_to_world=None,
    metadata: dict | None = None,
    compression: str = "zip",
) -> None:
    """Write several 2D arrays of one size as 32-bit FLOAT channels (``{name: array}``) of one EXR.

    Camera, ``depth_views`` JSON header attribute, compression and atomic write as in
    :func:`write_depth` (``metadata`` is stored as given, with no ``depth_kind`` added).  Values are
    stored as float32 exactly (never half).  Bad input or a failed write raise DepthViewsError.
    """
    path = os.fspath(path)
    if not channels:
        raise DepthViewsError(f"{path}: no channels to write")
    arrays = {}
    for name, values in channels.items():
        arrays[str(name)] = _as_depth_float32(path, values)
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) != 1:
        raise DepthViewsError(f"{path}: channels differ in size: {sorted(shapes)}")
    height, width = shapes.pop()
    header = {"compression": _compression(path, compression)}

    camera = {}
    if K is not None:
        camera["K"] = as_matrix(path, "K", K, (3, 3))
    if world_to_camera is not None:
        camera["world_to_camera"] = as_matrix(path, "world_to_camera", world_to_camera, (4, 4))
    if camera_to_world is not None:
        camera["camera_to_world"] = as_matrix(path, "camera_to_world", camera_to_world, (4, 4))
    world_to_camera_opencv = _world_to_camera_opencv(path, camera)
    if world_to_camera_opencv is not None:
        header["worldToCamera"] = openexr_world_to_camera(world_to_camera_opencv)
        if "K" in camera:
            header["worldToNDC"] = openexr_world_to_ndc(
                camera["K"], world_to_camera_opencv, width, height
            )
    header["depth_views"] = _metadata_json(path, {**_checked_metadata(path, metadata), **camera})
    _write_atomically(path, _exr_file(header, arrays), arrays)


def _checked_metadata(path: str, metadata) -> dict:
    if metadata is not None and not isinstance(metadata, dict):
        raise DepthViewsError(f"{path}: metadata must be a dict, got {type(metadata).__name__}")
    return dict(metadata or {})


def _as_depth_float32(path: str, depth) -> np.ndarray:
    array = np.asarray(depth)
    if array.ndim != 2:
        raise DepthViewsError(f"{path}: depth must be a 2D array, got shape {array.shape}")
    if array.dtype.kind not in "fiu":
        raise DepthViewsError(f"{path}: depth must be numeric, got dtype {array.dtype}")
    check_image_size(path, array.shape[1], array.shape[0])
    with np.errstate(over="ignore"):  # float64 beyond float32 range becomes +-inf
        return np.ascontiguousarray(array, dtype=np.float32)


def _compression(path: str, name: str):
    key = str(name).lower()
    if key in LOSSY_COMPRESSIONS:
        raise DepthViewsError(
            f"{path}: compression {name!r} is lossy and would change depth values; "
            f"use one of {', '.join(COMPRESSIONS)}"
        )
    if key not in COMPRESSIONS:
        raise DepthViewsError(
            f"{path}: unknown compression {name!r}; use one of {', '.join(COMPRESSIONS)}"
        )
    return COMPRESSIONS[key]


def _world_to_camera_opencv(path: str, camera: dict) -> np.ndarray | None:
    """The OpenCV world-to-camera from whichever pose is given; checks that two poses agree."""
    world_to_camera = camera.get("world_to_camera")
    camera_to_world = camera.get("camera_to_world")
    if camera_to_world is None:
        return world_to_camera
    try:
        derived = OPENCV_TO_BLENDER_CAMERA @ np.linalg.inv(camera_to_world)
    except np.linalg.LinAlgError:
        raise DepthViewsError(f"{path}: camera_to_world is not invertible") from None
    if world_to_camera is None:
        return derived
    tolerance = 1e-4 * max(1.0, float(np.abs(camera_to_world[:3, 3]).max()))
    if not np.allclose(derived, world_to_camera, rtol=0.0, atol=tolerance):
        raise DepthViewsError(
            f"{path}: world_to_camera (OpenCV axes) and camera_to_world (Blender axes) describe "
            f"different cameras; check the axes convention of each"
        )
    return world_to_camera


def _metadata_json(path: str, metadata: dict) -> str:
    def to_json(value):
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"{type(value).__name__} is not JSON-serialisable")

    try:
        return json.dumps(metadata, default=to_json, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise DepthViewsError(f"{path}: metadata cannot be stored as JSON ({error})") from None


class _PlainExrWriter:
    """``OpenEXR.File(header, channels).write(path)`` for the plain fallback (uncompressed)."""

    def __init__(self, header: dict, channels: dict):
        self.attributes = {k: v for k, v in header.items() if k != "compression"}
        self.channels = channels

    def write(self, path: str) -> None:
        write_plain_exr(path, self.channels, self.attributes)


def _exr_file(header: dict, channels: dict):
    """An object whose ``write(path)`` writes the EXR, with the OpenEXR package or the fallback."""
    if OpenEXR is None:
        return _PlainExrWriter(header, channels)
    header = {**header, "compression": getattr(OpenEXR, header["compression"]),
              "type": OpenEXR.scanlineimage}
    return OpenEXR.File(header, dict(channels))  # OpenEXR.File turns the dict values into Channels


def _write_atomically(path: str, exr_file, channels: dict) -> None:
    """Write ``exr_file`` to a hidden temporary file, read it back, and only then rename it to ``path``.

    The read-back matters: on a full disk OpenEXR can leave a short or empty file without raising,
    which a plain rename would turn into a corrupt result.  ``channels`` are the values it must hold.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DepthViewsError(f"{path}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise DepthViewsError(f"{path}: is a folder")
    temporary_path = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        exr_file.write(temporary_path)
        _check_written(temporary_path, channels)
        os.replace(temporary_path, path)
    except Exception as error:  # OpenEXR raises RuntimeError; os.replace raises OSError.
        try:
            os.remove(temporary_path)
        except OSError:
            pass
        detail = (str(error).strip().splitlines() or ["unknown error"])[0][:200]
        raise DepthViewsError(f"{path}: cannot write into folder {folder} ({detail})") from None


def _check_written(path: str, channels: dict) -> None:
    """Raise OSError unless the EXR at ``path`` holds exactly ``channels``; sync it to disk."""
    try:
        if OpenEXR is None:
            stored = read_plain_exr(path).parts[0].channels
        else:
            stored = OpenEXR.File(path, separate_channels=True).parts[0].channels
        same = all(np.array_equal(stored[name].pixels, values, equal_nan=True) for name, values in channels.items())
    except Exception as error:
        raise OSError(errno.EIO, f"the written file is incomplete (is the disk full?): {error}") from None
    if not same:
        raise OSError(errno.EIO, "the written file reads back different values (is the disk full?)")
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())
