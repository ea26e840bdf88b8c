"""``depth-views check DIR``: does a rendered folder agree with itself (and with its mesh)?

Pure numpy (no bpy).  Two checks, per view, using only what the folder stores (cameras.json and the
depth files):

- **reprojection**: every surface pixel of a view is lifted to 3D through its K and pose and projected
  into each of its nearest views (by viewing direction); where that view sees the same spot (not
  hidden behind something nearer, not at a silhouette) its own depth must agree with the point's
  depth in that camera.  A shifted K, a flipped pose or a wrong depth file breaks this.
- **re-cast** (``mesh``): the pixel-centre rays of each view are cast against the mesh with trimesh's
  ray module (Embree when ``embreex`` is installed: ``pip install 'depth_views[check]'``), a ray
  caster independent of Blender's; depth and hit/miss must agree.

Agreement is the share of compared pixels within ``tolerance`` times the object's size (its
bounding-sphere radius from cameras.json); a view passes when every share is at least
``min_agreement``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..cameras.cameras_json import CAMERAS_FILE, load_cameras
from ..errors import DepthViewsError
from ..exr_io import read_depth

DEFAULT_TOLERANCE = 1e-3      # of the object's size
DEFAULT_MIN_AGREEMENT = 0.95
DEFAULT_NEIGHBOURS = 2
MIN_COMPARED = 20             # pixels; fewer compared pixels say nothing about a pair
EDGE_RATIO = 0.05             # neighbouring depths further apart than this share are an edge, not one surface
PLANE_TOLERANCE = 1e-5        # four pixels whose inverse depths miss one plane by more than this share straddle an edge


@dataclass
class ViewCheck:
    """The result of one view: ``pairs`` maps a neighbour's index to (agreement share, pixels compared);
    ``recast`` is (agreement share, pixels compared) against the mesh, or None."""

    index: int
    source: str
    pairs: dict = field(default_factory=dict)
    recast: tuple | None = None
    min_agreement: float = DEFAULT_MIN_AGREEMENT

    @property
    def checked(self) -> bool:
        """False when no neighbour overlapped enough (and there was no mesh): nothing was compared."""
        return self.recast is not None or any(count >= MIN_COMPARED for _, count in self.pairs.values())

    @property
    def ok(self) -> bool:
        shares = [share for share, count in self.pairs.values() if count >= MIN_COMPARED]
        if self.recast is not None:
            shares.append(self.recast[0])
        return all(share >= self.min_agreement for share in shares)

    def line(self) -> str:
        parts = [f"view {self.index} ({self.source}):"]
        for other, (share, count) in sorted(self.pairs.items()):
            parts.append(f"vs {other} {100 * share:.1f}% of {count}" if count >= MIN_COMPARED
                         else f"vs {other} too little overlap ({count} px)")
        if self.recast is not None:
            parts.append(f"mesh {100 * self.recast[0]:.1f}% of {self.recast[1]}")
        parts.append("FAIL" if not self.ok else "ok" if self.checked else "unchecked")
        return " ".join(parts)


def _pixel_rays(K, width, height) -> np.ndarray:
    """(H, W, 3) camera-frame directions with z = 1 through every pixel centre (OpenCV: centres at integers)."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)


def _bilinear_same_surface(depth, u, v):
    """Depth of ``depth`` at sub-pixel (u, v), NaN where the 4 pixels around it are not one plane.

    Inverse planar depth is affine in the pixel coordinates on a plane, so its bilinear interpolation
    is exact there, and the 4 corners of one plane satisfy ``c00 + c11 = c01 + c10``; corners that
    straddle a crease, an edge or a silhouette do not (within :data:`PLANE_TOLERANCE`).  Returns
    (depth, all 4 corners are background, inside the image).
    """
    height, width = depth.shape
    u0, v0 = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    inside = (u0 >= 0) & (v0 >= 0) & (u0 + 1 < width) & (v0 + 1 < height)
    out = np.full(u.shape, np.nan)
    empty = np.zeros(u.shape, bool)
    if not inside.any():
        return out, empty, inside
    uu, vv = u0[inside], v0[inside]
    corners = np.stack([depth[vv, uu], depth[vv, uu + 1], depth[vv + 1, uu], depth[vv + 1, uu + 1]]).astype(np.float64)
    finite = np.isfinite(corners)
    inverse = np.where(finite, 1.0 / np.where(finite, corners, 1.0), 0.0)
    plane = finite.all(axis=0) & (np.abs(inverse[0] + inverse[3] - inverse[1] - inverse[2])
                                  <= PLANE_TOLERANCE * inverse.mean(axis=0))
    a, b = (u - u0)[inside], (v - v0)[inside]
    value = ((1 - a) * (1 - b) * inverse[0] + a * (1 - b) * inverse[1]
             + (1 - a) * b * inverse[2] + a * b * inverse[3])
    with np.errstate(divide="ignore"):
        out[inside] = np.where(plane, 1.0 / value, np.nan)
    empty[inside] = (~finite).all(axis=0)
    return out, empty, inside


