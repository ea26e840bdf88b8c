"""One view's passes as every writer stores them, derived once from what the renderer gives (numpy only).

The folder writer (:class:`~.writer.OutputWriter`: EXR, png16, npz, PLY, previews) and the shard
writer (:class:`~.shards.SampleWriter`: WebDataset members) both take a :class:`DerivedView` from
:func:`derive_view` and only encode and store its arrays, so a pass holds the same values in every
layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DepthViewsError
from .geometry import planar_to_distance, surface_mask, world_coordinates
from .images import srgb8


@dataclass(frozen=True, eq=False)
class DerivedView:
    """The arrays one view's passes are stored as; a pass not asked for is None.

    - ``depth``: float32 (H, W) as rendered (planar, or the ray length for fisheye and
      equirectangular cameras), +inf = no surface; ``hit``: bool (H, W), where there is a surface;
      :attr:`coverage` the fraction of pixels that are ``hit``.
    - ``distance``: float32 (H, W) Euclidean distance from the camera centre along the ray, +inf = none.
    - ``normal``: float32 (H, W, 3) unit normals in the world frame, 0 where there is no surface.
    - ``mask``: uint16 (H, W) object ids, 0 = background.
    - ``xyz``: float32 (H, W, 3) world coordinates of the surface at each pixel centre, NaN = none.
    - ``rgb_linear``: float32 (H, W, 4) linear RGBA as rendered (premultiplied alpha);
      ``rgb``: uint8 (H, W, 4) 8-bit sRGB with straight alpha.
    """

    depth: np.ndarray
    hit: np.ndarray
    distance: np.ndarray | None = None
    normal: np.ndarray | None = None
    mask: np.ndarray | None = None
    xyz: np.ndarray | None = None
    rgb_linear: np.ndarray | None = None
    rgb: np.ndarray | None = None

    @property
    def coverage(self) -> float:
        """The fraction of pixels with a surface (0 = an empty view, 1 = surface everywhere)."""
        return surface_fraction(self.hit)

    def arrays(self) -> dict[str, np.ndarray]:
        """The passes present, by name, in the order ``views.npz`` stores them."""
        names = ("depth", "distance", "normal", "mask", "xyz", "rgb_linear", "rgb")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def derive_view(rendered: dict, camera, world_to_camera, passes) -> DerivedView:
    """The stored arrays of one rendered view.

    ``rendered``: the renderer's dict, ``depth`` (H, W) always, ``normal`` (H, W, 3) world frame,
    ``mask`` (H, W) integer ids, ``rgb`` (H, W, 4) linear RGBA float, each when its pass is in
    ``passes``.  ``camera``: the view's :meth:`CameraModel.geometry_camera
    <depth_views.cameras.models.CameraModel.geometry_camera>`; ``world_to_camera``: 4x4 OpenCV axes.
    A pass of the wrong shape raises :class:`DepthViewsError`.
    """
    depth = np.asarray(rendered["depth"], dtype=np.float32)
    hit = surface_mask(depth)
    derived = {}
    if "distance" in passes:
        derived["distance"] = planar_to_distance(depth, camera)
    if "normal" in passes:
        derived["normal"] = unit_normals(rendered["normal"], hit)
    if "mask" in passes:
        derived["mask"] = np.asarray(rendered["mask"]).astype(np.uint16)
    if "xyz" in passes:
        derived["xyz"] = world_coordinates(depth, camera, world_to_camera)
    if "rgb" in passes:
        derived["rgb_linear"] = np.asarray(rendered["rgb"], dtype=np.float32)
        derived["rgb"] = srgb8(derived["rgb_linear"])
    return DerivedView(depth, hit, **derived)


def surface_fraction(hit: np.ndarray) -> float:
    """The fraction of pixels where ``hit`` (a view's surface mask) is true, as a Python float."""
    return float(np.count_nonzero(hit)) / hit.size if hit.size else 0.0


def empty_views_message(path: str, empty: list[int], n_views: int) -> str:
    """The one-line warning for the views of ``path`` that see no surface at all (coverage 0)."""
    which = f"view {empty[0]} sees" if len(empty) == 1 else f"views {', '.join(map(str, empty))} see"
    return (f"{path}: {which} no surface (coverage 0; {len(empty)} of {n_views} views): the cameras look past "
            "the object, or it has no visible surface (--empty-views fail makes this a failure)")


def unit_normals(normals, hit: np.ndarray) -> np.ndarray:
    """float32 (H, W, 3): non-zero vectors scaled to unit length where ``hit``, zero elsewhere."""
    normals = np.asarray(normals, dtype=np.float64)
    if normals.shape != hit.shape + (3,):
        raise DepthViewsError(f"normal pass has shape {normals.shape}, expected {hit.shape + (3,)}")
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    out = np.where((length > 0) & hit[..., None], normals / np.where(length > 0, length, 1.0), 0.0)
    return out.astype(np.float32)
