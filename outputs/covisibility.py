"""Covisibility between the views of one mesh, from its exact depth and cameras (numpy only).

``c[a][b]``, the covisibility of view a in view b, is the fraction of a's surface pixels whose surface
point b sees: lifted to 3D through a's camera model (``CameraModel.depth_rays``) and moved into b's
camera frame, the point X must

- project into b's image through b's camera model (``CameraModel.project``; a point behind a pinhole
  or outside a fisheye's field of view does not), the nearest pixel q of b being a pixel with a ray
  (pixel (u, v) covers [u - 0.5, u + 0.5) x [v - 0.5, v + 0.5));
- lie inside b's clip range (cameras.json's ``clip_start``/``clip_end``);
- pass b's depth test at q: ``d_b(X) <= D_b[q] + k * footprint_b(q, d_b(X))``, where ``d_b(X)`` is X's
  depth as b's depth map holds it (planar z, or the ray length for fisheye and equirectangular),
  ``D_b[q]`` b's depth at q (+inf where b sees no surface: the test passes, b sees nothing in front of
  X) and ``footprint_b`` the distance between neighbouring pixel rays of b at that depth (z / f for a
  pinhole: one pixel's size).  ``k`` = ``tolerance_px``, 2 pixel footprints by default.

The test is one-sided (an occlusion, or shadow-map, test): X fails only when b sees something nearer.
The denominator is a's surface pixels, so ``c[a][a]`` = 1 and a view with no surface has 0 in its
row (it is blank: coverage 0).  ``c`` is not symmetric; :func:`symmetric` is ``min(c[a][b], c[b][a])``
(CroCo's, to which the thresholds of papers apply).  The relative pose of a pair is
:func:`relative_pose`: camera a's OpenCV frame to camera b's.

Checked against analytic truth (two spheres, all ordered pairs; tests/outputs/test_covisibility.py,
benchmarks/RESULTS.md): k = 2 footprints is within 0.24 % of the true visible fraction on average at
160x120, 0.7 % at 320x240 and 0.9 % at 512x512; a smaller k misses surfaces seen at grazing angles, a
larger k lets hidden points through (a surface less than k footprints behind what b sees counts as
seen).

A's surface pixels are counted on a grid (:func:`sampling_stride`: every pixel up to 4,096 surface
pixels, else every s-th row and column, about 1,000 to 4,096 of them; b's depth is always read at
full resolution), which stays within about 1 % of every pixel at a fraction of the cost.

Cost: :func:`covisibility_matrix` lifts each view once and projects it into every other view (all
targets of one camera model in one product): V (V - 1) pairs of about 4,096 points, 0.4-0.6 ms a pair
on the 2-core test machine, whatever the resolution; memory: the depth maps themselves (float32, 4
bytes a pixel, kept by the render job until the mesh's last view), one view's lifted points and each
camera model's rays.  Measured in benchmarks/RESULTS.md ("Covisibility").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..cameras.models import CameraModel, PerModel
from ..errors import DepthViewsError

DEFAULT_TOLERANCE_PX = 2.0
DIGITS = 6          # stored fractions are rounded to 1e-6 (a pixel of a 1024x1024 view is 9.5e-7)
CHUNK = 1 << 17         # points projected at once (memory: about 100 bytes each)
SAMPLES = 4096          # surface pixels counted per view: every pixel up to this many, a grid beyond
MAX_VIEWS = 256         # a render stores the matrix for meshes of up to this many views
MAX_DEPTH_BYTES = 1 << 28   # ... whose depth maps (kept until the mesh's last view) take up to 256 MiB
DOCUMENT_KEY = "covisibility"
DEFINITION = ("matrix[a][b] = fraction of view a's surface pixels whose surface point projects into view b's "
              "image (nearest pixel q, inside b's clip range) with depth_b(point) <= depth_b[q] + "
              "tolerance_px * pixel_footprint_b(q, depth_b(point)); +inf (no surface) at q passes; 1 on the "
              "diagonal, a view with no surface has a row of 0")


@dataclass(frozen=True, eq=False)
class CovisibilityView:
    """What the computation needs of one view: ``depth`` (H, W) as the model's depth map holds it,
    +inf = no surface; its camera ``model``; ``world_to_camera`` (4x4, OpenCV axes); ``clip``
    (near, far) in the model's depth kind."""

    depth: np.ndarray
    model: CameraModel
    world_to_camera: np.ndarray
    clip: tuple[float, float] = (0.0, math.inf)


