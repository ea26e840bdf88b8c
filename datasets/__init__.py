"""Read rendered views for training: WebDataset shards or folder layouts alike (numpy only).

    from depth_views.datasets import DepthViews
    for sample in DepthViews("DIR"):          # DIR of a batch or render, shards or folders
        sample["depth"], sample["K"], sample["world_to_camera"], sample["camera_to_world"]

Every sample is a dict with the same keys and types for every view of a DIR, and no None, so that
PyTorch's ``default_collate`` takes a list of them as it is: ``name`` (mesh output name), ``mesh``
(input path), ``key``, ``view_index``, ``depth`` float32 (H, W) planar, +inf = no surface; ``K``
float64 (3, 3) (all zeros for a camera without one: equirectangular, see ``camera_model``);
``world_to_camera`` (4, 4, OpenCV axes); ``camera_to_world`` (4, 4, Blender axes);
``object_to_world`` (4, 4: what ``--normalize`` applied, the identity without) and ``normalized``;
``width``, ``height``, ``units``, ``depth_kind``, ``camera_model``, ``passes`` (one comma-separated
string); ``coverage`` (fraction of pixels with a surface) and ``mesh_views`` (the mesh's number of
views); ``shard`` or ``folder`` (where it was read); and each other pass rendered: ``distance``,
``normal`` (world frame), ``mask`` (int32 object ids: torch has no arithmetic on uint16), ``rgb``
(uint8 RGBA), ``rgb_linear``, ``xyz``.  A mesh's whole cameras.json document is not part of any
sample: :meth:`DepthViews.cameras`.  ``DepthViews(..., groups=k)`` and ``DepthViews(..., pairs=...)``
yield per-mesh groups of k views and view pairs instead (:mod:`.multiview`).

A run is split into *units* (a shard, or a mesh folder); :func:`split_units` gives each of
``world_size`` ranks times ``num_workers`` loader workers its own units, and :func:`shuffled` is a
shuffle buffer.  :func:`torch_dataset` wraps it all in a PyTorch ``IterableDataset`` when torch is
importable (a thin class: the logic is here, tested without torch); :func:`collate` makes a batch
(torch's ``default_collate`` when torch is importable, the same in numpy otherwise).
"""

from __future__ import annotations

import json
import os
import random
import tarfile
from typing import Iterable, Iterator

import numpy as np

from ..batch import store
from ..cameras.cameras_json import CAMERAS_FILE, load_cameras
from ..errors import DepthViewsError
from ..outputs import shards
from ..outputs.derived import surface_fraction
from ..outputs.geometry import surface_mask
from ..outputs.loading import load_views
from .multiview import Selection, unit_count, unit_multiview

FOLDER_PASSES = ("depth", "distance", "normal", "mask", "rgb", "rgb_linear", "xyz")


def find_units(source) -> list[tuple[str, str]]:
    """``("shard", path)`` and ``("folder", path)`` units of ``source``: an output DIR (its finished
    shards, else the mesh folders its index lists, else every folder below with a cameras.json), a
    shard file, a mesh folder, or a list of these.  Temporary shards (a crash's leftovers) are never
    listed."""
    if isinstance(source, (list, tuple)):
        return [unit for item in source for unit in find_units(item)]
    path = os.path.abspath(os.fspath(source))
    if os.path.isfile(path):
        if not shards.SHARD_NAME.match(os.path.basename(path)) and not path.endswith(".tar"):
            raise DepthViewsError(f"{path}: not a shard (shard-NNNNNN.tar) nor an output folder")
        return [("shard", path)]
    if not os.path.isdir(path):
        raise DepthViewsError(f"{path}: no such shard or output folder")
    if os.path.isfile(os.path.join(path, CAMERAS_FILE)):
        return [("folder", path)]
    found = shards.finished_shards(path)
    if found:
        return [("shard", p) for p in found]
    indexed = [os.path.join(path, *e["folder"].split("/")) for e in store.read_index(path) if e.get("folder")]
    if indexed:
        return [("folder", p) for p in sorted(indexed)]
    folders = []
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = sorted(n for n in subfolders if not n.startswith("."))
        if CAMERAS_FILE in files:
            folders.append(folder)
            subfolders[:] = []
    return [("folder", p) for p in sorted(folders)]