def reprojection_agreement(depth_a, K_a, w2c_a, depth_b, K_b, w2c_b, tolerance: float) -> tuple[float, int]:
    """(share of compared pixels that agree, pixels compared) of view a's depth seen from view b.

    A surface pixel of a is compared where it lands inside b, in front of b, not hidden behind a
    nearer surface of b (b's depth smaller by more than ``tolerance``).  It agrees when b's
    (bilinear) depth there is within ``tolerance`` of the point's depth in b; it disagrees too when b
    sees only background all around that spot.
    """
    height, width = depth_a.shape
    hit = np.isfinite(depth_a)
    # Interior surface pixels of a only: its own silhouette and depth edges are ambiguous.
    padded = np.pad(np.where(hit, depth_a, np.nan), 1, mode="constant", constant_values=np.nan)
    neighbours = np.stack([padded[1 + dv:1 + dv + height, 1 + du:1 + du + width]
                           for dv in (-1, 0, 1) for du in (-1, 0, 1)])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods (background)
        low, high = np.nanmin(neighbours, axis=0), np.nanmax(neighbours, axis=0)
        interior = hit & np.isfinite(neighbours).all(axis=0) & ((high - low) <= EDGE_RATIO * low)
    if not interior.any():
        return 1.0, 0
    points = _pixel_rays(K_a, width, height)[interior] * depth_a[interior][:, None]
    world = (points - w2c_a[:3, 3]) @ w2c_a[:3, :3]            # inverse of a rigid w2c
    in_b = world @ w2c_b[:3, :3].T + w2c_b[:3, 3]
    front = in_b[:, 2] > 1e-9
    in_b = in_b[front]
    u = K_b[0, 0] * in_b[:, 0] / in_b[:, 2] + K_b[0, 2]
    v = K_b[1, 1] * in_b[:, 1] / in_b[:, 2] + K_b[1, 2]
    seen, empty, inside = _bilinear_same_surface(depth_b, u, v)
    z = in_b[:, 2]
    with np.errstate(invalid="ignore"):
        hidden = seen < z - tolerance                                # b sees something nearer: occlusion
        agree = np.abs(seen - z) <= tolerance
    compared = inside & ((np.isfinite(seen) & ~hidden) | empty)
    count = int(compared.sum())
    return (float(agree[compared].mean()) if count else 1.0), count


def recast_agreement(depth, K, w2c, mesh, tolerance: float) -> tuple[float, int]:
    """(share of pixels that agree with a ray cast of ``mesh``, pixels compared).

    Pixel-centre rays are cast with trimesh's ray module; a pixel agrees when both miss, or both hit
    within ``tolerance`` (planar depth).  Pixels next to a hit/miss change in either image (silhouettes,
    where a pixel-centre ray may graze either side) are left out.
    """
    height, width = depth.shape
    directions = _pixel_rays(K, width, height).reshape(-1, 3)
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    rotation_c2w = w2c[:3, :3].T
    origin = -rotation_c2w @ w2c[:3, 3]
    world_dirs = unit @ rotation_c2w.T
    locations, ray_index, _ = mesh.ray.intersects_location(np.broadcast_to(origin, world_dirs.shape),
                                                           world_dirs, multiple_hits=False)
    reference = np.full(len(unit), np.inf)
    if len(ray_index):
        distance = np.linalg.norm(locations - origin, axis=1)
        reference[ray_index] = distance * unit[ray_index, 2]
    reference = reference.reshape(height, width)
    edge = np.zeros((height, width), bool)
    for image in (np.isfinite(reference), np.isfinite(depth)):
        padded = np.pad(image, 1, mode="edge")
        for dv in (-1, 0, 1):
            for du in (-1, 0, 1):
                edge |= padded[1 + dv:1 + dv + height, 1 + du:1 + du + width] != image
    compared = ~edge
    both_miss = np.isinf(reference) & np.isinf(depth)
    with np.errstate(invalid="ignore"):
        both_hit = np.abs(np.where(np.isfinite(reference), reference, 0) - np.where(np.isfinite(depth), depth, 0)) \
            <= tolerance
    agree = both_miss | (np.isfinite(reference) & np.isfinite(depth) & both_hit)
    count = int(compared.sum())
    return (float(agree[compared].mean()) if count else 1.0), count


