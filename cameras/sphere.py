"""Cameras on a sphere around an object: direction sampling, elevation bands, per-view radius and
field-of-view ranges (pure numpy, float64).

- Azimuth is measured in the XY plane from +X towards +Y; elevation from the XY plane towards
  +Z. Camera position = center + radius * (cos el cos az, cos el sin az, sin el).
- Every camera looks at the sphere centre (:func:`~.conventions.look_at`, world +Z up).
- ``--radius 1.5:2.2`` and ``--fov 35:55`` draw each view's distance and field of view uniformly from
  the range, reproducibly from ``--seed`` (a random stream of its own, so the view directions are the
  same as without a range).  Each view records its radius (``View.radius``) and, with a FOV range, its
  own intrinsics (``View.intrinsics``, written as the view's ``K`` in cameras.json).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .conventions import _as_vector3, look_at, world_to_camera_opencv
from .intrinsics import Intrinsics, _is_positive_finite
from .views import View
from ..errors import DepthViewsError

SAMPLINGS = ("fibonacci", "random", "grid")
FULL_SPHERE = (-90.0, 90.0)
GOLDEN_ANGLE_DEG = 180.0 * (3.0 - math.sqrt(5.0))  # ~137.508 degrees
RANGE_STREAM = 13  # the seed sequence's second word: ranges draw from a stream of their own


# --------------------------------------------------------------------------------------------
# Direction sampling (azimuth, elevation in degrees)


def _check_count(n, what: str = "number of views") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise DepthViewsError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def _check_band(elevation_range) -> tuple[float, float]:
    """Validate an elevation band (low, high) in degrees with -90 <= low <= high <= 90."""
    try:
        low, high = (float(x) for x in elevation_range)
    except (TypeError, ValueError):
        raise DepthViewsError(
            f"elevation range must be two numbers (low, high) in degrees, got {elevation_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or not -90.0 <= low <= high <= 90.0:
        raise DepthViewsError(
            f"elevation range must satisfy -90 <= low <= high <= 90 degrees, got ({low:g}, {high:g})"
        )
    return low, high


def elevation_band(hemisphere: bool, elevation: tuple[float, float] | None) -> tuple[float, float]:
    """Combine the ``--hemisphere`` and ``--elevation LOW HIGH`` options into one band in degrees.

    Neither: (-90, 90). Hemisphere only: (0, 90). Both: their intersection; an empty intersection
    raises DepthViewsError.
    """
    band = FULL_SPHERE if elevation is None else _check_band(elevation)
    if hemisphere:
        low, high = max(band[0], 0.0), band[1]
        if low > high:
            raise DepthViewsError(
                f"elevation range ({band[0]:g}, {band[1]:g}) lies below the horizon, "
                "so it does not overlap the upper hemisphere; drop --hemisphere or raise the range"
            )
        band = (low, high)
    return float(band[0]), float(band[1])


def _sin_elevation_bounds(elevation_range) -> tuple[float, float]:
    low, high = _check_band(elevation_range)
    return math.sin(math.radians(low)), math.sin(math.radians(high))


def _elevation_from_sin(z: np.ndarray) -> np.ndarray:
    return np.degrees(np.arcsin(np.clip(z, -1.0, 1.0)))


def sample_fibonacci_sphere(n: int, *, elevation_range=FULL_SPHERE) -> tuple[np.ndarray, np.ndarray]:
    """Fibonacci (golden-angle) lattice of ``n`` directions, uniform in area within the band.

    sin(elevation) is evenly spaced at bin centres between the band's limits, azimuth advances
    by the golden angle (~137.5 deg) starting at 0. Returns (azimuth_deg in [0, 360),
    elevation_deg), each of shape (n,). The poles are never hit exactly for a full sphere.
    """
    n = _check_count(n)
    z_low, z_high = _sin_elevation_bounds(elevation_range)
    i = np.arange(n, dtype=np.float64)
    z = z_low + (i + 0.5) / n * (z_high - z_low)
    azimuth = np.mod(i * GOLDEN_ANGLE_DEG, 360.0)
    return azimuth, _elevation_from_sin(z)


def sample_random_sphere(
    n: int, *, seed: int | None, elevation_range=FULL_SPHERE
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random directions, uniform in area within the elevation band.

    Reproducible for an integer ``seed`` (numpy ``default_rng``); ``None`` draws fresh entropy.
    Returns (azimuth_deg in [0, 360), elevation_deg), each of shape (n,).
    """
    n = _check_count(n)
    z_low, z_high = _sin_elevation_bounds(elevation_range)
    rng = np.random.default_rng(seed)
    azimuth = rng.uniform(0.0, 360.0, size=n)
    z = rng.uniform(z_low, z_high, size=n)
    return azimuth, _elevation_from_sin(z)


