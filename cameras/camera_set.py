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
a centre), refusing what cannot be rendered exactly (unsupported models, a distortion without an inverse at
the centre, mixed image sizes or depth kinds).  Frames with lens distortion (every COLMAP model, nerfstudio's
k's and p's, a cameras.json lens) become lens models (:mod:`.lens`), one per view; distortion-free files keep
Blender's own cameras.  Both keep what they derive inside the set, so calling them again for each input costs only the poses.
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
from .lens import FISHEYE_FAMILY, MODELS, PINHOLE_FAMILY, PIXEL_CENTRE_OFFSET, LensModel
from .limits import MAX_CAMERA_FILE_BYTES
from .models import PRINCIPAL_POINT_TOLERANCE_PX, CameraModel
from .nerfstudio import read_transforms
from .pose_arrays import POSE_CONVENTIONS, read_pose_array  # noqa: F401 (POSE_CONVENTIONS: re-exported)
from .safe_files import camera_path_stat, one_line, parse_json, read_regular, shown
from .views import View, angles_around
from ..errors import DepthViewsError

LENS_MODELS = MODELS
"""Lens models a file may name (:mod:`.lens`): every COLMAP model that describes a lens, NERFSTUDIO_OPENCV."""
FISHEYE_FAMILY_MODELS = tuple(name for name, spec in MODELS.items() if spec.family == FISHEYE_FAMILY)
PINHOLE_MODELS = tuple(name for name, spec in MODELS.items() if spec.family == PINHOLE_FAMILY)
"""Models that are a plain pinhole when their distortion is zero (rendered by Blender's perspective camera)."""
MODEL_OF_FILE = {**{name: "OPENCV_FISHEYE" for name in FISHEYE_FAMILY_MODELS}, "EQUIRECTANGULAR": "EQUIRECTANGULAR",
                 "ORTHOGRAPHIC": "ORTHOGRAPHIC"}
"""Non-pinhole models a file may hold -> the built-in camera model (docs/camera-models.md) that renders them
exactly when their distortion is zero, centred (COLMAP's fisheyes with k = 0 are equidistant)."""
NON_PINHOLE_MODELS = tuple(MODEL_OF_FILE)


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

def frame_intrinsics(camera_set: CameraSet, index: int, fallback: Intrinsics | None, _known: dict | None = None) \
        -> Intrinsics:
    """The pinhole :class:`Intrinsics` of frame ``index`` (a distortion-free pinhole), or DepthViewsError
    naming the file and frame when it has none (no intrinsics and no ``fallback``) or an unknown model.
    ``_known``: intrinsics already built, by (W, H, fx, fy, cx, cy), shared by frames of one K."""
    frame = camera_set.frames[index]
    where = frame_label(index, frame.name)
    if frame.model in NON_PINHOLE_MODELS:
        raise reader_error(camera_set.path, where, f"camera model {frame.model} is not a pinhole camera")
    if frame.model not in PINHOLE_MODELS:
        raise reader_error(camera_set.path, where, f"unknown camera model {shown(repr(frame.model))}")
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
    """The distortion-free non-pinhole :class:`CameraModel` of frame ``index`` (Blender's equidistant fisheye,
    equirectangular, orthographic), or DepthViewsError naming the file and frame when it has none."""
    frame = camera_set.frames[index]
    where = frame_label(index, frame.name)
    name = MODEL_OF_FILE.get(frame.model)
    if name is None:
        raise reader_error(camera_set.path, where,
                           f"camera model {shown(frame.model)} cannot be rendered exactly "
                           f"(supported: the COLMAP and nerfstudio lens models, "
                           f"{', '.join(sorted(set(MODEL_OF_FILE.values())))})")
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


def frame_lens(camera_set: CameraSet, index: int) -> LensModel:
    """The :class:`~.lens.LensModel` of frame ``index`` (its model and every parameter as the file gives
    them: COLMAP's, nerfstudio's k's and p's, a cameras.json's ``lens_params``), or DepthViewsError naming
    the file, frame and problem (unknown model, a parameter missing or not finite)."""
    frame = camera_set.frames[index]
    where = frame_label(index, frame.name)
    if frame.fx is None:
        raise reader_error(camera_set.path, where, f"camera model {shown(frame.model)} without a focal length")
    try:
        if camera_set.kind == "transforms":
            return LensModel.from_nerfstudio(frame.model, frame.width, frame.height, frame.fx, frame.fy,
                                             frame.cx + PIXEL_CENTRE_OFFSET, frame.cy + PIXEL_CENTRE_OFFSET,
                                             frame.distortion)
        spec = LENS_MODELS.get(frame.model)
        if spec is None:
            LensModel(frame.model, frame.width, frame.height, ())   # raises, naming the model
        missing = [name for name in spec.extra_names if name not in frame.distortion]
        if missing:
            raise DepthViewsError(f"camera model {frame.model} needs {' '.join(spec.params)}; "
                                  f"{' '.join(missing)} missing")
        focal = (frame.fx,) if spec.n_focal == 1 else (frame.fx, frame.fy)
        return LensModel(frame.model, frame.width, frame.height,
                         (*focal, frame.cx + PIXEL_CENTRE_OFFSET, frame.cy + PIXEL_CENTRE_OFFSET,
                          *(frame.distortion[name] for name in spec.extra_names)))
    except DepthViewsError as error:
        raise reader_error(camera_set.path, where, str(error)) from None


