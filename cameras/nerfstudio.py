"""nerfstudio / instant-ngp ``transforms.json`` and NeRF-synthetic ``transforms_*.json``: reading them into a
:class:`~.frames.CameraSet`, and writing them for a render (pure Python + numpy).

The format's conventions: ``transform_matrix`` is camera-to-world in OpenGL/Blender axes; ``fl_x fl_y
cx cy w h`` (global or per frame) put pixel centres at +0.5, so ``cx`` is ``K[0, 2] + 0.5``;
NeRF-synthetic files give only ``camera_angle_x`` (square pixels, centred principal point).

- :func:`read_transforms`: the frames of a transforms document;
- :func:`transforms_document`: nerfstudio ``transforms.json`` for the views of a render;
- :func:`nerf_synthetic_documents`: ``transforms_train.json`` / ``transforms_test.json`` with
  ``camera_angle_x`` and ``file_path`` without extension (the rgb PNGs), as the NeRF-synthetic,
  instant-ngp and 3D Gaussian Splatting loaders read them.  That format has no principal point and one
  focal length, so it refuses any other K.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .frames import (CameraFrame, CameraSet, check_count, checked_poses, finite_number, focal_length, frame_label,
                     image_size, pose_array, reader_error)
from .intrinsics import Intrinsics
from .models import CameraModel
from .safe_files import shown
from .views import View
from ..errors import DepthViewsError

TRANSFORMS_FILE = "transforms.json"
NERF_SYNTHETIC_FILES = ("transforms_train.json", "transforms_test.json")
TRANSFORMS_INTRINSICS = ("fl_x", "fl_y", "cx", "cy", "w", "h", "camera_angle_x", "camera_angle_y",
                         "camera_model", "k1", "k2", "k3", "k4", "p1", "p2")
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")
"""nerfstudio's distortion, in the order of its ``distortion_params``."""
FIXED_DISTORTION_KEYS = ("k1", "k2", "k3", "p1", "p2", "distortion_params")
"""nerfstudio's dataparser takes the top level's distortion for every frame when one of these is at the top
level (a top-level k4 alone does not count), else each frame's own."""
PIXEL_KEYS = ("fl_x", "fl_y", "cx", "cy")
"""Intrinsics in pixels: they only mean something for the image size they were given with."""


# -- reading ------------------------------------------------------------------------------------------

def _image_size_on_disk(path: str, file_path: str) -> tuple[int, int] | None:
    """(W, H) of the image a NeRF-synthetic frame names, when it is a readable regular file (with or
    without .png); its header is read, never its pixels."""
    folder = os.path.dirname(path)
    for candidate in (file_path, file_path + ".png"):
        full = os.path.join(folder, candidate)
        try:
            if not os.path.isfile(full):
                continue
            from PIL import Image

            with Image.open(full) as image:
                return image.size
        except Exception:  # no PIL, an unreadable image, a NUL in the name: fall back to the given size
            return None
    return None


def _angle(path, where, name, value) -> float:
    angle = finite_number(path, where, name, value, positive=True)
    if angle >= math.pi:
        raise reader_error(path, where, f"{name} {angle:g} rad is not below pi")
    return angle