def sample_grid(
    n_azimuth: int, n_elevation: int, *, elevation_range=FULL_SPHERE
) -> tuple[np.ndarray, np.ndarray]:
    """Regular azimuth x elevation grid, ``n_azimuth * n_elevation`` directions.

    Azimuths are ``360 * j / n_azimuth`` (j = 0..n_azimuth-1). Elevations are the centres of
    ``n_elevation`` equal bins of the band (uniform in angle), so a full-sphere grid never stacks
    n_azimuth cameras on a pole: band (-90, 90) with 3 rows gives -60, 0, 60.
    Order is elevation-major: index = i_elevation * n_azimuth + j_azimuth, lowest row first.
    """
    n_azimuth = _check_count(n_azimuth, "number of grid azimuths")
    n_elevation = _check_count(n_elevation, "number of grid elevations")
    low, high = _check_band(elevation_range)
    azimuths = 360.0 * np.arange(n_azimuth, dtype=np.float64) / n_azimuth
    elevations = low + (np.arange(n_elevation, dtype=np.float64) + 0.5) * (high - low) / n_elevation
    elevation_grid, azimuth_grid = np.meshgrid(elevations, azimuths, indexing="ij")
    return azimuth_grid.ravel(), elevation_grid.ravel()


def direction_from_angles(azimuth_deg, elevation_deg) -> np.ndarray:
    """Unit direction(s) (cos el cos az, cos el sin az, sin el), shape (..., 3)."""
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)


# --------------------------------------------------------------------------------------------
# Views


def sample_views(
    *,
    sampling: str,
    n_views: int | None,
    center,
    radius: float,
    seed: int | None = 0,
    grid: tuple[int, int] | None = None,
    elevation_range=FULL_SPHERE,
) -> list[View]:
    """Cameras on a sphere of ``radius`` around ``center``, each looking at the centre.

    ``sampling``: "fibonacci", "random" (uses ``seed``) or "grid" (needs ``grid=(n_azimuth,
    n_elevation)``; ``n_views`` may then be None, otherwise it must equal their product).
    ``elevation_range``: (low, high) degrees. Raises DepthViewsError on bad options.
    """
    if sampling not in SAMPLINGS:
        raise DepthViewsError(f"unknown sampling {sampling!r}; choose one of {', '.join(SAMPLINGS)}")
    center = _as_vector3(center, "sphere center")
    if not _is_positive_finite(radius):
        raise DepthViewsError(f"camera distance (radius) must be positive and finite, got {radius!r}")
    if grid is not None and sampling != "grid":
        raise DepthViewsError(f"a grid size is only used with sampling 'grid', not {sampling!r}")

    if sampling == "grid":
        if grid is None:
            raise DepthViewsError(
                "sampling 'grid' needs grid=(n_azimuth, n_elevation), e.g. (8, 3) for 24 views"
            )
        try:
            n_azimuth, n_elevation = grid
        except (TypeError, ValueError):
            raise DepthViewsError(f"grid must be (n_azimuth, n_elevation), got {grid!r}") from None
        n_azimuth = _check_count(n_azimuth, "number of grid azimuths")
        n_elevation = _check_count(n_elevation, "number of grid elevations")
        if n_views is not None:
            _check_count(n_views)
            if n_views != n_azimuth * n_elevation:
                raise DepthViewsError(
                    f"{n_views} views do not match the grid {n_azimuth} azimuths x {n_elevation} "
                    f"elevations = {n_azimuth * n_elevation} views; "
                    "change one or leave out the view count"
                )
        azimuths, elevations = sample_grid(n_azimuth, n_elevation, elevation_range=elevation_range)
    elif sampling == "random":
        azimuths, elevations = sample_random_sphere(n_views, seed=seed, elevation_range=elevation_range)
    else:
        azimuths, elevations = sample_fibonacci_sphere(n_views, elevation_range=elevation_range)

    positions = center + float(radius) * direction_from_angles(azimuths, elevations)
    views = []
    for index, (azimuth, elevation, position) in enumerate(zip(azimuths, elevations, positions)):
        camera_to_world = look_at(position, center)
        views.append(
            View(
                index=index,
                azimuth_deg=float(azimuth),
                elevation_deg=float(elevation),
                radius=float(radius),
                camera_to_world=camera_to_world,
                world_to_camera=world_to_camera_opencv(camera_to_world),
            )
        )
    return views


# --------------------------------------------------------------------------------------------
# Per-view radius and field-of-view ranges (Objaverse-style)


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