def _is_lens_frame(camera_set: CameraSet, frame: CameraFrame) -> bool:
    """True when a frame's model is a lens model (a COLMAP model, nerfstudio's OPENCV / OPENCV_FISHEYE, a
    cameras.json lens) with non-zero distortion: it renders through the lens camera."""
    return frame.model in LENS_MODELS and any(value != 0 for value in frame.distortion.values())


def _builtin_fisheye_ok(camera_set: CameraSet) -> bool:
    """True when every fisheye frame without distortion is one centred equidistant fisheye with fx = W/fov and
    fy = H/fov: Blender's own fisheye renders them (the exact path that also works on Blender 4.2)."""
    first = None
    for frame in camera_set.frames:
        if frame.model not in FISHEYE_FAMILY_MODELS:
            continue
        if frame.fx is None:
            return True   # frame_camera_model names it
        centred = abs(frame.cx - (frame.width - 1) / 2.0) <= PRINCIPAL_POINT_TOLERANCE_PX and \
            abs(frame.cy - (frame.height - 1) / 2.0) <= PRINCIPAL_POINT_TOLERANCE_PX
        if not centred or not math.isclose(frame.width / frame.fx, frame.height / frame.fy, rel_tol=1e-9):
            return False
        camera = (frame.width, frame.height, frame.fx, frame.fy)
        if first is not None and camera != first:
            return False
        first = camera
    return True


def frame_lenses(camera_set: CameraSet) -> tuple | None:
    """Each frame's :class:`~.lens.LensModel` when the file needs the lens camera (a frame with distortion,
    or a distortion-free fisheye Blender's own fisheye cannot render: an off-centre principal point, fx and
    fy not W/fov and H/fov, frames that differ), else None (today's built-in cameras).  Frames of one
    camera share one LensModel.  Raises DepthViewsError naming the file and frame: a model that is no
    lens mixed in, another depth kind (pinhole family with fisheyes), a distortion without an exact
    inverse at the principal point.  Built once per set."""
    if "lenses" not in camera_set._derived:
        camera_set._derived["lenses"] = _frame_lenses(camera_set)
    return camera_set._derived["lenses"]


def _frame_lenses(camera_set: CameraSet) -> tuple | None:
    frames = camera_set.frames
    if not any(_is_lens_frame(camera_set, frame) for frame in frames) and _builtin_fisheye_ok(camera_set):
        return None
    lenses, known, first = [], {}, None
    for index, frame in enumerate(frames):
        where = frame_label(index, frame.name)
        if frame.model not in LENS_MODELS:
            raise reader_error(camera_set.path, where, f"camera model {shown(frame.model)} mixed with lens models "
                                                       "(distorted or off-centre cameras); one render has one kind of camera")
        lens = frame_lens(camera_set, index)
        if lens.name in ("PINHOLE", "SIMPLE_PINHOLE"):   # a distortion-free pinhole among lenses: OPENCV with 0s
            (fx, fy), (cx, cy) = lens.focal, lens.principal_point_colmap
            lens = LensModel("OPENCV", lens.width, lens.height, (fx, fy, cx, cy, 0.0, 0.0, 0.0, 0.0))
        if lens.key in known:
            lens = known[lens.key]
        else:
            try:
                lens.check_invertible()
            except DepthViewsError as error:
                raise reader_error(camera_set.path, where, str(error)) from None
            known[lens.key] = lens
        if first is None:
            first = lens
        elif lens.depth_kind != first.depth_kind:
            raise reader_error(camera_set.path, where,
                               f"camera model {lens.name} mixed with {first.family} frames (frame 0: {first.name}); "
                               f"one render has one depth kind ({first.depth_kind} here; split the file)")
        lenses.append(lens)
    return tuple(lenses)


