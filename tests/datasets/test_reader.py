"""The training reader (no Blender): rank/worker splits, equal counts per rank, the shuffle buffer, the
PyTorch wrapper with PyTorch's own default collate, and collate, on shards of samples whose depth is
known exactly."""

from __future__ import annotations

import random

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from shard_samples import depth_of, fake_mesh, write_meshes

from depth_views.datasets import DepthViews, numpy_collate, shuffled, split_units, unit_sizes
from depth_views.errors import DepthViewsError

webdataset = pytest.importorskip("webdataset")


@given(st.integers(0, 60), st.integers(1, 4), st.integers(1, 5))
def test_rank_and_worker_splits_are_disjoint_and_complete(n_units, world_size, num_workers):
    units = list(range(n_units))
    parts = [split_units(units, r, world_size, w, num_workers) for r in range(world_size) for w in range(num_workers)]
    flat = [u for part in parts for u in part]
    assert sorted(flat) == units
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


@given(st.lists(st.integers(1, 9), max_size=12), st.integers(1, 3), st.integers(1, 3), st.integers(0, 5))
@settings(max_examples=150, deadline=None)
def test_equal_counts_give_every_rank_and_worker_the_same_number(sizes, world_size, num_workers, epoch):
    """Worker w of every rank gets as many samples as worker w of the rank with the fewest: the ranks
    yield the same number of batches for any batch size; only the surplus is dropped."""
    units = [("shard", f"s{i}") for i in range(len(sizes))]
    views = DepthViews.__new__(DepthViews)
    views.units, views.shuffle, views.seed, views.epoch = units, 4, 7, epoch
    views.world_size, views.equal_counts, views.sizes = world_size, True, dict(zip(units, sizes))
    quotas = {}
    for rank in range(world_size):
        views.rank = rank
        for worker in range(num_workers):
            quota = views.quota(worker, num_workers)
            held = sum(views.sizes[u] for u in views.my_units(worker, num_workers))
            assert 0 <= quota <= held
            quotas[rank, worker] = quota
    for worker in range(num_workers):
        assert len({quotas[rank, worker] for rank in range(world_size)}) == 1
    if world_size == 1:
        assert sum(quotas.values()) == sum(sizes)   # nothing dropped
    views.rank = 0
    assert views.epoch_length(num_workers) == sum(quotas[0, w] for w in range(num_workers))


@given(st.lists(st.integers(), max_size=50), st.integers(0, 20), st.integers(0, 1000))
def test_shuffle_buffer_is_a_permutation(items, buffer, seed):
    out = list(shuffled(iter(items), buffer, random.Random(seed)))
    assert sorted(out) == sorted(items)
    if buffer <= 1:
        assert out == items


def test_reader_ranks_and_workers_see_each_view_once(tmp_path):
    write_meshes(tmp_path, {f"m{i}": fake_mesh(f"m{i}", 2, seed=i) for i in range(7)}, max_views=2)
    seen = []
    for rank in range(2):
        for worker in range(2):
            views = DepthViews(str(tmp_path), rank=rank, world_size=2, shuffle=4, seed=3)
            seen += [(s["name"], s["view_index"]) for s in views.iterate(worker, 2)]
    assert sorted(seen) == sorted((f"m{i}", v) for i in range(7) for v in range(2))


def mixed_dir(tmp_path):
    """Seven meshes in four shards: normalised and not, one with an empty view, passes depth, mask, rgb."""
    normalised = np.diag([0.5, 0.5, 0.5, 1.0]).tolist()
    meshes = {f"m{i}": fake_mesh(f"m{i}", 2 + i % 2, seed=i, passes=("depth", "mask", "rgb"),
                                 object_to_world=normalised if i % 3 == 0 else None, empty=(1,) if i == 4 else ())
              for i in range(7)}
    write_meshes(tmp_path, meshes, max_views=5)
    return meshes


def every_view(meshes):
    return sorted((name, index) for name, members in meshes.items()
                  for index in range(sum(n.endswith(".json") for n, _ in members) - 1))


