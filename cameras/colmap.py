"""COLMAP models: reading text (``cameras.txt`` + ``images.txt``) and binary (``cameras.bin`` +
``images.bin``) models into a :class:`~.frames.CameraSet`, and writing a text model for a render
(pure Python + numpy).

COLMAP's conventions: ``images`` hold world-to-camera in OpenCV axes as a Hamilton quaternion
``QW QX QY QZ`` and ``TX TY TZ``; ``cameras`` put pixel centres at +0.5, so their ``cx`` is
``K[0, 2] + 0.5``.  Each image line of ``images.txt`` is followed by its POINTS2D line (possibly
empty); the readers skip the 2D points (images files are read as a stream, in bounded memory).

- :func:`read_colmap_text`, :func:`read_colmap_binary`, :func:`colmap_folder` (where a model is);
- :func:`colmap_text_model`: ``cameras.txt`` (PINHOLE, one camera per distinct K), ``images.txt``
  (image names relative to the output folder) and ``points3D.txt`` (the given points without tracks, or
  none).  Read by COLMAP, pycolmap and the 3D Gaussian Splatting loader.
"""

from __future__ import annotations

import math
import os
import re
import struct

import numpy as np

from .conventions import BLENDER_TO_OPENCV_AXES, quaternion_to_rotation, rotation_to_quaternion
from .frames import (CameraFrame, CameraSet, check_count, checked_position, finite_number, focal_length,
                     image_size, inverted, reader_error)
from .intrinsics import Intrinsics
from .lens import MODELS
from .limits import MAX_CAMERA_FILE_BYTES, MAX_COLMAP_IMAGES_BYTES
from .safe_files import open_regular, shown
from .views import View
from ..errors import DepthViewsError

# COLMAP's model ids and parameter names (colmap/src/colmap/sensor/models.h), from the lens models (cameras/lens.py).
COLMAP_MODELS = {spec.colmap_id: (spec.name, spec.params) for spec in MODELS.values() if spec.colmap_id is not None}
COLMAP_MODEL_IDS = {name: (model_id, params) for model_id, (name, params) in COLMAP_MODELS.items()}
MODEL_FILES = ("cameras", "images")
COLMAP_FOLDER = "colmap"
MAX_COLMAP_POINTS = 200_000
MAX_LINE_BYTES = 2**20
"""A camera or image line longer than this is refused (a POINTS2D line may be longer: it is skipped)."""
MAX_NAME_BYTES = 4096
"""An image name in images.bin longer than this (no NUL byte) is refused."""
_POINTS_CHARACTERS = b"0123456789.-+eE \t"
_HEADER_COUNT = re.compile(rb"^#\s*Number of (cameras|images):\s*(\d+)")


# -- where a model is ---------------------------------------------------------------------------------

def colmap_folder(path: str) -> tuple[str, str] | None:
    """(folder, "txt" or "bin") when ``path`` is a COLMAP model folder (or holds one in ``sparse/0``,
    ``sparse`` or ``colmap``) or one of a model's files (then the model is in its folder, in its
    format); else None.  Only names are looked at (no file is opened)."""
    if os.path.isdir(path):
        for sub in ("", "sparse/0", "sparse", COLMAP_FOLDER):
            base = os.path.join(path, sub)
            for ext in ("bin", "txt"):
                if all(os.path.lexists(os.path.join(base, f"{name}.{ext}")) for name in MODEL_FILES):
                    return base, ext
        return None
    stem, ext = os.path.splitext(os.path.basename(path))
    if stem in MODEL_FILES and ext in (".txt", ".bin"):
        return os.path.dirname(path), ext[1:]
    return None


def read_colmap(folder: str, ext: str) -> CameraSet:
    """The images of the COLMAP model in ``folder`` (``ext``: "txt" or "bin"), in file order."""
    for name in MODEL_FILES:
        if not os.path.lexists(os.path.join(folder, f"{name}.{ext}")):
            other = "images" if name == "cameras" else "cameras"
            raise reader_error(os.path.join(folder, f"{other}.{ext}"), "",
                               f"no {name}.{ext} beside it (a COLMAP model needs both)")
    return read_colmap_text(folder) if ext == "txt" else read_colmap_binary(folder)


# -- values shared by both formats --------------------------------------------------------------------

