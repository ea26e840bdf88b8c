"""Cameras people bring: read any camera file once into a :class:`CameraSet`, and turn the set into the
views a render takes (pure Python + numpy).

:func:`read_camera_file` tells the format from the path and reads

- nerfstudio / instant-ngp ``transforms.json`` and NeRF-synthetic ``transforms_*.json`` (:mod:`.nerfstudio`);
- COLMAP models, text or binary, or the folder holding them (:mod:`.colmap`);
- our own ``cameras.json`` (:mod:`.cameras_json`);
- ``.npy`` / ``.npz`` arrays of 4x4 poses in a stated ``pose_convention`` (:mod:`.pose_arrays`);

into a :class:`CameraSet` of :class:`CameraFrame` (every frame's pose as Blender camera_to_world, its
model and its K in OpenCV pixels).  It opens each file once, refuses what is not a regular file or is
too large before opening it, and raises nothing but a DepthViewsError of one line naming the file, the
frame and the problem.

The step from a set to views, with no I/O: :func:`camera_set_intrinsics` (the set's intrinsics and
camera model, every frame checked; needs no object) and :func:`views_from_camera_set` (the views around
a centre), refusing what cannot be rendered exactly (distortion, unsupported models, mixed image sizes).
Both keep what they derive inside the set, so calling them again for each input costs only the poses.
"""

from __future__ import annotations

import math
import os
import stat

import numpy as np

from .cameras_json import FORMAT, read_cameras_json
from .colmap import colmap_folder, read_colmap
from .conventions import BLENDER_TO_OPENCV_AXES
from .frames import CameraFrame, CameraSet, frame_label, inverted, reader_error  # noqa: F401 (CameraFrame: re-exported)
from .intrinsics import Intrinsics
from .limits import MAX_CAMERA_FILE_BYTES
from .models import CameraModel
from .nerfstudio import read_transforms
from .pose_arrays import POSE_CONVENTIONS, read_pose_array  # noqa: F401 (POSE_CONVENTIONS: re-exported)
from .safe_files import camera_path_stat, one_line, parse_json, read_regular, shown
from .views import View
from ..errors import DepthViewsError

PINHOLE_MODELS = ("PINHOLE", "SIMPLE_PINHOLE", "OPENCV", "SIMPLE_RADIAL", "RADIAL", "FULL_OPENCV")
"""Models that are a plain pinhole when their distortion is zero."""
MODEL_OF_FILE = {"OPENCV_FISHEYE": "OPENCV_FISHEYE", "SIMPLE_RADIAL_FISHEYE": "OPENCV_FISHEYE",
                 "RADIAL_FISHEYE": "OPENCV_FISHEYE", "EQUIRECTANGULAR": "EQUIRECTANGULAR",
                 "ORTHOGRAPHIC": "ORTHOGRAPHIC"}
"""Non-pinhole models a file may hold -> the camera model (docs/camera-models.md) that renders them
exactly when their distortion is zero (COLMAP's radial fisheyes with k = 0 are equidistant too)."""
NON_PINHOLE_MODELS = tuple(MODEL_OF_FILE) + ("THIN_PRISM_FISHEYE", "FOV")
"""Models kept in the intermediate form; those outside MODEL_OF_FILE are refused."""


# -- reading ------------------------------------------------------------------------------------------

def _read(path: str, pose_convention: str, default_size) -> CameraSet:
    status = camera_path_stat(path)
    if stat.S_ISDIR(status.st_mode):
        colmap = colmap_folder(path)
        if colmap is None:
            raise reader_error(path, "", "is a folder without a COLMAP model (cameras.txt/images.txt or .bin)")
        return read_colmap(*colmap)
    colmap = colmap_folder(path)
    if colmap is not None:
        return read_colmap(*colmap)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".npy", ".npz"):
        return read_pose_array(path, pose_convention)
    if suffix != ".json":
        raise reader_error(path, "", "unknown camera file type; give a .json, COLMAP model, .npy or .npz")
    document = parse_json(read_regular(path, MAX_CAMERA_FILE_BYTES), path)
    if not isinstance(document, dict):
        raise reader_error(path, "", "is not a JSON object")
    if document.get("format") == FORMAT:
        return read_cameras_json(path, document)
    if "frames" in document:
        return read_transforms(path, document, default_size=default_size)
    raise reader_error(path, "", "neither a transforms.json (no 'frames') nor a Depth Views cameras.json")


