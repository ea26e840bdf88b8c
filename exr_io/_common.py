"""Limits and small helpers shared by the EXR reader and writer (no bpy)."""

import numpy as np

from ..errors import DepthViewsError

EXR_MAGIC = bytes.fromhex("762f3101")
"""The first four bytes of every OpenEXR file (0x762f3101 as little-endian int32 20000630)."""

MAX_SIDE = 65536
"""Largest width or height, in pixels, we accept; bigger declared sizes mean a corrupt header."""

MAX_PIXELS = 2**28
"""Largest pixel count per image part (2**28 float32 = 1 GiB per channel)."""

MAX_SAMPLES = 2**31
"""Largest pixels x channels over all parts we agree to allocate (8 GiB of float32)."""


def check_image_size(path: str, width: int, height: int) -> None:
    """Raise DepthViewsError unless ``width`` x ``height`` is a plausible image size."""
    if width < 1 or height < 1:
        raise DepthViewsError(f"{path}: empty image ({width} x {height} pixels)")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise DepthViewsError(
            f"{path}: implausible image size {width} x {height} pixels (limits: {MAX_SIDE} per "
            f"side, {MAX_PIXELS} pixels); the file is probably corrupt"
        )


def as_matrix(path: str, name: str, value, shape: tuple[int, int]) -> np.ndarray:
    """``value`` as a finite float64 array of ``shape``; else DepthViewsError naming ``name``."""
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DepthViewsError(f"{path}: {name} is not a numeric matrix ({error})") from None
    if matrix.shape != shape:
        raise DepthViewsError(
            f"{path}: {name} must be {shape[0]}x{shape[1]}, got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise DepthViewsError(f"{path}: {name} contains NaN or infinity")
    return matrix
