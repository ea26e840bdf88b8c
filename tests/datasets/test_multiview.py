"""``DepthViews(groups=...)`` and ``DepthViews(pairs=...)``: per-mesh groups of k views and view pairs.

Without Blender: shards of samples with known depth and a stored covisibility matrix (what a render
stores), read over 2 ranks x 2 loader workers: each mesh (groups) and each view as the first of a
pair (``pairs="each"``) or each allowed ordered pair (``pairs="all"``) exactly once per epoch, the
covisibility range respected, the same counts per rank with ``equal_counts``, samples that PyTorch's
default collate and ours take.  With Blender: real renders (Suzanne and three boxes, 6 views at
48 x 36, shards and folders): a pair's relative pose and its pointmaps checked against the poses (a
point of b's depth lifted to the world and mapped into a's frame), and the docs block.
"""

from __future__ import annotations

import json
import os
import random
import warnings

import numpy as np
import pytest
from shard_samples import depth_of, fake_mesh, legacy_mesh, write_meshes

from depth_views.datasets import DepthViews, numpy_collate
from depth_views.errors import DepthViewsError
from depth_views.outputs import shards
from depth_views.outputs.covisibility import CovisibilityView, covisibility_matrix

pytest.importorskip("webdataset")


def with_matrix(name: str, matrix, empty=(), seed=0) -> list[tuple[str, bytes]]:
    """fake_mesh's members, its cameras document given ``matrix`` as a render stores it."""
    members = fake_mesh(name, len(matrix), seed=seed, empty=empty, passes=("depth", "mask"))
    meta, data = members[-1]
    document = json.loads(data)
    document["covisibility"] = {"matrix": np.asarray(matrix).tolist(), "views": list(range(len(matrix))),
                                "tolerance_px": 2.0}
    return members[:-1] + [(meta, shards.json_bytes(document))]


def random_matrix(views: int, rng: random.Random, empty=()) -> np.ndarray:
    matrix = np.array([[rng.choice([0.0, 0.1, 0.3, 0.5, 0.7, 0.95]) for _ in range(views)] for _ in range(views)])
    np.fill_diagonal(matrix, 1.0)
    for view in empty:
        matrix[view] = 0.0
    return matrix


@pytest.fixture
def meshes(tmp_path):
    """Nine meshes of 1 to 5 views in five shards; m4 has a blank view (coverage 0)."""
    rng = random.Random(5)
    made = {}
    for i in range(9):
        views, empty = 1 + i % 5, ((1,) if i == 4 else ())
        made[f"m{i}"] = random_matrix(views, rng, empty), empty
    write_meshes(tmp_path, {name: with_matrix(name, m, empty, seed=i) for i, (name, (m, empty)) in enumerate(made.items())},
                 max_views=6)
    return tmp_path, made


def allowed(matrix, empty, low=0.0, high=1.0) -> np.ndarray:
    both = np.minimum(matrix, matrix.T)
    ok = (both >= low) & (both <= high) & ~np.eye(len(matrix), dtype=bool)
    for view in empty:
        ok[view, :] = ok[:, view] = False
    return ok


def read_all(source, **settings) -> list[dict]:
    """Every sample of 2 ranks x 2 loader workers."""
    found = []
    for rank in range(2):
        views = DepthViews(str(source), rank=rank, world_size=2, **settings)
        for worker in range(2):
            found += list(views.iterate(worker, 2))
    return found


def test_groups_give_each_mesh_once_across_ranks_and_workers(meshes):
    source, made = meshes
    groups = read_all(source, groups=2, shuffle=3, seed=4)
    expected = sorted(name for name, (m, empty) in made.items() if len(m) - len(empty) >= 2)
    assert sorted(g["name"] for g in groups) == expected           # each once; m0, m5 (one view) have none
    for group in groups:
        matrix, empty = made[group["name"]]
        chosen = group["view_index"].tolist()
        assert group["view_index"].dtype == np.int64 and len(set(chosen)) == 2 and not set(chosen) & set(empty)
        assert group["depth"].shape == (2, 6, 5) and group["K"].shape == (2, 3, 3) and group["mask"].shape == (2, 6, 5)
        assert group["coverage"].shape == (2,) and group["key"] == group["name"] and group["mesh_views"] == len(matrix)
        np.testing.assert_array_equal(group["covisibility"], matrix[np.ix_(chosen, chosen)])
        members = with_matrix(group["name"], matrix, empty, seed=int(group["name"][1:]))
        for position, index in enumerate(chosen):
            np.testing.assert_array_equal(group["depth"][position], depth_of(members, index))
    everything = read_all(source, groups="all")
    assert sorted(g["name"] for g in everything) == sorted(made)
    assert all(g["view_index"].tolist() == list(range(len(made[g["name"]][0]))) for g in everything)


