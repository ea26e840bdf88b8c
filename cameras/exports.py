"""Camera files that training code reads unchanged: a COLMAP text model and NeRF-synthetic transforms.

Pure Python + numpy.  Both take the views of a render (each with its K, OpenCV pixels) and the
files written for them (paths relative to the output folder):

- :func:`colmap_text_model`: ``cameras.txt`` (PINHOLE, one camera per distinct K; COLMAP puts pixel
  centres at +0.5, so its cx is ``K[0, 2] + 0.5``), ``images.txt`` (world-to-camera in OpenCV axes as
  QW QX QY QZ TX TY TZ; image names relative to the output folder) and ``points3D.txt`` (the given
  points without tracks, or none).  Read by COLMAP, pycolmap and the 3D Gaussian Splatting loader.
- :func:`nerf_synthetic_documents`: ``transforms_train.json`` / ``transforms_test.json`` with
  ``camera_angle_x`` and ``file_path`` without extension (the rgb PNGs), camera-to-world in
  Blender/OpenGL axes, as the NeRF-synthetic, instant-ngp and 3D Gaussian Splatting loaders read
  them.  That format has no principal point and one focal length, so it refuses any other K.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .sources import rotation_to_quaternion
from .views import Intrinsics, View
from ..errors import DepthViewsError

COLMAP_FOLDER = "colmap"
NERF_SYNTHETIC_FILES = ("transforms_train.json", "transforms_test.json")
MAX_COLMAP_POINTS = 200_000


def _image_name(view_files: dict) -> str:
    """The image a camera file names for a view: the rgb PNG when there is one, else its depth file."""
    for key in ("rgb", "depth", "depth_png16"):
        if key in view_files:
            return view_files[key]
    return next(iter(view_files.values()), "")


def colmap_text_model(intrinsics: Intrinsics, views: list[View], files: list[dict],
                      points=None, colors=None, fisheye_K=None) -> dict:
    """``{file name: text}`` of a COLMAP text model of ``views`` (see the module docstring).

    ``points`` (N, 3) world points and ``colors`` (N, 3) uint8 (grey without) fill points3D.txt.
    ``fisheye_K``: the 3x3 K of an equidistant fisheye render (docs/camera-models.md), written as one
    COLMAP ``OPENCV_FISHEYE`` camera with k1..k4 = 0 (COLMAP's theta_d = theta, r = f theta).
    """
    cameras, camera_of_view = {}, []
    for view in views:
        K = (view.intrinsics or intrinsics).K
        size = ((view.intrinsics or intrinsics).width, (view.intrinsics or intrinsics).height)
        key = (size, tuple(np.round(K.ravel(), 12)))
        cameras.setdefault(key, (len(cameras) + 1, K, size))
        camera_of_view.append(cameras[key][0])
    camera_lines = ["# Camera list with one line of data per camera:",
                    "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]",
                    f"# Number of cameras: {len(cameras)}"]
    for camera_id, K, (width, height) in cameras.values():
        model, K = ("PINHOLE", K) if fisheye_K is None else ("OPENCV_FISHEYE", np.asarray(fisheye_K, dtype=np.float64))
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