def _view_directions(cameras) -> np.ndarray:
    return np.stack([np.asarray(v["world_to_camera"])[2, :3] for v in cameras["views"]])


def load_check_mesh(path: str, object_to_world=None):
    """The mesh of ``path`` (trimesh), moved by ``object_to_world`` (a normalised render's transform)."""
    try:
        import trimesh
    except ImportError:
        raise DepthViewsError("--mesh needs trimesh: pip install 'depth_views[check]'") from None
    try:
        mesh = trimesh.load(path, force="mesh")
    except Exception as error:  # trimesh raises many kinds for a bad file
        raise DepthViewsError(f"{path}: cannot read the mesh ({error})") from None
    if object_to_world is not None:
        mesh.apply_transform(np.asarray(object_to_world, dtype=np.float64))
    return mesh


def check_folder(folder: str, *, mesh_path: str | None = None, tolerance: float = DEFAULT_TOLERANCE,
                 min_agreement: float = DEFAULT_MIN_AGREEMENT, neighbours: int = DEFAULT_NEIGHBOURS) -> list[ViewCheck]:
    """One :class:`ViewCheck` per view of the output ``folder`` (see the module docstring)."""
    cameras = load_cameras(folder)
    views = cameras["views"]
    if not views:
        raise DepthViewsError(f"{os.path.join(folder, CAMERAS_FILE)}: holds no views")
    size = float(cameras.get("object_radius") or 0.0)
    depths = []
    for view in views:
        if "depth" not in view.get("files", {}):
            raise DepthViewsError(f"{folder}: view {view['index']} has no depth EXR to check")
        depths.append(read_depth(os.path.join(folder, view["files"]["depth"]), allow_constant=True))
    if not size > 0:
        finite = np.concatenate([d[np.isfinite(d)] for d in depths] or [np.zeros(1)])
        size = float(np.median(finite)) if finite.size else 1.0
    absolute = tolerance * size
    Ks = [np.asarray(v.get("K", cameras["K"]), dtype=np.float64) for v in views]
    w2cs = [np.asarray(v["world_to_camera"], dtype=np.float64) for v in views]
    directions = _view_directions(cameras)
    mesh = None
    if mesh_path is not None:
        mesh = load_check_mesh(mesh_path, cameras.get("object_to_world"))
    results = []
    for i, view in enumerate(views):
        result = ViewCheck(index=view["index"], source=view.get("source") or view["files"]["depth"],
                           min_agreement=min_agreement)
        order = [j for j in np.argsort(-(directions @ directions[i])) if j != i][:neighbours]
        for j in order:
            result.pairs[views[j]["index"]] = reprojection_agreement(depths[i], Ks[i], w2cs[i], depths[j], Ks[j],
                                                                     w2cs[j], absolute)
        if mesh is not None:
            result.recast = recast_agreement(depths[i], Ks[i], w2cs[i], mesh, absolute)
        results.append(result)
    return results


def checked_folders(path: str) -> list[str]:
    """``path`` when it holds cameras.json, else every folder below it that does (a batch output, shards)."""
    if os.path.isfile(os.path.join(path, CAMERAS_FILE)):
        return [path]
    found = sorted(root for root, _, names in os.walk(path) if CAMERAS_FILE in names)
    if not found:
        raise DepthViewsError(f"{path}: no {CAMERAS_FILE} here or below; give a rendered folder")
    return found