def read_camera_file(path, *, pose_convention: str = "opengl", default_size=None) -> CameraSet:
    """Read any supported camera file (see the module docstring), opening each of its files once.
    ``default_size`` (W, H) is used for frames that give no image size and no intrinsics in pixels
    (NeRF-synthetic ``camera_angle_x`` without its images).  Raises DepthViewsError of one line naming
    the file, frame and problem, and nothing else, whatever the file holds."""
    path = os.fspath(path)
    try:
        return _read(path, pose_convention, default_size)
    except DepthViewsError:
        raise
    except RecursionError:
        raise reader_error(path, "", "cannot read this camera file (nested too deeply)") from None
    except Exception as error:  # a case the readers do not name yet: still one line, never a traceback
        raise reader_error(path, "", f"cannot read this camera file ({type(error).__name__}: {one_line(error)})") \
            from None


# -- from a set to views (no I/O) ---------------------------------------------------------------------

def _refuse_distortion(path, where, frame: CameraFrame, advice: str) -> None:
    """DepthViewsError naming the file, frame and every non-zero distortion parameter, if there is one."""
    distorted = {k: v for k, v in frame.distortion.items() if v != 0}
    if distorted:
        raise reader_error(path, where, f"camera model {frame.model} has non-zero distortion "
                                        f"({', '.join(f'{k}={v:g}' for k, v in distorted.items())}); {advice}")


def frame_intrinsics(camera_set: CameraSet, index: int, fallback: Intrinsics | None, _known: dict | None = None) \
        -> Intrinsics:
    """The pinhole :class:`Intrinsics` of frame ``index``, or DepthViewsError naming the file and frame
    when it cannot be rendered exactly (a non-pinhole model, non-zero distortion, no intrinsics).
    ``_known``: intrinsics already built, by (W, H, fx, fy, cx, cy), shared by frames of one K."""
    frame = camera_set.frames[index]
    where = frame_label(index, frame.name)
    if frame.model in NON_PINHOLE_MODELS:
        raise reader_error(camera_set.path, where, f"camera model {frame.model} is not a pinhole camera")
    if frame.model not in PINHOLE_MODELS:
        raise reader_error(camera_set.path, where, f"unknown camera model {shown(repr(frame.model))}")
    _refuse_distortion(camera_set.path, where, frame,
                       "only distortion-free cameras render exactly (undistort the images and cameras first)")
    if frame.fx is None:
        if fallback is None:
            raise reader_error(camera_set.path, where, "no intrinsics; give --intrinsics or --fov and --resolution")
        return fallback
    key = (frame.width, frame.height, frame.fx, frame.fy, frame.cx, frame.cy)
    if _known is not None and key in _known:
        return _known[key]
    try:
        intrinsics = Intrinsics.from_K(*key)
    except DepthViewsError as error:
        raise reader_error(camera_set.path, where, str(error)) from None
    if _known is not None:
        _known[key] = intrinsics
    return intrinsics


def frame_camera_model(camera_set: CameraSet, index: int) -> CameraModel:
    """The non-pinhole :class:`CameraModel` of frame ``index`` (fisheye, equirectangular, orthographic),
    or DepthViewsError naming the file and frame when it cannot be rendered exactly."""
    frame = camera_set.frames[index]
    where = frame_label(index, frame.name)
    name = MODEL_OF_FILE.get(frame.model)
    if name is None:
        raise reader_error(camera_set.path, where,
                           f"camera model {shown(frame.model)} cannot be rendered exactly "
                           f"(supported: PINHOLE, {', '.join(sorted(set(MODEL_OF_FILE.values())))})")
    _refuse_distortion(camera_set.path, where, frame, "only the distortion-free equidistant fisheye renders exactly")
    document = {"camera_model": name, "width": frame.width, "height": frame.height}
    if name == "EQUIRECTANGULAR":
        longitude, latitude = frame.angle_ranges or ((-180.0, 180.0), (-90.0, 90.0))
        document.update(longitude_range_deg=longitude, latitude_range_deg=latitude)
    else:
        if frame.fx is None:
            raise reader_error(camera_set.path, where, f"camera model {frame.model} without a focal length")
        document["K"] = [[frame.fx, 0.0, frame.cx], [0.0, frame.fy, frame.cy], [0.0, 0.0, 1.0]]
    try:
        return CameraModel.from_document(document, source=f"{shown(camera_set.path)}: {where}")
    except DepthViewsError as error:
        message = str(error)
        raise DepthViewsError(message if message.startswith(shown(camera_set.path)) else
                              f"{shown(camera_set.path)}: {where}: {message}") from None


def camera_set_model(camera_set: CameraSet) -> CameraModel | None:
    """None when the file holds pinhole cameras; else the one non-pinhole camera all its frames share
    (one render has one such camera), or DepthViewsError naming the first frame that differs.  Built
    once per set."""
    if "model" not in camera_set._derived:
        camera_set._derived["model"] = _camera_set_model(camera_set)
    return camera_set._derived["model"]