def components(ok, nodes) -> list[set]:
    left, found = set(nodes), []
    while left:
        todo, part = [min(left)], set()
        while todo:
            node = todo.pop()
            if node in part:
                continue
            part.add(node)
            todo += [int(o) for o in np.flatnonzero(ok[node]) if o in left]
        left -= part
        found.append(part)
    return found


def test_groups_in_a_covisibility_range_are_connected(meshes):
    """With min_covisibility, each view drawn after the first has a symmetric covisibility in range
    with a view drawn before it; a mesh has a group when such k views exist."""
    source, made = meshes
    groups = read_all(source, groups=3, min_covisibility=0.25, max_covisibility=0.96)
    expected = sorted(name for name, (m, empty) in made.items()
                      if any(len(part) >= 3 for part in components(allowed(m, empty, 0.25, 0.96),
                                                                    [v for v in range(len(m)) if v not in empty])))
    assert sorted(g["name"] for g in groups) == expected
    assert expected and len(expected) < sum(len(m) - len(e) >= 3 for m, e in made.values())   # some have none
    for group in groups:
        matrix, empty = made[group["name"]]
        ok, chosen = allowed(matrix, empty, 0.25, 0.96), group["view_index"].tolist()
        assert all(any(ok[chosen[j], chosen[i]] for i in range(j)) for j in range(1, 3))


def test_pairs_each_give_every_view_with_a_partner_once_as_the_first(meshes):
    source, made = meshes
    pairs = read_all(source, pairs="each", min_covisibility=0.25, max_covisibility=0.9, shuffle=4, seed=1)
    firsts = sorted((p["name"], int(p["a"]["view_index"])) for p in pairs)
    expected = sorted((name, a) for name, (m, empty) in made.items() for a in range(len(m))
                      if allowed(m, empty, 0.25, 0.9)[a].any())
    assert firsts == expected and len(expected) > 5
    for pair in pairs:
        matrix, empty = made[pair["name"]]
        a, b = int(pair["a"]["view_index"]), int(pair["b"]["view_index"])
        assert allowed(matrix, empty, 0.25, 0.9)[a, b]
        assert pair["covisibility_ab"] == matrix[a, b] and pair["covisibility_ba"] == matrix[b, a]
        assert pair["covisibility"] == min(matrix[a, b], matrix[b, a])
        assert pair["key"] == f"{pair['a']['key']}-{b:04d}" and pair["relative_pose"].shape == (4, 4)
        assert pair["xyz_b_in_a"].shape == (6, 5, 3) and pair["xyz_b_in_a"].dtype == np.float32


def test_pairs_all_give_every_allowed_ordered_pair_once(meshes):
    source, made = meshes
    pairs = read_all(source, pairs="all", min_covisibility=0.3)
    found = sorted((p["name"], int(p["a"]["view_index"]), int(p["b"]["view_index"])) for p in pairs)
    expected = sorted((name, int(a), int(b)) for name, (m, empty) in made.items()
                      for a, b in zip(*np.nonzero(allowed(m, empty, 0.3))))
    assert found == expected and len(expected) > 10


def test_draws_are_seeded_per_epoch():
    """The same seed and epoch draw the same groups and partners in every process; other epochs others."""
    from depth_views.datasets.multiview import Selection, mesh_rng

    rng = random.Random(2)
    matrix = random_matrix(8, rng)
    selection = Selection(groups=3)
    first = [selection.group(8, matrix, np.zeros(8, bool), mesh_rng(0, epoch, "m")) for epoch in range(6)]
    again = [selection.group(8, matrix, np.zeros(8, bool), mesh_rng(0, epoch, "m")) for epoch in range(6)]
    assert first == again and len({tuple(g) for g in first}) > 1
    pairs = Selection(pairs="each")
    assert pairs.pair_list(matrix, np.zeros(8, bool), mesh_rng(3, 1, "m")) == \
        pairs.pair_list(matrix, np.zeros(8, bool), mesh_rng(3, 1, "m"))


@pytest.mark.parametrize("settings", [{"groups": 2}, {"pairs": "each", "min_covisibility": 0.25},
                                      {"pairs": "all", "max_covisibility": 0.6}])