def _colmap_camera(path, where, model, width, height, params) -> dict:
    """One camera's values: sizes first, then focal lengths, then the rest (so each bad value is named)."""
    if model not in COLMAP_MODEL_IDS:
        raise reader_error(path, where, f"unknown COLMAP camera model {shown(repr(model))}")
    names = COLMAP_MODEL_IDS[model][1]
    if len(params) != len(names):
        raise reader_error(path, where, f"camera model {model} needs {len(names)} parameters, got {len(params)}")
    width, height = image_size(path, where, "width", width), image_size(path, where, "height", height)
    values = {}
    for name, value in zip(names, params):
        values[name] = focal_length(path, where, name, value) if name in ("f", "fx", "fy") else \
            finite_number(path, where, name, value)
    if "f" in values:
        values["fx"] = values["fy"] = values.pop("f")
    distortion = {name: values.pop(name) for name in names if name not in ("f", "fx", "fy", "cx", "cy")}
    return {"model": model, "width": width, "height": height, **values, "distortion": distortion}


def _colmap_frames(path, cameras, images) -> list[CameraFrame]:
    """The frames of ``images`` [(image_id, q, t, camera_id, name)], each pose and camera checked."""
    flipped = []
    for image_id, q, t, camera_id, name in images:
        where = f"image {image_id} ({shown(name)})"
        if camera_id not in cameras:
            raise reader_error(path, where, f"camera {camera_id} is not in the cameras file")
        q = np.array([finite_number(path, where, "quaternion", v) for v in q])
        norm = math.hypot(*q)
        if not 0.5 < norm < 2.0:
            raise reader_error(path, where, f"quaternion {q.tolist()} is not a rotation (norm {norm:.3g})")
        translation = [finite_number(path, where, "translation", v) for v in t]
        checked_position(path, where, translation)  # a rotation keeps lengths: |t| is the camera's distance
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3] = quaternion_to_rotation(*q)
        world_to_camera[:3, 3] = translation
        flipped.append(BLENDER_TO_OPENCV_AXES @ world_to_camera)
    frames = []
    for (image_id, _, _, camera_id, name), camera_to_world in zip(images, inverted(flipped)):
        camera = cameras[camera_id]
        frames.append(CameraFrame(name=name, camera_to_world=camera_to_world, model=camera["model"],
                                  width=camera["width"], height=camera["height"], fx=camera["fx"], fy=camera["fy"],
                                  cx=camera["cx"] - 0.5, cy=camera["cy"] - 0.5,
                                  distortion=camera["distortion"]))
    return frames


def _check_header_count(path, what: str, stated: int | None, found: int) -> None:
    """COLMAP writes ``# Number of images: N``; a file that says so and holds another number was cut or
    misread (never silently drop an image)."""
    if stated is not None and stated != found:
        raise reader_error(path, "", f"its header says 'Number of {what}: {stated}' but it holds {found} {what}")


# -- text ---------------------------------------------------------------------------------------------

