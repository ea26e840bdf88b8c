"""8-bit colour-mapped depth previews and contact sheets: for looking at, not for data (Pillow, numpy).

Near depth maps to the top of the colour map (viridis: bright yellow; turbo: warm red) unless
``invert``; pixels with no surface get a flat background colour.  The depth range comes from

* ``view``: each view's own min/max,
* ``object``: the object's bounding sphere seen from the camera, ``|camera - center| -/+ radius``
  (one scale for every view of an input: a colour means the same offset from the centre),
* ``fixed``: a near/far given by the user (scene units).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DepthViewsError
from .colormaps import apply_colormap
from .geometry import surface_mask
from ..options import PREVIEW_RANGES  # noqa: F401  (defined with the settings)


def _color(value, name: str) -> tuple[int, int, int]:
    try:
        rgb = tuple(int(c) for c in value)
    except (TypeError, ValueError):
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise DepthViewsError(f"{name} {value!r}: must be three integers 0..255")
    return rgb


def preview_range(depth, mode: str = "view", *, camera_position=None, center=None,
                  object_radius: float | None = None, near: float | None = None,
                  far: float | None = None) -> tuple[float, float]:
    """``(near, far)`` in scene units for one view's preview, by ``mode`` (see the module doc).

    ``view`` of an image with no surface gives (0, 1).  ``object`` needs ``camera_position``,
    ``center`` and ``object_radius`` (its near end is kept above 0); ``fixed`` needs ``near < far``.
    """
    if mode == "view":
        values = np.asarray(depth)[surface_mask(depth)]
        if values.size == 0:
            return 0.0, 1.0
        return float(values.min()), float(values.max())
    if mode == "object":
        if camera_position is None or center is None or object_radius is None:
            raise DepthViewsError("preview range 'object' needs the camera position, centre and object radius")
        distance = float(np.linalg.norm(np.asarray(camera_position, float) - np.asarray(center, float)))
        far = distance + float(object_radius)
        return max(distance - float(object_radius), 1e-6 * far), far
    if mode == "fixed":
        if near is None or far is None or not (math.isfinite(near) and math.isfinite(far) and near < far):
            raise DepthViewsError(f"preview range 'fixed' needs --preview-near < --preview-far (got {near}, {far})")
        return float(near), float(far)
    raise DepthViewsError(f"--preview-range {mode!r}: choose one of {', '.join(PREVIEW_RANGES)}")


def depth_preview(depth, near: float, far: float, *, colormap: str = "turbo", invert: bool = False,
                  background=(0, 0, 0)) -> np.ndarray:
    """uint8 RGB (H, W, 3): ``depth`` coloured from near (top of the map) to far, clipped outside.

    ``invert`` puts far at the top.  Pixels with no surface get ``background``.
    """
    depth = np.asarray(depth, dtype=np.float64)
    background = _color(background, "--preview-background")
    span = max(float(far) - float(near), 1e-12 * max(abs(float(far)), 1.0))
    hit = surface_mask(depth)
    t = np.zeros(depth.shape)
    t[hit] = (float(far) - depth[hit]) / span
    if invert:
        t = 1.0 - t
    image = apply_colormap(t, colormap)
    image[~hit] = background
    return image


def contact_sheet(tiles, labels, *, columns: int | None = None, max_tile_side: int = 256,
                  background=(32, 32, 32), text_color=(255, 255, 255)):
    """One Pillow RGB image tiling ``tiles`` (uint8 (H, W, 3) arrays), each with its label beneath.

    Tiles larger than ``max_tile_side`` are shrunk (keeping their aspect ratio).  ``columns``
    defaults to about the square root of the count.  Labels use Pillow's default font.
    """
    from PIL import Image, ImageDraw, ImageFont

    if len(tiles) == 0:
        raise DepthViewsError("contact sheet: no views to tile")
    if len(labels) != len(tiles):
        raise DepthViewsError(f"contact sheet: {len(tiles)} tiles but {len(labels)} labels")
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width = np.asarray(tiles[0]).shape[:2]
    shrink = min(1.0, max_tile_side / max(height, width))
    tile_w, tile_h = max(1, round(width * shrink)), max(1, round(height * shrink))
    font = ImageFont.load_default()
    boxes = [font.getbbox(str(label)) for label in labels]
    label_h = max(box[3] for box in boxes) + 3
    cell_w = max(tile_w, max(box[2] for box in boxes) + 4)
    gap = 4
    sheet = Image.new("RGB", (columns * (cell_w + gap) + gap, rows * (tile_h + label_h + gap) + gap),
                      tuple(background))
    draw = ImageDraw.Draw(sheet)
    for number, (tile, label) in enumerate(zip(tiles, labels)):
        image = Image.fromarray(np.asarray(tile, dtype=np.uint8), "RGB")
        if image.size != (tile_w, tile_h):
            image = image.resize((tile_w, tile_h), Image.Resampling.NEAREST)
        x = gap + (number % columns) * (cell_w + gap)
        y = gap + (number // columns) * (tile_h + label_h + gap)
        sheet.paste(image, (x + (cell_w - tile_w) // 2, y))
        draw.text((x + 2, y + tile_h + 1), str(label), fill=tuple(text_color), font=font)
    return sheet


def normal_preview(normal) -> np.ndarray:
    """uint8 RGB (H, W, 3) of unit normals (H, W, 3): ``(n + 1) / 2`` per axis, black = no surface."""
    normal = np.asarray(normal, dtype=np.float64)
    image = np.rint((normal + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    image[~np.any(normal != 0, axis=-1)] = 0
    return image


def mask_preview(object_ids) -> np.ndarray:
    """uint8 RGB (H, W, 3): one bright colour per object id (golden-ratio hues), black = background."""
    ids = np.asarray(object_ids, dtype=np.int64)
    hue = (ids * 0.618033988749895) % 1.0
    channels = [np.clip(np.abs((hue * 6.0 + shift) % 6.0 - 3.0) - 1.0, 0.0, 1.0) for shift in (0.0, 4.0, 2.0)]
    image = np.rint(np.stack(channels, axis=-1) * 200 + 55).astype(np.uint8)
    image[ids == 0] = 0
    return image


def colour_preview(rgba8, background=(0, 0, 0)) -> np.ndarray:
    """uint8 RGB (H, W, 3): straight-alpha sRGB ``rgba8`` (H, W, 4) over ``background``."""
    rgba = np.asarray(rgba8, dtype=np.float64)
    alpha = rgba[..., 3:] / 255.0
    out = rgba[..., :3] * alpha + np.asarray(background, dtype=np.float64) * (1.0 - alpha)
    return np.rint(out).clip(0, 255).astype(np.uint8)


def contact_label(index: int, near: float, far: float) -> str:
    """``#3 1.234-2.345``: view index and the depth range (scene units) of its preview colours."""
    return f"#{index} {near:.4g}-{far:.4g}"