def stored_at_render(n_views: int, width: int, height: int) -> bool:
    """Whether a render of ``n_views`` views of ``width`` x ``height`` computes and stores the matrix: up
    to :data:`MAX_VIEWS` views whose float32 depth maps take up to :data:`MAX_DEPTH_BYTES` (256 views at
    512 x 512, 64 at 1024 x 1024); beyond, the reader computes it when asked."""
    return n_views <= MAX_VIEWS and n_views * width * height * 4 <= MAX_DEPTH_BYTES


def relative_pose(world_to_camera_a, world_to_camera_b) -> np.ndarray:
    """``T_ab = world_to_camera_b @ inv(world_to_camera_a)``: a point in camera a's OpenCV frame to
    camera b's (float64 4x4; the inverse of a rigid pose, exact)."""
    a = np.asarray(world_to_camera_a, dtype=np.float64)
    b = np.asarray(world_to_camera_b, dtype=np.float64)
    inverse = np.eye(4)
    inverse[:3, :3] = a[:3, :3].T
    inverse[:3, 3] = -a[:3, :3].T @ a[:3, 3]
    return b @ inverse


def symmetric(matrix) -> np.ndarray:
    """``min(c[a][b], c[b][a])`` of a covisibility matrix (CroCo's symmetric covisibility)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return np.minimum(matrix, matrix.T)


def _model_key(model: CameraModel) -> str:
    return repr(model.to_json())


def _compact(values: np.ndarray):
    """A float when ``values`` (finite where not NaN) is one number up to rounding, else float32 (H, W)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-9 * max(abs(high), 1e-300):
        return high
    return np.nan_to_num(values, nan=0.0).astype(np.float32)


def _steps(valid: np.ndarray, array: np.ndarray) -> np.ndarray:
    """The larger, over the two image axes, of the distance between a pixel's ray value and its
    neighbour's (the nearer side that has a ray; NaN where neither has)."""
    out = np.full(valid.shape, np.nan)
    for axis in (0, 1):
        difference = np.linalg.norm(np.diff(array, axis=axis), axis=-1)
        both = np.delete(valid, -1, axis=axis) & np.delete(valid, 0, axis=axis)
        difference = np.where(both, difference, np.nan)
        pad_after, pad_before = [(0, 0), (0, 0)], [(0, 0), (0, 0)]
        pad_after[axis], pad_before[axis] = (0, 1), (1, 0)
        nearest = np.fmin(np.pad(difference, pad_after, constant_values=np.nan),
                          np.pad(difference, pad_before, constant_values=np.nan))
        out = np.fmax(out, nearest)
    return out


@dataclass(frozen=True, eq=False)
class _Target:
    """A camera model as a view is projected into: which pixels have a ray, and the footprint at depth d,
    ``origin_step + d * direction_step`` (each a float, or float32 (H, W) where it varies)."""

    valid: np.ndarray
    origin_step: object
    direction_step: object

    @classmethod
    def of(cls, model: CameraModel, rays) -> _Target:
        origins, directions, valid = rays
        return cls(valid, _compact(_steps(valid, origins)), _compact(_steps(valid, directions)))

    def footprint(self, pixels, depth) -> np.ndarray:
        """At the flat pixel indices ``pixels`` (row * width + column), at ``depth``."""
        origin = self.origin_step if isinstance(self.origin_step, float) else self.origin_step.reshape(-1)[pixels]
        direction = self.direction_step if isinstance(self.direction_step, float) else \
            self.direction_step.reshape(-1)[pixels]
        return origin + depth * direction


class _Models:
    """Each camera model's rays (the last few) and its :class:`_Target` (every model met)."""

    def __init__(self, keep: int = 2):
        self.rays_of = PerModel(CameraModel.depth_rays, keep)
        self.target_of = PerModel(lambda model: _Target.of(model, self.rays_of(model)))


def _check(view: CovisibilityView, index: int) -> np.ndarray:
    depth = np.asarray(view.depth)
    if depth.shape != (view.model.height, view.model.width):
        raise DepthViewsError(f"covisibility: view {index}'s depth is {depth.shape[1]}x{depth.shape[0]} pixels "
                              f"but its camera is {view.model.width}x{view.model.height}")
    return depth


