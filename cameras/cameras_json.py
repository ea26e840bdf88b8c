"""Our ``cameras.json``: writing it for a render, reading it back (a rendered folder's document, or its
views as a :class:`~.frames.CameraSet` to render again) (pure Python + numpy).

``cameras.json`` is the source of truth of a rendered folder; its fields are described in
docs/outputs.md.  K is in OpenCV pixels (pixel centres at integers), ``world_to_camera`` in OpenCV
axes, ``camera_to_world`` in Blender/OpenGL axes.  This module is the one reader of the format:
:func:`read_cameras_document` (the checked JSON, for the batch index), :func:`load_cameras` (with
numpy matrices, for ``load_views``, ``check`` and streaming) and :func:`read_cameras_json` (a camera
file for ``--cameras``).
"""

from __future__ import annotations

import os

import numpy as np

from .conventions import BLENDER_TO_OPENCV_AXES
from .frames import (CameraFrame, CameraSet, check_count, checked_poses, finite_number, focal_length, frame_label,
                     image_size, inverted, number_matrix, reader_error)
from .intrinsics import Intrinsics
from .lens import MODELS, PIXEL_CENTRE_OFFSET
from .limits import MAX_CAMERA_FILE_BYTES
from .models import FULL_LATITUDE, FULL_LONGITUDE, CameraModel
from .safe_files import parse_json, read_regular, shown
from .views import View

CAMERAS_FILE = "cameras.json"
FORMAT = "depth_views.cameras"
FORMAT_VERSION = 1
_MATRICES = {"world_to_camera": ((4, 4),), "camera_to_world": ((4, 4),), "position": ((3,),), "K": ((3, 3),),
             "object_to_world": ((4, 4),), "center": ((3,),)}


# -- writing ------------------------------------------------------------------------------------------

def cameras_document(intrinsics: Intrinsics, views: list[View], files: list[dict], *,
                     units: str, extra: dict | None = None, camera_model: CameraModel | None = None) -> dict:
    """The ``cameras.json`` document: image size, K, depth kind, units and per-view poses and files.

    ``files[i]`` maps pass names to paths relative to the output folder for ``views[i]``.  A
    non-perspective ``camera_model`` states its ``camera_model``, ``K`` (None for equirectangular),
    ``depth_kind`` and its own settings instead of the pinhole lens keys; a lens model its
    ``lens_params`` (COLMAP's order and values, principal point at +0.5) and ``lens_param_names``, and
    each view whose lens differs its own ``camera_model``, ``lens_params`` and ``K``.
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
    if camera_model is not None and not camera_model.is_pinhole:
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
         "camera_to_world": view.camera_to_world.tolist(), **_view_camera(view, camera_model)}
        for view, view_files in zip(views, files)]
    return document


def _view_camera(view: View, camera_model: CameraModel | None) -> dict:
    """A camera-file view's own entries: its source name, its own K (OpenCV pixels) and, where it differs
    from the top level's, its own lens (``camera_model``, ``lens_params``)."""
    entries = {}
    if view.source is not None:
        entries["source"] = view.source
    if view.intrinsics is not None:
        entries["K"] = view.intrinsics.K.tolist()
        entries["fov_x_deg"], entries["fov_y_deg"] = view.intrinsics.fov_x_deg, view.intrinsics.fov_y_deg
    top = camera_model.lens if camera_model is not None else None
    if view.lens is not None and top is not None and view.lens.key != top.key:
        own = view.lens.to_json()
        entries.update(K=view.lens.K.tolist(), camera_model=own["camera_model"], lens_params=own["lens_params"])
    return entries


# -- reading ------------------------------------------------------------------------------------------

def check_cameras_document(document, path: str) -> dict:
    """``document`` when it has the shape of a cameras.json: an object whose ``views`` is a list of at
    most MAX_VIEWS objects, and whose matrices (``K``, ``world_to_camera``, ``camera_to_world``,
    ``position``, ``object_to_world``, ``center``; top level or per view) are finite numbers of the
    right shape where present (``K`` and ``object_to_world`` may be null).  DepthViewsError of one line
    naming the file, the view and the problem otherwise."""
    if not isinstance(document, dict):
        raise reader_error(path, "", "is not a JSON object")
    views = document.get("views")
    if not isinstance(views, list):
        raise reader_error(path, "", "no 'views' list")
    check_count(path, len(views), "views")
    for key in ("K", "object_to_world", "center"):
        if document.get(key) is not None:
            number_matrix(path, "", key, document[key], _MATRICES[key])
    for index, view in enumerate(views):
        if not isinstance(view, dict):
            raise reader_error(path, f"view {index}", "is not an object")
        for key in ("world_to_camera", "camera_to_world", "position", "K"):
            if key in view:
                number_matrix(path, f"view {index}", key, view[key], _MATRICES[key])
    return document


def read_cameras_document(path: str) -> dict:
    """The checked JSON of the cameras.json at ``path`` (see :func:`check_cameras_document`), opened once,
    refused when it is not a regular file or larger than MAX_CAMERA_FILE_BYTES."""
    return check_cameras_document(parse_json(read_regular(path, MAX_CAMERA_FILE_BYTES), path), path)


