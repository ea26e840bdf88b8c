"""The training reader (no Blender): rank/worker splits, the shuffle buffer, the PyTorch wrapper and collate,
on shards of samples whose depth is known exactly."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, strategies as st

from shard_samples import fake_mesh, write_meshes

from depth_views.datasets import DepthViews, shuffled, split_units
from depth_views.errors import DepthViewsError

webdataset = pytest.importorskip("webdataset")


@given(st.integers(0, 60), st.integers(1, 4), st.integers(1, 5))
def test_rank_and_worker_splits_are_disjoint_and_complete(n_units, world_size, num_workers):
    units = list(range(n_units))
    parts = [split_units(units, r, world_size, w, num_workers) for r in range(world_size) for w in range(num_workers)]
    flat = [u for part in parts for u in part]
    assert sorted(flat) == units
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


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





def test_collate_stacks_what_every_sample_has(tmp_path):
    from depth_views.datasets import collate

    write_meshes(tmp_path, {"m": fake_mesh("m", 3)})
    batch = collate(list(DepthViews(str(tmp_path))))
    assert batch["depth"].shape == (3, 6, 5) and batch["depth"].dtype == np.float32
    assert batch["K"].shape == (3, 3, 3) and batch["view_index"] == [0, 1, 2] and batch["name"] == ["m"] * 3
    assert "cameras" not in batch
