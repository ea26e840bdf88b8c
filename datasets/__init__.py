"""Read rendered views for training: WebDataset shards or folder layouts alike (numpy only).

    from depth_views.datasets import DepthViews
    for sample in DepthViews("DIR"):          # DIR of a batch or render, shards or folders
        sample["depth"], sample["K"], sample["world_to_camera"], sample["camera_to_world"]

Every sample is a dict: ``name`` (mesh output name), ``mesh`` (input path), ``view_index``, ``depth``
float32 (H, W) planar, +inf = no surface; ``K`` (3, 3); ``world_to_camera`` (4, 4, OpenCV axes);
``camera_to_world`` (4, 4, Blender axes); ``normalization`` (4, 4 or None); ``width``, ``height``,
``units``; and each other pass rendered: ``distance``, ``normal`` (world frame), ``mask`` (uint16 ids),
``rgb`` (uint8 RGBA).

A run is split into *units* (a shard, or a mesh folder); :func:`split_units` gives each of
``world_size`` ranks times ``num_workers`` loader workers its own units, and :func:`shuffled` is a
shuffle buffer.  :func:`torch_dataset` wraps it all in a PyTorch ``IterableDataset`` when torch is
importable (a thin class: the logic is here, tested without torch).
"""

from __future__ import annotations

import os
import random
from typing import Iterable, Iterator

import numpy as np

from ..batch import store
from ..cameras.cameras_json import CAMERAS_FILE
from ..errors import DepthViewsError
from ..outputs import shards
from ..outputs.loading import load_views

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
    ``world_size * num_workers``-th unit, so the parts are disjoint and cover all units."""
    if not (0 <= rank < world_size and 0 <= worker < num_workers):
        raise DepthViewsError(f"rank {rank} of {world_size}, worker {worker} of {num_workers}: out of range")
    return list(units)[rank * num_workers + worker::world_size * num_workers]


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
    """The views of one mesh folder (folder layout) as samples."""
    data = load_views(folder, passes=passes)
    cameras = data["cameras"]
    normalization = cameras.get("object_to_world")
    name = os.path.basename(folder)
    for position, index in enumerate(data["view_index"]):
        sample = {"name": name, "mesh": cameras.get("input"), "view_index": int(index),
                  # each view's own K (camera files, --fov ranges); None for equirectangular views
                  "K": (np.asarray(data["view_K"][position], dtype=np.float64) if data.get("view_K") is not None
                        else None if data["K"] is None else np.asarray(data["K"], dtype=np.float64)),
                  "camera_model": cameras.get("camera_model", "PINHOLE"),
                  "world_to_camera": np.asarray(data["world_to_camera"][position]),
                  "camera_to_world": np.asarray(data["camera_to_world"][position]),
                  "normalization": None if normalization is None else np.asarray(normalization),
                  "width": data["width"], "height": data["height"], "units": cameras.get("units", ""),
                  "depth_kind": cameras.get("depth_kind", "planar"), "folder": folder}
        for name_ in FOLDER_PASSES:
            if name_ in data:
                sample[name_] = data[name_][position]
        if position == 0:
            sample["cameras"] = cameras
        yield sample


def unit_samples(unit: tuple[str, str], passes=None) -> Iterator[dict]:
    kind, path = unit
    if kind == "folder":
        yield from folder_samples(path, passes)
        return
    for key, members in shards.iter_shard(path):
        if passes is not None:
            members = {e: d for e, d in members.items()
                       if e in ("json", shards.CAMERAS_MEMBER) or e.partition(".")[0] in passes}
        sample = shards.decode_sample(key, members)
        sample["shard"] = path
        yield sample


class DepthViews:
    """Iterate the samples of ``source`` (see :func:`find_units`), numpy only.

    ``rank``/``world_size`` and ``worker``/``num_workers`` keep this process's part of the units
    (:func:`split_units`); ``shuffle`` > 1 shuffles units and samples (a buffer of that many samples),
    with ``seed`` (+ ``epoch``, see :meth:`set_epoch`); ``passes`` limits the passes decoded.
    """

    def __init__(self, source, *, passes=None, shuffle: int = 0, seed: int = 0, rank: int = 0,
                 world_size: int = 1, worker: int = 0, num_workers: int = 1):
        self.units = find_units(source)
        if not self.units:
            raise DepthViewsError(f"{source}: no finished shard and no rendered mesh folder found")
        self.passes = None if passes is None else set(passes) | {"depth"}
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.rank, self.world_size, self.worker, self.num_workers = rank, world_size, worker, num_workers

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def my_units(self, worker: int | None = None, num_workers: int | None = None) -> list:
        units = list(self.units)
        if self.shuffle > 1:
            random.Random(self.seed + self.epoch).shuffle(units)   # the same order on every rank
        return split_units(units, self.rank, self.world_size,
                           self.worker if worker is None else worker,
                           self.num_workers if num_workers is None else num_workers)

    def iterate(self, worker: int | None = None, num_workers: int | None = None) -> Iterator[dict]:
        samples = (s for unit in self.my_units(worker, num_workers) for s in unit_samples(unit, self.passes))
        rng = random.Random(hash((self.seed, self.epoch, self.rank, worker)))
        yield from shuffled(samples, self.shuffle, rng)

    def __iter__(self) -> Iterator[dict]:
        return self.iterate()


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
    and world size default to ``torch.distributed``'s, the loader worker to ``get_worker_info()``).
    Needs torch; arrays stay numpy (use :func:`collate` as the ``collate_fn``)."""
    cls = _torch_class()
    import torch

    if "rank" not in settings and torch.distributed.is_available() and torch.distributed.is_initialized():
        settings.update(rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size())
    return cls(DepthViews(source, **settings))


ARRAY_FIELDS = ("depth", "distance", "normal", "mask", "rgb", "rgb_linear", "xyz", "K", "world_to_camera",
                "camera_to_world")


def collate(samples: list[dict]) -> dict:
    """A batch of samples as stacked numpy arrays (``depth`` (B, H, W), ``K`` (B, 3, 3), ... for the
    fields every sample has) plus ``name``, ``mesh`` and ``view_index`` lists; use as a DataLoader's
    ``collate_fn`` (then ``torch.from_numpy`` what you need)."""
    batch = {key: [s.get(key) for s in samples] for key in ("name", "mesh", "view_index")}
    for key in ARRAY_FIELDS:
        if samples and all(s.get(key) is not None for s in samples):  # K is None for equirectangular
            batch[key] = np.stack([np.asarray(s[key]) for s in samples])
    return batch


def iter_samples(source, **settings) -> Iterator[dict]:
    """Shorthand for ``iter(DepthViews(source, **settings))``."""
    return iter(DepthViews(source, **settings))


__all__ = ["DepthViews", "collate", "find_units", "folder_samples", "iter_samples", "shuffled", "split_units",
           "torch_dataset", "unit_samples"]