def test_samples_are_what_default_collate_takes(tmp_path):
    meshes = mixed_dir(tmp_path)
    samples = list(DepthViews(str(tmp_path)))
    assert sorted((s["name"], s["view_index"]) for s in samples) == every_view(meshes)
    assert len({tuple(sorted(s)) for s in samples}) == 1   # the same keys in every sample
    for sample in samples:
        assert not any(value is None for value in sample.values())
        assert not any(isinstance(value, (list, tuple)) for value in sample.values())   # no list of strings
        assert sample["mask"].dtype == np.int32 and sample["rgb"].dtype == np.uint8 and sample["rgb"].flags.writeable
        assert sample["object_to_world"].shape == (4, 4) and isinstance(sample["normalized"], bool)
        np.testing.assert_array_equal(sample["depth"], depth_of(meshes[sample["name"]], sample["view_index"]))
        assert sample["coverage"] == (0.0 if (sample["name"], sample["view_index"]) == ("m4", 1) else 25 / 30)
    batch = numpy_collate(samples[:4])
    assert batch["depth"].shape == (4, 6, 5) and batch["depth"].dtype == np.float32
    assert batch["K"].shape == (4, 3, 3) and batch["view_index"].tolist() == [s["view_index"] for s in samples[:4]]
    assert batch["name"] == [s["name"] for s in samples[:4]] and batch["normalized"].dtype == bool
    assert batch["mask"].dtype == np.int32 and batch["object_to_world"].shape == (4, 4, 4)


def test_collate_without_torch_is_numpy(tmp_path, monkeypatch):
    from depth_views import datasets

    write_meshes(tmp_path, {"m": fake_mesh("m", 3)})
    monkeypatch.setattr(datasets, "_DEFAULT_COLLATE", [None])   # as where torch is not installed
    batch = datasets.collate(list(DepthViews(str(tmp_path))))
    assert isinstance(batch["depth"], np.ndarray) and batch["depth"].shape == (3, 6, 5)
    assert batch["view_index"].tolist() == [0, 1, 2] and batch["name"] == ["m"] * 3 and "cameras" not in batch


def test_torch_wrapper_is_refused_clearly_or_works(tmp_path):
    from depth_views.datasets import torch_dataset

    write_meshes(tmp_path, {"m": fake_mesh("m", 2)})
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(DepthViewsError, match="needs PyTorch"):
            torch_dataset(str(tmp_path))
        return
    from torch.utils.data import DataLoader
    loader = DataLoader(torch_dataset(str(tmp_path)), batch_size=None, num_workers=0)
    assert sorted(int(s["view_index"]) for s in loader) == [0, 1]


def seen_by(loader) -> list[tuple[str, int]]:
    return [(name, int(index)) for batch in loader for name, index in zip(batch["name"], batch["view_index"])]