def _camera_set_model(camera_set: CameraSet) -> CameraModel | None:
    if not camera_set.frames or camera_set.frames[0].model not in NON_PINHOLE_MODELS:
        for index, frame in enumerate(camera_set.frames):
            if frame.model in NON_PINHOLE_MODELS:
                raise reader_error(camera_set.path, frame_label(index, frame.name),
                                   f"camera model {frame.model} mixed with pinhole frames; one render has one camera "
                                   "model")
        return None
    first = frame_camera_model(camera_set, 0)
    for index in range(1, len(camera_set.frames)):
        model = frame_camera_model(camera_set, index)
        if model.to_json() != first.to_json():
            raise reader_error(camera_set.path, frame_label(index, camera_set.frames[index].name),
                               f"its {model.name} camera differs from frame 0's; the frames of a {first.name} file "
                               "must share one camera")
    return first


def _frames_intrinsics(camera_set: CameraSet, fallback: Intrinsics | None) -> tuple:
    """(the set's intrinsics, the model, each frame's own intrinsics or None), every frame checked and
    of one image size; kept in the set per ``fallback``."""
    key = ("intrinsics", fallback)
    if key in camera_set._derived:
        return camera_set._derived[key]
    if not camera_set.frames:
        raise reader_error(camera_set.path, "", "the file holds no frames")
    model = camera_set_model(camera_set)  # a fisheye/equirectangular/orthographic file: one shared camera
    first, per_frame, known = None, [], {}
    for index, frame in enumerate(camera_set.frames):
        intrinsics = frame_intrinsics(camera_set, index, fallback, known) if model is None else \
            Intrinsics(model.width, model.height)
        if first is None:
            first = intrinsics
        elif (intrinsics.width, intrinsics.height) != (first.width, first.height):
            raise reader_error(camera_set.path, frame_label(index, frame.name),
                               f"image size {intrinsics.width}x{intrinsics.height} differs from the first frame's "
                               f"{first.width}x{first.height}; one render has one image size (split the file by size)")
        per_frame.append(intrinsics if model is None else None)
    camera_set._derived[key] = result = (first, model, tuple(per_frame))
    return result


def camera_set_intrinsics(camera_set: CameraSet, fallback: Intrinsics | None = None) \
        -> tuple[Intrinsics, CameraModel | None]:
    """(the set's intrinsics, its camera model) for a render, with no object needed: the intrinsics are
    the first frame's (``fallback`` for frames without intrinsics, e.g. pose arrays), the model None for
    pinhole files.  Checks every frame (model, distortion, K, one image size) and raises DepthViewsError
    naming the file and the first frame that cannot be rendered exactly."""
    first, model, _ = _frames_intrinsics(camera_set, fallback)
    return first, model


def views_from_camera_set(camera_set: CameraSet, fallback: Intrinsics | None = None,
                          center=(0.0, 0.0, 0.0)) -> tuple[Intrinsics, list[View]]:
    """(the set's intrinsics, its views in file order) for a render.

    Every view carries its own ``intrinsics`` (frames may differ in K; None for a non-pinhole model) and
    its ``source`` name; the set's intrinsics are the first frame's.  All frames must share one image
    size (one render has one size); the first frame that differs is named.  Angles and radius are those
    of the camera position around ``center``.  Pure: no file is read; the checks of
    :func:`camera_set_intrinsics` run once per set and ``fallback``.
    """
    first, _, per_frame = _frames_intrinsics(camera_set, fallback)
    if "inverses" not in camera_set._derived:
        camera_set._derived["inverses"] = inverted([frame.camera_to_world for frame in camera_set.frames])
    inverses = camera_set._derived["inverses"]
    center = np.asarray(center, dtype=np.float64)
    views = []
    for index, (frame, intrinsics) in enumerate(zip(camera_set.frames, per_frame)):
        offset = frame.camera_to_world[:3, 3] - center
        radius = float(np.linalg.norm(offset))
        azimuth = math.degrees(math.atan2(offset[1], offset[0])) % 360.0 if radius else 0.0
        elevation = math.degrees(math.asin(max(-1.0, min(1.0, offset[2] / radius)))) if radius else 0.0
        views.append(View(index=index, azimuth_deg=azimuth, elevation_deg=elevation, radius=radius,
                          camera_to_world=frame.camera_to_world,
                          world_to_camera=BLENDER_TO_OPENCV_AXES @ inverses[index],
                          intrinsics=intrinsics, source=frame.name))
    return first, views
