"""Views as multi-view training wants them: per-mesh groups of k views and view pairs (numpy only).

:class:`~depth_views.datasets.DepthViews` with ``groups=`` or ``pairs=`` reads a unit (a shard or a
mesh folder) one mesh at a time (:func:`unit_meshes`: the mesh's samples and its cameras.json
document), picks groups or pairs with the mesh's covisibility matrix (stored at render time, see
:mod:`depth_views.outputs.covisibility`; computed here from the depth for renders made before it),
and builds the samples:

- a **group** (:func:`group_sample`): one sample per mesh, the per-view arrays of its k views stacked
  along a first axis (``depth`` (k, H, W), ``K`` (k, 3, 3), ``view_index`` (k,), ...), the mesh's
  values once, and ``covisibility`` (k, k) among them;
- a **pair** (:func:`pair_sample`): ``a`` and ``b`` (two view samples), ``relative_pose`` (camera a's
  OpenCV frame to b's), ``covisibility_ab``, ``covisibility_ba``, ``covisibility`` (their min), and
  ``xyz_a_in_a``, ``xyz_b_in_a`` (each view's surface points in camera a's frame, NaN = none).

Which views, decided by :class:`Selection` from the matrix alone (so counts are known without reading
the arrays, for ``equal_counts``): ``allowed[a][b]`` = a != b, both views have a surface, and
``min(c_ab, c_ba)`` is within ``[min_covisibility, max_covisibility]``.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..cameras.cameras_json import load_cameras
from ..cameras.models import CameraModel, PerModel
from ..errors import DepthViewsError
from ..outputs import covisibility, shards

PAIR_MODES = ("each", "all")
PER_VIEW = ("depth", "distance", "normal", "mask", "rgb", "rgb_linear", "xyz", "K", "world_to_camera",
            "camera_to_world")   # stacked in a group; every other field is the mesh's, given once
CAMERA_FIELDS = ("camera_model", "K", "width", "height", "fisheye_fov_deg", "longitude_range_deg",
                 "latitude_range_deg", "ortho_scale")


# -- reading a unit mesh by mesh ------------------------------------------------------------------
def unit_meshes(unit: tuple[str, str], passes=None) -> Iterator[tuple[dict, list[dict]]]:
    """``(cameras document, samples in view order)`` of every mesh of ``unit`` (a shard or a mesh
    folder), one mesh in memory at a time.  The document has ``name``."""
    from . import folder_samples   # the package's reader of one folder

    kind, path = unit
    if kind == "folder":
        samples = list(folder_samples(path, passes))
        yield {**load_cameras(path), "name": os.path.basename(path)}, samples
        return
    current, samples, document = None, [], None
    for key, members in shards.iter_shard(path, meta=True):
        if shards.is_meta(key):
            document = json.loads(members[shards.CAMERAS_MEMBER])
            if samples and document.get("name") == current:
                yield document, samples
                current, samples, document = None, [], None
            continue
        name = shards.split_key(key)[0]
        if name != current and samples:     # a shard written before the hidden member (issue 21)
            yield document or {"name": current}, samples
            samples, document = [], None
        current = name
        if shards.CAMERAS_MEMBER in members:
            document = json.loads(members[shards.CAMERAS_MEMBER])
        if passes is not None:
            members = {e: d for e, d in members.items() if e == "json" or e.partition(".")[0] in passes}
        sample = shards.decode_sample(key, members, mesh_views=len(document.get("views", [])) if document else None)
        sample["shard"] = path
        samples.append(sample)
    if samples:
        yield document or {"name": current}, samples


def unit_documents(unit: tuple[str, str]) -> list[dict]:
    """The cameras.json document of every mesh of ``unit``, read without its arrays (a shard's tar
    headers and hidden members; a folder's cameras.json)."""
    kind, path = unit
    if kind == "folder":
        return [{**load_cameras(path), "name": os.path.basename(path)}]
    return [record["cameras"] for record in shards.shard_meshes(path)]


def sample_model(document: dict, sample: dict) -> CameraModel:
    """View ``sample``'s camera model: from its entry in ``document`` (cameras.json), else from the
    camera fields of the sample itself."""
    entry = next((v for v in document.get("views", []) if v.get("index") == sample["view_index"]), None)
    source = f"{document.get('name', sample.get('name', ''))} cameras.json"
    if entry is not None and ("K" in document or "camera_model" in document):
        return CameraModel.from_document(document, entry, source=source)
    fields = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in sample.items() if k in CAMERA_FIELDS}
    fields.setdefault("height", sample["depth"].shape[0])    # shards written before the json had them
    fields.setdefault("width", sample["depth"].shape[1])
    return CameraModel.from_document(fields, source=source)


