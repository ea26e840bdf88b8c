"""WebDataset shards, the claims of runs sharing a folder, and the training reader, without Blender.

Shards are read back with Python's tarfile and with the webdataset library itself (not only with our
reader); the depth arrays written are known exactly (+inf background included).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from depth_views.batch import claims as claims_module, shard_store, store
from depth_views.datasets import DepthViews, find_units, shuffled, split_units
from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions
from depth_views.outputs import shards

webdataset = pytest.importorskip("webdataset")


def fake_mesh(name: str, views: int, size=(6, 5), seed=0) -> list[tuple[str, bytes]]:
    """The members a render would give: depth with +inf background and exact values, json, cameras."""
    rng = np.random.default_rng(seed)
    members = []
    for index in range(views):
        depth = rng.uniform(0.5, 3.0, size).astype(np.float32)
        depth[0, :] = np.inf
        key = shards.sample_key(name, index)
        members.append((f"{key}.depth.npz", shards.npz_bytes("depth", depth)))
        members.append((f"{key}.json", shards.json_bytes({"mesh": f"/in/{name}.obj", "name": name,
                                                           "view_index": index, "K": np.eye(3).tolist(),
                                                           "world_to_camera": np.eye(4).tolist(),
                                                           "camera_to_world": np.eye(4).tolist(),
                                                           "normalization": None})))
        if index == 0:
            members.append((f"{key}.cameras.json", shards.json_bytes(
                {"name": name, "mesh": f"/in/{name}.obj", "views": [{"index": i} for i in range(views)]})))
    return members


def depth_of(members, index):
    for name, data in members:
        if name.endswith(f"/{index:04d}.depth.npz"):
            return shards.decode_member("depth.npz", data)
    raise KeyError(index)


@given(st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t), st.integers(0, 99999))
@settings(max_examples=200, deadline=None)
def test_keys_follow_webdataset_rules_and_are_reversible(name, index):
    from webdataset.tariterators import base_plus_ext

    key = shards.sample_key(name, index)
    assert "." not in key and not key.startswith("__")
    assert shards.split_key(key) == (name, index)
    assert base_plus_ext(f"{key}.depth.npz") == (key, "depth.npz")
    assert shards.member_key(f"{key}.cameras.json") == (key, "cameras.json")


def test_dotted_and_underscored_names_stay_apart():
    names = ["a.b", "a_b", "a%2Eb", "__init__", "chairs/x.y/z", "ü ber"]
    keys = [shards.sample_key(n, 0) for n in names]
    assert len(set(keys)) == len(keys)
    assert [shards.split_key(k)[0] for k in keys] == names


def write_meshes(out, meshes, **sizes):
    index = store.Journal(store.journal_path(str(out), store.INDEX_STEM, None))
    output = shard_store.ShardedOutput(str(out), index, **sizes)
    for name, members in meshes.items():
        output.add(name, f"/in/{name}.obj", members)
    output.close()
    return output


def test_shards_read_by_tarfile_webdataset_and_our_reader(tmp_path):
    meshes = {f"m{i}.v{i}": fake_mesh(f"m{i}.v{i}", 3, seed=i) for i in range(5)}
    output = write_meshes(tmp_path, meshes, max_views=6)
    finished = shards.finished_shards(str(tmp_path))
    assert [os.path.basename(p) for p in finished] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert output.writer.finished == finished
    assert not [n for n in os.listdir(tmp_path / "shards") if n.startswith(".")]
    # Python's tarfile: every member, in sample order
    names = [m.name for p in finished for m in tarfile.open(p).getmembers()]
    assert names == [n for members in meshes.values() for n, _ in members]
    # webdataset itself, standard handlers
    seen = {}
    for sample in webdataset.WebDataset(finished, shardshuffle=False).decode():
        meta = sample["json"]
        seen[(meta["name"], meta["view_index"])] = sample["depth.npz"]["depth"]
        assert ("cameras.json" in sample) == (meta["view_index"] == 0)
    assert sorted(seen) == sorted((n, i) for n in meshes for i in range(3))
    for (name, index), depth in seen.items():
        assert depth.dtype == np.float32
        np.testing.assert_array_equal(depth, depth_of(meshes[name], index))
        assert np.isposinf(depth[0]).all()
    # our reader; the index maps mesh -> shard -> keys
    ours = {(s["name"], s["view_index"]): s for s in DepthViews(str(tmp_path))}
    assert sorted(ours) == sorted(seen)
    for key, sample in ours.items():
        np.testing.assert_array_equal(sample["depth"], seen[key])
        assert sample["K"].shape == (3, 3) and sample["world_to_camera"].shape == (4, 4)
    index = {e["name"]: e for e in store.read_index(str(tmp_path))}
    assert sorted(index) == sorted(meshes)
    for name, entry in index.items():
        members = tarfile.open(tmp_path / entry["shard"]).getnames()
        assert entry["keys"] == [shards.sample_key(name, i) for i in range(3)]
        assert all(f"{k}.json" in members for k in entry["keys"])
        assert entry["shard_bytes"] == os.path.getsize(tmp_path / entry["shard"])


def test_byte_target_and_a_mesh_bigger_than_the_target(tmp_path):
    meshes = {f"m{i}": fake_mesh(f"m{i}", 2, size=(64, 64), seed=i) for i in range(4)}
    write_meshes(tmp_path, meshes, max_bytes=1)
    assert len(shards.finished_shards(str(tmp_path))) == 4   # each mesh alone, never split


def test_a_crash_leaves_only_a_temporary_shard_that_nobody_reads(tmp_path):
    write_meshes(tmp_path, {"done": fake_mesh("done", 2)})
    index = store.Journal(store.journal_path(str(tmp_path), store.INDEX_STEM, None))
    writer = shards.ShardWriter(str(tmp_path))
    writer.add({"name": "open"}, fake_mesh("open", 2))
    writer._file.flush()   # a kill -9 now: the temporary shard stays behind, half written
    temporary = writer._temporary
    assert os.path.basename(temporary).startswith(".tmp-")
    assert [u[1] for u in find_units(str(tmp_path))] == shards.finished_shards(str(tmp_path))
    assert sorted(shard_store.done_meshes(str(tmp_path), index)) == ["done"]
    assert {s["name"] for s in DepthViews(str(tmp_path))} == {"done"}
    # its owner (this process) is alive: kept; once gone, the next run removes it
    assert shard_store.remove_orphan_shards(str(tmp_path)) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = temporary.replace(f"-{os.getpid()}-", f"-{int(dead.stdout)}-")
    os.rename(temporary, orphan)
    assert shard_store.remove_orphan_shards(str(tmp_path)) == 1 and not os.path.exists(orphan)


def test_lost_index_lines_are_recovered_from_the_shards(tmp_path):
    write_meshes(tmp_path, {"a": fake_mesh("a", 2), "b": fake_mesh("b", 3)}, max_views=3)
    os.remove(tmp_path / "index.jsonl")   # a kill between the shard's rename and its index lines
    index = store.Journal(store.journal_path(str(tmp_path), store.INDEX_STEM, None))
    done = shard_store.done_meshes(str(tmp_path), index)
    assert sorted(done) == ["a", "b"] and done["b"]["keys"] == ["b/0000", "b/0001", "b/0002"]
    assert sorted(e["name"] for e in store.read_index(str(tmp_path))) == ["a", "b"]


def test_truncated_or_changed_finished_shard_is_named_not_read(tmp_path):
    write_meshes(tmp_path, {"a": fake_mesh("a", 2, size=(40, 40)), "b": fake_mesh("b", 2)}, max_views=2)
    first, second = shards.finished_shards(str(tmp_path))
    with open(second, "r+b") as stream:
        stream.truncate(os.path.getsize(second) // 2)
    before = open(second, "rb").read()
    with pytest.raises(DepthViewsError, match="shard-000001.tar: .*truncated"):
        shard_store.done_meshes(str(tmp_path))
    os.remove(tmp_path / "index.jsonl")
    with pytest.raises(DepthViewsError, match="shard-000001.tar: not a complete tar shard"):
        shard_store.done_meshes(str(tmp_path))
    with pytest.raises(DepthViewsError, match="shard-000001.tar"):
        list(DepthViews(second))
    assert open(second, "rb").read() == before   # never touched


def small_tmpfs(path, size="256k"):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")


def test_full_disk_while_a_shard_is_open(tmp_path):
    disk = tmp_path / "disk"
    small_tmpfs(disk)
    try:
        write_meshes(disk, {"small": fake_mesh("small", 2)})
        finished = shards.finished_shards(str(disk))
        before = [open(p, "rb").read() for p in finished]
        big = {f"big{i}": fake_mesh(f"big{i}", 4, size=(128, 128), seed=i) for i in range(4)}
        with pytest.raises(DepthViewsError) as error:
            write_meshes(disk, big)
        assert "disk is full" in str(error.value) and "\n" not in str(error.value)
        assert shards.finished_shards(str(disk)) == finished
        assert [open(p, "rb").read() for p in finished] == before
        assert not [n for n in os.listdir(disk / "shards") if n.startswith(".tmp-")]
        assert sorted(shard_store.done_meshes(str(disk))) == ["small"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_unwritable_shards_folder(tmp_path):
    (tmp_path / "shards").write_text("a file where the folder goes")
    with pytest.raises(DepthViewsError, match="shards: cannot create the shards folder"):
        shards.ShardWriter(str(tmp_path))


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


# -- several runs, one DIR --------------------------------------------------------------------------

def test_a_claim_held_by_a_live_run_is_respected_and_a_dead_ones_is_taken_over(tmp_path):
    first = claims_module.Claims(str(tmp_path))
    second = claims_module.Claims(str(tmp_path))
    try:
        assert first.take("mesh") is None and first.take("mesh") is None
        owner = second.take("mesh")
        assert owner["pid"] == os.getpid() and owner["run"] == first.run
        first.release("mesh")
        assert second.take("mesh") is None
        # a claim left by a process that is gone (kill -9): taken over
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        path = first.path("other")
        with open(path, "w") as stream:
            json.dump({"name": "other", "host": first.host, "pid": sleeper.pid, "run": "x"}, stream)
        assert first.take("other")["pid"] == sleeper.pid
        sleeper.kill()
        sleeper.wait()
        assert first.take("other") is None
        # another host's claim: respected while its heartbeat is fresh, taken once stale
        with open(first.path("remote"), "w") as stream:
            json.dump({"name": "remote", "host": "elsewhere", "pid": 1, "run": "y"}, stream)
        assert first.take("remote")["host"] == "elsewhere"
        old = time.time() - claims_module.STALE_SECONDS - 5
        os.utime(first.path("remote"), (old, old))
        assert first.take("remote") is None
    finally:
        first.close()
        second.close()


def test_two_runs_with_other_options_on_one_folder_are_refused(tmp_path):
    claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=3))
    claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=3, device="gpu"))
    with pytest.raises(DepthViewsError, match="other options .*views: 3 here, 4 now"):
        claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=4))


def test_journal_appends_survive_a_torn_line_from_another_writer(tmp_path):
    path = str(tmp_path / "index.jsonl")
    with open(path, "w") as stream:
        stream.write('{"name": "a"}\n{"name": "b", "tor')
    journal = store.Journal(path)
    journal.append({"name": "c"})
    assert [r["name"] for r in store.read_jsonl(path)[0]] == ["a", "c"]


def test_collate_stacks_what_every_sample_has(tmp_path):
    from depth_views.datasets import collate

    write_meshes(tmp_path, {"m": fake_mesh("m", 3)})
    batch = collate(list(DepthViews(str(tmp_path))))
    assert batch["depth"].shape == (3, 6, 5) and batch["depth"].dtype == np.float32
    assert batch["K"].shape == (3, 3, 3) and batch["view_index"] == [0, 1, 2] and batch["name"] == ["m"] * 3
    assert "cameras" not in batch
