"""``depth-views check DIR``: does a rendered folder agree with itself (and with its mesh)?

Pure numpy (no bpy).  Every pixel goes through its view's own camera model (``CameraModel.depth_rays``
to lift a depth map to 3D, ``CameraModel.project`` to reproject a point), so the check reads any model
``cameras.json`` can name, with each view's own image size and K.  Nothing assumes that depth, or inverse
depth, is affine across pixels (through a distorted lens it is not): the planes below are spanned by the
lifted points of neighbouring pixels, each along its own ray, and a footprint is the distance between the
model's own neighbouring rays (tests/outputs/test_check.py proves it on every lens family).

**Reprojection** (each view with its ``neighbours`` nearest views by viewing direction, both ways).
A view's depth map, lifted to 3D, is a mesh of small planes: at each surface pixel q, the plane
through q and two of its 4-neighbours, for each of the 4 quadrants; a plane seen edge-on (more than
:data:`EDGE_ON_DEG` from the pixel's ray: a depth discontinuity, or a surface too grazing to sample)
is no plane.  A surface pixel p of view a, away from a's own edges, is lifted to its point X and
projected into view b.  X **agrees** when a plane of b's 3x3 pixels around that spot passes within
the tolerance of X, measured along the plane's normal: a surface seen at a grazing angle, whose depth
changes fast from pixel to pixel, is judged as fairly as a frontal one, and the 3x3 window lets a
crease or a small facet find its own plane.  The tolerance is ``tolerance`` pixel footprints of b
there (the distance between neighbouring pixel rays at that depth): an exact render disagrees with
itself by a small fraction of a footprint (the surface's curvature between samples), a wrong camera
moves points by whole pixels.  A point that does not agree is

- **occluded** (excluded) when it lies behind b's surface (behind every pixel of the window, where
  the window holds an edge): b sees something nearer;
- **at an edge** (excluded) otherwise where b's window holds background, an edge-on plane or the
  image border: a silhouette or depth discontinuity, where X may belong to either side;
- a **disagreement** when it lies in front of b's surface (b should have seen it) or where b sees only
  background.

Points that b cannot see at all (outside its image or field of view, beyond its clip range) are not
counted.  A depth file scaled up puts its points behind every other view's surface (occluded), while
the other views' points then lie in front of its surface, so each pair is compared both ways and
counted together.

**Re-cast** (``mesh``): each view's pixel rays are cast against the mesh with trimesh's ray module
(Embree when ``embreex`` is installed: ``pip install 'depth_views[check]'``), a ray caster
independent of Blender's.  Pixels that either image sees a surface at are compared, except next to a
hit/miss change or an edge of the rendered depth; both must hit, within the tolerance along the hit
triangle's normal.  Both depths are exact ray casts, so the re-cast allows
:data:`RECAST_TOLERANCE_SHARE` of the tolerance.

**Verdict.**  A pair (or the re-cast) fails when its agreeing share is below ``min_agreement`` by
more than chance: a one-sided binomial test at :data:`SIGNIFICANCE`, so a few hundred compared
pixels do not fail on a handful, while a wrong camera (thousands of disagreeing pixels) fails at
once.  A pair with fewer than :data:`MIN_COMPARED` compared pixels is not judged.  A view fails when
one of its pairs or its re-cast fails.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..cameras.cameras_json import CAMERAS_FILE, load_cameras
from ..cameras.models import CameraModel, PerModel
from ..errors import DepthViewsError
from ..exr_io import read_depth

DEFAULT_TOLERANCE = 0.5       # pixel footprints
DEFAULT_MIN_AGREEMENT = 0.95
DEFAULT_NEIGHBOURS = 2
MIN_COMPARED = 20             # pixels; fewer compared pixels are not judged
SIGNIFICANCE = 1e-3           # a share below min_agreement fails when chance explains it less often than this
EDGE_ON_DEG = 85.0            # a plane of the depth mesh further than this from the ray is an edge, not a surface
RECAST_TOLERANCE_SHARE = 0.2  # the re-cast compares two exact ray casts
CHUNK = 1 << 15               # points compared at once (memory: CHUNK x 36 candidate planes)
KEEP_LIFTED = 8               # lifted views kept in memory at once

_WINDOW = [(dv, du) for dv in (-1, 0, 1) for du in (-1, 0, 1)]
_QUADRANTS = [(1, 1), (-1, 1), (-1, -1), (1, -1)]   # (du, dv) of the two neighbours spanning a plane


@dataclass
class Comparison:
    """Counts of one comparison: ``compared`` = ``agreeing`` + disagreeing; ``occluded`` and ``edges``
    were left out.  ``tolerances`` (scene units, of the agreeing pixels) and ``errors`` (each compared
    pixel's distance from the nearest plane or the mesh, in pixel footprints, capped at 1000) are
    arrays per comparison added, for :attr:`tolerance` and :attr:`median_error`."""

    compared: int = 0
    agreeing: int = 0
    occluded: int = 0
    edges: int = 0
    tolerances: list = field(default_factory=list, repr=False)
    errors: list = field(default_factory=list, repr=False)

    def __add__(self, other: Comparison) -> Comparison:
        return Comparison(self.compared + other.compared, self.agreeing + other.agreeing,
                          self.occluded + other.occluded, self.edges + other.edges,
                          self.tolerances + other.tolerances, self.errors + other.errors)

    @property
    def median_error(self) -> float:
        """Median distance of the compared pixels from the other surface, in pixel footprints."""
        values = np.concatenate(self.errors) if self.errors else np.zeros(0)
        return float(np.median(values)) if values.size else float("nan")

    @property
    def share(self) -> float:
        return self.agreeing / self.compared if self.compared else 1.0

    @property
    def judged(self) -> bool:
        return self.compared >= MIN_COMPARED

    def fails(self, min_agreement: float) -> bool:
        """True when judged and the agreeing share is significantly below ``min_agreement``."""
        return self.judged and significantly_below(self.agreeing, self.compared, min_agreement)

    @property
    def tolerance(self) -> float:
        """Median tolerance of the agreeing pixels, in scene units (NaN when none agreed)."""
        values = np.concatenate(self.tolerances) if self.tolerances else np.zeros(0)
        return float(np.median(values)) if values.size else float("nan")

    def describe(self, min_agreement: float, *, occlusions: bool = True) -> str:
        """``N of M agree (S%), K occluded, E at edges`` (``FAIL`` after the share when it fails)."""
        if not self.judged:
            return f"too little overlap ({self.compared} px compared)"
        verdict = " FAIL" if self.fails(min_agreement) else ""
        left_out = ([f"{self.occluded} occluded"] if occlusions else []) + [f"{self.edges} at edges"]
        return f"{self.agreeing} of {self.compared} agree ({100 * self.share:.1f}%){verdict}, {', '.join(left_out)}"


def significantly_below(agreeing: int, compared: int, share: float, alpha: float = SIGNIFICANCE) -> bool:
    """True when ``agreeing`` of ``compared`` is below ``share`` by more than chance:
    P(Binomial(compared, share) <= agreeing) < ``alpha`` (exact, in log space)."""
    if agreeing >= share * compared:
        return False
    if share >= 1.0:
        return agreeing < compared
    k = np.arange(agreeing)
    # log pmf(j) = log pmf(0) + sum_{i<j} log((n - i) / (i + 1) * p / (1 - p))
    steps = np.log(compared - k) - np.log(k + 1) + math.log(share) - math.log1p(-share)
    log_pmf = compared * math.log1p(-share) + np.concatenate([[0.0], np.cumsum(steps)])
    top = log_pmf.max()
    return top + math.log(np.exp(log_pmf - top).sum()) < math.log(alpha)


@dataclass
class ViewCheck:
    """The result of one view: ``pairs`` maps a neighbour's index to the :class:`Comparison` of the
    pair (both ways); ``recast`` is the :class:`Comparison` with the mesh, or None."""

    index: int
    source: str
    pairs: dict = field(default_factory=dict)
    recast: Comparison | None = None
    min_agreement: float = DEFAULT_MIN_AGREEMENT
    tolerance_px: float = DEFAULT_TOLERANCE

    def _comparisons(self) -> list[Comparison]:
        return list(self.pairs.values()) + ([self.recast] if self.recast is not None else [])

    @property
    def checked(self) -> bool:
        """False when no neighbour overlapped enough (and there was no mesh): nothing was judged."""
        return any(c.judged for c in self._comparisons())

    @property
    def ok(self) -> bool:
        return not any(c.fails(self.min_agreement) for c in self._comparisons())

    @property
    def fails_with_every_neighbour(self) -> bool:
        """True when at least one pair was judged and every judged pair fails."""
        judged = [c for c in self.pairs.values() if c.judged]
        return bool(judged) and all(c.fails(self.min_agreement) for c in judged)

    def line(self) -> str:
        parts = [f"view {self.index} ({self.source}):"]
        for other, comparison in sorted(self.pairs.items()):
            parts.append(f"vs {other}: {comparison.describe(self.min_agreement)};")
        if self.recast is not None:
            parts.append(f"mesh: {self.recast.describe(self.min_agreement, occlusions=False)};")
        total = sum(self._comparisons(), Comparison())
        parts.append(f"tolerance {self.tolerance_px:g} px" + (f" (~{total.tolerance:.2g})" if total.agreeing else ""))
        parts.append("FAIL" if not self.ok else "ok" if self.checked else "unchecked")
        return " ".join(parts)


# -- one view, lifted -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PixelRays:
    """A camera model's pixel rays (OpenCV camera axes, float64): ``origins``, ``directions`` (H, W, 3)
    and ``valid`` (H, W) as :meth:`CameraModel.depth_rays` gives them, and how far apart neighbouring
    rays lie: at depth d, pixel (v, u) and its neighbour along an image axis are
    ``origin_step + d * direction_step`` apart (each (2, H, W): along u, along v).  Every model has
    parallel rays (orthographic: direction_step 0) or one centre (origin_step 0), for which this is exact."""

    origins: np.ndarray
    directions: np.ndarray
    valid: np.ndarray
    origin_step: np.ndarray
    direction_step: np.ndarray

    @classmethod
    def of(cls, model: CameraModel) -> PixelRays:
        origins, directions, valid = model.depth_rays()
        steps = [np.stack([_step(array, valid, axis) for axis in (1, 0)]) for array in (origins, directions)]
        return cls(origins, directions, valid, *steps)


def _step(array, valid, axis: int) -> np.ndarray:
    """|array[neighbour] - array| along ``axis`` (the smaller of its two sides that have a ray), NaN for none."""
    difference = np.linalg.norm(np.diff(array, axis=axis), axis=-1)
    both = np.diff(valid.astype(np.int8), axis=axis) == 0
    difference = np.where(both & np.delete(valid, -1, axis=axis), difference, np.nan)
    pad = [(0, 0), (0, 0)]
    pad[axis] = (0, 1)
    after = np.pad(difference, pad, constant_values=np.nan)
    pad[axis] = (1, 0)
    before = np.pad(difference, pad, constant_values=np.nan)
    return np.fmin(after, before)


@dataclass(eq=False)
class LiftedView:
    """One view's depth lifted to 3D in its own OpenCV camera frame (see the module docstring).

    Per image pixel: ``index`` (H, W) the row of a surface pixel in the per-surface arrays, -1 where
    there is none, and ``rays.valid`` where the model has a ray.  Per surface pixel (N rows):
    ``depth``, ``points`` (N, 3), ``normals`` (4, N, 3) the quadrant planes' unit normals facing the
    camera with ``planes`` (4, N) where they are planes, ``footprint`` the distance between
    neighbouring pixel rays at that depth (scene units) and ``smooth``: all 8 neighbours are surface
    and every quadrant inside the image is a plane.
    """

    model: CameraModel
    world_to_camera: np.ndarray
    rays: PixelRays
    index: np.ndarray
    depth: np.ndarray
    points: np.ndarray
    normals: np.ndarray
    planes: np.ndarray
    footprint: np.ndarray
    smooth: np.ndarray
    clip: tuple[float, float]


def _neighbour(index, rows, columns, du: int, dv: int) -> tuple[np.ndarray, np.ndarray]:
    """(row of the neighbour (du, dv) of each pixel in the per-surface arrays, -1 for none; inside the image)."""
    height, width = index.shape
    u, v = columns + du, rows + dv
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    return np.where(inside, index[np.clip(v, 0, height - 1), np.clip(u, 0, width - 1)], -1), inside


def lift_view(depth, model: CameraModel, world_to_camera, clip=(0.0, math.inf), rays: PixelRays | None = None) -> LiftedView:
    """:class:`LiftedView` of ``depth`` (the model's depth kind, +inf = no surface) seen by ``model``
    (``rays``: its :class:`PixelRays`, when already computed)."""
    depth = np.asarray(depth)
    height, width = depth.shape
    if (model.width, model.height) != (width, height):
        raise DepthViewsError(f"depth is {width}x{height} pixels but the camera is {model.width}x{model.height}")
    rays = rays or PixelRays.of(model)
    with np.errstate(invalid="ignore"):
        surface = rays.valid & np.isfinite(depth) & (depth > 0)
    rows, columns = np.nonzero(surface)
    index = np.full((height, width), -1, dtype=np.int64)
    index[rows, columns] = np.arange(len(rows))
    values = depth[rows, columns].astype(np.float64)
    directions = rays.directions[rows, columns]
    points = rays.origins[rows, columns] + values[:, None] * directions
    ray_unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    edge_on = math.cos(math.radians(EDGE_ON_DEG))
    normals = np.zeros((4, len(rows), 3), dtype=np.float32)
    planes = np.zeros((4, len(rows)), dtype=bool)
    smooth = np.ones(len(rows), dtype=bool)
    for k, (du, dv) in enumerate(_QUADRANTS):
        along_u, inside_u = _neighbour(index, rows, columns, du, 0)
        along_v, inside_v = _neighbour(index, rows, columns, 0, dv)
        both = (along_u >= 0) & (along_v >= 0)
        normal = np.cross(points[along_u] - points, points[along_v] - points)
        length = np.linalg.norm(normal, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            normal = normal / length
            facing = np.sum(normal * ray_unit, axis=1)
        normals[k] = np.where((facing > 0)[:, None], -normal, normal)   # towards the camera
        planes[k] = both & (np.abs(facing) >= edge_on)
        smooth &= planes[k] | ~(inside_u & inside_v)    # a quadrant running off the image is unknown, not an edge
    for dv, du in _WINDOW:
        neighbour, inside = _neighbour(index, rows, columns, du, dv)
        smooth &= (neighbour >= 0) | ~inside
    footprint = np.max(rays.origin_step[:, rows, columns] + values * rays.direction_step[:, rows, columns], axis=0)
    return LiftedView(model, np.asarray(world_to_camera, dtype=np.float64), rays, index, values, points, normals,
                      planes, footprint, smooth, (float(clip[0]), float(clip[1])))


def _to_world(view: LiftedView, camera_points) -> np.ndarray:
    rotation, translation = view.world_to_camera[:3, :3], view.world_to_camera[:3, 3]
    return (camera_points - translation) @ rotation      # the inverse of a rigid world_to_camera


def compare_into(a: LiftedView, b: LiftedView, tolerance_px: float) -> Comparison:
    """View a's points judged against view b's surface (one direction; see the module docstring)."""
    world = _to_world(a, a.points[a.smooth])
    in_b = world @ b.world_to_camera[:3, :3].T + b.world_to_camera[:3, 3]
    uv, ok = b.model.project(in_b)
    height, width = b.index.shape
    with np.errstate(invalid="ignore"):
        expected = b.model.depth_of(in_b)
        ok &= (expected > b.clip[0] * (1 + 1e-6)) & (expected < b.clip[1] * (1 - 1e-6))
        iu, iv = np.rint(uv[:, 0]), np.rint(uv[:, 1])
        ok &= (iu >= 0) & (iu < width) & (iv >= 0) & (iv < height)
    iu, iv = iu[ok].astype(np.int64), iv[ok].astype(np.int64)
    keep = b.rays.valid[iv, iu]
    points, expected, iu, iv = in_b[ok][keep], expected[ok][keep], iu[keep], iv[keep]
    result = Comparison()
    for start in range(0, len(points), CHUNK):
        x, u0, v0 = points[start:start + CHUNK], iu[start:start + CHUNK], iv[start:start + CHUNK]
        depth = expected[start:start + CHUNK]
        best = np.full(len(x), np.inf)            # smallest |distance| / tolerance over the candidate planes
        best_signed = np.zeros(len(x))            # that plane's signed distance: > 0 in front (towards b)
        best_tolerance = np.full(len(x), np.nan)
        edge = np.zeros(len(x), bool)
        background = np.ones(len(x), bool)
        behind_all = np.ones(len(x), bool)        # every pixel of the window sees something nearer
        for dv, du in _WINDOW:
            u, v = u0 + du, v0 + dv
            inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
            u, v = np.clip(u, 0, width - 1), np.clip(v, 0, height - 1)
            seen = inside & b.rays.valid[v, u]
            row = b.index[v, u]
            surface = seen & (row >= 0)
            row = np.where(surface, row, 0)
            edge |= ~surface | ~b.smooth[row]
            background &= seen & ~surface
            tolerance = np.where(surface, tolerance_px * b.footprint[row], np.nan)
            with np.errstate(invalid="ignore"):
                behind_all &= surface & (b.depth[row] + tolerance < depth)
            signed = np.einsum("knj,nj->kn", b.normals[:, row], (x - b.points[row]).astype(np.float32))
            with np.errstate(invalid="ignore"):
                ratio = np.where(surface & b.planes[:, row], np.abs(signed) / tolerance, np.inf)   # (4 quadrants, n)
            k = np.argmin(ratio, axis=0)
            ratio, signed = np.take_along_axis(ratio, k[None], 0)[0], np.take_along_axis(signed, k[None], 0)[0]
            better = ratio < best
            best = np.where(better, ratio, best)
            best_signed = np.where(better, signed, best_signed)
            best_tolerance = np.where(better, tolerance, best_tolerance)
        agree = best <= 1.0
        background &= ~agree
        # behind b's local surface (a smooth window), or behind every pixel of a window at an edge
        occluded = ~agree & ~background & np.where(edge, behind_all, best_signed < 0)
        excluded = ~agree & ~background & ~occluded & edge
        compared = ~excluded & ~occluded
        result = result + Comparison(int(compared.sum()), int(agree.sum()), int(occluded.sum()),
                                     int(excluded.sum()), [best_tolerance[agree]],
                                     [np.minimum(best[compared], 1e3) * tolerance_px])
    return result


# -- the mesh re-cast -------------------------------------------------------------------------------
def recast_view(view: LiftedView, mesh, tolerance_px: float) -> Comparison:
    """``view``'s depth against a ray cast of ``mesh`` through the same pixel rays (module docstring)."""
    rays = view.rays
    rotation_c2w = view.world_to_camera[:3, :3].T
    centre = -rotation_c2w @ view.world_to_camera[:3, 3]
    flat = rays.valid.reshape(-1)
    unit = rays.directions.reshape(-1, 3)[flat]
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    world_origins = rays.origins.reshape(-1, 3)[flat] @ rotation_c2w.T + centre
    locations, ray_index, triangle = mesh.ray.intersects_location(world_origins, unit @ rotation_c2w.T,
                                                                  multiple_hits=False)
    height, width = view.index.shape
    pixels = np.flatnonzero(flat)[ray_index]
    cast_depth = view.model.depth_of((locations - centre) @ rotation_c2w)   # camera frame
    cast_hit = np.zeros(height * width, bool)
    cast_hit[pixels] = cast_depth < view.clip[1]      # the render's far clip hides what lies beyond it
    too_near = np.zeros(height * width, bool)         # the render sees past what lies nearer than its near clip
    too_near[pixels] = cast_depth <= view.clip[0]
    row = view.index.reshape(-1)
    surface = row >= 0
    smooth = surface & view.smooth[np.where(surface, row, 0)]
    # the rendered point's distance from the hit triangle's plane, in pixel footprints
    both = surface[pixels]
    rendered = view.points[row[pixels[both]]] @ rotation_c2w.T + centre
    ratio = np.full(height * width, np.inf)
    ratio[pixels[both]] = (np.abs(np.einsum("ij,ij->i", mesh.face_normals[triangle[both]], rendered - locations[both]))
                           / view.footprint[row[pixels[both]]])
    near_change = np.zeros(height * width, bool)
    for image in (cast_hit.reshape(height, width), surface.reshape(height, width)):
        for dv, du in _WINDOW:
            near_change |= (_shifted(image, du, dv) != image).reshape(-1)
    either = (cast_hit | surface) & flat
    excluded = either & (near_change | (surface & ~smooth) | too_near)
    compared = either & ~excluded
    with np.errstate(invalid="ignore"):
        agree = compared & cast_hit & (ratio <= RECAST_TOLERANCE_SHARE * tolerance_px)
    tolerance = RECAST_TOLERANCE_SHARE * tolerance_px * view.footprint[row[agree]]
    return Comparison(int(compared.sum()), int(agree.sum()), 0, int(excluded.sum()), [tolerance],
                      [np.minimum(ratio[compared], 1e3)])


def _shifted(image, du: int, dv: int) -> np.ndarray:
    """``image[v + dv, u + du]`` at every (v, u); the image's own value outside it."""
    out = image.copy()
    height, width = image.shape
    out[max(0, -dv):height - max(0, dv), max(0, -du):width - max(0, du)] = \
        image[max(0, dv):height - max(0, -dv) or None, max(0, du):width - max(0, -du) or None]
    return out


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


# -- a folder ---------------------------------------------------------------------------------------
class _Views:
    """The views of an output folder, lifted on demand; at most ``keep`` stay in memory (with the
    pixel rays of a few camera models), so a folder of many large views does not fill the memory."""

    def __init__(self, folder: str, keep: int):
        self.folder = folder
        self.cameras = load_cameras(folder)
        self.where = os.path.join(folder, CAMERAS_FILE)
        if not self.cameras["views"]:
            raise DepthViewsError(f"{self.where}: holds no views")
        self.keep = keep
        self.lifted: dict[int, LiftedView] = {}
        self.rays = PerModel(PixelRays.of, keep=4)
        for view in self.cameras["views"]:
            if "depth" not in view.get("files", {}):
                raise DepthViewsError(f"{folder}: view {view['index']} has no depth EXR to check")

    def __len__(self) -> int:
        return len(self.cameras["views"])

    def __getitem__(self, i: int) -> LiftedView:
        if i in self.lifted:
            self.lifted[i] = self.lifted.pop(i)              # most recently used last
            return self.lifted[i]
        cameras, view = self.cameras, self.cameras["views"][i]
        model = CameraModel.from_document(cameras, view, source=self.where)
        path = os.path.join(self.folder, view["files"]["depth"])
        depth = read_depth(path, allow_constant=True)
        if depth.shape != (model.height, model.width):
            raise DepthViewsError(f"{path}: {depth.shape[1]}x{depth.shape[0]} pixels, but {CAMERAS_FILE} says "
                                  f"{model.width}x{model.height} for view {view['index']}")
        clip = (view.get("clip_start", cameras.get("clip_start")) or 0.0,
                view.get("clip_end", cameras.get("clip_end")) or math.inf)
        if len(self.lifted) >= self.keep:
            self.lifted.pop(next(iter(self.lifted)))
        self.lifted[i] = lift_view(depth, model, view["world_to_camera"], clip, self.rays(model))
        return self.lifted[i]


def check_folder(folder: str, *, mesh_path: str | None = None, tolerance: float = DEFAULT_TOLERANCE,
                 min_agreement: float = DEFAULT_MIN_AGREEMENT, neighbours: int = DEFAULT_NEIGHBOURS) -> list[ViewCheck]:
    """One :class:`ViewCheck` per view of the output ``folder`` (see the module docstring).

    ``tolerance`` is in pixel footprints.
    """
    lifted = _Views(folder, keep=max(KEEP_LIFTED, neighbours + 1))
    views = lifted.cameras["views"]
    directions = np.stack([np.asarray(view["world_to_camera"], dtype=np.float64)[2, :3] for view in views])
    mesh = load_check_mesh(mesh_path, lifted.cameras.get("object_to_world")) if mesh_path is not None else None
    pairs: dict[tuple[int, int], Comparison] = {}
    results = []
    for i, view in enumerate(views):
        result = ViewCheck(index=view["index"], source=view.get("source") or view["files"]["depth"],
                           min_agreement=min_agreement, tolerance_px=tolerance)
        order = [int(j) for j in np.argsort(-(directions @ directions[i]), kind="stable") if j != i][:neighbours]
        for j in order:
            key = (min(i, j), max(i, j))
            if key not in pairs:
                pairs[key] = compare_into(lifted[i], lifted[j], tolerance) + compare_into(lifted[j], lifted[i], tolerance)
            result.pairs[views[j]["index"]] = pairs[key]
        if mesh is not None:
            result.recast = recast_view(lifted[i], mesh, tolerance)
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