def split_units(units: list, rank: int = 0, world_size: int = 1, worker: int = 0, num_workers: int = 1) -> list:
    """The units of loader ``worker`` (of ``num_workers``) on ``rank`` (of ``world_size``): every
    ``world_size * num_workers``-th unit, dealt to the ranks first (unit i goes to rank
    ``i % world_size``), so the parts are disjoint, cover all units, and no rank holds more than one
    unit more than another whatever the number of workers."""
    if not (0 <= rank < world_size and 0 <= worker < num_workers):
        raise DepthViewsError(f"rank {rank} of {world_size}, worker {worker} of {num_workers}: out of range")
    return list(units)[worker * world_size + rank::world_size * num_workers]


def unit_size(unit: tuple[str, str], indexed: dict | None = None) -> int:
    """How many samples ``unit`` holds: from ``indexed`` (shard path -> views listed in its DIR's
    index) when it lists the shard, else from the shard's tar headers (or the folder's cameras.json)."""
    kind, path = unit
    if kind == "folder":
        return len(load_cameras(path).get("views", []))
    if indexed and path in indexed:
        return indexed[path]
    try:
        with tarfile.open(path, "r:") as tar:
            return len({shards.member_key(m.name)[0] for m in tar.getmembers()
                        if m.isreg() and not shards.is_meta(m.name)})
    except (tarfile.TarError, OSError) as error:
        raise DepthViewsError(f"{path}: not a complete tar shard ({error})") from None


def unit_sizes(units: list) -> list[int]:
    """:func:`unit_size` of each unit (the index of each shard's DIR read once)."""
    indexed: dict[str, int] = {}
    for root in {os.path.dirname(os.path.dirname(p)) for kind, p in units if kind == "shard"}:
        for entry in store.read_index(root):
            if entry.get("shard") and entry.get("keys") is not None:
                path = os.path.join(root, *entry["shard"].split("/"))
                indexed[path] = indexed.get(path, 0) + len(entry["keys"])
    return [unit_size(unit, indexed) for unit in units]


def shuffled(samples: Iterable, buffer: int, rng: random.Random) -> Iterator:
    """``samples`` in random order through a buffer of ``buffer`` items (0 or 1: unchanged order)."""
    if buffer <= 1:
        yield from samples
        return
    pool = []
    for sample in samples:
        if len(pool) < buffer:
            pool.append(sample)
            continue
        position = rng.randrange(buffer)
        yield pool[position]
        pool[position] = sample
    rng.shuffle(pool)
    yield from pool


def folder_samples(folder: str, passes=None) -> Iterator[dict]:
    """The views of one mesh folder (folder layout) as samples (the keys of a shard's samples that a
    folder has, with the same types)."""
    data = load_views(folder, passes=passes)
    cameras = data["cameras"]
    object_to_world = cameras.get("object_to_world")
    name = os.path.basename(folder)
    views = cameras["views"]
    for position, index in enumerate(data["view_index"]):
        own_K = data["view_K"][position] if data.get("view_K") is not None else data["K"]
        sample = {"name": name, "mesh": cameras.get("input", ""), "key": shards.sample_key(name, int(index)),
                  "view_index": int(index),
                  # each view's own K (camera files, --fov ranges); zeros for equirectangular views
                  "K": np.array(shards.NO_K if own_K is None else own_K, dtype=np.float64),
                  "camera_model": cameras.get("camera_model", "PINHOLE"),
                  "world_to_camera": np.asarray(data["world_to_camera"][position], dtype=np.float64),
                  "camera_to_world": np.asarray(data["camera_to_world"][position], dtype=np.float64),
                  "object_to_world": np.array(shards.IDENTITY if object_to_world is None else object_to_world,
                                              dtype=np.float64),
                  "normalized": object_to_world is not None,
                  "width": data["width"], "height": data["height"], "units": cameras.get("units", ""),
                  "depth_kind": cameras.get("depth_kind", "planar"), "passes": ",".join(cameras.get("passes", [])),
                  "mesh_views": len(views), "folder": folder}
        for name_ in FOLDER_PASSES:
            if name_ in data:
                sample[name_] = data[name_][position]
        if "mask" in sample:
            sample["mask"] = sample["mask"].astype(np.int32)
        coverage = views[position].get("coverage")
        if coverage is None and "depth" in sample:   # a folder written before views had a coverage
            coverage = surface_fraction(surface_mask(sample["depth"]))
        sample["coverage"] = coverage
        yield sample