def camera_set_model(camera_set: CameraSet) -> CameraModel | None:
    """None when the file holds distortion-free pinhole cameras; else the camera of its first frame: a lens
    model (:func:`frame_lenses`; each view then carries its own lens) or the one fisheye, equirectangular or
    orthographic camera all its frames share (DepthViewsError naming the first frame that differs).
    Built once per set."""
    if "model" not in camera_set._derived:
        camera_set._derived["model"] = _camera_set_model(camera_set)
    return camera_set._derived["model"]


def _camera_set_model(camera_set: CameraSet) -> CameraModel | None:
    lenses = frame_lenses(camera_set) if camera_set.frames else None
    if lenses is not None:
        return CameraModel.from_lens(lenses[0])
    if not camera_set.frames or camera_set.frames[0].model not in NON_PINHOLE_MODELS:
        for index, frame in enumerate(camera_set.frames):
            if frame.model in NON_PINHOLE_MODELS:
                raise reader_error(camera_set.path, frame_label(index, frame.name),
                                   f"camera model {frame.model} mixed with pinhole frames; one render has one camera "
                                   "model")
        return None
    first = frame_camera_model(camera_set, 0)
    first_json = first.to_json()
    for index in range(1, len(camera_set.frames)):
        model = frame_camera_model(camera_set, index)
        if model.to_json() != first_json:
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
    model = camera_set_model(camera_set)  # a lens file, or one shared fisheye/equirectangular/orthographic camera
    lenses = frame_lenses(camera_set) if model is not None and model.lens is not None else None
    first, per_frame, known = None, [], {}
    for index, frame in enumerate(camera_set.frames):
        if model is None:
            intrinsics = frame_intrinsics(camera_set, index, fallback, known)
        else:
            size = (lenses[index].width, lenses[index].height) if lenses else (model.width, model.height)
            intrinsics = known[size] if size in known else known.setdefault(size, Intrinsics(*size))
        if first is None:
            first = intrinsics
        elif (intrinsics.width, intrinsics.height) != (first.width, first.height):
            raise reader_error(camera_set.path, frame_label(index, frame.name),
                               f"image size {intrinsics.width}x{intrinsics.height} differs from the first frame's "
                               f"{first.width}x{first.height}; one render has one image size (split the file by size)")
        per_frame.append(intrinsics if model is None else None)
    camera_set._derived[key] = result = (first, model, tuple(per_frame), lenses or (None,) * len(per_frame))
    return result


def camera_set_intrinsics(camera_set: CameraSet, fallback: Intrinsics | None = None) \
        -> tuple[Intrinsics, CameraModel | None]:
    """(the set's intrinsics, its camera model) for a render, with no object needed: the intrinsics are
    the first frame's (``fallback`` for frames without intrinsics, e.g. pose arrays), the model None for
    pinhole files.  Checks every frame (model, distortion, K, one image size) and raises DepthViewsError
    naming the file and the first frame that cannot be rendered exactly."""
    first, model, _, _ = _frames_intrinsics(camera_set, fallback)
    return first, model


def views_from_camera_set(camera_set: CameraSet, fallback: Intrinsics | None = None,
                          center=(0.0, 0.0, 0.0)) -> tuple[Intrinsics, list[View]]:
    """(the set's intrinsics, its views in file order) for a render.

    Every view carries its own ``intrinsics`` (frames may differ in K; None for a non-pinhole model), its
    own ``lens`` (a lens file's frames may differ; None otherwise) and its ``source`` name; the set's intrinsics are the first frame's.  All frames must share one image
    size (one render has one size); the first frame that differs is named.  Angles and radius are those
    of the camera position around ``center``.  Pure: no file is read; the checks of
    :func:`camera_set_intrinsics` run once per set and ``fallback``.
    """
    first, _, per_frame, lenses = _frames_intrinsics(camera_set, fallback)
    if "inverses" not in camera_set._derived:
        camera_set._derived["inverses"] = inverted([frame.camera_to_world for frame in camera_set.frames])
    inverses = camera_set._derived["inverses"]
    center = np.asarray(center, dtype=np.float64)
    views = []
    for index, (frame, intrinsics, lens) in enumerate(zip(camera_set.frames, per_frame, lenses)):
        azimuth, elevation, radius = angles_around(frame.camera_to_world[:3, 3], center)
        views.append(View(index=index, azimuth_deg=azimuth, elevation_deg=elevation, radius=radius,
                          camera_to_world=frame.camera_to_world,
                          world_to_camera=BLENDER_TO_OPENCV_AXES @ inverses[index],
                          intrinsics=intrinsics, source=frame.name, lens=lens))
    return first, views