def mesh_matrix(document: dict, samples: list[dict]) -> np.ndarray:
    """The covisibility matrix of ``samples`` (in their order): the one ``document`` stores, else (a
    render made before it was stored) computed from their depth with the same definition."""
    stored = covisibility.stored_matrix(document)
    order = [int(view["index"]) for view in document.get("views", [])]
    indices = [int(sample["view_index"]) for sample in samples]
    if stored is not None and set(indices) <= set(order):
        positions = [order.index(index) for index in indices]
        return stored[np.ix_(positions, positions)]
    near, far = document.get("clip_start") or 0.0, document.get("clip_end") or math.inf
    views = [covisibility.CovisibilityView(sample["depth"], sample_model(document, sample),
                                           np.asarray(sample["world_to_camera"], dtype=np.float64), (near, far))
             for sample in samples]
    return covisibility.covisibility_matrix(views)


# -- which views ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """What the reader yields: ``groups`` (k views a mesh, or ``"all"``) or ``pairs`` (``"each"``: every
    view once as a with one b drawn among its partners; ``"all"``: every allowed ordered pair), and
    the range of the symmetric covisibility ``min(c_ab, c_ba)`` that pairs, and the views a group is
    grown with, must be in."""

    groups: int | str | None = None
    pairs: str | None = None
    min_covisibility: float = 0.0
    max_covisibility: float = 1.0

    def __post_init__(self):
        if self.groups is not None and self.pairs is not None:
            raise DepthViewsError("DepthViews: groups= and pairs= are two ways of reading; choose one")
        if self.groups is not None and self.groups != "all" and not (
                isinstance(self.groups, int) and not isinstance(self.groups, bool) and self.groups >= 1):
            raise DepthViewsError(f"DepthViews: groups={self.groups!r}; give a number of views >= 1, or 'all'")
        if self.pairs is not None and self.pairs not in PAIR_MODES:
            raise DepthViewsError(f"DepthViews: pairs={self.pairs!r}; choose one of {', '.join(PAIR_MODES)}")
        low, high = self.min_covisibility, self.max_covisibility
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in (low, high)) \
                or not 0.0 <= low <= high <= 1.0:
            raise DepthViewsError(f"DepthViews: min_covisibility {low!r}, max_covisibility {high!r}: need "
                                  "0 <= min <= max <= 1")
        if (low, high) != (0.0, 1.0) and self.groups is None and self.pairs is None:
            raise DepthViewsError("DepthViews: min_covisibility/max_covisibility select pairs or groups; "
                                  "give pairs= or groups=")

    @property
    def active(self) -> bool:
        return self.groups is not None or self.pairs is not None

    @property
    def needs_matrix(self) -> bool:
        """Whether the choice depends on the covisibility (pairs always carry it; groups only in a range)."""
        return self.pairs is not None or (self.groups not in (None, "all")
                                          and (self.min_covisibility, self.max_covisibility) != (0.0, 1.0))

    def allowed(self, matrix: np.ndarray, blank: np.ndarray) -> np.ndarray:
        """``allowed[a][b]``: a != b, neither blank, symmetric covisibility in range."""
        both = covisibility.symmetric(matrix)
        ok = (both >= self.min_covisibility) & (both <= self.max_covisibility)
        ok &= ~np.eye(len(matrix), dtype=bool) & ~blank[:, None] & ~blank[None, :]
        return ok

    def group(self, views: int, matrix: np.ndarray | None, blank: np.ndarray, rng: random.Random) -> list | None:
        """The positions of one group of the mesh's views (in the order drawn), or None when it has no
        group: ``"all"`` is every view in view order; k views are drawn from the views with a surface,
        the first at random, each next one at random among those allowed with a view already drawn."""
        if self.groups == "all":
            return list(range(views)) if views else None
        k = self.groups
        candidates = [v for v in range(views) if not blank[v]]
        if matrix is None or not self.needs_matrix:
            return rng.sample(candidates, k) if len(candidates) >= k else None
        allowed = self.allowed(matrix, blank)
        starts = [v for component in _components(allowed, candidates) if len(component) >= k for v in component]
        if not starts:
            return None
        chosen = [rng.choice(sorted(starts))]
        while len(chosen) < k:
            reachable = sorted(set(np.flatnonzero(allowed[chosen].any(axis=0)).tolist()) - set(chosen))
            chosen.append(rng.choice(reachable))
        return chosen

    def group_count(self, views: int, matrix, blank) -> int:
        """1 when the mesh has a group (:meth:`group`), else 0 (the same for every draw)."""
        if self.groups == "all":
            return int(views > 0)
        candidates = [v for v in range(views) if not blank[v]]
        if matrix is None or not self.needs_matrix:
            return int(len(candidates) >= self.groups)
        return int(any(len(c) >= self.groups for c in _components(self.allowed(matrix, blank), candidates)))

    def pair_list(self, matrix: np.ndarray, blank: np.ndarray, rng: random.Random) -> list[tuple[int, int]]:
        """The mesh's pairs ``(a, b)`` (positions): ``"all"``: every allowed ordered pair, a then b in
        view order; ``"each"``: each view with a partner once as a, in view order, with b drawn among
        its partners."""
        allowed = self.allowed(matrix, blank)
        if self.pairs == "all":
            return [(int(a), int(b)) for a, b in zip(*np.nonzero(allowed))]
        return [(a, rng.choice(np.flatnonzero(allowed[a]).tolist())) for a in range(len(matrix)) if allowed[a].any()]

    def pair_count(self, matrix: np.ndarray, blank: np.ndarray) -> int:
        allowed = self.allowed(matrix, blank)
        return int(allowed.sum()) if self.pairs == "all" else int(allowed.any(axis=1).sum())

    def count(self, document: dict, matrix) -> int:
        """How many samples a mesh gives (its ``document``; ``matrix`` when :attr:`needs_matrix`)."""
        views = len(document.get("views", []))
        blank = document_blank(document)
        if self.pairs is not None:
            return self.pair_count(matrix, blank)
        return self.group_count(views, matrix, blank)


def _components(allowed: np.ndarray, candidates: list[int]) -> list[list[int]]:
    """The connected components of the graph ``allowed`` over ``candidates``."""
    left, components = set(candidates), []
    while left:
        start = min(left)
        component, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for other in np.flatnonzero(allowed[node]).tolist():
                if other in left and other not in component:
                    component.add(other)
                    frontier.append(other)
        left -= component
        components.append(sorted(component))
    return components


def document_blank(document: dict) -> np.ndarray:
    """Which of ``document``'s views see no surface (coverage 0; a document without coverage: none)."""
    return np.array([view.get("coverage") == 0 for view in document.get("views", [])], dtype=bool)


