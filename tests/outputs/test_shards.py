"""WebDataset tar shards without Blender: keys, packing, crash safety, and reading them back with Python's
tarfile and the webdataset library itself (not only with our reader); the depth arrays written are
known exactly (+inf background included)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

from urllib.parse import unquote

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from shard_samples import coverage_of, depth_of, fake_mesh, legacy_mesh, write_meshes

from depth_views.batch import shard_store, store
from depth_views.datasets import DepthViews, find_units
from depth_views.errors import DepthViewsError
from depth_views.outputs import shards

webdataset = pytest.importorskip("webdataset")


@given(st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t), st.integers(0, 99999))
@settings(max_examples=200, deadline=None)
def test_keys_follow_webdataset_rules_and_are_reversible(name, index):
    from webdataset.tariterators import base_plus_ext

    key = shards.sample_key(name, index)
    assert "." not in key and not key.startswith("__")
    assert shards.split_key(key) == (name, index)
    assert base_plus_ext(f"{key}.depth.npz") == (key, "depth.npz")
    assert shards.member_key(f"{key}.cameras.json") == (key, "cameras.json")
    # the mesh's hidden member: a basename starting with "__" (Hugging Face datasets skips those) in
    # __meta__/ (webdataset skips that), and the name back from it
    member = shards.cameras_member(name)
    folder, _, base = member.partition("/")
    assert folder == "__meta__" and base.startswith("__") and "/" not in base and shards.is_meta(member)
    assert base_plus_ext(member)[1] == "cameras.json"
    assert unquote(shards.member_key(member)[0][len("__meta__/__"):]) == name


def test_dotted_and_underscored_names_stay_apart():
    names = ["a.b", "a_b", "a%2Eb", "__init__", "chairs/x.y/z", "ü ber"]
    keys = [shards.sample_key(n, 0) for n in names]
    assert len(set(keys)) == len(keys)
    assert [shards.split_key(k)[0] for k in keys] == names


def test_shards_read_by_tarfile_webdataset_and_our_reader(tmp_path):
    meshes = {f"m{i}.v{i}": fake_mesh(f"m{i}.v{i}", 3, seed=i) for i in range(5)}
    output = write_meshes(tmp_path, meshes, max_views=6)
    finished = shards.finished_shards(str(tmp_path))
    assert [os.path.basename(p) for p in finished] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert output.writer.finished == finished
    assert not [n for n in os.listdir(tmp_path / "shards") if n.startswith(".")]
    # Python's tarfile: every member, in sample order, each mesh's cameras document after its views
    names = [m.name for p in finished for m in tarfile.open(p).getmembers()]
    assert names == [n for members in meshes.values() for n, _ in members]
    for name in meshes:
        position = names.index(shards.cameras_member(name))
        assert names[position - 1] == f"{shards.sample_key(name, 2)}.json"
    # webdataset itself, standard handlers: the same members in every sample, the hidden ones skipped
    seen = {}
    for sample in webdataset.WebDataset(finished, shardshuffle=False).decode():
        meta = sample["json"]
        seen[(meta["name"], meta["view_index"])] = sample["depth.npz"]["depth"]
        assert sorted(k for k in sample if not k.startswith("__")) == ["depth.npz", "json"]
        assert meta["mesh_views"] == 3 and meta["coverage"] == coverage_of(sample["depth.npz"]["depth"])
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
        assert entry["views"] == 3 and entry["object_to_world"] is None and entry["empty_views"] == []
        assert entry["coverage_min"] == entry["coverage_mean"] == coverage_of(depth_of(meshes[name], 0)) == 25 / 30
    # the documents, from the hidden members
    documents = list(DepthViews(str(tmp_path)).cameras())
    assert [d["name"] for d in documents] == list(meshes) and all(len(d["views"]) == 3 for d in documents)


def test_one_sample_schema_no_null_and_coverage(tmp_path):
    """Every sample has the same members and json keys with the same types, whichever mesh it is
    (normalised or not, with empty views or not); a view that sees nothing has coverage 0, and the
    index names it."""
    normalised = (np.diag([0.5, 0.5, 0.5, 1.0])).tolist()
    write_meshes(tmp_path, {"a": fake_mesh("a", 3, empty=(1,)), "b": fake_mesh("b", 2, object_to_world=normalised)})
    [path] = shards.finished_shards(str(tmp_path))
    samples = list(shards.iter_shard(path))
    assert [k for k, _ in samples] == ["a/0000", "a/0001", "a/0002", "b/0000", "b/0001"]   # no hidden member
    assert len({tuple(sorted(m)) for _, m in samples}) == 1
    metas = [shards.decode_member("json", m["json"]) for _, m in samples]
    assert len({tuple(sorted(m)) for m in metas}) == 1

    def types(value):
        return [types(v) for v in value] if isinstance(value, list) else type(value).__name__

    assert len({json_types for json_types in (repr({k: types(v) for k, v in m.items()}) for m in metas)}) == 1
    assert "null" not in open(path, "rb").read().decode("latin-1").replace("\0", "")
    assert [m["coverage"] for m in metas] == [25 / 30, 0.0, 25 / 30, 25 / 30, 25 / 30]
    assert [m["mesh_views"] for m in metas] == [3, 3, 3, 2, 2]
    assert [m["normalized"] for m in metas] == [False] * 3 + [True] * 2
    assert metas[0]["object_to_world"] == np.eye(4).tolist() and metas[3]["object_to_world"] == normalised
    index = {e["name"]: e for e in store.read_index(str(tmp_path))}
    assert index["a"]["empty_views"] == [1] and index["a"]["coverage_min"] == 0.0
    assert index["a"]["coverage_mean"] == pytest.approx(50 / 90) and index["b"]["object_to_world"] == normalised
    ours = list(DepthViews(str(tmp_path)))
    assert len({tuple(sorted(s)) for s in ours}) == 1 and not any(v is None for s in ours for v in s.values())
    assert [s["coverage"] for s in ours] == [25 / 30, 0.0, 25 / 30, 25 / 30, 25 / 30]
    np.testing.assert_array_equal(ours[3]["object_to_world"], normalised)


def test_shards_written_before_the_hidden_member_still_read(tmp_path):
    """Shards of the writer before issue 21 (cameras.json on a mesh's first view, ``normalization``
    null or a 4x4): our reader gives the same samples as for today's shards, crash recovery of the
    index still reads their documents, and old index lines' ``normalization`` reads as ``object_to_world``."""
    normalised = (np.diag([0.5, 0.5, 0.5, 1.0])).tolist()
    write_meshes(tmp_path / "old", {"a": legacy_mesh("a", 3), "b": legacy_mesh("b", 2, seed=1, normalization=normalised)})
    write_meshes(tmp_path / "new", {"a": fake_mesh("a", 3), "b": fake_mesh("b", 2, seed=1, object_to_world=normalised)})
    old, new = list(DepthViews(str(tmp_path / "old"))), list(DepthViews(str(tmp_path / "new")))
    assert [s["key"] for s in old] == [s["key"] for s in new] == ["a/0000", "a/0001", "a/0002", "b/0000", "b/0001"]
    assert len({tuple(sorted(s)) for s in old}) == 1 and "cameras" not in old[0] and "normalization" not in old[0]
    for before, today in zip(old, new):
        for field in ("depth", "K", "world_to_camera", "object_to_world"):
            np.testing.assert_array_equal(before[field], today[field])
        for field in ("normalized", "coverage", "mesh_views", "view_index", "name", "passes"):
            assert before[field] == today[field], field
    assert [d["name"] for d in DepthViews(str(tmp_path / "old")).cameras()] == ["a", "b"]
    # the index lines of then (normalization) and their recovery from the shards
    journal = tmp_path / "old" / "index.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({("normalization" if k == "object_to_world" else k): v for k, v in line.items()
                                           if not k.startswith(("coverage", "empty"))}) + "\n" for line in lines))
    assert [e["object_to_world"] for e in store.read_index(str(tmp_path / "old"))] == [None, normalised]
    os.remove(journal)
    index = store.Journal(store.journal_path(str(tmp_path / "old"), store.INDEX_STEM, None))
    done = shard_store.done_meshes(str(tmp_path / "old"), index)
    assert done["b"]["keys"] == ["b/0000", "b/0001"] and done["b"]["object_to_world"] == normalised
    assert "coverage_min" not in done["a"]   # an old document has no coverage: none is made up


def test_hidden_member_is_skipped_by_huggingface_datasets(tmp_path, hf_datasets):
    """HF's WebDataset builder needs the same members in every sample of the first shard: a mesh name
    with a folder in it too (its hidden member must not end in a basename without "__")."""
    names = ["chairs/a.b", "_x", "plain"]
    write_meshes(tmp_path, {name: fake_mesh(name, 2, seed=i, empty=(1,) if i == 1 else ()) for i, name in enumerate(names)})
    urls = shards.finished_shards(str(tmp_path))
    rows = hf_datasets.load_dataset("webdataset", data_files={"train": urls}, split="train")
    assert rows.num_rows == 6 and sorted(rows.column_names) == ["__key__", "__url__", "depth.npz", "json"]
    ours = list(DepthViews(str(tmp_path)))
    for row, sample in zip(rows.with_format("numpy", dtype=None), ours):
        np.testing.assert_array_equal(row["depth.npz"]["depth"], sample["depth"])
        assert row["depth.npz"]["depth"].dtype == np.float32
        assert row["json"]["coverage"] == sample["coverage"] and row["json"]["name"] == sample["name"]
    assert [r["json"]["coverage"] for r in rows] == [25 / 30] * 3 + [0.0] + [25 / 30] * 2


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
