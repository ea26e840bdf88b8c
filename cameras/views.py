"""One camera of a set: :class:`View`, its pose in both axis conventions (pure numpy).

Sphere sampling builds views in :mod:`.sphere`, camera files in :mod:`.camera_set`; the axes are
those of :mod:`.conventions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .conventions import _as_matrix4
from .intrinsics import Intrinsics
from .lens import LensModel


def angles_around(position, center) -> tuple[float, float, float]:
    """(azimuth_deg in [0, 360), elevation_deg, radius) of a camera at ``position`` seen from ``center``;
    (0, 0, 0) at the centre itself."""
    offset = np.asarray(position, dtype=np.float64) - np.asarray(center, dtype=np.float64)
    radius = float(np.linalg.norm(offset))
    if not radius:
        return 0.0, 0.0, 0.0
    azimuth = math.degrees(math.atan2(offset[1], offset[0])) % 360.0
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, offset[2] / radius))))
    return azimuth, elevation, radius


@dataclass(frozen=True, eq=False)
class View:
    """One camera of a set: its sphere angles (degrees), distance, and both matrix conventions.

    ``camera_to_world``: 4x4 Blender axes (matrix_world); ``world_to_camera``: 4x4 OpenCV axes.
    The matrices are stored as read-only float64 copies.  A view read from a camera file may carry
    its own ``intrinsics`` (None: the set's), its own ``lens`` (a lens model with distortion,
    :mod:`.lens`; None: the set's camera) and ``source`` (the file's name for it, e.g. an image).
    """

    index: int
    azimuth_deg: float
    elevation_deg: float
    radius: float
    camera_to_world: np.ndarray
    world_to_camera: np.ndarray
    intrinsics: Intrinsics | None = None
    source: str | None = None
    lens: LensModel | None = None

    def __post_init__(self) -> None:
        for name in ("camera_to_world", "world_to_camera"):
            matrix = np.array(_as_matrix4(getattr(self, name), name), dtype=np.float64, copy=True)
            matrix.setflags(write=False)
            object.__setattr__(self, name, matrix)

    @property
    def position(self) -> np.ndarray:
        """Camera position in world coordinates, shape (3,)."""
        return self.camera_to_world[:3, 3].copy()

    def to_json(self) -> dict:
        """Plain-JSON dict: index, angles (deg), radius, position and both 4x4 matrices as lists."""
        return {
            "index": int(self.index),
            "azimuth_deg": float(self.azimuth_deg),
            "elevation_deg": float(self.elevation_deg),
            "radius": float(self.radius),
            "position": self.position.tolist(),
            "camera_to_world": self.camera_to_world.tolist(),
            "world_to_camera": self.world_to_camera.tolist(),
        }