def test_a_plain_dataloader_with_the_default_collate(tmp_path):
    """``DataLoader(torch_dataset(DIR), batch_size=4, num_workers=2)``, PyTorch's default collate: tensors
    of the right types, every view exactly once; our collate gives the same batch."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from depth_views.datasets import collate, torch_dataset

    meshes = mixed_dir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # e.g. torch's "The given NumPy array is not writable"
        batches = list(DataLoader(torch_dataset(str(tmp_path)), batch_size=4, num_workers=0))
    batch = batches[0]
    assert batch["depth"].dtype == torch.float32 and batch["depth"].shape == (4, 6, 5)
    assert torch.isinf(batch["depth"]).any() and batch["K"].dtype == torch.float64
    assert batch["mask"].dtype == torch.int32 and (batch["mask"] > 0).any()   # uint16 has no > on CPU
    assert batch["rgb"].shape == (4, 6, 5, 4) and batch["normalized"].dtype == torch.bool
    assert batch["object_to_world"].shape == (4, 4, 4) and batch["coverage"].dtype == torch.float64
    assert isinstance(batch["name"], list) and isinstance(batch["passes"][0], str)
    again = collate(list(DepthViews(str(tmp_path)))[:4])
    assert sorted(again) == sorted(batch) and torch.equal(again["depth"], batch["depth"])
    loader = DataLoader(torch_dataset(str(tmp_path)), batch_size=4, num_workers=2)
    seen = seen_by(loader)
    assert sorted(seen) == every_view(meshes) and len(seen) == len(set(seen))


def test_dataloaders_on_two_ranks(tmp_path):
    """world_size 2, 2 loader workers each: every view once over both ranks without equal_counts; with it
    (torch_dataset's default for several ranks) the ranks yield the same number of samples and batches
    (DDP needs it), and none twice."""
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from depth_views.datasets import torch_dataset

    meshes = mixed_dir(tmp_path)
    sizes = unit_sizes(DepthViews(str(tmp_path)).units)
    assert sizes == [5, 5, 5, 2]   # uneven: 17 views in 4 shards
    per_rank = [seen_by(DataLoader(torch_dataset(str(tmp_path), rank=rank, world_size=2, equal_counts=False),
                                   batch_size=4, num_workers=2)) for rank in range(2)]
    everything = per_rank[0] + per_rank[1]
    assert sorted(everything) == every_view(meshes) and len(set(everything)) == len(everything)
    assert [len(p) for p in per_rank] == [10, 7]   # shards 0, 2 and 1, 3: DDP would hang
    for epoch in range(2):
        batches, seen = [], []
        for rank in range(2):
            dataset = torch_dataset(str(tmp_path), rank=rank, world_size=2, shuffle=4, seed=1)   # equal_counts
            dataset.set_epoch(epoch)
            loader = list(DataLoader(dataset, batch_size=3, num_workers=2))
            batches.append(len(loader))
            seen.append(seen_by(loader))
            assert dataset.views.epoch_length(2) == len(seen[-1])
        assert batches[0] == batches[1] and len(seen[0]) == len(seen[1]) >= 7   # worker w: the fewer of 2 shards
        assert len(set(seen[0] + seen[1])) == 2 * len(seen[0]) and set(seen[0] + seen[1]) <= set(every_view(meshes))


DDP_SCRIPT = """
import json, sys, datetime
import torch, torch.distributed as dist
from torch.utils.data import DataLoader
from depth_views.datasets import torch_dataset

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
dataset = torch_dataset(sys.argv[1], shuffle=4, seed=2)   # rank, world size and equal_counts from torch.distributed
seen = []
for batch in DataLoader(dataset, batch_size=3, num_workers=2):
    step = torch.ones(1)
    dist.all_reduce(step)   # what DDP does with the gradients of every batch
    assert step.item() == 2
    seen += [[n, int(i)] for n, i in zip(batch["name"], batch["view_index"])]
dist.barrier()
print(json.dumps({"rank": dist.get_rank(), "seen": seen}))
dist.destroy_process_group()
"""


def test_two_ddp_processes_on_uneven_shards_finish_the_epoch(tmp_path):
    """Two real processes with torch.distributed (gloo) and an all-reduce per batch, as DDP does, on
    shards whose ranks would get 10 and 7 views: torch_dataset takes rank and world size from
    torch.distributed and evens the counts, so neither waits forever."""
    import json
    import os
    import socket
    import subprocess
    import sys

    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available():
        pytest.skip("this torch has no torch.distributed")
    meshes = mixed_dir(tmp_path / "views")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "ddp.py").write_text(DDP_SCRIPT)
    runs = [subprocess.Popen([sys.executable, str(tmp_path / "ddp.py"), str(tmp_path / "views")],
                             env={**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                                  "RANK": str(rank), "WORLD_SIZE": "2"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(2)]
    results = []
    for run in runs:
        try:
            out, err = run.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for other in runs:
                other.kill()
            pytest.fail("a DDP rank hung")
        assert run.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    seen = [tuple(view) for result in results for view in result["seen"]]
    assert len(results[0]["seen"]) == len(results[1]["seen"]) >= 7
    assert len(set(seen)) == len(seen) and set(seen) <= set(every_view(meshes))
