"""Render settings shared by the CLI, the Python API and the add-on panel (pure Python, no bpy)."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .cameras import Intrinsics, elevation_band
from .errors import DepthViewsError

NORMALIZED_RADIUS = 0.5
EXR_COMPRESSIONS = ("none", "zip", "zips", "piz", "rle")
MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off", ".fbx")
SUPPORTED_SUFFIXES = MESH_SUFFIXES + (".blend",)


@dataclass
class RenderOptions:
    """Everything that decides what a render produces.  Lengths in scene units, angles in degrees.

    ``radius=None`` fits the object's bounding sphere in the view (``radius_margin`` times the
    tightest distance); ``center=None`` uses the bounding-box centre; ``clip_start``/``clip_end``
    of None are chosen from the object's extent so that nothing of it is clipped.
    """

    views: int = 24
    sampling: str = "fibonacci"
    seed: int = 0
    grid: tuple[int, int] | None = None
    hemisphere: bool = False
    elevation: tuple[float, float] | None = None
    radius: float | None = None
    radius_margin: float = 1.1
    center: tuple[float, float, float] | None = None
    resolution: tuple[int, int] = (512, 512)
    lens: float = 50.0
    sensor: float = 36.0
    fov: float | None = None
    clip_start: float | None = None
    clip_end: float | None = None
    normalize: bool = False
    engine: str = "cycles"
    device: str = "cpu"
    exr_compression: str = "zip"

    def intrinsics(self) -> Intrinsics:
        """Camera intrinsics from resolution and lens/sensor, or from ``fov`` when it is set."""
        width, height = self.resolution
        if self.fov is not None:
            return Intrinsics.from_fov(width, height, self.fov, sensor_mm=self.sensor)
        return Intrinsics(width, height, lens_mm=self.lens, sensor_mm=self.sensor)

    def elevation_range(self) -> tuple[float, float]:
        """The elevation band (degrees) from ``hemisphere`` and ``elevation``."""
        return elevation_band(self.hemisphere, self.elevation)

    def validate(self) -> None:
        """Raise :class:`DepthViewsError` for settings that cannot render, naming the option."""
        self.intrinsics()
        self.elevation_range()
        if self.radius is not None and not (np.isfinite(self.radius) and self.radius > 0):
            raise DepthViewsError(f"--radius {self.radius:g}: must be a positive distance or 'auto'")
        for name in ("clip_start", "clip_end"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value > 0):
                raise DepthViewsError(f"--{name.replace('_', '-')} {value:g}: must be positive")
        if self.clip_start is not None and self.clip_end is not None and self.clip_end <= self.clip_start:
            raise DepthViewsError(
                f"--clip-end {self.clip_end:g} must be greater than --clip-start {self.clip_start:g}")
        if self.center is not None and not np.isfinite(np.asarray(self.center, dtype=float)).all():
            raise DepthViewsError(f"--center {self.center}: must be three finite numbers")
        if self.exr_compression not in EXR_COMPRESSIONS:
            raise DepthViewsError(
                f"--exr-compression {self.exr_compression!r}: choose one of {', '.join(EXR_COMPRESSIONS)}")
        if self.views <= 0:
            raise DepthViewsError(f"--views {self.views}: must be at least 1")
        if self.grid is not None and self.sampling != "grid":
            raise DepthViewsError("--grid goes with --sampling grid")
        if self.sampling == "grid":
            if self.grid is None:
                raise DepthViewsError("--sampling grid needs --grid N_AZIMUTH N_ELEVATION, e.g. --grid 8 3")
            if self.grid[0] * self.grid[1] != self.views:
                raise DepthViewsError(
                    f"--grid {self.grid[0]} {self.grid[1]} makes {self.grid[0] * self.grid[1]} views "
                    f"but --views is {self.views}; leave --views out or make them agree")


def clip_range(camera_distance: float, extent_radius: float) -> tuple[float, float]:
    """Clip distances that keep all of a sphere of ``extent_radius`` visible from ``camera_distance``.

    Both in scene units; the camera sits ``camera_distance`` from the sphere's centre.
    """
    far = camera_distance + extent_radius
    gap = camera_distance - extent_radius
    near = 0.5 * gap if gap > 0 else 1e-4 * far
    return near, 2.0 * far


def normalization_matrix(center, radius: float) -> np.ndarray:
    """4x4 ``object_to_world`` that moves ``center`` to the origin and scales ``radius`` to 0.5."""
    if not radius > 0:
        raise DepthViewsError("cannot normalise an object of zero size")
    scale = NORMALIZED_RADIUS / radius
    matrix = np.diag([scale, scale, scale, 1.0])
    matrix[:3, 3] = -scale * np.asarray(center, dtype=np.float64)
    return matrix


def sanitized_name(path: str) -> str:
    """A safe output folder name from an input path's stem (no separators, no leading dots)."""
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", stem).strip(" .")
    return stem or "input"


def output_folder_names(paths: list[str]) -> list[str]:
    """One distinct output folder name per input: its stem, with ``-2``, ``-3``... on collisions."""
    names, taken = [], set()
    for path in paths:
        base = sanitized_name(path)
        name, k = base, 1
        while name.casefold() in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name.casefold())
        names.append(name)
    return names
