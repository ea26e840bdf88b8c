"""16-bit PNG depth with a FIXED metric scale: ``depth = value * scale``, 0 = no surface (Pillow).

The scale is the same for every view of every input (default :data:`DEFAULT_PNG16_SCALE`, 1e-4 scene
units per count: 0.0001 .. 6.5535 units, made for meshes normalised into a sphere of radius 0.5), so a
value means one distance everywhere.  It is written into the PNG's own text chunk
(``depth_views.scale``) and into ``cameras.json``.  Values that do not fit are clipped to 1 or 65535
AND counted (returned, and warned about): never wrapped, never silently.
"""

from __future__ import annotations

import math
import os
import uuid
import warnings

import numpy as np

from ..errors import DepthViewsError
from ..options import DEFAULT_PNG16_SCALE  # noqa: F401  (scene units per count; defined with the settings)
from .geometry import surface_mask

MAX_COUNT = 65535
SCALE_KEY = "depth_views.scale"
UNITS_KEY = "depth_views.units"
KIND_KEY = "depth_views.depth_kind"


class Png16ClippingWarning(UserWarning):
    """Some depth values did not fit a png16 file's range and were clipped."""


def check_png16_scale(scale) -> float:
    """``scale`` as a positive finite float, or DepthViewsError naming ``--png16-scale``."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise DepthViewsError(f"--png16-scale {scale!r}: must be a number") from None
    if not (math.isfinite(value) and value > 0):
        raise DepthViewsError(f"--png16-scale {scale!r}: must be a positive number of scene units per count")
    return value


def encode_png16(depth, scale: float = DEFAULT_PNG16_SCALE) -> tuple[np.ndarray, int, int]:
    """``(counts, n_below, n_above)``: uint16 counts ``round(depth / scale)`` with 0 = no surface.

    Surface depths that would round to 0 become 1 (``n_below`` of them), those beyond 65535 counts
    become 65535 (``n_above``).  Non-finite or non-positive depth is "no surface" (0).
    """
    scale = check_png16_scale(scale)
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise DepthViewsError(f"png16 depth must be a 2D array, got shape {depth.shape}")
    hit = surface_mask(depth)
    counts = np.zeros(depth.shape, dtype=np.float64)
    counts[hit] = np.rint(depth[hit].astype(np.float64) / scale)
    below = hit & (counts < 1)
    above = hit & (counts > MAX_COUNT)
    counts[below], counts[above] = 1, MAX_COUNT
    return counts.astype(np.uint16), int(below.sum()), int(above.sum())


def save_image_atomically(image, path, **save_options) -> None:
    """Save a Pillow image as PNG via a hidden temporary file in the same folder and a rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DepthViewsError(f"{path}: folder {folder} does not exist")
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        image.save(temporary, format="PNG", **save_options)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise DepthViewsError(f"{path}: cannot write ({error})") from None


def uint16_image(values):
    """A Pillow 16-bit greyscale image (mode ``I;16``) of a uint16 (H, W) array."""
    from PIL import Image

    values = np.ascontiguousarray(values, dtype=np.uint16)
    return Image.frombytes("I;16", (values.shape[1], values.shape[0]), values.astype("<u2").tobytes())


def write_png16(path, depth, scale: float = DEFAULT_PNG16_SCALE, *, units: str = "",
                depth_kind: str = "planar", warn: bool = True) -> int:
    """Write ``depth`` (scene units, +inf = no surface) as a 16-bit greyscale PNG; return the clipped count.

    The text chunk holds ``depth_views.scale`` (scene units per count), ``depth_views.units``,
    ``depth_views.depth_kind`` and a human-readable ``Description``.  With ``warn``, a
    :class:`Png16ClippingWarning` says how many values were clipped.
    """
    scale = check_png16_scale(scale)
    counts, below, above = encode_png16(depth, scale)
    save_png16_counts(path, counts, scale, units=units, depth_kind=depth_kind)
    if warn and (below or above):
        warnings.warn(clipping_message(os.fspath(path), below, above, scale), Png16ClippingWarning,
                      stacklevel=2)
    return below + above


def save_png16_counts(path, counts, scale: float, *, units: str = "", depth_kind: str = "planar") -> None:
    """Write already encoded uint16 ``counts`` (see :func:`encode_png16`) with the scale in the text chunk."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(SCALE_KEY, repr(float(scale)))
    info.add_text(UNITS_KEY, units or "")
    info.add_text(KIND_KEY, depth_kind)
    info.add_text("Description", f"{depth_kind} depth = value * {float(scale)!r} {units or 'scene units'}; "
                                 f"0 = no surface")
    save_image_atomically(uint16_image(counts), path, pnginfo=info)


def clipping_message(where: str, below: int, above: int, scale: float) -> str:
    """One line saying how many png16 values were clipped and what range the scale allows."""
    parts = []
    if above:
        parts.append(f"{above} beyond {MAX_COUNT * scale:g} units clipped to 65535")
    if below:
        parts.append(f"{below} below {0.5 * scale:g} units clipped to 1")
    return f"{where}: png16 depth: {'; '.join(parts)} (scale {scale:g} units per count; change --png16-scale)"


def read_uint16_png(path) -> np.ndarray:
    """The pixels of a 16-bit greyscale PNG as uint16 (H, W); DepthViewsError otherwise."""
    from PIL import Image

    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            if image.mode not in ("I;16", "I;16B", "I"):
                raise DepthViewsError(f"{path}: not a 16-bit greyscale PNG (mode {image.mode})")
            values = np.array(image)
    except (OSError, SyntaxError) as error:
        raise DepthViewsError(f"{path}: cannot read PNG ({error})") from None
    return values.astype(np.uint16)


def png16_scale(path) -> float:
    """The ``depth_views.scale`` stored in a png16 file's text chunk; DepthViewsError when missing."""
    from PIL import Image

    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            text = dict(getattr(image, "text", {}) or {})
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read PNG ({error})") from None
    if SCALE_KEY not in text:
        raise DepthViewsError(f"{path}: no {SCALE_KEY} in the PNG text chunk; pass scale= explicitly")
    return check_png16_scale(text[SCALE_KEY])


def read_png16(path, scale: float | None = None) -> np.ndarray:
    """Depth (float32, (H, W), scene units, +inf where the value is 0) from a png16 file.

    ``scale`` defaults to the one in the file's text chunk.
    """
    counts = read_uint16_png(path)
    scale = png16_scale(path) if scale is None else check_png16_scale(scale)
    depth = counts.astype(np.float64) * scale
    depth[counts == 0] = np.inf
    return depth.astype(np.float32)