def test_equal_counts_give_the_ranks_the_same_number(meshes, settings):
    source, _ = meshes
    free = read_all(source, **settings)
    for epoch in range(2):
        seen = []
        for rank in range(2):
            views = DepthViews(str(source), rank=rank, world_size=2, equal_counts=True, shuffle=3, **settings)
            views.set_epoch(epoch)
            mine = [s for worker in range(2) for s in views.iterate(worker, 2)]
            assert len(mine) == views.epoch_length(2)
            seen.append([s["key"] for s in mine])
        assert len(seen[0]) == len(seen[1]) > 0
        assert len(set(seen[0] + seen[1])) == len(seen[0]) + len(seen[1]) <= len(free)


def test_group_and_pair_samples_collate(meshes):
    source, _ = meshes
    groups = list(DepthViews(str(source), groups=2))[:3]
    pairs = list(DepthViews(str(source), pairs="each"))[:3]
    for sample in groups + pairs:
        assert not any(v is None or isinstance(v, (list, tuple)) for v in sample.values())
    batch = numpy_collate(groups)
    assert batch["depth"].shape == (3, 2, 6, 5) and batch["covisibility"].shape == (3, 2, 2)
    assert batch["view_index"].shape == (3, 2) and batch["name"] == [g["name"] for g in groups]
    batch = numpy_collate(pairs)
    assert batch["a"]["depth"].shape == (3, 6, 5) and batch["relative_pose"].shape == (3, 4, 4)
    assert batch["xyz_b_in_a"].shape == (3, 6, 5, 3) and batch["covisibility"].shape == (3,)
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from depth_views.datasets import torch_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batches = list(DataLoader(torch_dataset(str(source), pairs="all"), batch_size=4, num_workers=2))
    assert batches[0]["a"]["depth"].dtype == torch.float32 and batches[0]["relative_pose"].dtype == torch.float64
    names = [(n, int(a), int(b)) for batch in batches
             for n, a, b in zip(batch["name"], batch["a"]["view_index"], batch["b"]["view_index"])]
    assert len(names) == len(set(names)) == len(list(DepthViews(str(source), pairs="all")))
    groups = list(DataLoader(torch_dataset(str(source), groups=2), batch_size=2, num_workers=2))
    assert groups[0]["depth"].shape[:2] == (2, 2) and groups[0]["covisibility"].dtype == torch.float64


def test_a_render_without_a_stored_matrix_gets_it_computed(tmp_path):
    """Shards written before covisibility was stored: the reader computes it from the depth, the same way."""
    write_meshes(tmp_path, {"old": legacy_mesh("old", 3), "new": fake_mesh("new", 2)})
    pairs = list(DepthViews(str(tmp_path), pairs="all"))
    assert sorted((p["name"], int(p["a"]["view_index"]), int(p["b"]["view_index"])) for p in pairs) == \
        sorted([("old", a, b) for a in range(3) for b in range(3) if a != b] + [("new", 0, 1), ("new", 1, 0)])
    from depth_views.cameras.models import CameraModel

    old = [p for p in pairs if p["name"] == "old"]
    model = CameraModel("PINHOLE", 5, 6, np.eye(3))
    depths = {int(p["a"]["view_index"]): p["a"]["depth"] for p in old}
    matrix = covisibility_matrix([CovisibilityView(depths[i], model, np.eye(4)) for i in range(3)])
    for pair in old:
        assert pair["covisibility_ab"] == matrix[int(pair["a"]["view_index"]), int(pair["b"]["view_index"])]
    assert len(list(DepthViews(str(tmp_path), groups=2, equal_counts=True, world_size=1))) == 2


def test_bad_settings_are_refused_in_one_line(meshes):
    source, _ = meshes
    for settings, message in [({"groups": 2, "pairs": "each"}, "choose one"),
                              ({"groups": 0}, "groups=0"), ({"groups": "some"}, "groups='some'"),
                              ({"pairs": "both"}, "pairs='both'"),
                              ({"pairs": "each", "min_covisibility": 0.8, "max_covisibility": 0.2}, "need 0 <= min"),
                              ({"min_covisibility": 0.3}, "give pairs= or groups=")]:
        with pytest.raises(DepthViewsError, match=message):
            DepthViews(str(source), **settings)


