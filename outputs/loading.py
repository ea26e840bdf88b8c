"""Read a whole Depth Views output folder back into stacked numpy arrays (no bpy)."""

from __future__ import annotations

import os

import numpy as np

from ..cameras.cameras_json import load_cameras
from ..cameras.models import CameraModel
from ..errors import DepthViewsError
from ..exr_io import read_channels, read_depth
from .images import read_png
from .png16 import read_png16

NORMAL_WORLD_CHANNELS = ("world.X", "world.Y", "world.Z")
NORMAL_CAMERA_CHANNELS = ("opencv_camera.X", "opencv_camera.Y", "opencv_camera.Z")


def _read_pass(folder: str, key: str, relative: str):
    path = os.path.join(folder, relative)
    if key in ("depth", "distance"):
        return read_depth(path, allow_constant=True)
    if key in ("depth_png16", "distance_png16"):
        return read_png16(path)
    if key == "normal":
        channels = read_channels(path)
        return (np.stack([channels[c] for c in NORMAL_WORLD_CHANNELS], axis=-1),
                np.stack([channels[c] for c in NORMAL_CAMERA_CHANNELS], axis=-1))
    if key == "rgb_exr":
        channels = read_channels(path)
        return np.stack([channels[c] for c in "RGBA" if c in channels], axis=-1)
    if key == "xyz":
        channels = read_channels(path)
        return np.stack([channels[c] for c in "XYZ"], axis=-1)
    if key == "alpha":
        return read_png(path) > 0
    if key in ("rgb", "mask"):
        return read_png(path)
    return None


def load_views(folder, passes=None) -> dict:
    """Every view of an output folder as stacked arrays, with the cameras.

    Returns a dict with ``camera_model`` (a :class:`~depth_views.cameras.models.CameraModel`, which
    :func:`~depth_views.outputs.geometry.backproject` takes in place of K), ``K`` (3, 3; None for
    equirectangular), ``view_K`` (V, 3, 3; each view's own K; pinhole views only), ``world_to_camera``
    (V, 4, 4; OpenCV axes), ``camera_to_world``
    (V, 4, 4; Blender axes), ``width``, ``height``, ``view_index`` (V,), ``cameras`` (the parsed
    cameras.json), ``view_cameras`` (each view's CameraModel, when views have lenses of their own) and,
    for each pass the folder holds: ``depth`` (V, H, W) float32 planar, +inf = no surface (from the
    EXRs, else the png16 files); ``distance`` (V, H, W) float32; ``normal`` (V, H, W, 3) float32 world
    frame and ``normal_camera`` (OpenCV axes); ``rgb`` (V, H, W, 4) uint8 sRGB; ``rgb_linear``
    (V, H, W, 4) float32; ``mask`` (V, H, W) uint16 object ids and ``alpha`` (V, H, W) bool; ``xyz``
    (V, H, W, 3) float32 world coordinates, NaN = no surface.  ``passes`` (names as above)
    limits what is read.  A folder written with only ``npz`` is
    read from its ``views.npz``.
    """
    folder = os.fspath(folder)
    cameras = load_cameras(folder)
    views = cameras["views"]
    out = {"cameras": cameras, "K": cameras["K"], "width": cameras["width"], "height": cameras["height"],
           "camera_model": CameraModel.from_document(cameras, source=os.path.join(folder, "cameras.json")),
           "view_index": np.array([v["index"] for v in views], dtype=np.int64),
           "world_to_camera": np.stack([v["world_to_camera"] for v in views]) if views else np.zeros((0, 4, 4)),
           "camera_to_world": np.stack([v["camera_to_world"] for v in views]) if views else np.zeros((0, 4, 4)),
           # each view's own K (views from a camera file or a --fov range may differ), else the set's
           "view_K": np.stack([np.asarray(v.get("K", cameras["K"])) for v in views]) if views and cameras["K"] is not None
           else None if views else np.zeros((0, 3, 3))}
    if any("lens_params" in view for view in views):   # views of a camera file with their own lens
        source = os.path.join(folder, "cameras.json")
        out["view_cameras"] = [CameraModel.from_document(cameras, view, source=source) for view in views]
    wanted = None if passes is None else set(passes)
    stacks: dict[str, list] = {}
    for view in views:
        files = view.get("files", {})
        for key, relative in files.items():
            name = {"depth_png16": "depth", "distance_png16": "distance", "rgb_exr": "rgb_linear"}.get(key, key)
            if wanted is not None and name not in wanted and not (name == "normal" and "normal_camera" in wanted):
                continue
            if key.endswith("_png16") and key[:-len("_png16")] in files:
                continue  # the EXR holds the same values without quantisation
            value = _read_pass(folder, key, relative)
            if value is None:
                continue
            if key == "normal":
                stacks.setdefault("normal", []).append(value[0])
                stacks.setdefault("normal_camera", []).append(value[1])
            else:
                stacks.setdefault(name, []).append(value)
    for name, values in stacks.items():
        if len(values) != len(views):
            raise DepthViewsError(f"{folder}: {name} is present for {len(values)} of {len(views)} views")
        out[name] = np.stack(values)
    npz = cameras.get("files", {}).get("npz")
    if npz and "depth" not in out:
        with np.load(os.path.join(folder, npz)) as data:
            for name in data.files:
                if name not in ("K", "view_K", "world_to_camera", "camera_to_world", "view_index", "units",
                                "object_ids", "camera_model") \
                        and (wanted is None or name in wanted):
                    out[name] = data[name]
    return out