def _frame_size(path, where, values, name, default_size) -> tuple[int, int]:
    """(W, H) of one frame: ``w`` and ``h`` both, else the image the frame names, else ``default_size``
    when the frame has no intrinsics in pixels (they would belong to another image size)."""
    width, height = values["w"], values["h"]
    if (width is None) != (height is None):
        given, missing = ("w", "h") if height is None else ("h", "w")
        raise reader_error(path, where, f"gives {given} but not {missing}; give both (the image size) or neither")
    if width is not None:
        return image_size(path, where, "w", width), image_size(path, where, "h", height)
    size = _image_size_on_disk(path, name) if isinstance(name, str) else None
    if size is not None:
        return image_size(path, where, "w (of the image)", size[0]), image_size(path, where, "h (of the image)", size[1])
    in_pixels = [key for key in PIXEL_KEYS if values[key] is not None]
    if in_pixels:
        image = f"no image {shown(name)} beside the file" if isinstance(name, str) and name else "no image named"
        raise reader_error(path, where, f"{', '.join(in_pixels)} {'is' if len(in_pixels) == 1 else 'are'} in pixels "
                                        f"of an image size the file does not give (no w and h, {image}); "
                                        "add w and h")
    if default_size is None:
        raise reader_error(path, where, "no image size (w, h) and no image to take it from")
    return image_size(path, where, "w (--resolution)", default_size[0]), \
        image_size(path, where, "h (--resolution)", default_size[1])


def _distortion(path, where, source: dict) -> dict:
    """k1 k2 k3 k4 p1 p2 of ``source`` (the document or a frame) that are given, by name, as nerfstudio
    reads them: the keys, or a 6-list ``distortion_params``."""
    if "distortion_params" in source:
        values = source["distortion_params"]
        if not isinstance(values, list) or len(values) != len(DISTORTION_KEYS):
            raise reader_error(path, where, "distortion_params is not a list of 6 numbers [k1, k2, k3, k4, p1, p2]")
        return {key: finite_number(path, where, f"distortion_params {key}", value)
                for key, value in zip(DISTORTION_KEYS, values)}
    return {key: finite_number(path, where, key, source[key]) for key in DISTORTION_KEYS
            if source.get(key) is not None}


def read_transforms(path: str, document: dict, default_size=None) -> CameraSet:
    """The frames of a nerfstudio / instant-ngp / NeRF-synthetic transforms document.

    Per-frame keys override the global ones.  ``w`` and ``h`` come together; without them
    (NeRF-synthetic) the size comes from the named image when it exists, else ``default_size``, which
    only frames without intrinsics in pixels (``camera_angle_x`` only) may take.  Without ``fl_x`` the
    focal length is ``0.5 * w / tan(camera_angle_x / 2)`` (``fl_y`` likewise from ``camera_angle_y``,
    else ``fl_x``); without ``cx``/``cy`` the principal point is the image centre.  Sizes and focal
    lengths are checked before the principal point, so a bad value is named as itself.  Distortion (k1 k2
    k3 k4 p1 p2, or ``distortion_params``) is read as nerfstudio's dataparser reads it: the top level's for
    every frame when the top level gives one of k1 k2 k3 p1 p2, else each frame's own.
    """
    frames_in = document.get("frames")
    if not isinstance(frames_in, list):
        raise reader_error(path, "", "no 'frames' list")
    if not frames_in:
        raise reader_error(path, "", "the file holds no frames (empty 'frames' list)")
    check_count(path, len(frames_in), "frames")
    fixed = any(key in document for key in FIXED_DISTORTION_KEYS)
    entries, wheres, matrices = [], [], []
    for index, entry in enumerate(frames_in):
        if not isinstance(entry, dict):
            raise reader_error(path, f"frame {index}", "is not an object")
        name = entry.get("file_path")
        where = frame_label(index, name)
        values = {key: entry.get(key, document.get(key)) for key in TRANSFORMS_INTRINSICS}
        if "transform_matrix" not in entry:
            raise reader_error(path, where, "no transform_matrix")
        wheres.append(where)
        matrices.append(pose_array(path, where, entry["transform_matrix"]))  # its numbers and shape first
        model = str(values["camera_model"] or "PINHOLE").upper()
        width, height = _frame_size(path, where, values, name, default_size)
        if values["fl_x"] is not None:
            fx = focal_length(path, where, "fl_x", values["fl_x"])
        elif values["camera_angle_x"] is not None:
            fx = 0.5 * width / math.tan(0.5 * _angle(path, where, "camera_angle_x", values["camera_angle_x"]))
            focal_length(path, where, "the focal length from camera_angle_x", fx)
        elif model == "EQUIRECTANGULAR":
            fx = None
        else:
            raise reader_error(path, where, "no focal length (fl_x or camera_angle_x)")
        if values["fl_y"] is not None:
            fy = focal_length(path, where, "fl_y", values["fl_y"])
        elif values["camera_angle_y"] is not None:
            fy = 0.5 * height / math.tan(0.5 * _angle(path, where, "camera_angle_y", values["camera_angle_y"]))
            focal_length(path, where, "the focal length from camera_angle_y", fy)
        else:
            fy = fx
        # +0.5 convention (pixel centres at +0.5) -> OpenCV (pixel centres at integers).
        cx = finite_number(path, where, "cx", values["cx"]) - 0.5 if values["cx"] is not None else (width - 1) / 2.0
        cy = finite_number(path, where, "cy", values["cy"]) - 0.5 if values["cy"] is not None else (height - 1) / 2.0
        distortion = _distortion(path, where, document if fixed else entry)
        angle_ranges = None
        if model == "EQUIRECTANGULAR" and fx is not None:
            # nerfstudio: longitude = pi (u + 0.5 - cx) / fl_x, latitude = -pi (v + 0.5 - cy) / fl_y
            lon_min = -180.0 * (cx + 0.5) / fx
            lat_max = 180.0 * (cy + 0.5) / fy
            angle_ranges = ((lon_min, lon_min + 180.0 * width / fx), (lat_max - 180.0 * height / fy, lat_max))
        entries.append(dict(name=str(name) if name is not None else f"frame_{index}", model=model, width=width,
                            height=height, fx=fx, fy=fy, cx=cx, cy=cy, distortion=distortion, angle_ranges=angle_ranges))
    frames = [CameraFrame(camera_to_world=camera_to_world, **entry)
              for entry, camera_to_world in zip(entries, checked_poses(path, wheres, matrices))]
    return CameraSet(path=path, kind="transforms", frames=frames)


