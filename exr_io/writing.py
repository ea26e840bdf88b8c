"""Write depth maps to OpenEXR files with camera metadata (numpy + OpenEXR, no bpy)."""

import errno
import json
import os
import uuid

import numpy as np
import OpenEXR

from ..errors import DepthViewsError
from ._common import as_matrix, check_image_size
from .camera_attributes import (
    OPENCV_TO_BLENDER_CAMERA,
    openexr_world_to_camera,
    openexr_world_to_ndc,
)

COMPRESSIONS = {
    "none": OpenEXR.NO_COMPRESSION,
    "zip": OpenEXR.ZIP_COMPRESSION,
    "zips": OpenEXR.ZIPS_COMPRESSION,
    "piz": OpenEXR.PIZ_COMPRESSION,
    "rle": OpenEXR.RLE_COMPRESSION,
}
"""Lossless compressions ``write_depth`` accepts, by name."""

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
    depth_float32 = _as_depth_float32(path, depth)
    height, width = depth_float32.shape
    header = {"compression": _compression(path, compression), "type": OpenEXR.scanlineimage}

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
    if metadata is not None and not isinstance(metadata, dict):
        raise DepthViewsError(f"{path}: metadata must be a dict, got {type(metadata).__name__}")
    header["depth_views"] = _metadata_json(
        path, {"depth_kind": "planar", **(metadata or {}), **camera}
    )

    _write_atomically(path, OpenEXR.File(header, {"Z": depth_float32}), depth_float32)


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


def _write_atomically(path: str, exr_file, depth: np.ndarray) -> None:
    """Write ``exr_file`` to a hidden temporary file, read it back, and only then rename it to ``path``.

    The read-back matters: on a full disk OpenEXR can leave a short or empty file without raising,
    which a plain rename would turn into a corrupt result.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DepthViewsError(f"{path}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise DepthViewsError(f"{path}: is a folder")
    temporary_path = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        exr_file.write(temporary_path)
        _check_written(temporary_path, depth)
        os.replace(temporary_path, path)
    except Exception as error:  # OpenEXR raises RuntimeError; os.replace raises OSError.
        try:
            os.remove(temporary_path)
        except OSError:
            pass
        detail = (str(error).strip().splitlines() or ["unknown error"])[0][:200]
        raise DepthViewsError(f"{path}: cannot write into folder {folder} ({detail})") from None


def _check_written(path: str, depth: np.ndarray) -> None:
    """Raise OSError unless the EXR at ``path`` holds exactly ``depth`` in channel ``Z``; sync it to disk."""
    try:
        written = OpenEXR.File(path, separate_channels=True).parts[0].channels["Z"].pixels
    except Exception as error:
        raise OSError(errno.EIO, f"the written file is incomplete (is the disk full?): {error}") from None
    if not np.array_equal(written, depth, equal_nan=True):
        raise OSError(errno.EIO, "the written file reads back different values (is the disk full?)")
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())
