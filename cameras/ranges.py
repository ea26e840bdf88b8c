"""Per-view radius and field-of-view ranges, as Objaverse-style pipelines draw them (pure numpy).

``--radius 1.5:2.2`` and ``--fov 35:55`` draw each view's distance and field of view uniformly from
the range, reproducibly from ``--seed`` (a random stream of its own, so the view directions are the
same as without a range).  Each view records its radius (``View.radius``) and, with a FOV range, its
own intrinsics (``View.intrinsics``, written as the view's ``K`` in cameras.json).
"""

from __future__ import annotations

import math

import numpy as np

from .views import Intrinsics, View, look_at, world_to_camera_opencv
from ..errors import DepthViewsError

RANGE_STREAM = 13  # the seed sequence's second word: ranges draw from a stream of their own


def parse_range(text: str, what: str) -> tuple[float, float]:
    """``"1.5:2.2"`` as (1.5, 2.2); DepthViewsError unless both are finite numbers with low <= high."""
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise DepthViewsError(f"{what} {text!r}: expected LOW:HIGH, e.g. 1.5:2.2") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise DepthViewsError(f"{what} {text!r}: need finite LOW <= HIGH")
    return low, high


def vary_views(views: list[View], center, *, seed: int | None, radius_range=None, fov_range=None,
               width: int | None = None, height: int | None = None, sensor_mm: float = 36.0) -> list[View]:
    """``views`` with each radius drawn from ``radius_range`` and each field of view (degrees, across the
    larger image side) from ``fov_range``, uniformly; directions and look-at target unchanged."""
    rng = np.random.default_rng([seed if seed is not None else np.random.SeedSequence().entropy, RANGE_STREAM])
    n = len(views)
    radii = rng.uniform(*radius_range, size=n) if radius_range is not None else None
    fovs = rng.uniform(*fov_range, size=n) if fov_range is not None else None
    center = np.asarray(center, dtype=np.float64)
    varied = []
    for i, view in enumerate(views):
        radius, camera_to_world = view.radius, view.camera_to_world
        if radii is not None:
            radius = float(radii[i])
            direction = (view.position - center) / view.radius
            camera_to_world = look_at(center + radius * direction, center)
        intrinsics = view.intrinsics
        if fovs is not None:
            intrinsics = Intrinsics.from_fov(width, height, float(fovs[i]), sensor_mm=sensor_mm)
        varied.append(View(index=view.index, azimuth_deg=view.azimuth_deg, elevation_deg=view.elevation_deg,
                           radius=radius, camera_to_world=camera_to_world,
                           world_to_camera=world_to_camera_opencv(camera_to_world), intrinsics=intrinsics,
                           source=view.source))
    return varied