# -- writing ------------------------------------------------------------------------------------------

def transforms_document(intrinsics: Intrinsics, views: list[View], files: list[dict], *,
                        png16_scale: float = 1e-4, camera_model: CameraModel | None = None) -> dict | None:
    """nerfstudio ``transforms.json`` for the same views, or None for a camera model nerfstudio's
    transforms.json cannot describe (orthographic; lens models without nerfstudio keys: FULL_OPENCV with
    k4..k6, FOV, the division models, the thin-prism fisheyes with sx1/sy1 or their Aria form).

    Depth is the float EXR (``depth_unit_scale_factor`` 1) or, when only png16 depth was written,
    the 16-bit PNG (``depth_unit_scale_factor`` = ``png16_scale``).  ``file_path`` is the colour
    image when there is one.  A lens model's k's and p's are nerfstudio's (its ray generator gives our
    rays): at the top level when every view shares them, else on every frame (nerfstudio reads a frame's
    own only when the top level has none).
    """
    model = camera_model or CameraModel.perspective(intrinsics)
    camera = model.nerfstudio_intrinsics()
    if camera is None:
        return None
    own = [model.for_view(view).nerfstudio_intrinsics() if view.lens is not None else None for view in views]
    if any(view.lens is not None and keys is None for view, keys in zip(views, own)):
        return None
    shared = all(keys is None or all(keys.get(k, 0.0) == camera.get(k, 0.0) for k in DISTORTION_KEYS) for keys in own)
    if not shared:
        camera = {k: v for k, v in camera.items() if k not in DISTORTION_KEYS}
    frames = []
    scale = 1.0
    for view, view_files, keys in zip(views, files, own):
        depth = view_files.get("depth")
        if depth is None and "depth_png16" in view_files:
            depth, scale = view_files["depth_png16"], png16_scale
        image = view_files.get("rgb", depth or next(iter(view_files.values()), ""))
        frame = {"file_path": image, "transform_matrix": view.camera_to_world.tolist()}
        if view.intrinsics is not None:  # a camera file's per-frame K (nerfstudio's +0.5 convention)
            Kv = view.intrinsics.K
            frame.update({"fl_x": float(Kv[0, 0]), "fl_y": float(Kv[1, 1]),
                          "cx": float(Kv[0, 2]) + 0.5, "cy": float(Kv[1, 2]) + 0.5})
        if keys is not None:   # a view's own lens
            frame.update({k: keys[k] for k in PIXEL_KEYS if keys[k] != camera.get(k)})
        if not shared:
            frame.update({k: (keys or model.nerfstudio_intrinsics()).get(k, 0.0) for k in DISTORTION_KEYS})
        if depth is not None:
            frame["depth_file_path"] = depth
        frames.append(frame)
    return {
        **camera,
        "depth_unit_scale_factor": scale,
        "frames": frames,
    }