def mesh_rng(seed: int, epoch: int, name: str) -> random.Random:
    """The draws of one mesh in one epoch: the same in every process (a str seed is hashed with SHA-512)."""
    return random.Random(f"{seed}/{epoch}/{name}")


# -- samples --------------------------------------------------------------------------------------
def group_sample(samples: list[dict], positions: list[int], matrix: np.ndarray) -> dict:
    """One group: the per-view fields of ``samples[positions]`` stacked (:data:`PER_VIEW`, and
    ``view_index`` int64 (k,), ``coverage`` float64 (k,)), the mesh's fields once, ``key`` the mesh's
    key, and ``covisibility`` (k, k) float64 among the k views in their order."""
    chosen = [samples[p] for p in positions]
    first = chosen[0]
    group = {}
    for field, value in first.items():
        if field in PER_VIEW:
            group[field] = np.stack([s[field] for s in chosen])
        elif field == "view_index":
            group[field] = np.array([s[field] for s in chosen], dtype=np.int64)
        elif field == "coverage":
            group[field] = np.array([s[field] for s in chosen], dtype=np.float64)
        elif field == "key":
            group[field] = value.rpartition("/")[0]
        else:
            group[field] = value
    group["covisibility"] = np.asarray(matrix, dtype=np.float64)[np.ix_(positions, positions)]
    return group


