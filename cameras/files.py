"""``cameras.json`` and nerfstudio ``transforms.json``: writing them, and reading cameras back.

Pure Python + numpy.  ``cameras.json`` is the source of truth; its fields are described in the
README ("Output files").  ``transforms.json`` follows nerfstudio's format, whose pixel convention
puts pixel centres at +0.5 (so its ``cx`` is ``K[0, 2] + 0.5``) and whose ``transform_matrix`` is the
camera-to-world matrix in OpenGL/Blender axes.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .models import CameraModel
from .views import Intrinsics, View
from ..errors import DepthViewsError

CAMERAS_FILE = "cameras.json"
TRANSFORMS_FILE = "transforms.json"
FORMAT_VERSION = 1


def write_json_atomic(path: str, document: dict) -> None:
    """Write ``document`` as indented JSON to ``path`` via a temporary file and a rename."""
    write_text_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot write into folder {folder} ({error.strerror or error})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError):  # a full disk, a read-only or vanished folder
            raise DepthViewsError(f"{path}: cannot write ({error.strerror or error})") from None
        raise


def cameras_document(intrinsics: Intrinsics, views: list[View], files: list[dict], *,
                     units: str, extra: dict | None = None, camera_model: CameraModel | None = None) -> dict:
    """The ``cameras.json`` document: image size, K, depth kind, units and per-view poses and files.

    ``files[i]`` maps pass names to paths relative to the output folder for ``views[i]``.  A
    non-perspective ``camera_model`` states its ``camera_model``, ``K`` (None for equirectangular),
    ``depth_kind`` and its own settings instead of the pinhole lens keys.
    """
    document = {
        "format": "depth_views.cameras",
        "format_version": FORMAT_VERSION,
        "width": intrinsics.width,
        "height": intrinsics.height,
        "K": intrinsics.K.tolist(),
        "lens_mm": intrinsics.lens_mm,
        "sensor_mm": intrinsics.sensor_mm,
        "sensor_fit": intrinsics.sensor_fit,
        "fov_x_deg": intrinsics.fov_x_deg,
        "fov_y_deg": intrinsics.fov_y_deg,
        "depth_kind": "planar",
        "background": "inf",
        "units": units,
        "pixel_convention": "OpenCV: pixel (u, v) has its centre at integer (u, v); row 0 is the top",
        "world_to_camera_axes": "OpenCV (x right, y down, z forward)",
        "camera_to_world_axes": "Blender/OpenGL (x right, y up, looking down -z)",
    }
    if camera_model is not None and camera_model.name != "PINHOLE":
        for key in ("lens_mm", "sensor_mm", "sensor_fit", "fov_x_deg", "fov_y_deg"):
            del document[key]
        document.update(camera_model.to_json())
    else:
        document["camera_model"] = "PINHOLE"
    document.update(extra or {})
    document["views"] = [
        {"index": view.index, "files": dict(view_files), "azimuth_deg": view.azimuth_deg,
         "elevation_deg": view.elevation_deg, "radius": view.radius,
         "position": view.position.tolist(), "world_to_camera": view.world_to_camera.tolist(),
         "camera_to_world": view.camera_to_world.tolist(), **_view_camera(view)}
        for view, view_files in zip(views, files)]
    return document


def _view_camera(view: View) -> dict:
    """A camera-file view's own entries: its source name and its own K (OpenCV pixels)."""
    entries = {}
    if view.source is not None:
        entries["source"] = view.source
    if view.intrinsics is not None:
        entries["K"] = view.intrinsics.K.tolist()
        entries["fov_x_deg"], entries["fov_y_deg"] = view.intrinsics.fov_x_deg, view.intrinsics.fov_y_deg
    return entries


def transforms_document(intrinsics: Intrinsics, views: list[View], files: list[dict], *,
                        png16_scale: float = 1e-4, camera_model: CameraModel | None = None) -> dict | None:
    """nerfstudio ``transforms.json`` for the same views, or None for a camera model nerfstudio's
    transforms.json cannot describe (orthographic).

    Depth is the float EXR (``depth_unit_scale_factor`` 1) or, when only png16 depth was written,
    the 16-bit PNG (``depth_unit_scale_factor`` = ``png16_scale``).  ``file_path`` is the colour
    image when there is one.
    """
    camera = (camera_model or CameraModel.perspective(intrinsics)).nerfstudio_intrinsics()
    if camera is None:
        return None
    frames = []
    scale = 1.0
    for view, view_files in zip(views, files):
        depth = view_files.get("depth")
        if depth is None and "depth_png16" in view_files:
            depth, scale = view_files["depth_png16"], png16_scale
        image = view_files.get("rgb", depth or next(iter(view_files.values()), ""))
        frame = {"file_path": image, "transform_matrix": view.camera_to_world.tolist()}
        if view.intrinsics is not None:  # a camera file's per-frame K (nerfstudio's +0.5 convention)
            Kv = view.intrinsics.K
            frame.update({"fl_x": float(Kv[0, 0]), "fl_y": float(Kv[1, 1]),
                          "cx": float(Kv[0, 2]) + 0.5, "cy": float(Kv[1, 2]) + 0.5})
        if depth is not None:
            frame["depth_file_path"] = depth
        frames.append(frame)
    return {
        **camera,
        "depth_unit_scale_factor": scale,
        "frames": frames,
    }


def load_cameras(folder: str) -> dict:
    """Read ``folder/cameras.json``; matrices come back as float64 numpy arrays.

    Raises :class:`DepthViewsError` naming the file when it is missing or not valid JSON.
    """
    path = os.path.join(os.fspath(folder), CAMERAS_FILE)
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except FileNotFoundError:
        raise DepthViewsError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise DepthViewsError(f"{path}: cannot read cameras ({error})") from None
    document["K"] = None if document.get("K") is None else np.asarray(document["K"], dtype=np.float64)
    for key in ("object_to_world",):
        if key in document:
            document[key] = np.asarray(document[key], dtype=np.float64)
    for view in document["views"]:
        for key in ("world_to_camera", "camera_to_world", "position", "K"):
            if key not in view:
                continue
            view[key] = np.asarray(view[key], dtype=np.float64)
    return document