def sampling_stride(surface_pixels: int, samples: int | None = SAMPLES) -> int:
    """The stride s of the pixel grid a view's surface pixels are counted on: every pixel (s = 1) for
    up to ``samples`` surface pixels (or with ``samples=None``), else the smallest s whose grid holds at
    most about that many, s = ceil(sqrt(surface_pixels / samples))."""
    if samples is None or surface_pixels <= samples:
        return 1
    stride = math.isqrt(surface_pixels // samples)
    while stride * stride * samples < surface_pixels:
        stride += 1
    return stride


def covisibility_matrix(views: list[CovisibilityView], tolerance_px: float = DEFAULT_TOLERANCE_PX, *,
                        samples: int | None = SAMPLES) -> np.ndarray:
    """The V x V matrix ``c[a][b]`` of ``views`` (float64; see the module docstring for the definition).

    A's surface pixels are counted on the grid of :func:`sampling_stride` (every pixel up to
    ``samples`` surface pixels; ``samples=None``: every pixel at any size), offset by s // 2 so that it
    is centred; b's depth is always read at full resolution.
    """
    if not (isinstance(tolerance_px, (int, float)) and math.isfinite(tolerance_px) and tolerance_px >= 0):
        raise DepthViewsError(f"covisibility tolerance {tolerance_px!r}: must be a number of pixel footprints >= 0")
    count = len(views)
    matrix = np.zeros((count, count))
    models = _Models()
    depths = [_check(view, i) for i, view in enumerate(views)]
    groups: dict[str, list[int]] = {}          # views whose camera model is the same: projected together
    for index, view in enumerate(views):
        groups.setdefault(_model_key(view.model), []).append(index)
    targets = {key: models.target_of(views[members[0]].model) for key, members in groups.items()}
    poses = np.stack([np.asarray(view.world_to_camera, dtype=np.float64) for view in views]) if views else None
    for a, view_a in enumerate(views):
        origins, directions, valid = models.rays_of(view_a.model)
        with np.errstate(invalid="ignore"):
            surface = valid & np.isfinite(depths[a]) & (depths[a] > 0)
        stride = sampling_stride(int(np.count_nonzero(surface)), samples)
        offset = stride // 2
        rows, columns = np.nonzero(surface[offset::stride, offset::stride])
        if rows.size == 0:
            continue                                   # a blank view: its row stays 0
        rows, columns = rows * stride + offset, columns * stride + offset
        values = depths[a][rows, columns].astype(np.float64)[:, None]
        points = origins[rows, columns] + values * directions[rows, columns]   # camera a's frame
        world = np.ones((len(points), 4))                                      # homogeneous world points
        world[:, :3] = (points - poses[a, :3, 3]) @ poses[a, :3, :3]           # the inverse of a rigid pose
        chunk = max(1, CHUNK // rows.size)              # targets projected at once
        for key, members in groups.items():
            others = [b for b in members if b != a]
            for start in range(0, len(others), chunk):
                part = others[start:start + chunk]
                seen = _seen(world, [views[b] for b in part], [depths[b] for b in part], poses[part],
                             targets[key], tolerance_px)
                matrix[a, part] = seen / rows.size
        matrix[a, a] = 1.0
    return matrix


def _seen(world: np.ndarray, views: list[CovisibilityView], depths: list, poses: np.ndarray, target: _Target,
          tolerance_px: float) -> np.ndarray:
    """How many of the ``world`` points each of ``views`` (one camera model, ``target``) sees."""
    model = views[0].model
    count, n = len(views), len(world)
    # one product for every target: column block j of (4, 3 count) is target j's [R | t] transposed
    in_b = np.dot(world, poses[:, :3, :].transpose(2, 0, 1).reshape(4, -1))
    in_b = in_b.reshape(n, count, 3).transpose(1, 0, 2).reshape(-1, 3)      # target by target
    uv, ok = model.project(in_b)
    expected = model.depth_of(in_b)
    clips = {view.clip for view in views}
    near, far = clips.pop() if len(clips) == 1 else (np.repeat([v.clip[0] for v in views], n),
                                                     np.repeat([v.clip[1] for v in views], n))
    with np.errstate(invalid="ignore"):
        u, v = uv[:, 0], uv[:, 1]       # a loose test first: the exact one below runs on what is left
        ok &= (u > -1) & (u < model.width) & (v > -1) & (v < model.height) & (expected > near) & (expected < far)
    keep = np.flatnonzero(ok)
    column, row = np.floor(u[keep] + 0.5), np.floor(v[keep] + 0.5)   # the nearest pixel
    inside = (column >= 0) & (column < model.width) & (row >= 0) & (row < model.height)
    keep, column, row = keep[inside], column[inside].astype(np.int64), row[inside].astype(np.int64)
    flat = row * model.width + column
    valid = target.valid.reshape(-1)[flat]
    keep, flat, expected = keep[valid], flat[valid], expected[keep[valid]]
    bounds = np.searchsorted(keep, np.arange(count + 1) * n)
    seen = np.empty(len(keep))
    for g, depth in enumerate(depths):
        seen[bounds[g]:bounds[g + 1]] = depth.reshape(-1)[flat[bounds[g]:bounds[g + 1]]]
    with np.errstate(invalid="ignore"):
        passes = (expected <= seen + tolerance_px * target.footprint(flat, expected)) | ~(seen > 0)
    return np.bincount(keep[passes] // n, minlength=count)   # +inf (no surface) passes, as 0 and NaN


# -- cameras.json ---------------------------------------------------------------------------------
def document_views(document: dict, depths, *, source: str = "cameras.json") -> list[CovisibilityView]:
    """The :class:`CovisibilityView` of each view of a cameras.json ``document`` (each view's own
    camera model, pose and the document's clip range), with ``depths`` in the order of its views."""
    views = document.get("views", [])
    if len(depths) != len(views):
        raise DepthViewsError(f"{source}: {len(views)} views but {len(depths)} depth maps for the covisibility")
    near = document.get("clip_start") or 0.0
    far = document.get("clip_end") or math.inf
    return [CovisibilityView(np.asarray(depth), CameraModel.from_document(document, view, source=source),
                             np.asarray(view["world_to_camera"], dtype=np.float64),
                             (float(view.get("clip_start", near)), float(view.get("clip_end", far))))
            for view, depth in zip(views, depths)]


def covisibility_entry(document: dict, depths, tolerance_px: float = DEFAULT_TOLERANCE_PX, *,
                       source: str = "cameras.json") -> dict:
    """What a cameras.json stores under ``covisibility`` for ``document``'s views and their ``depths``:
    ``matrix`` (rows a, columns b, in the order of ``views``, rounded to :data:`DIGITS` decimals),
    ``views`` (their indices), ``tolerance_px``, ``samples`` (:func:`sampling_stride`), ``depth_test``,
    ``pixel``, ``definition`` and ``symmetric`` (how the symmetric form is made)."""
    matrix = covisibility_matrix(document_views(document, depths, source=source), tolerance_px)
    return {"matrix": [[round(float(value), DIGITS) for value in row] for row in matrix],
            "views": [int(view["index"]) for view in document.get("views", [])],
            "tolerance_px": float(tolerance_px), "depth_test": "occlusion", "pixel": "nearest",
            "samples": SAMPLES, "definition": DEFINITION, "symmetric": "min(matrix[a][b], matrix[b][a])"}


def stored_matrix(document: dict) -> np.ndarray | None:
    """The covisibility matrix a cameras.json ``document`` stores, in the order of its ``views``
    (float64 V x V), or None when it has none (rendered before covisibility was stored)."""
    entry = document.get(DOCUMENT_KEY)
    if not isinstance(entry, dict) or "matrix" not in entry:
        return None
    matrix = np.asarray(entry["matrix"], dtype=np.float64)
    order = [int(view["index"]) for view in document.get("views", [])]
    if matrix.shape != (len(order), len(order)):
        return None
    stored_order = [int(i) for i in entry.get("views", order)]
    if stored_order != order:
        where = {index: position for position, index in enumerate(stored_order)}
        if set(where) != set(order):
            return None
        positions = [where[index] for index in order]
        matrix = matrix[np.ix_(positions, positions)]
    return matrix


def pointmap(depth, model: CameraModel, transform=None, rays=None) -> np.ndarray:
    """The surface point of every pixel of ``depth`` (``model``'s depth kind, +inf = no surface),
    lifted through ``model`` into its OpenCV camera frame and moved by the 4x4 ``transform`` (default:
    none): float32 (H, W, 3), NaN where there is no surface, computed in float64 and rounded once.
    ``rays``: ``model.depth_rays()`` when already computed.

    ``pointmap(depth_b, model_b, relative_pose(w2c_b, w2c_a))`` is b's surface in camera a's frame
    (DUSt3R's X^{2,1}); ``pointmap(depth_a, model_a)`` a's own (X^{1,1})."""
    depth = np.asarray(depth)
    if depth.shape != (model.height, model.width):
        raise DepthViewsError(f"depth is {depth.shape[1]}x{depth.shape[0]} pixels but the camera is "
                              f"{model.width}x{model.height}")
    origins, directions, valid = rays if rays is not None else model.depth_rays()
    with np.errstate(invalid="ignore"):
        surface = valid & np.isfinite(depth) & (depth > 0)
    rows, columns = np.nonzero(surface)
    points = origins[rows, columns] + depth[rows, columns].astype(np.float64)[:, None] * directions[rows, columns]
    if transform is not None:
        transform = np.asarray(transform, dtype=np.float64)
        points = points @ transform[:3, :3].T + transform[:3, 3]
    out = np.full(depth.shape + (3,), np.nan, dtype=np.float32)
    out[rows, columns] = points
    return out