def parse_cameras_document(data: bytes, source: str) -> dict:
    """:func:`read_cameras_document` of bytes already read (a shard member); ``source`` names them."""
    return check_cameras_document(parse_json(data, source), source)


def load_cameras(folder: str) -> dict:
    """Read ``folder/cameras.json``; matrices come back as float64 numpy arrays.

    Raises :class:`DepthViewsError` naming the file when it is missing, not valid JSON or not shaped
    like a cameras.json.
    """
    path = os.path.join(os.fspath(folder), CAMERAS_FILE)
    document = read_cameras_document(path)
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


def _angle_range(path, where, key, value, full) -> tuple[float, float]:
    if value is None:
        return full
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise reader_error(path, where, f"{key} is not two numbers LOW HIGH (degrees)")
    return tuple(finite_number(path, where, key, v) for v in value)


def _lens_entry(path, where, model: str, lens_params) -> dict:
    """A lens view's fx fy cx cy (OpenCV pixels) and distortion by name from its ``lens_params``."""
    if model not in MODELS:
        raise reader_error(path, where, f"lens_params for camera model {shown(repr(model))}, which is no lens model "
                                        f"(known: {', '.join(MODELS)})")
    names = MODELS[model].params
    if not isinstance(lens_params, list) or len(lens_params) != len(names):
        count = len(lens_params) if isinstance(lens_params, list) else "not a list"
        raise reader_error(path, where, f"camera model {model} needs {len(names)} lens_params ({' '.join(names)}), "
                                        f"got {count}")
    values = {name: focal_length(path, where, name, value) if name in ("f", "fx", "fy") else
              finite_number(path, where, name, value) for name, value in zip(names, lens_params)}
    fx = values.get("f", values.get("fx"))
    fy = values.get("f", values.get("fy"))
    return dict(fx=fx, fy=fy, cx=values["cx"] - PIXEL_CENTRE_OFFSET, cy=values["cy"] - PIXEL_CENTRE_OFFSET,
                distortion={name: values[name] for name in MODELS[model].extra_names})


def read_cameras_json(path: str, document: dict) -> CameraSet:
    """The views of a Depth Views ``cameras.json`` document (K in OpenCV pixels, world_to_camera in
    OpenCV axes) as a camera set, every view checked: a rigid world_to_camera, sizes, K."""
    check_cameras_document(document, path)
    views = document["views"]
    if not views:
        raise reader_error(path, "", "no views")
    entries, world_to_cameras, wheres = [], [], []
    for index, view in enumerate(views):
        files = view.get("files")
        name = view.get("source") or (files.get("depth") if isinstance(files, dict) else None)
        where = frame_label(index, name)
        model = str(view.get("camera_model", document.get("camera_model", "PINHOLE")))
        width = image_size(path, where, "width", view.get("width", document.get("width")))
        height = image_size(path, where, "height", view.get("height", document.get("height")))
        angle_ranges = None
        lens_params = view.get("lens_params") if "camera_model" in view else \
            view.get("lens_params", document.get("lens_params"))
        if lens_params is not None:   # a lens model: COLMAP's parameters (principal point at +0.5)
            if "world_to_camera" not in view:
                raise reader_error(path, where, "no world_to_camera")
            world_to_cameras.append(number_matrix(path, where, "world_to_camera", view["world_to_camera"], ((4, 4),)))
            wheres.append(where)
            entries.append(dict(name=str(name or f"view_{index}"), model=model, width=width, height=height,
                                **_lens_entry(path, where, model, lens_params)))
            continue
        if model == "EQUIRECTANGULAR":  # no K: its longitude/latitude ranges say where each pixel looks
            angle_ranges = tuple(_angle_range(path, where, key, view.get(key, document.get(key)), full) for key, full in
                                 (("longitude_range_deg", FULL_LONGITUDE), ("latitude_range_deg", FULL_LATITUDE)))
            K = np.eye(3).tolist()
        else:
            K = view.get("K", document.get("K"))
            if K is None:
                raise reader_error(path, where, "no 3x3 K")
            K = number_matrix(path, where, "K", K, ((3, 3),)).tolist()  # Python floats, named as such in messages
        if "world_to_camera" not in view:
            raise reader_error(path, where, "no world_to_camera")
        world_to_cameras.append(number_matrix(path, where, "world_to_camera", view["world_to_camera"], ((4, 4),)))
        wheres.append(where)
        entries.append(dict(name=str(name or f"view_{index}"), model=model, angle_ranges=angle_ranges, width=width,
                            height=height, fx=focal_length(path, where, "fx", K[0][0]),
                            fy=focal_length(path, where, "fy", K[1][1]), cx=finite_number(path, where, "cx", K[0][2]),
                            cy=finite_number(path, where, "cy", K[1][2])))
    checked_poses(path, wheres, world_to_cameras)  # rigid before they are inverted
    camera_to_world = checked_poses(path, wheres, inverted([BLENDER_TO_OPENCV_AXES @ w2c for w2c in world_to_cameras]))
    frames = [CameraFrame(camera_to_world=matrix, **entry) for entry, matrix in zip(entries, camera_to_world)]
    return CameraSet(path=path, kind="depth_views", frames=frames)