def split_test_views(n_views: int, test_fraction: float) -> list[bool]:
    """Which of ``n_views`` go to the test split: ``round(n * fraction)`` views spread evenly (every
    k-th for 1/k), never all of them when there are two or more."""
    if not (math.isfinite(test_fraction) and 0.0 <= test_fraction < 1.0):
        raise DepthViewsError(f"--test-fraction {test_fraction:g}: must be at least 0 and below 1")
    wanted = min(int(round(n_views * test_fraction)), max(n_views - 1, 0))
    chosen = set() if wanted == 0 else {int((k + 0.5) * n_views / wanted) for k in range(wanted)}
    return [index in chosen for index in range(n_views)]


def check_nerf_synthetic(intrinsics: Intrinsics, views: list[View]) -> None:
    """DepthViewsError unless every view has the same square-pixel, centred K (all camera_angle_x holds)."""
    K = intrinsics.K
    centre = ((intrinsics.width - 1) / 2.0, (intrinsics.height - 1) / 2.0)
    for view in views:
        Kv = (view.intrinsics or intrinsics).K
        if not np.allclose(Kv, K, rtol=0, atol=1e-9) or abs(K[0, 0] - K[1, 1]) > 1e-9 * K[0, 0] or \
                not np.allclose(K[:2, 2], centre, rtol=0, atol=1e-9):
            raise DepthViewsError(
                "--formats nerf_synthetic: its camera_angle_x holds one focal length and a centred principal point, "
                f"but view {view.index} has K {np.round(Kv, 4).tolist()}; use transforms (fl_x fl_y cx cy) or colmap")


def nerf_synthetic_documents(intrinsics: Intrinsics, views: list[View], files: list[dict],
                             test_fraction: float) -> dict:
    """``{file name: document}`` for transforms_train.json and transforms_test.json.

    Needs the rgb pass (``file_path`` is its PNG without ``.png``) and square pixels with a centred
    principal point (all the format can hold); DepthViewsError otherwise.  Each frame also carries
    ``depth_file_path`` (the depth EXR, beside the image) when there is one.
    """
    check_nerf_synthetic(intrinsics, views)
    if files and "rgb" not in files[0]:
        raise DepthViewsError("--formats nerf_synthetic points at the rgb images: add --passes rgb")
    split = split_test_views(len(views), test_fraction)
    documents = {}
    for name, is_test in zip(NERF_SYNTHETIC_FILES, (False, True)):
        frames = []
        for view, view_files, in_test in zip(views, files, split):
            if in_test != is_test:
                continue
            frame = {"file_path": "./" + os.path.splitext(view_files["rgb"])[0], "rotation": 0.0,
                     "transform_matrix": view.camera_to_world.tolist()}
            if "depth" in view_files:
                frame["depth_file_path"] = "./" + view_files["depth"]
            frames.append(frame)
        documents[name] = {"camera_angle_x": math.radians(intrinsics.fov_x_deg), "frames": frames}
    return documents