def _lines(stream):
    """``(line number, line, complete)`` of a binary stream, without the line end; a line longer than
    :data:`MAX_LINE_BYTES` gives its first MAX_LINE_BYTES bytes with ``complete`` False (the rest is
    skipped unread into memory)."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            return
        number += 1
        complete = line.endswith(b"\n") or len(line) < MAX_LINE_BYTES
        while not complete:
            rest = stream.readline(MAX_LINE_BYTES)
            if not rest or rest.endswith(b"\n"):
                break
        yield number, line.rstrip(b"\r\n"), complete


def _text(path, number, line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise reader_error(path, f"line {number}", "is not UTF-8 text") from None


def _is_points_line(line: bytes, complete: bool) -> bool:
    """A POINTS2D line: X Y POINT3D_ID triples of numbers (possibly none)."""
    if line.translate(None, _POINTS_CHARACTERS):
        return False
    return not complete or len(line.split()) % 3 == 0


def read_colmap_text(folder: str) -> CameraSet:
    """The images of a COLMAP text model (``cameras.txt`` + ``images.txt`` in ``folder``), in file order.

    Every image line is read: one without its POINTS2D line (the next line is another image line) is
    read too; a line that is neither, a repeated camera or image id, more than
    :data:`~.limits.MAX_VIEWS` images or a header count that differs from the lines is refused.
    """
    cameras_path, images_path = os.path.join(folder, "cameras.txt"), os.path.join(folder, "images.txt")
    cameras, camera_lines, listed, stated = {}, {}, [], None
    stream, _ = open_regular(cameras_path, MAX_CAMERA_FILE_BYTES)
    with stream:
        for number, line, complete in _lines(stream):
            line = line.strip()
            if line.startswith(b"#"):
                match = _HEADER_COUNT.match(line)
                stated = int(match.group(2)) if match and match.group(1) == b"cameras" else stated
                continue
            if not line:
                continue
            where = f"line {number}"
            if not complete:
                raise reader_error(cameras_path, where, f"is longer than {MAX_LINE_BYTES} bytes")
            items = _text(cameras_path, number, line).split()
            if len(items) < 4:
                raise reader_error(cameras_path, where, "needs CAMERA_ID MODEL WIDTH HEIGHT PARAMS...")
            try:
                camera_id = int(items[0])
            except ValueError:
                raise reader_error(cameras_path, where, f"CAMERA_ID {shown(items[0])} is not an integer") from None
            if camera_id in camera_lines:
                raise reader_error(cameras_path, f"camera {camera_id}", f"is defined twice (lines "
                                                                        f"{camera_lines[camera_id]} and {number})")
            check_count(cameras_path, len(camera_lines) + 1, "cameras")
            camera_lines[camera_id] = number
            listed.append((camera_id, items))
    _check_header_count(cameras_path, "cameras", stated, len(listed))
    for camera_id, items in listed:  # counted and unique: now the values
        cameras[camera_id] = _colmap_camera(cameras_path, f"camera {camera_id}", items[1], items[2], items[3], items[4:])

    listed, image_lines, stated = [], {}, None
    points_of = None  # the image whose POINTS2D line comes next
    stream, _ = open_regular(images_path, MAX_COLMAP_IMAGES_BYTES)
    with stream:
        for number, line, complete in _lines(stream):
            line = line.strip()
            if line.startswith(b"#"):
                match = _HEADER_COUNT.match(line)
                stated = int(match.group(2)) if match and match.group(1) == b"images" else stated
                continue
            after, points_of = points_of, None   # after an image line: its POINTS2D line, or (none) the next image
            if after is not None and _is_points_line(line, complete):
                continue
            if not line:
                continue
            where = f"line {number}"
            neither = f"is neither the POINTS2D line of image {after} (X Y POINT3D_ID triples, or an empty line) " \
                      "nor an image line"
            if not complete:
                raise reader_error(images_path, where, neither if after is not None else
                                   f"is longer than {MAX_LINE_BYTES} bytes")
            items = _text(images_path, number, line).split()
            if len(items) < 10:
                raise reader_error(images_path, where, neither if after is not None else
                                   "needs IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME")
            try:
                image_id, camera_id = int(items[0]), int(items[8])
            except ValueError:
                raise reader_error(images_path, where, neither if after is not None else
                                   "IMAGE_ID and CAMERA_ID must be integers") from None
            name = " ".join(items[9:])
            if image_id in image_lines:
                first_line, first_name = image_lines[image_id]
                raise reader_error(images_path, f"image {image_id}",
                                   f"appears twice (line {first_line}: {shown(first_name)} and line {number}: "
                                   f"{shown(name)})")
            check_count(images_path, len(image_lines) + 1, "images")
            image_lines[image_id] = (number, name)
            listed.append((image_id, items[1:5], items[5:8], camera_id, name))
            points_of = image_id
    if not listed:
        raise reader_error(images_path, "", "the model holds no images")
    _check_header_count(images_path, "images", stated, len(listed))
    frames = _colmap_frames(images_path, cameras, listed)  # counted and unique: now the poses
    return CameraSet(path=images_path, kind="colmap", frames=frames)


# -- binary -------------------------------------------------------------------------------------------

def _read(stream, fmt):
    size = struct.calcsize(fmt)
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return struct.unpack(fmt, data)


def _read_name(stream, path, where) -> str:
    """A NUL-terminated image name (UTF-8, undecodable bytes replaced), at most :data:`MAX_NAME_BYTES`."""
    name = bytearray()
    while True:
        chunk = stream.peek(1)[:MAX_NAME_BYTES]
        if not chunk:
            raise EOFError
        end = chunk.find(b"\x00")
        if end >= 0:
            name += stream.read(end + 1)[:-1]
            return name.decode("utf-8", errors="replace")
        name += stream.read(len(chunk))
        if len(name) > MAX_NAME_BYTES:
            raise reader_error(path, where, f"its name runs over {MAX_NAME_BYTES} bytes without an end (NUL byte)")


def _binary_count(stream, path, size: int, what: str, record_bytes: int) -> int:
    """The record count a binary file's header states, checked against MAX_VIEWS and the file size
    before anything is allocated."""
    (count,) = _read(stream, "<Q")
    check_count(path, count, what)
    if 8 + count * record_bytes > size:
        raise reader_error(path, "", f"its header says {count} {what}, but {size} bytes cannot hold them "
                                     "(truncated?)")
    return count


CAMERA_RECORD_BYTES = struct.calcsize("<iiQQ")
IMAGE_RECORD_BYTES = struct.calcsize("<idddddddi") + 1 + 8  # the pose, an empty name's NUL, the point count


def read_colmap_binary(folder: str) -> CameraSet:
    """The images of a COLMAP binary model (``cameras.bin`` + ``images.bin`` in ``folder``), in file order.

    Header counts are checked against :data:`~.limits.MAX_VIEWS` and the file size before reading; the
    2D points are skipped (seeked over); repeated camera or image ids are refused."""
    cameras_path, images_path = os.path.join(folder, "cameras.bin"), os.path.join(folder, "images.bin")
    cameras, camera_records = {}, {}
    stream, size = open_regular(cameras_path, MAX_CAMERA_FILE_BYTES)
    with stream:
        try:
            for record in range(_binary_count(stream, cameras_path, size, "cameras", CAMERA_RECORD_BYTES)):
                camera_id, model_id, width, height = _read(stream, "<iiQQ")
                where = f"camera {camera_id}"
                if model_id not in COLMAP_MODELS:
                    raise reader_error(cameras_path, where, f"unknown COLMAP camera model id {model_id}")
                model, names = COLMAP_MODELS[model_id]
                params = _read(stream, f"<{len(names)}d")
                if camera_id in cameras:
                    raise reader_error(cameras_path, where, f"is defined twice (records {camera_records[camera_id]} "
                                                            f"and {record})")
                cameras[camera_id] = _colmap_camera(cameras_path, where, model, width, height, params)
                camera_records[camera_id] = record
        except EOFError:
            raise reader_error(cameras_path, "", "the file ends early (truncated?)") from None
    listed, image_records = [], {}
    stream, size = open_regular(images_path, MAX_COLMAP_IMAGES_BYTES)
    with stream:
        try:
            for record in range(_binary_count(stream, images_path, size, "images", IMAGE_RECORD_BYTES)):
                image_id, qw, qx, qy, qz, tx, ty, tz, camera_id = _read(stream, "<idddddddi")
                where = f"image {image_id}"
                name = _read_name(stream, images_path, where)
                (n_points,) = _read(stream, "<Q")
                if 24 * n_points > size - stream.tell():
                    raise reader_error(images_path, f"image {image_id} ({shown(name)})",
                                       f"its header says {n_points} points, more than the file holds (truncated?)")
                stream.seek(24 * n_points, os.SEEK_CUR)
                if image_id in image_records:
                    first_record, first_name = image_records[image_id]
                    raise reader_error(images_path, where, f"appears twice (records {first_record}: "
                                                           f"{shown(first_name)} and {record}: {shown(name)})")
                listed.append((image_id, (qw, qx, qy, qz), (tx, ty, tz), camera_id, name))
                image_records[image_id] = (record, name)
        except EOFError:
            raise reader_error(images_path, "", "the file ends early (truncated?)") from None
    if not listed:
        raise reader_error(images_path, "", "the model holds no images")
    return CameraSet(path=images_path, kind="colmap", frames=_colmap_frames(images_path, cameras, listed))


# -- writing ------------------------------------------------------------------------------------------

def _image_name(view_files: dict) -> str:
    """The image a camera file names for a view: the rgb PNG when there is one, else its depth file."""
    for key in ("rgb", "depth", "depth_png16"):
        if key in view_files:
            return view_files[key]
    return next(iter(view_files.values()), "")


def colmap_text_model(intrinsics: Intrinsics, views: list[View], files: list[dict],
                      points=None, colors=None, fisheye_K=None, lens=None) -> dict:
    """``{file name: text}`` of a COLMAP text model of ``views`` (see the module docstring).

    ``points`` (N, 3) world points and ``colors`` (N, 3) uint8 (grey without) fill points3D.txt.
    ``fisheye_K``: the 3x3 K of an equidistant fisheye render (docs/camera-models.md), written as one
    COLMAP ``OPENCV_FISHEYE`` camera with k1..k4 = 0 (COLMAP's theta_d = theta, r = f theta).
    ``lens``: the render's lens model (:mod:`.lens`); each view's own lens (``view.lens``, else this one) is
    written with its COLMAP model and parameters, one camera per distinct lens.  A lens COLMAP has no
    model for (NERFSTUDIO_OPENCV) raises DepthViewsError.
    """
    cameras, camera_of_view = {}, []
    for view in views:
        view_lens = view.lens or lens
        if view_lens is not None:
            camera = view_lens.colmap_camera()
            if camera is None:
                raise DepthViewsError(f"colmap: COLMAP has no camera model for {view_lens.name}")
            name, params = camera
            key = ("lens", view_lens.key)
            cameras.setdefault(key, (len(cameras) + 1, (name, params), (view_lens.width, view_lens.height)))
            camera_of_view.append(cameras[key][0])
            continue
        K = (view.intrinsics or intrinsics).K
        size = ((view.intrinsics or intrinsics).width, (view.intrinsics or intrinsics).height)
        key = (size, tuple(np.round(K.ravel(), 12)))
        cameras.setdefault(key, (len(cameras) + 1, K, size))
        camera_of_view.append(cameras[key][0])
    camera_lines = ["# Camera list with one line of data per camera:",
                    "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]",
                    f"# Number of cameras: {len(cameras)}"]
    for camera_id, K, (width, height) in cameras.values():
        if isinstance(K, tuple):   # a lens: COLMAP's own model and parameters
            model, params = K
        else:
            model, K = ("PINHOLE", K) if fisheye_K is None else ("OPENCV_FISHEYE",
                                                                 np.asarray(fisheye_K, dtype=np.float64))
            params = (K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5) + ((0.0,) * 4 if fisheye_K is not None else ())
        camera_lines.append(f"{camera_id} {model} {width} {height} " + " ".join(repr(float(p)) for p in params))
    image_lines = ["# Image list with two lines of data per image:",
                   "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME",
                   "#   POINTS2D[] as (X, Y, POINT3D_ID)",
                   f"# Number of images: {len(views)}, mean observations per image: 0"]
    for number, (view, view_files, camera_id) in enumerate(zip(views, files, camera_of_view), start=1):
        world_to_camera = view.world_to_camera
        q = rotation_to_quaternion(world_to_camera[:3, :3])
        values = [*q, *world_to_camera[:3, 3]]
        name = _image_name(view_files)
        if any(c.isspace() for c in name):
            raise DepthViewsError(f"colmap: image name {name!r} has a space, which images.txt cannot hold")
        image_lines += [f"{number} " + " ".join(repr(float(v)) for v in values) + f" {camera_id} {name}", ""]
    point_lines = ["# 3D point list with one line of data per point:",
                   "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)"]
    if points is not None and len(points):
        points = np.asarray(points, dtype=np.float64)
        colors = np.full((len(points), 3), 128, np.uint8) if colors is None else np.asarray(colors, np.uint8)
        point_lines.append(f"# Number of points: {len(points)}, mean track length: 0")
        point_lines += [f"{i} {x!r} {y!r} {z!r} {r} {g} {b} 0" for i, ((x, y, z), (r, g, b))
                        in enumerate(zip(points.tolist(), colors.tolist()), start=1)]
    else:
        point_lines.append("# Number of points: 0, mean track length: 0")
    return {"cameras.txt": "\n".join(camera_lines) + "\n", "images.txt": "\n".join(image_lines) + "\n",
            "points3D.txt": "\n".join(point_lines) + "\n"}
