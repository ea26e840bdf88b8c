"""Cameras people bring: read the views of a camera file into one clear intermediate form.

Pure Python + numpy.  :func:`read_camera_file` reads

- nerfstudio / instant-ngp ``transforms.json`` and NeRF-synthetic ``transforms_*.json`` (global or
  per-frame ``fl_x fl_y cx cy w h``, or ``camera_angle_x``; ``transform_matrix`` camera-to-world in
  OpenGL/Blender axes; pixel centres at +0.5);
- COLMAP models, text (``cameras.txt`` + ``images.txt``) or binary (``cameras.bin`` + ``images.bin``)
  or the folder holding them (``images`` are world-to-camera in OpenCV axes; pixel centres at +0.5);
- our own ``cameras.json`` (pixel centres at integers);
- ``.npy`` / ``.npz`` arrays of 4x4 poses in a stated ``pose_convention``;

into a :class:`CameraSet` of :class:`CameraFrame` (every frame's pose as Blender camera_to_world,
its model and its K in OpenCV pixels, i.e. pixel centres at integers).  :func:`views_from_camera_set`
turns a set into the :class:`~.views.View` list a render uses, refusing what it cannot render
exactly (distortion, non-pinhole models, mixed image sizes).  Every problem is a DepthViewsError of
one line naming the file, the frame and the problem.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from .models import CameraModel
from .views import BLENDER_TO_OPENCV_AXES, Intrinsics, View
from ..errors import DepthViewsError

POSE_CONVENTIONS = ("opengl", "opencv", "opencv_w2c")
PINHOLE_MODELS = ("PINHOLE", "SIMPLE_PINHOLE", "OPENCV", "SIMPLE_RADIAL", "RADIAL", "FULL_OPENCV")
"""Models that are a plain pinhole when their distortion is zero."""
MODEL_OF_FILE = {"OPENCV_FISHEYE": "OPENCV_FISHEYE", "SIMPLE_RADIAL_FISHEYE": "OPENCV_FISHEYE",
                 "RADIAL_FISHEYE": "OPENCV_FISHEYE", "EQUIRECTANGULAR": "EQUIRECTANGULAR",
                 "ORTHOGRAPHIC": "ORTHOGRAPHIC"}
"""Non-pinhole models a file may hold -> the camera model (docs/camera-models.md) that renders them
exactly when their distortion is zero (COLMAP's radial fisheyes with k = 0 are equidistant too)."""
NON_PINHOLE_MODELS = tuple(MODEL_OF_FILE) + ("THIN_PRISM_FISHEYE", "FOV")
"""Models kept in the intermediate form; those outside MODEL_OF_FILE are refused."""
ROTATION_TOLERANCE = 1e-4

# COLMAP's model ids and parameter names (colmap/src/colmap/sensor/models.h).
COLMAP_MODELS = {
    0: ("SIMPLE_PINHOLE", ("f", "cx", "cy")),
    1: ("PINHOLE", ("fx", "fy", "cx", "cy")),
    2: ("SIMPLE_RADIAL", ("f", "cx", "cy", "k1")),
    3: ("RADIAL", ("f", "cx", "cy", "k1", "k2")),
    4: ("OPENCV", ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2")),
    5: ("OPENCV_FISHEYE", ("fx", "fy", "cx", "cy", "k1", "k2", "k3", "k4")),
    6: ("FULL_OPENCV", ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6")),
    7: ("FOV", ("fx", "fy", "cx", "cy", "omega")),
    8: ("SIMPLE_RADIAL_FISHEYE", ("f", "cx", "cy", "k1")),
    9: ("RADIAL_FISHEYE", ("f", "cx", "cy", "k1", "k2")),
    10: ("THIN_PRISM_FISHEYE", ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3", "k4", "sx1", "sy1")),
}
COLMAP_MODEL_IDS = {name: (model_id, params) for model_id, (name, params) in COLMAP_MODELS.items()}
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "p1", "p2", "sx1", "sy1", "omega")


@dataclass
class CameraFrame:
    """One camera of a file.  ``camera_to_world``: 4x4, Blender/OpenGL axes.  ``fx fy cx cy``: pixels,
    OpenCV convention (pixel centres at integers), None when the file leaves them to the caller.
    ``distortion``: the model's other parameters by name (k1, p1, ...).  ``name``: the file's name
    for the view (image name or file_path); the image need not exist."""

    name: str
    camera_to_world: np.ndarray
    model: str = "PINHOLE"
    width: int | None = None
    height: int | None = None
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    distortion: dict = field(default_factory=dict)
    # EQUIRECTANGULAR: (longitude range, latitude range) in degrees; None = the full 360 x 180
    angle_ranges: tuple | None = None


@dataclass
class CameraSet:
    """The frames of one camera file, in the file's order; ``kind`` names the format read."""

    path: str
    kind: str
    frames: list[CameraFrame]


def _fail(path, where, problem) -> DepthViewsError:
    return DepthViewsError(f"{path}: {where}: {problem}" if where else f"{path}: {problem}")


def _frame_label(index: int, name: str | None) -> str:
    return f"frame {index} ({name})" if name else f"frame {index}"


def checked_pose(path, where, matrix) -> np.ndarray:
    """``matrix`` as a float64 4x4 rigid transform, or DepthViewsError naming ``path`` and ``where``."""
    try:
        matrix = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(path, where, "the pose is not a 4x4 matrix of numbers") from None
    if matrix.shape == (3, 4):
        matrix = np.vstack([matrix, [0.0, 0.0, 0.0, 1.0]])
    if matrix.shape != (4, 4):
        raise _fail(path, where, f"the pose has shape {matrix.shape}, not 4x4")
    if not np.all(np.isfinite(matrix)):
        raise _fail(path, where, "the pose has NaN or infinite entries")
    if not np.allclose(matrix[3], [0.0, 0.0, 0.0, 1.0], atol=ROTATION_TOLERANCE):
        raise _fail(path, where, f"the pose's last row is {matrix[3].tolist()}, not [0, 0, 0, 1]")
    rotation = matrix[:3, :3]
    error = float(np.abs(rotation.T @ rotation - np.eye(3)).max())
    if error > ROTATION_TOLERANCE or np.linalg.det(rotation) < 0:
        raise _fail(path, where, "the pose's 3x3 part is not a rotation "
                                 f"(R^T R differs from I by {error:.2g}, det {np.linalg.det(rotation):.3g})")
    matrix[3] = [0.0, 0.0, 0.0, 1.0]
    return matrix


def _finite(path, where, name, value, *, positive: bool = False) -> float:
    """``value`` as a finite float (and > 0 with ``positive``), or DepthViewsError naming it."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise _fail(path, where, f"{name} is {value!r}, not a number") from None
    if not math.isfinite(value) or (positive and value <= 0):
        raise _fail(path, where, f"{name} is {value!r}; it must be {'positive and ' if positive else ''}finite")
    return value


def _positive(path, where, name, value) -> float:
    return _finite(path, where, name, value, positive=True)


def _size(path, where, name, value) -> int:
    number = _positive(path, where, name, value)
    if number != int(number):
        raise _fail(path, where, f"{name} is {value!r}, not a whole number of pixels")
    return int(number)


# -- transforms.json (nerfstudio, instant-ngp, NeRF-synthetic) -----------------------------------

TRANSFORMS_INTRINSICS = ("fl_x", "fl_y", "cx", "cy", "w", "h", "camera_angle_x", "camera_angle_y",
                         "camera_model", "k1", "k2", "k3", "k4", "p1", "p2")


def _image_size_on_disk(path: str, file_path: str) -> tuple[int, int] | None:
    """(W, H) of the image a NeRF-synthetic frame names, when it exists (with or without .png)."""
    folder = os.path.dirname(path)
    for candidate in (file_path, file_path + ".png"):
        full = os.path.join(folder, candidate)
        if os.path.isfile(full):
            try:
                from PIL import Image

                with Image.open(full) as image:
                    return image.size
            except Exception:  # an unreadable image: fall back to the given size
                return None
    return None


def read_transforms(path: str, document: dict, default_size=None) -> CameraSet:
    """The frames of a nerfstudio / instant-ngp / NeRF-synthetic transforms document.

    Per-frame keys override the global ones.  Without ``w``/``h`` (NeRF-synthetic) the size comes
    from the named image when it exists, else ``default_size``.  Without ``fl_x`` the focal length
    is ``0.5 * w / tan(camera_angle_x / 2)`` (``fl_y`` likewise from ``camera_angle_y``, else
    ``fl_x``); without ``cx``/``cy`` the principal point is the image centre.
    """
    frames_in = document.get("frames")
    if not isinstance(frames_in, list):
        raise _fail(path, "", "no 'frames' list")
    if not frames_in:
        raise _fail(path, "", "the file holds no frames (empty 'frames' list)")
    frames = []
    for index, entry in enumerate(frames_in):
        if not isinstance(entry, dict):
            raise _fail(path, f"frame {index}", "is not an object")
        name = entry.get("file_path")
        where = _frame_label(index, name)
        values = {key: entry.get(key, document.get(key)) for key in TRANSFORMS_INTRINSICS}
        if "transform_matrix" not in entry:
            raise _fail(path, where, "no transform_matrix")
        camera_to_world = checked_pose(path, where, entry["transform_matrix"])
        model = str(values["camera_model"] or "PINHOLE").upper()
        width, height = values["w"], values["h"]
        if width is None or height is None:
            size = _image_size_on_disk(path, name) if isinstance(name, str) else None
            size = size or default_size
            if size is None:
                raise _fail(path, where, "no image size (w, h) and no image to take it from")
            width, height = size if width is None and height is None else (width or size[0], height or size[1])
        width, height = _size(path, where, "w", width), _size(path, where, "h", height)
        if values["fl_x"] is not None:
            fx = _positive(path, where, "fl_x", values["fl_x"])
        elif values["camera_angle_x"] is not None:
            angle = _positive(path, where, "camera_angle_x", values["camera_angle_x"])
            if angle >= math.pi:
                raise _fail(path, where, f"camera_angle_x {angle:g} rad is not below pi")
            fx = 0.5 * width / math.tan(0.5 * angle)
        elif model == "EQUIRECTANGULAR":
            fx = None
        else:
            raise _fail(path, where, "no focal length (fl_x or camera_angle_x)")
        if values["fl_y"] is not None:
            fy = _positive(path, where, "fl_y", values["fl_y"])
        elif values["camera_angle_y"] is not None:
            angle = _positive(path, where, "camera_angle_y", values["camera_angle_y"])
            fy = 0.5 * height / math.tan(0.5 * angle)
        else:
            fy = fx
        # +0.5 convention (pixel centres at +0.5) -> OpenCV (pixel centres at integers).
        cx = _finite(path, where, "cx", values["cx"]) - 0.5 if values["cx"] is not None else (width - 1) / 2.0
        cy = _finite(path, where, "cy", values["cy"]) - 0.5 if values["cy"] is not None else (height - 1) / 2.0
        distortion = {key: _finite(path, where, key, values[key]) for key in ("k1", "k2", "k3", "k4", "p1", "p2")
                      if values[key] is not None}
        angle_ranges = None
        if model == "EQUIRECTANGULAR" and fx is not None:
            # nerfstudio: longitude = pi (u + 0.5 - cx) / fl_x, latitude = -pi (v + 0.5 - cy) / fl_y
            lon_min = -180.0 * (cx + 0.5) / fx
            lat_max = 180.0 * (cy + 0.5) / fy
            angle_ranges = ((lon_min, lon_min + 180.0 * width / fx), (lat_max - 180.0 * height / fy, lat_max))
        frames.append(CameraFrame(name=str(name) if name is not None else f"frame_{index}",
                                  camera_to_world=camera_to_world, model=model, width=width, height=height,
                                  fx=fx, fy=fy, cx=cx, cy=cy, distortion=distortion, angle_ranges=angle_ranges))
    return CameraSet(path=path, kind="transforms", frames=frames)


# -- COLMAP -----------------------------------------------------------------------------------------

def quaternion_to_rotation(qw, qx, qy, qz) -> np.ndarray:
    """3x3 rotation of the unit quaternion (w, x, y, z) (Hamilton, as COLMAP writes it)."""
    q = np.array([qw, qx, qy, qz], dtype=np.float64)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def rotation_to_quaternion(rotation) -> np.ndarray:
    """Unit quaternion (w, x, y, z), w >= 0, of a 3x3 rotation (inverse of quaternion_to_rotation)."""
    r = np.asarray(rotation, dtype=np.float64)
    # Largest-component method (numerically safe for every rotation).
    trace = np.trace(r)
    candidates = [trace, r[0, 0], r[1, 1], r[2, 2]]
    k = int(np.argmax(candidates))
    if k == 0:
        s = math.sqrt(1.0 + trace) * 2
        q = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
    elif k == 1:
        s = math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
        q = [(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
    elif k == 2:
        s = math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
        q = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
        q = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[0] < 0 else q


def _colmap_camera(path, where, model, width, height, params) -> dict:
    if model not in COLMAP_MODEL_IDS:
        raise _fail(path, where, f"unknown COLMAP camera model {model!r}")
    names = COLMAP_MODEL_IDS[model][1]
    if len(params) != len(names):
        raise _fail(path, where, f"camera model {model} needs {len(names)} parameters, got {len(params)}")
    values = dict(zip(names, (_finite(path, where, n, p) for n, p in zip(names, params))))
    if "f" in values:
        values["fx"] = values["fy"] = values.pop("f")
    return {"model": model, "width": _size(path, where, "width", width),
            "height": _size(path, where, "height", height), **values}


def _colmap_frame(path, cameras, image_id, q, t, camera_id, name) -> CameraFrame:
    where = f"image {image_id} ({name})"
    if camera_id not in cameras:
        raise _fail(path, where, f"camera {camera_id} is not in the cameras file")
    camera = cameras[camera_id]
    q = np.array([_finite(path, where, "quaternion", v) for v in q])
    if not 0.5 < np.linalg.norm(q) < 2.0:
        raise _fail(path, where, f"quaternion {q.tolist()} is not a rotation (norm {np.linalg.norm(q):.3g})")
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = quaternion_to_rotation(*q)
    world_to_camera[:3, 3] = [_finite(path, where, "translation", v) for v in t]
    camera_to_world = np.linalg.inv(BLENDER_TO_OPENCV_AXES @ world_to_camera)
    fx, fy = (_positive(path, where, n, camera[n]) for n in ("fx", "fy"))
    return CameraFrame(name=name, camera_to_world=camera_to_world, model=camera["model"],
                       width=camera["width"], height=camera["height"], fx=fx, fy=fy,
                       cx=camera["cx"] - 0.5, cy=camera["cy"] - 0.5,
                       distortion={k: v for k, v in camera.items() if k in DISTORTION_KEYS})


def _data_lines(path):
    with open(path, encoding="utf-8") as stream:
        return [line.rstrip("\n") for line in stream if not line.startswith("#")]


def read_colmap_text(folder: str) -> CameraSet:
    """The images of a COLMAP text model (``cameras.txt`` + ``images.txt`` in ``folder``), in file order."""
    cameras_path, images_path = os.path.join(folder, "cameras.txt"), os.path.join(folder, "images.txt")
    cameras = {}
    for number, line in enumerate(_data_lines(cameras_path)):
        items = line.split()
        if not items:
            continue
        where = f"camera line {number + 1}"
        if len(items) < 4:
            raise _fail(cameras_path, where, "needs CAMERA_ID MODEL WIDTH HEIGHT PARAMS...")
        cameras[int(items[0])] = _colmap_camera(cameras_path, f"camera {items[0]}", items[1], items[2],
                                                items[3], items[4:])
    lines = _data_lines(images_path)
    frames = []
    # images.txt: two lines per image, the second (its 2D points) possibly empty.
    for number in range(0, len(lines), 2):
        items = lines[number].split()
        if not items:
            continue
        if len(items) < 10:
            raise _fail(images_path, f"line {number + 1}", "needs IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME")
        try:
            image_id, camera_id = int(items[0]), int(items[8])
        except ValueError:
            raise _fail(images_path, f"line {number + 1}", "IMAGE_ID and CAMERA_ID must be integers") from None
        frames.append(_colmap_frame(images_path, cameras, image_id, items[1:5], items[5:8], camera_id,
                                    " ".join(items[9:])))
    if not frames:
        raise _fail(images_path, "", "the model holds no images")
    return CameraSet(path=images_path, kind="colmap", frames=frames)


def _read(stream, fmt):
    size = struct.calcsize(fmt)
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return struct.unpack(fmt, data)


def read_colmap_binary(folder: str) -> CameraSet:
    """The images of a COLMAP binary model (``cameras.bin`` + ``images.bin`` in ``folder``), in file order."""
    cameras_path, images_path = os.path.join(folder, "cameras.bin"), os.path.join(folder, "images.bin")
    cameras = {}
    try:
        with open(cameras_path, "rb") as stream:
            for _ in range(_read(stream, "<Q")[0]):
                camera_id, model_id, width, height = _read(stream, "<iiQQ")
                if model_id not in COLMAP_MODELS:
                    raise _fail(cameras_path, f"camera {camera_id}", f"unknown COLMAP camera model id {model_id}")
                model, names = COLMAP_MODELS[model_id]
                params = _read(stream, f"<{len(names)}d")
                cameras[camera_id] = _colmap_camera(cameras_path, f"camera {camera_id}", model, width, height, params)
    except EOFError:
        raise _fail(cameras_path, "", "the file ends early (truncated?)") from None
    frames = []
    try:
        with open(images_path, "rb") as stream:
            for _ in range(_read(stream, "<Q")[0]):
                image_id, qw, qx, qy, qz, tx, ty, tz, camera_id = _read(stream, "<idddddddi")
                name = bytearray()
                while (char := stream.read(1)) not in (b"\x00", b""):
                    name += char
                n_points = _read(stream, "<Q")[0]
                stream.seek(24 * n_points, os.SEEK_CUR)
                frames.append(_colmap_frame(images_path, cameras, image_id, (qw, qx, qy, qz), (tx, ty, tz),
                                            camera_id, name.decode("utf-8", errors="replace")))
    except EOFError:
        raise _fail(images_path, "", "the file ends early (truncated?)") from None
    if not frames:
        raise _fail(images_path, "", "the model holds no images")
    return CameraSet(path=images_path, kind="colmap", frames=frames)


def colmap_folder(path: str) -> tuple[str, str] | None:
    """(folder, "txt" or "bin") when ``path`` is a COLMAP model or one of its files, else None."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if os.path.isfile(path) and os.path.basename(path) not in (
            "cameras.txt", "images.txt", "cameras.bin", "images.bin"):
        return None
    for sub in ("", "sparse/0", "sparse", "colmap"):
        base = os.path.join(folder, sub)
        for ext in ("bin", "txt") if not path.endswith(".txt") else ("txt",):
            if all(os.path.isfile(os.path.join(base, f"{n}.{ext}")) for n in ("cameras", "images")):
                return base, ext
    return None


# -- our cameras.json, and arrays of poses ----------------------------------------------------------

def read_own_cameras(path: str, document: dict) -> CameraSet:
    """The views of a Depth Views ``cameras.json`` (K in OpenCV pixels, world_to_camera OpenCV axes)."""
    views = document.get("views")
    if not isinstance(views, list) or not views:
        raise _fail(path, "", "no views")
    frames = []
    for index, view in enumerate(views):
        name = view.get("source") or (view.get("files") or {}).get("depth")
        where = _frame_label(index, name)
        model = str(view.get("camera_model", document.get("camera_model", "PINHOLE")))
        angle_ranges = None
        if model == "EQUIRECTANGULAR":  # no K: its longitude/latitude ranges say where each pixel looks
            angle_ranges = tuple(tuple(view.get(key, document.get(key, full))) for key, full in
                                 (("longitude_range_deg", (-180.0, 180.0)), ("latitude_range_deg", (-90.0, 90.0))))
            K = np.eye(3)
        else:
            K = np.asarray(view.get("K", document.get("K")), dtype=np.float64)
        if K.shape != (3, 3):
            raise _fail(path, where, "no 3x3 K")
        width, height = view.get("width", document.get("width")), view.get("height", document.get("height"))
        if "world_to_camera" not in view:
            raise _fail(path, where, "no world_to_camera")
        world_to_camera = np.asarray(view["world_to_camera"], dtype=np.float64)
        if world_to_camera.shape != (4, 4) or not np.all(np.isfinite(world_to_camera)):
            raise _fail(path, where, "world_to_camera is not a finite 4x4 matrix")
        camera_to_world = checked_pose(path, where, np.linalg.inv(BLENDER_TO_OPENCV_AXES @ world_to_camera))
        frames.append(CameraFrame(name=str(name or f"view_{index}"), camera_to_world=camera_to_world,
                                  model=model, angle_ranges=angle_ranges,
                                  width=_size(path, where, "width", width), height=_size(path, where, "height", height),
                                  fx=_positive(path, where, "fx", K[0, 0]), fy=_positive(path, where, "fy", K[1, 1]),
                                  cx=_finite(path, where, "cx", K[0, 2]), cy=_finite(path, where, "cy", K[1, 2])))
    return CameraSet(path=path, kind="depth_views", frames=frames)


def read_pose_array(path: str, pose_convention: str) -> CameraSet:
    """Poses (N, 4, 4) of a ``.npy``, or of a ``.npz``'s ``poses``/``camera_to_world``/``world_to_camera``
    array (or its only array).  ``pose_convention``: opengl (camera-to-world, Blender/OpenGL axes),
    opencv (camera-to-world, OpenCV axes), opencv_w2c (world-to-camera, OpenCV axes).  No intrinsics:
    the render's options give them."""
    if pose_convention not in POSE_CONVENTIONS:
        raise _fail(path, "", f"--pose-convention {pose_convention!r}: choose one of {', '.join(POSE_CONVENTIONS)}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _fail(path, "", f"cannot read the array ({error})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = [k for k in ("poses", "camera_to_world", "world_to_camera") if k in loaded.files]
            if not keys and len(loaded.files) != 1:
                raise _fail(path, "", f"holds {loaded.files}; name the poses array 'poses'")
            array = loaded[keys[0] if keys else loaded.files[0]]
    else:
        array = loaded
    array = np.asarray(array)
    if array.ndim == 2 and array.shape in ((4, 4), (3, 4)):
        array = array[None]
    if array.ndim != 3 or array.shape[1:] not in ((4, 4), (3, 4)):
        raise _fail(path, "", f"poses have shape {array.shape}; expected (N, 4, 4)")
    if len(array) == 0:
        raise _fail(path, "", "the file holds no poses")
    frames = []
    for index, matrix in enumerate(array):
        where = f"pose {index}"
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.shape == (3, 4):
            matrix = np.vstack([matrix, [0.0, 0.0, 0.0, 1.0]])
        if pose_convention == "opencv_w2c":
            pose = checked_pose(path, where, matrix)
            camera_to_world = np.linalg.inv(BLENDER_TO_OPENCV_AXES @ pose)
        elif pose_convention == "opencv":
            camera_to_world = checked_pose(path, where, matrix) @ BLENDER_TO_OPENCV_AXES
        else:
            camera_to_world = checked_pose(path, where, matrix)
        frames.append(CameraFrame(name=f"pose_{index}", camera_to_world=camera_to_world))
    return CameraSet(path=path, kind="poses", frames=frames)


# -- one entry point --------------------------------------------------------------------------------

def read_camera_file(path: str, *, pose_convention: str = "opengl", default_size=None) -> CameraSet:
    """Read any supported camera file (see the module docstring); ``default_size`` (W, H) is used
    where the file gives no image size.  Raises DepthViewsError naming the file, frame and problem."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise _fail(path, "", "no such camera file")
    colmap = colmap_folder(path)
    if colmap is not None:
        folder, ext = colmap
        try:
            return read_colmap_text(folder) if ext == "txt" else read_colmap_binary(folder)
        except OSError as error:
            raise _fail(path, "", f"cannot read the COLMAP model ({error.strerror or error})") from None
        except (ValueError, IndexError) as error:
            raise _fail(path, "", f"not a valid COLMAP model ({error})") from None
    if os.path.isdir(path):
        raise _fail(path, "", "a folder without a COLMAP model (cameras.txt/images.txt or .bin)")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".npy", ".npz"):
        return read_pose_array(path, pose_convention)
    if suffix != ".json":
        raise _fail(path, "", "unknown camera file type; give a .json, COLMAP model, .npy or .npz")
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, ValueError) as error:
        raise _fail(path, "", f"cannot read the JSON ({error})") from None
    if not isinstance(document, dict):
        raise _fail(path, "", "is not a JSON object")
    if document.get("format") == "depth_views.cameras":
        return read_own_cameras(path, document)
    if "frames" in document:
        return read_transforms(path, document, default_size=default_size)
    raise _fail(path, "", "neither a transforms.json (no 'frames') nor a Depth Views cameras.json")


def _refuse_distortion(path, where, frame: CameraFrame, advice: str) -> None:
    """DepthViewsError naming the file, frame and every non-zero distortion parameter, if there is one."""
    distorted = {k: v for k, v in frame.distortion.items() if v != 0}
    if distorted:
        raise _fail(path, where, f"camera model {frame.model} has non-zero distortion "
                                 f"({', '.join(f'{k}={v:g}' for k, v in distorted.items())}); {advice}")


def frame_intrinsics(camera_set: CameraSet, index: int, fallback: Intrinsics | None) -> Intrinsics:
    """The pinhole :class:`Intrinsics` of frame ``index``, or DepthViewsError naming the file and frame
    when it cannot be rendered exactly (a non-pinhole model, non-zero distortion, no intrinsics)."""
    frame = camera_set.frames[index]
    where = _frame_label(index, frame.name)
    if frame.model in NON_PINHOLE_MODELS:
        raise _fail(camera_set.path, where, f"camera model {frame.model} is not a pinhole camera")
    if frame.model not in PINHOLE_MODELS:
        raise _fail(camera_set.path, where, f"unknown camera model {frame.model!r}")
    _refuse_distortion(camera_set.path, where, frame,
                       "only distortion-free cameras render exactly (undistort the images and cameras first)")
    if frame.fx is None:
        if fallback is None:
            raise _fail(camera_set.path, where, "no intrinsics; give --intrinsics or --fov and --resolution")
        return fallback
    try:
        return Intrinsics.from_K(frame.width, frame.height, frame.fx, frame.fy, frame.cx, frame.cy)
    except DepthViewsError as error:
        raise _fail(camera_set.path, where, str(error)) from None


def frame_camera_model(camera_set: CameraSet, index: int) -> CameraModel:
    """The non-pinhole :class:`CameraModel` of frame ``index`` (fisheye, equirectangular, orthographic),
    or DepthViewsError naming the file and frame when it cannot be rendered exactly."""
    frame = camera_set.frames[index]
    where = _frame_label(index, frame.name)
    name = MODEL_OF_FILE.get(frame.model)
    if name is None:
        raise _fail(camera_set.path, where, f"camera model {frame.model} cannot be rendered exactly "
                                            f"(supported: PINHOLE, {', '.join(sorted(set(MODEL_OF_FILE.values())))})")
    _refuse_distortion(camera_set.path, where, frame, "only the distortion-free equidistant fisheye renders exactly")
    document = {"camera_model": name, "width": frame.width, "height": frame.height}
    if name == "EQUIRECTANGULAR":
        longitude, latitude = frame.angle_ranges or ((-180.0, 180.0), (-90.0, 90.0))
        document.update(longitude_range_deg=longitude, latitude_range_deg=latitude)
    else:
        if frame.fx is None:
            raise _fail(camera_set.path, where, f"camera model {frame.model} without a focal length")
        document["K"] = [[frame.fx, 0.0, frame.cx], [0.0, frame.fy, frame.cy], [0.0, 0.0, 1.0]]
    try:
        return CameraModel.from_document(document, source=f"{camera_set.path}: {where}")
    except DepthViewsError as error:
        message = str(error)
        raise DepthViewsError(message if message.startswith(camera_set.path) else
                              f"{camera_set.path}: {where}: {message}") from None


def camera_set_model(camera_set: CameraSet) -> CameraModel | None:
    """None when the file holds pinhole cameras; else the one non-pinhole camera all its frames share
    (one render has one such camera), or DepthViewsError naming the first frame that differs."""
    if not camera_set.frames or camera_set.frames[0].model not in NON_PINHOLE_MODELS:
        for index, frame in enumerate(camera_set.frames):
            if frame.model in NON_PINHOLE_MODELS:
                raise _fail(camera_set.path, _frame_label(index, frame.name),
                            f"camera model {frame.model} mixed with pinhole frames; one render has one camera model")
        return None
    first = frame_camera_model(camera_set, 0)
    for index in range(1, len(camera_set.frames)):
        model = frame_camera_model(camera_set, index)
        if model.to_json() != first.to_json():
            raise _fail(camera_set.path, _frame_label(index, camera_set.frames[index].name),
                        f"its {model.name} camera differs from frame 0's; the frames of a {first.name} file "
                        "must share one camera")
    return first


def views_from_camera_set(camera_set: CameraSet, fallback: Intrinsics | None = None,
                          center=(0.0, 0.0, 0.0)) -> tuple[Intrinsics, list[View]]:
    """(the set's intrinsics, its views in file order) for a render.

    Every view carries its own ``intrinsics`` (frames may differ in K) and its ``source`` name; the
    set's intrinsics are the first frame's.  All frames must share one image size (one render has
    one size); the first frame that differs is named.  Angles and radius are those of the camera
    position around ``center``.
    """
    center = np.asarray(center, dtype=np.float64)
    views, first = [], None
    model = camera_set_model(camera_set)  # a fisheye/equirectangular/orthographic file: one shared camera
    for index, frame in enumerate(camera_set.frames):
        intrinsics = frame_intrinsics(camera_set, index, fallback) if model is None else \
            Intrinsics(model.width, model.height)
        if first is None:
            first = intrinsics
        elif (intrinsics.width, intrinsics.height) != (first.width, first.height):
            raise _fail(camera_set.path, _frame_label(index, frame.name),
                        f"image size {intrinsics.width}x{intrinsics.height} differs from the first frame's "
                        f"{first.width}x{first.height}; one render has one image size (split the file by size)")
        offset = frame.camera_to_world[:3, 3] - center
        radius = float(np.linalg.norm(offset))
        azimuth = math.degrees(math.atan2(offset[1], offset[0])) % 360.0 if radius else 0.0
        elevation = math.degrees(math.asin(max(-1.0, min(1.0, offset[2] / radius)))) if radius else 0.0
        views.append(View(index=index, azimuth_deg=azimuth, elevation_deg=elevation, radius=radius,
                          camera_to_world=frame.camera_to_world,
                          world_to_camera=BLENDER_TO_OPENCV_AXES @ np.linalg.inv(frame.camera_to_world),
                          intrinsics=intrinsics if model is None else None, source=frame.name))
    return first, views