def pair_sample(samples: list[dict], models: list[CameraModel], a: int, b: int, matrix: np.ndarray,
                rays: PerModel) -> dict:
    """One pair (module docstring); ``models`` are the samples' camera models (:func:`sample_model`),
    ``rays`` gives each camera model's pixel rays (kept for the mesh)."""
    view_a, view_b = samples[a], samples[b]
    pose = covisibility.relative_pose(view_a["world_to_camera"], view_b["world_to_camera"])
    back = covisibility.relative_pose(view_b["world_to_camera"], view_a["world_to_camera"])
    points = []
    for view, model, transform in ((view_a, models[a], None), (view_b, models[b], back)):
        points.append(covisibility.pointmap(view["depth"], model, transform, rays(model)))
    ab, ba = float(matrix[a, b]), float(matrix[b, a])
    return {"name": view_a["name"], "key": f"{view_a['key']}-{int(view_b['view_index']):04d}",
            "a": dict(view_a), "b": dict(view_b), "relative_pose": pose,
            "covisibility_ab": ab, "covisibility_ba": ba, "covisibility": min(ab, ba),
            "xyz_a_in_a": points[0], "xyz_b_in_a": points[1]}


def unit_multiview(unit: tuple[str, str], selection: Selection, passes, seed: int, epoch: int) -> Iterator[dict]:
    """The group or pair samples of ``unit`` (see :class:`Selection`), mesh by mesh."""
    for document, samples in unit_meshes(unit, passes):
        samples = sorted(samples, key=lambda s: int(s["view_index"]))
        rng = mesh_rng(seed, epoch, document.get("name") or samples[0]["name"])
        matrix = mesh_matrix(document, samples) if selection.needs_matrix or selection.groups is not None else None
        coverage = {int(v["index"]): v.get("coverage") for v in document.get("views", [])}
        blank = np.array([coverage.get(int(s["view_index"])) == 0 for s in samples], dtype=bool)
        if selection.groups is not None:
            positions = selection.group(len(samples), matrix, blank, rng)
            if positions is not None:
                yield group_sample(samples, positions, matrix)
            continue
        rays = PerModel(CameraModel.depth_rays, keep=2)
        models = [sample_model(document, sample) for sample in samples]   # once per view, not per pair
        for a, b in selection.pair_list(matrix, blank, rng):
            yield pair_sample(samples, models, a, b, matrix, rays)


def unit_count(unit: tuple[str, str], selection: Selection) -> int:
    """How many group or pair samples ``unit`` gives per epoch (the same in every epoch).  The meshes whose
    document stores no covisibility matrix (a render made before it was stored, or too large to store)
    get it computed from their depth, in one pass over the unit."""
    documents = unit_documents(unit)
    if not selection.needs_matrix:
        return sum(selection.count(document, None) for document in documents)
    matrices = {document.get("name"): covisibility.stored_matrix(document) for document in documents}
    missing = {name for name, matrix in matrices.items() if matrix is None}
    if missing:
        orders = {document.get("name"): {int(v["index"]): i for i, v in enumerate(document.get("views", []))}
                  for document in documents if document.get("name") in missing}
        for other, samples in unit_meshes(unit, {"depth"}):
            name = other.get("name")
            if name in missing:
                order = orders[name]
                samples = sorted(samples, key=lambda s: order.get(int(s["view_index"]), 0))
                matrices[name] = mesh_matrix(other, samples)
                missing.discard(name)
        if missing:
            raise DepthViewsError(f"{unit[1]}: mesh {sorted(missing)[0]} not found")
    return sum(selection.count(document, matrices[document.get("name")]) for document in documents)