# -- real renders ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Suzanne and three boxes, 6 views at 48 x 36 with depth and normal, as shards (one mesh a shard)
    and as folders."""
    pytest.importorskip("bpy")
    from meshes import box_obj
    from repo import ROOT

    from depth_views.cli import main

    tmp = tmp_path_factory.mktemp("multiview")
    inputs = [os.path.join(ROOT, "examples", "suzanne.obj")]
    inputs += [box_obj(str(tmp / "in" / f"box{i}.obj"), size=(1.0, 0.5 + 0.3 * i, 0.4), offset=(-0.5, -0.4, -0.2))
               for i in range(3)]
    common = ["--views", "6", "--resolution", "48", "36", "--passes", "depth,normal", "--quiet"]
    assert main(["render", *inputs, "--out", str(tmp / "views"), "--formats", "webdataset", "--shard-views", "6",
                 *common]) == 0
    assert main(["render", *inputs, "--out", str(tmp / "folders"), *common]) == 0
    return tmp


@pytest.mark.parametrize("layout", ["views", "folders"])
def test_a_pair_carries_the_poses_its_relative_pose_and_pointmaps(rendered, layout):
    """For every ordered pair of every mesh: relative_pose maps camera a's frame to b's (T_ab
    world_to_camera_a = world_to_camera_b); xyz_b_in_a is b's depth lifted with b's K, moved to the
    world with b's pose and into a's frame with a's, NaN where b sees nothing; xyz_a_in_a is a's own;
    the covisibility both ways is the stored matrix's."""
    cameras = {c["name"]: c for c in DepthViews(str(rendered / layout)).cameras()}
    count = 0
    for pair in DepthViews(str(rendered / layout), pairs="all"):
        a, b = pair["a"], pair["b"]
        np.testing.assert_allclose(pair["relative_pose"] @ a["world_to_camera"], b["world_to_camera"], atol=1e-12)
        for view, key in ((b, "xyz_b_in_a"), (a, "xyz_a_in_a")):
            K, depth = view["K"], view["depth"]
            rows, columns = np.nonzero(np.isfinite(depth))
            z = depth[rows, columns].astype(np.float64)
            own = np.stack([(columns - K[0, 2]) / K[0, 0] * z, (rows - K[1, 2]) / K[1, 1] * z, z], axis=-1)
            world = (np.linalg.inv(view["world_to_camera"]) @ np.c_[own, np.ones(len(z))].T).T
            in_a = (a["world_to_camera"] @ world.T).T[:, :3]
            np.testing.assert_allclose(pair[key][rows, columns], in_a, rtol=1e-5, atol=1e-5)
            assert np.isnan(pair[key][~np.isfinite(depth)]).all()
        matrix = np.array(cameras[pair["name"]]["covisibility"]["matrix"])
        assert pair["covisibility_ab"] == matrix[a["view_index"], b["view_index"]]
        assert pair["covisibility_ba"] == matrix[b["view_index"], a["view_index"]]
        count += 1
    assert count == 4 * 6 * 5


@pytest.mark.parametrize("layout", ["views", "folders"])
def test_real_renders_give_each_mesh_and_view_once_across_ranks_and_workers(rendered, layout):
    groups = read_all(rendered / layout, groups=4, shuffle=2, seed=1)
    assert sorted(g["name"] for g in groups) == ["box0", "box1", "box2", "suzanne"]
    assert all(g["depth"].shape == (4, 36, 48) and g["normal"].shape == (4, 36, 48, 3) for g in groups)
    pairs = read_all(rendered / layout, pairs="each", min_covisibility=0.2)
    firsts = [(p["name"], int(p["a"]["view_index"])) for p in pairs]
    assert len(firsts) == len(set(firsts)) >= 16
    assert all(0.2 <= p["covisibility"] <= 1.0 for p in pairs)
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from depth_views.datasets import torch_dataset

    seen = []
    for rank in range(2):
        loader = DataLoader(torch_dataset(str(rendered / layout), groups=3, rank=rank, world_size=2), batch_size=2,
                            num_workers=2)
        seen += [name for batch in loader for name in batch["name"]]
        assert all(batch["depth"].dtype == torch.float32 for batch in loader)
    assert sorted(seen) == ["box0", "box1", "box2", "suzanne"]


def test_docs_multiview_block_runs(rendered, monkeypatch, capsys):
    from docs_blocks import docs_block

    monkeypatch.chdir(rendered)
    block = docs_block("docs/datasets.md", "multiview")
    exec(compile(block, "docs/datasets.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("group ") for line in printed) == 4
    assert sum(line.startswith("pair ") for line in printed) >= 8
