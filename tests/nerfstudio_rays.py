"""nerfstudio's ray generation for distorted cameras, transcribed into numpy (for checks; nerfstudio with torch
is ~8 GB).  Transcribed from nerfstudio-project/nerfstudio (July 2025): ``cameras/cameras.py``
``Cameras._generate_rays_from_coords`` and ``cameras/camera_utils.py`` ``radial_and_tangential_undistort``,
``_compute_residual_and_jacobian``; its dataparser's reading of k1..k4, p1, p2 (``nerfstudio_dataparser.py``).

- Pixel coordinates: ``image_coords + 0.5`` (``get_image_coords(pixel_offset=0.5)``); coord =
  ((x - cx) / fx, (y - cy) / fy); then y is flipped to OpenGL (left out here: OpenCV axes out).
- Distortion: ``distortion_params = [k1, k2, k3, k4, p1, p2]``; the undistortion runs ``iterations``
  (nerfstudio: 10) Newton steps from the distorted point on x_d = x (1 + k1 r^2 + k2 r^4 + k3 r^6 + k4 r^8)
  + 2 p1 x y + p2 (r^2 + 2 x^2) (y likewise), a step skipped where |det J| <= ``eps`` (1e-3), with no
  convergence test and no validity mask.
- OPENCV: the ray (coord, 1); OPENCV_FISHEYE: the same undistortion of the theta-space point, theta =
  |coord| clipped to [0, pi], ray (coord sin(theta) / theta, cos(theta)).
"""

from __future__ import annotations

import math

import numpy as np


def nerfstudio_distortion(meta: dict, frame: dict | None = None) -> list[float]:
    """[k1, k2, k3, k4, p1, p2] of a frame as nerfstudio's dataparser reads them: the top-level values when
    any of k1 k2 k3 p1 p2 (or distortion_params) is at the top level, else the frame's own."""
    frame = frame or {}
    fixed = any(key in meta for key in ("k1", "k2", "k3", "p1", "p2", "distortion_params"))
    source = meta if fixed else frame
    if "distortion_params" in source:
        return [float(v) for v in source["distortion_params"]]
    return [float(source.get(key, 0.0)) for key in ("k1", "k2", "k3", "k4", "p1", "p2")]


def nerfstudio_rays(camera_model: str, width: int, height: int, fl_x: float, fl_y: float, cx: float, cy: float,
                    distortion, iterations: int = 10, eps: float = 1e-3, dtype=np.float32) -> np.ndarray:
    """Unit rays (H, W, 3) in OpenCV axes, as nerfstudio makes them (``dtype``: nerfstudio runs float32)."""
    k1, k2, k3, k4, p1, p2 = (dtype(v) for v in distortion)
    y, x = np.meshgrid(np.arange(height, dtype=dtype), np.arange(width, dtype=dtype), indexing="ij")
    xd = (x + dtype(0.5) - dtype(cx)) / dtype(fl_x)
    yd = (y + dtype(0.5) - dtype(cy)) / dtype(fl_y)
    u, v = xd.copy(), yd.copy()
    for _ in range(iterations):
        r = u * u + v * v
        d = 1.0 + r * (k1 + r * (k2 + r * (k3 + r * k4)))
        fx_ = d * u + 2 * p1 * u * v + p2 * (r + 2 * u * u) - xd
        fy_ = d * v + 2 * p2 * u * v + p1 * (r + 2 * v * v) - yd
        d_r = k1 + r * (2.0 * k2 + r * (3.0 * k3 + r * 4.0 * k4))
        d_x, d_y = 2.0 * u * d_r, 2.0 * v * d_r
        fx_x = d + d_x * u + 2.0 * p1 * v + 6.0 * p2 * u
        fx_y = d_y * u + 2.0 * p1 * u + 2.0 * p2 * v
        fy_x = d_x * v + 2.0 * p2 * v + 2.0 * p1 * u
        fy_y = d + d_y * v + 2.0 * p2 * u + 6.0 * p1 * v
        denominator = fy_x * fx_y - fx_x * fy_y
        x_numerator = fx_ * fy_y - fy_ * fx_y
        y_numerator = fy_ * fx_x - fx_ * fy_x
        step = np.abs(denominator) > eps
        safe = np.where(step, denominator, 1.0)
        u = u + np.where(step, x_numerator / safe, 0.0)
        v = v + np.where(step, y_numerator / safe, 0.0)
    if camera_model == "OPENCV_FISHEYE":
        theta = np.clip(np.sqrt(u * u + v * v), 0.0, math.pi)
        s = np.where(theta > 0, np.sin(theta) / np.where(theta > 0, theta, 1.0), 1.0)
        rays = np.stack([u * s, v * s, np.cos(theta)], axis=-1)
    else:
        assert camera_model in ("OPENCV", "PINHOLE"), camera_model
        rays = np.stack([u, v, np.ones_like(u)], axis=-1)
    rays = rays.astype(np.float64)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)
