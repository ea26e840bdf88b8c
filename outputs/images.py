"""8-bit sRGB colour PNGs, uint16 object-id masks and binary alpha PNGs (Pillow, numpy; no bpy)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import DepthViewsError
from .png16 import save_image_atomically, uint16_image


def linear_to_srgb(linear) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1) of linear values, clipped to [0, 1], float64."""
    x = np.clip(np.nan_to_num(np.asarray(linear, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def srgb8(linear_rgba, *, premultiplied: bool = True) -> np.ndarray:
    """uint8 (H, W, C): colour through the sRGB curve; alpha (4th channel) kept linear and straight.

    With ``premultiplied`` (Blender's and EXR's convention) colour is divided by alpha first, so
    the PNG holds straight alpha as PNG viewers expect.
    """
    linear_rgba = np.asarray(linear_rgba, dtype=np.float64)
    if linear_rgba.ndim != 3 or linear_rgba.shape[2] not in (3, 4):
        raise DepthViewsError(f"colour image must be (H, W, 3 or 4), got shape {linear_rgba.shape}")
    if linear_rgba.shape[2] == 4:
        alpha = np.clip(np.nan_to_num(linear_rgba[..., 3]), 0.0, 1.0)
        colour = linear_rgba[..., :3]
        if premultiplied:
            colour = np.where(alpha[..., None] > 0, colour / np.maximum(alpha, 1e-12)[..., None], 0.0)
        out = np.concatenate([linear_to_srgb(colour), alpha[..., None]], axis=-1)
    else:
        out = linear_to_srgb(linear_rgba)
    return np.rint(out * 255.0).astype(np.uint8)


def write_rgb_png(path, linear_rgba) -> np.ndarray:
    """Write a linear (scene-referred) RGB(A) float image as an 8-bit sRGB PNG; return the uint8 pixels."""
    from PIL import Image

    pixels = srgb8(linear_rgba)
    save_image_atomically(Image.fromarray(pixels, "RGBA" if pixels.shape[2] == 4 else "RGB"), path)
    return pixels


def write_mask_png(path, object_ids) -> None:
    """Write per-pixel object ids (0 = background) as a 16-bit greyscale PNG."""
    ids = np.asarray(object_ids)
    if ids.ndim != 2 or (ids.size and (ids.min() < 0 or ids.max() > 65535)):
        raise DepthViewsError(f"{os.fspath(path)}: object ids must be a 2D array of 0..65535")
    save_image_atomically(uint16_image(ids), path)


def write_alpha_png(path, alpha) -> None:
    """Write a binary alpha (True / nonzero = surface) as an 8-bit greyscale PNG of 0 and 255."""
    from PIL import Image

    alpha = np.asarray(alpha)
    if alpha.ndim != 2:
        raise DepthViewsError(f"{os.fspath(path)}: alpha must be a 2D array, got shape {alpha.shape}")
    save_image_atomically(Image.fromarray(np.where(alpha != 0, 255, 0).astype(np.uint8), "L"), path)


def read_png(path) -> np.ndarray:
    """Any PNG's pixels as numpy: uint16 (H, W) for 16-bit grey, uint8 (H, W[, C]) otherwise."""
    from PIL import Image

    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16B", "I"):
                return np.array(image).astype(np.uint16)
            return np.array(image)
    except (OSError, SyntaxError) as error:
        raise DepthViewsError(f"{path}: cannot read PNG ({error})") from None