def unit_samples(unit: tuple[str, str], passes=None) -> Iterator[dict]:
    kind, path = unit
    if kind == "folder":
        yield from folder_samples(path, passes)
        return
    mesh_views: dict[str, int] = {}   # shards written before issue 21: from a mesh's first view
    for key, members in shards.iter_shard(path):
        name = shards.split_key(key)[0]
        if shards.CAMERAS_MEMBER in members:
            mesh_views[name] = len(json.loads(members[shards.CAMERAS_MEMBER]).get("views", []))
        if passes is not None:
            members = {e: d for e, d in members.items() if e == "json" or e.partition(".")[0] in passes}
        sample = shards.decode_sample(key, members, mesh_views=mesh_views.get(name))
        sample["shard"] = path
        yield sample


class DepthViews:
    """Iterate the samples of ``source`` (see :func:`find_units`), numpy only: one per view, or, with
    ``groups=k`` (or ``"all"``), one per mesh with k of its views stacked, or, with ``pairs="each"``
    (or ``"all"``), view pairs with their relative pose, covisibility and pointmaps, the pairs (and
    the views a group grows by) having a symmetric covisibility in ``[min_covisibility,
    max_covisibility]`` (:mod:`.multiview`).

    ``rank``/``world_size`` and ``worker``/``num_workers`` keep this process's part of the units
    (:func:`split_units`); ``shuffle`` > 1 shuffles units and samples (a buffer of that many samples),
    with ``seed`` (+ ``epoch``, see :meth:`set_epoch`); ``passes`` limits the passes decoded.

    Units are whole shards, so the ranks' parts can differ in size, and under
    ``DistributedDataParallel`` a rank that runs out of batches first leaves the others waiting
    forever.  ``equal_counts=True`` prevents that: loader worker w of every rank yields exactly as
    many samples as worker w of the rank with the fewest (the counts come from the index, else the
    shards' tar headers), so every rank yields the same number of samples and of batches, for any
    batch size; the surplus is dropped (a different part each epoch when shuffled).
    """

    def __init__(self, source, *, passes=None, shuffle: int = 0, seed: int = 0, rank: int = 0,
                 world_size: int = 1, worker: int = 0, num_workers: int = 1, equal_counts: bool = False,
                 groups: int | str | None = None, pairs: str | None = None, min_covisibility: float = 0.0,
                 max_covisibility: float = 1.0):
        self.selection = Selection(groups, pairs, min_covisibility, max_covisibility)   # checked first
        self.units = find_units(source)
        if not self.units:
            raise DepthViewsError(f"{source}: no finished shard and no rendered mesh folder found")
        self.passes = None if passes is None else set(passes) | {"depth"}
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.rank, self.world_size, self.worker, self.num_workers = rank, world_size, worker, num_workers
        split_units(self.units, rank, world_size, worker, num_workers)   # out of range: refused here
        self.equal_counts = equal_counts
        if not equal_counts:
            self.sizes = None
        elif self.selection.active:
            self.sizes = {unit: unit_count(unit, self.selection) for unit in self.units}
        else:
            self.sizes = dict(zip(self.units, unit_sizes(self.units)))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _ordered_units(self) -> list:
        units = list(self.units)
        if self.shuffle > 1:
            random.Random(self.seed + self.epoch).shuffle(units)   # the same order on every rank
        return units

    def my_units(self, worker: int | None = None, num_workers: int | None = None) -> list:
        return split_units(self._ordered_units(), self.rank, self.world_size,
                           self.worker if worker is None else worker,
                           self.num_workers if num_workers is None else num_workers)

    def quota(self, worker: int | None = None, num_workers: int | None = None) -> int | None:
        """With ``equal_counts``: how many samples ``worker`` yields this epoch (the fewest that
        worker has on any rank; groups and pairs counted from the cameras documents); None without."""
        if not self.equal_counts:
            return None
        worker = self.worker if worker is None else worker
        num_workers = self.num_workers if num_workers is None else num_workers
        units = self._ordered_units()
        return min(sum(self.sizes[u] for u in split_units(units, rank, self.world_size, worker, num_workers))
                   for rank in range(self.world_size))

    def iterate(self, worker: int | None = None, num_workers: int | None = None) -> Iterator[dict]:
        units = self.my_units(worker, num_workers)
        if self.selection.active:
            samples = (s for unit in units for s in unit_multiview(unit, self.selection, self.passes, self.seed,
                                                                   self.epoch))
        else:
            samples = (s for unit in units for s in unit_samples(unit, self.passes))
        rng = random.Random(hash((self.seed, self.epoch, self.rank, worker)))
        samples = shuffled(samples, self.shuffle, rng)
        quota = self.quota(worker, num_workers)
        if quota is None:
            yield from samples
            return
        for count, sample in enumerate(samples):
            if count >= quota:
                break
            yield sample

    def __iter__(self) -> Iterator[dict]:
        return self.iterate()

    def epoch_length(self, num_workers: int | None = None) -> int | None:
        """With ``equal_counts``: the samples this rank yields per epoch with ``num_workers`` loader
        workers (all of them together; the same on every rank); None without."""
        if not self.equal_counts:
            return None
        num_workers = max(1, self.num_workers if num_workers is None else num_workers)
        return sum(self.quota(worker, num_workers) for worker in range(num_workers))

    def cameras(self) -> Iterator[dict]:
        """The cameras.json document of every mesh of ``source`` (each has ``name``; all units, not
        only this rank's): a shard's hidden ``__meta__/`` members, or a mesh folder's cameras.json."""
        for kind, path in self.units:
            if kind == "shard":
                yield from shards.shard_cameras(path)
            else:
                yield {**load_cameras(path), "name": os.path.basename(path)}


