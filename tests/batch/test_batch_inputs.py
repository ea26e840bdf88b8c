"""The bpy-free half of the batch: sources, output names, parts (--part K/N), journals, resume decisions."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depth_views.batch import store
from depth_views.batch.inputs import (collect_inputs, output_names, parse_part, select_part,
                                      part_of, source_paths)
from depth_views.batch.run import plan_batch
from depth_views.cli import build_parser, options_from_args
from depth_views.errors import DepthViewsError


def touch(path, text="v 0 0 0\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as stream:
        stream.write(text)
    return str(path)


@pytest.fixture
def dataset(tmp_path):
    """A ShapeNet-like tree: every model is called model.obj; plus noise that is not a mesh."""
    root = tmp_path / "shapes"
    for synset, model in [("chair", "b2"), ("chair", "a1"), ("table", "c3")]:
        touch(root / synset / model / "model.obj")
    touch(root / "table" / "c3" / "notes.txt")
    touch(root / ".hidden" / "x.obj")
    touch(root / "plane.STL")
    return root


def test_a_folder_is_searched_recursively_in_sorted_order_and_names_mirror_it(dataset):
    inputs = collect_inputs([str(dataset)])
    assert [i.name for i in inputs] == ["chair/a1/model", "chair/b2/model", "plane", "table/c3/model"]
    assert inputs[0].path == str(dataset / "chair" / "a1" / "model.obj")


def test_names_do_not_change_when_files_are_added(dataset):
    before = {i.path: i.name for i in collect_inputs([str(dataset)])}
    touch(dataset / "chair" / "a0" / "model.obj")
    touch(dataset / "aaa.obj")
    after = {i.path: i.name for i in collect_inputs([str(dataset)])}
    assert all(after[path] == name for path, name in before.items())


def test_the_output_folder_inside_the_source_is_not_searched(dataset):
    touch(dataset / "out" / "plane" / "mesh.ply")
    names = [i.name for i in collect_inputs([str(dataset)], exclude=str(dataset / "out"))]
    assert "out/plane/mesh" not in names and len(names) == 4
    matched = collect_inputs([str(dataset / "**" / "*.ply")], exclude=str(dataset / "out"))
    assert matched == []


def test_glob_and_list_file_sources(dataset, tmp_path):
    matched = collect_inputs([str(dataset / "chair" / "*" / "*.obj")])
    assert [i.name for i in matched] == ["a1/model", "b2/model"]
    listing = tmp_path / "list.txt"
    listing.write_text("# my meshes\nshapes/table/c3/model.obj\n\n  shapes/plane.STL  \n"
                       f"{dataset / 'chair' / 'a1' / 'model.obj'}\nshapes/table/c3/model.obj\n")
    listed = collect_inputs([str(listing)])
    assert [i.path for i in listed] == [str(dataset / "table" / "c3" / "model.obj"), str(dataset / "plane.STL"),
                                        str(dataset / "chair" / "a1" / "model.obj")]
    assert [i.name for i in listed] == ["table/c3/model", "plane", "chair/a1/model"]


def test_missing_sources_are_named(tmp_path):
    with pytest.raises(DepthViewsError, match="nowhere"):
        source_paths(str(tmp_path / "nowhere"))
    with pytest.raises(DepthViewsError, match="matches no mesh"):
        source_paths(str(tmp_path / "*.obj"))


def test_hostile_and_colliding_names_stay_inside_and_apart(tmp_path):
    # ../../x.obj in a list file, a name that is also a folder of another, case collisions,
    # a name that would shadow the batch's own index.jsonl.
    touch(tmp_path / "x.obj")
    deep = tmp_path / "a" / "b"
    os.makedirs(deep)
    touch(tmp_path / "a" / "m.obj")
    touch(tmp_path / "a" / "M.ply")
    touch(tmp_path / "a" / "m" / "k.obj")
    touch(tmp_path / "a" / "index.jsonl.obj")
    listing = deep / "list.txt"
    listing.write_text("../../x.obj\n../m.obj\n../M.ply\n../m/k.obj\n../index.jsonl.obj\n")
    names = [i.name for i in collect_inputs([str(listing)])]
    assert names == ["x", "a/m-2", "a/M-3", "a/m/k", "a/index.jsonl"]
    out = tmp_path / "out"
    folders = [store.final_folder(str(out), n) for n in names]
    assert all(f.startswith(str(out) + os.sep) for f in folders) and len(set(folders)) == len(folders)
    top = collect_inputs([str(tmp_path / "a" / "index.jsonl.obj")])
    assert top[0].name == "index.jsonl-2"
    with pytest.raises(DepthViewsError, match="outside"):
        store.final_folder(str(out), "../escape")


def test_output_names_collide_case_insensitively():
    assert output_names([["Chair"], ["chair"], ["CHAIR"]]) == ["Chair", "chair-2", "CHAIR-3"]


@settings(max_examples=50, deadline=None)
@given(names=st.lists(st.text(alphabet="abcXYZ/._-", min_size=1, max_size=12), min_size=1, max_size=40,
                      unique=True),
       n=st.integers(1, 7))
def test_parts_cover_every_input_exactly_once(names, n):
    from depth_views.batch.inputs import BatchInput

    inputs = [BatchInput(f"/data/{i}.obj", name) for i, name in enumerate(names)]
    parts = [select_part(inputs, (k, n)) for k in range(n)]
    assert sorted(i.name for part in parts for i in part) == sorted(names)
    assert all(part_of(i.name, n) == k for k, part in enumerate(parts) for i in part)


def test_part_membership_does_not_depend_on_the_other_inputs():
    assert [part_of(f"mesh{i}", 4) for i in range(8)] == [part_of(f"mesh{i}", 4) for i in range(8)]
    assert len({part_of(f"mesh{i}", 4) for i in range(64)}) == 4


@pytest.mark.parametrize("text", ["3", "1/0", "4/4", "-1/4", "a/b"])
def test_bad_parts_are_refused(text):
    with pytest.raises(DepthViewsError, match="--part"):
        parse_part(text)


def test_parse_part():
    assert parse_part("0/8") == (0, 8) and parse_part("7/8") == (7, 8)


def test_torn_journal_lines_are_dropped_and_the_file_repaired(tmp_path):
    path = tmp_path / "index.jsonl"
    path.write_bytes(b'{"name": "a", "views": 2}\n{"name": "b", "vi')
    journal = store.Journal(str(path))
    assert journal.names() == {"a"}
    assert path.read_text() == '{"name": "a", "views": 2}\n'
    journal.append({"name": "c", "views": 1})
    journal.close()
    assert [json.loads(line)["name"] for line in path.read_text().splitlines()] == ["a", "c"]


def finish_folder(folder, views=2):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "cameras.json"), "w") as stream:
        json.dump({"views": [{}] * views, "object_to_world": None, "width": 8, "height": 8}, stream)


def test_move_into_place_replaces_an_incomplete_folder_and_refuses_a_finished_one(tmp_path):
    out = str(tmp_path)
    stale = tmp_path / "chair"
    touch(stale / "depth" / "0000.exr", "half a render")
    partial = store.partial_folder(out, "chair")
    finish_folder(partial)
    assert store.move_into_place(partial, out, "chair") == str(stale)
    assert sorted(os.listdir(stale)) == ["cameras.json"] and not os.path.exists(partial)
    finish_folder(partial)
    with pytest.raises(DepthViewsError, match="already holds"):
        store.move_into_place(partial, out, "chair")
    store.discard_partial(out, "chair")
    assert not os.path.exists(partial)
    with pytest.raises(DepthViewsError, match="not complete"):
        os.makedirs(partial)
        store.move_into_place(partial, out, "table")


def test_plan_skips_finished_and_failed_meshes_unless_retried(tmp_path):
    src = tmp_path / "src"
    for name in "abcd":
        touch(src / f"{name}.obj")
    out = tmp_path / "out"
    finish_folder(out / "a")
    touch(out / "b" / "depth" / "0000.exr", "incomplete: no cameras.json")
    failures = store.Journal(store.journal_path(str(out), "failures", None))
    failures.append(store.failure_entry("c", str(src / "c.obj"), "import", "c.obj: broken"))
    failures.close()
    plan = plan_batch([str(src)], str(out))
    assert [(s.item.name, s.reason) for s in plan.skipped] == [("a", "complete"), ("c", "failed")]
    assert [i.name for i in plan.todo] == ["b", "d"]
    assert [i.name for i in plan_batch([str(src)], str(out), retry_failed=True).todo] == ["b", "c", "d"]
    assert [r["name"] for r in store.read_failures(str(out))] == ["c"]
    finish_folder(out / "c")
    assert store.read_failures(str(out)) == []


def test_parts_write_their_own_journals(tmp_path):
    assert store.journal_path(str(tmp_path), "index", None).endswith("index.jsonl")
    assert store.journal_path(str(tmp_path), "index", (0, 1)).endswith("index.jsonl")
    assert store.journal_path(str(tmp_path), "failures", (2, 5)).endswith("failures.part-2-of-5.jsonl")
    for k in range(2):
        journal = store.Journal(store.journal_path(str(tmp_path), "index", (k, 2)))
        journal.append({"name": f"m{k}", "views": 1})
        journal.close()
    # a journal written before --part got its name (.shard-K-of-N) is still read
    old = store.Journal(str(tmp_path / "index.shard-1-of-3.jsonl"))
    old.append({"name": "m2", "views": 1})
    old.close()
    assert sorted(e["name"] for e in store.read_index(str(tmp_path))) == ["m0", "m1", "m2"]


def test_batch_command_takes_the_render_options():
    args = build_parser().parse_args(
        ["batch", "data/", "--out", "o", "--views", "6", "--resolution", "64", "48", "--normalize",
         "--workers", "2", "--part", "1/3", "--timeout", "30", "--sampling", "grid", "--grid", "3", "2"])
    options = options_from_args(args)
    assert (options.views, options.resolution, options.normalize, options.grid) == (6, (64, 48), True, (3, 2))
    assert (args.workers, args.part, args.timeout, args.ray) == (2, (1, 3), 30.0, None)
    render_dests = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["render"]._actions}
    batch_dests = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["batch"]._actions}
    assert render_dests - {"inputs"} <= batch_dests
    assert build_parser().parse_args(["batch", "d", "--out", "o", "--ray"]).ray == "auto"
    assert build_parser().parse_args(["batch", "d", "--out", "o", "--shard", "2/3"]).part == (2, 3)   # its old name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["batch", "d", "--out", "o", "--part", "3/3"])


def test_progress_lines_and_bar(capsys):
    from depth_views.batch.events import MeshFailed, MeshRendered, MeshSkipped, ViewRendered
    from depth_views.batch.inputs import BatchInput
    from depth_views.batch.progress import BatchProgress
    from depth_views.batch.run import BatchPlan, BatchSummary

    a, b, c = (BatchInput(f"/d/{n}.obj", n) for n in "abc")
    plan = BatchPlan([a, b, c], [a, b, c], [a, b], [MeshSkipped(c, "complete")])
    summary = BatchSummary(inputs=3, rendered=1, skipped=1, failed=1, views=4, seconds=2.0)
    events = [ViewRendered(a, 1, 4), ViewRendered(a, 2, 4), ViewRendered(a, 3, 4), ViewRendered(a, 4, 4),
              MeshRendered(a, "/o/a", 4, 1.5), ViewRendered(b, 1, 4), MeshFailed(b, "render", "/d/b.obj: boom")]

    lines = BatchProgress(bar=False)
    lines.plan_ready(plan, 4)
    for event in events:
        lines(event)
    lines.close(summary, "/o", "/o/failures.jsonl")
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [
        "depth-views: 1 of 3 inputs already done (0 of them failed earlier), 2 to render",
        "[1/2] /d/a.obj: 4 views -> /o/a (1.5 s)",
        "depth-views: batch of 3 inputs into /o: 1 rendered, 1 already done, 1 failed; 4 views in 2.0 s "
        "(2.0 views/s); failures are listed in /o/failures.jsonl"]
    assert printed.err == "depth-views: error: [render] /d/b.obj: boom\n"

    bar = BatchProgress(bar=True)
    bar.plan_ready(plan, 4)
    assert bar.bar.total == 8
    for event in events:
        bar(event)
    assert (bar.bar.n, bar.bar.total) == (5, 5)  # b's three views that never came are dropped
    bar.close(summary, "/o", "/o/failures.jsonl")
    assert "meshes 2/2 (1 failed)" in capsys.readouterr().err


@pytest.mark.parametrize("cpus, device, workers, threads", [
    (1, "cpu", 1, 1),      # one core: one worker with it
    (2, "cpu", 2, 2),      # the benchmark machine: 2 workers x 2 threads (RESULTS.md)
    (4, "cpu", 2, 4),
    (16, "cpu", 4, 8),
    (64, "cpu", 8, 16),    # at most 8 workers
    (16, "gpu", 1, 16),    # one GPU, one worker
])
def test_default_worker_layout_overlaps_serial_stretches(monkeypatch, cpus, device, workers, threads):
    from depth_views.batch import local

    monkeypatch.setattr(local, "available_cpus", lambda: cpus)
    assert local.default_workers(device) == workers
    assert local.threads_per_worker(workers) == threads
    assert local.threads_per_worker(cpus * 4) == 1      # never below one thread