def _torch_class():
    """``TorchDepthViews``, made on first use (torch is imported only then); a module attribute, so
    DataLoader workers started with ``spawn`` can unpickle it."""
    cached = globals().get("_TORCH_CLASS")
    if cached is not None:
        return cached
    try:
        from torch.utils.data import IterableDataset, get_worker_info
    except ImportError:
        raise DepthViewsError("torch_dataset needs PyTorch (pip install torch); DepthViews works without it") from None

    class TorchDepthViews(IterableDataset):
        """A thin ``IterableDataset`` over :class:`DepthViews`: each loader worker reads its own units."""

        def __init__(self, views: DepthViews):
            super().__init__()
            self.views = views

        def __iter__(self):
            info = get_worker_info()
            if info is None:
                return self.views.iterate()
            return self.views.iterate(info.id, info.num_workers)

        def set_epoch(self, epoch: int) -> None:
            self.views.set_epoch(epoch)

    TorchDepthViews.__module__ = __name__
    globals()["_TORCH_CLASS"] = TorchDepthViews
    return TorchDepthViews


def __getattr__(name: str):
    if name == "TorchDepthViews":
        return _torch_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def torch_dataset(source, **settings):
    """A ``torch.utils.data.IterableDataset`` over :class:`DepthViews` (``settings`` as there; rank
    and world size default to ``torch.distributed``'s, the loader worker comes from
    ``get_worker_info()``, and ``equal_counts`` defaults to True with more than one rank, so that no
    rank waits for another under DDP).  Needs torch; PyTorch's default collate takes its samples as
    they are (:func:`collate` is the same)."""
    cls = _torch_class()
    import torch

    if "rank" not in settings and torch.distributed.is_available() and torch.distributed.is_initialized():
        settings.update(rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size())
    settings.setdefault("equal_counts", settings.get("world_size", 1) > 1)
    return cls(DepthViews(source, **settings))


_DEFAULT_COLLATE: list = []


def _default_collate():
    """torch's ``default_collate``, or None without torch (looked up once)."""
    if not _DEFAULT_COLLATE:
        try:
            from torch.utils.data import default_collate
        except ImportError:
            default_collate = None
        _DEFAULT_COLLATE.append(default_collate)
    return _DEFAULT_COLLATE[0]


def numpy_collate(values: list):
    """What ``torch.utils.data.default_collate`` makes of ``values``, in numpy: dicts key by key,
    arrays and numbers stacked (``depth`` (B, H, W), ``K`` (B, 3, 3), ``view_index`` (B,)),
    strings as a list."""
    first = values[0]
    if isinstance(first, dict):
        return {key: numpy_collate([value[key] for value in values]) for key in first}
    if isinstance(first, np.ndarray):
        return np.stack(values)
    if isinstance(first, (bool, int, float, np.number, np.bool_)):
        return np.asarray(values)
    return list(values)


def collate(samples: list[dict]) -> dict:
    """A batch of samples: PyTorch's ``default_collate`` when torch is importable (tensors:
    ``depth`` (B, H, W) float32, ``K`` (B, 3, 3) float64, ``view_index`` (B,) int64, strings as
    lists), else the same in numpy (:func:`numpy_collate`).  A DataLoader needs no ``collate_fn``:
    its default is this."""
    default_collate = _default_collate()
    return default_collate(samples) if default_collate is not None else numpy_collate(samples)


def iter_samples(source, **settings) -> Iterator[dict]:
    """Shorthand for ``iter(DepthViews(source, **settings))``."""
    return iter(DepthViews(source, **settings))


__all__ = ["DepthViews", "collate", "find_units", "folder_samples", "iter_samples", "numpy_collate", "shuffled",
           "split_units", "torch_dataset", "unit_samples", "unit_sizes"]
