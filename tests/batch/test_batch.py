"""The batch command end to end: real worker processes, real renders, real kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from checks import assert_depth_matches_mesh  # noqa: E402
from meshes import asymmetric_mesh, box_obj  # noqa: E402

from depth_views.batch import read_failures, read_index, run_batch, stream_views  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402

SMALL = RenderOptions(views=3, resolution=(48, 40))
SMALL_ARGS = ["--views", "3", "--resolution", "48", "40", "--progress", "lines"]



def finished_folders(out) -> dict[str, str]:
    """name -> folder of every finished mesh under ``out`` (folders holding cameras.json)."""
    found = {}
    for folder, subdirs, files in os.walk(out):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        if "cameras.json" in files:
            found[os.path.relpath(folder, out).replace(os.sep, "/")] = folder
    return found


def assert_nothing_partial(out):
    """No partial folder, no temporary file, and every folder with depth files is finished."""
    assert not os.path.exists(os.path.join(out, ".partial")), os.listdir(os.path.join(out, ".partial"))
    for folder, subdirs, files in os.walk(out):
        assert not [f for f in files if f.startswith(".tmp")], folder
        if os.path.basename(folder) == "depth":
            assert os.path.isfile(os.path.join(os.path.dirname(folder), "cameras.json")), folder
            cameras = json.load(open(os.path.join(os.path.dirname(folder), "cameras.json")))
            assert sorted(os.listdir(folder)) == sorted(os.path.basename(v["files"]["depth"])
                                                        for v in cameras["views"])
            for name in files:
                assert read_depth(os.path.join(folder, name), allow_constant=True).dtype == np.float32


def load_folder(folder) -> tuple[dict, list[np.ndarray]]:
    cameras = json.load(open(os.path.join(folder, "cameras.json")))
    return cameras, [read_depth(os.path.join(folder, v["files"]["depth"])) for v in cameras["views"]]


@pytest.fixture
def dataset(four_meshes):
    return four_meshes


def bad_meshes(folder):
    """Bad inputs and the stage and words of their failures.jsonl records."""
    os.makedirs(folder, exist_ok=True)
    (folder / "empty.obj").write_text("")
    (folder / "points.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n")
    (folder / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    (folder / "corrupt.glb").write_bytes(b"glTF\x02\x00\x00\x00garbage" + bytes(range(200)))
    return {"bad/empty": ("check", "no mesh"), "bad/points": ("check", "no faces"),
            "bad/nan": ("import", "NaN"), "bad/corrupt": ("import", "corrupt.glb")}


def test_a_folder_with_good_and_bad_meshes(dataset, tmp_path, capsys):
    expected_failures = bad_meshes(dataset / "bad")
    out = tmp_path / "out"
    assert main(["batch", str(dataset), "--out", str(out), *SMALL_ARGS, "--workers", "2"]) == 1
    printed = capsys.readouterr()
    assert "4 rendered, 0 already done, 4 failed" in printed.out
    assert printed.err.count("depth-views: error:") == 4
    finished = finished_folders(out)
    assert sorted(finished) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    failures = {r["name"]: r for r in read_failures(str(out))}
    assert sorted(failures) == sorted(expected_failures)
    for name, (stage, words) in expected_failures.items():
        assert failures[name]["stage"] == stage and words in failures[name]["error"], failures[name]
        assert failures[name]["path"] == str(dataset / (name + os.path.splitext(failures[name]["path"])[1]))
        assert failures[name]["path"] in failures[name]["error"]
    index = {e["name"]: e for e in read_index(str(out))}
    assert sorted(index) == sorted(finished)
    assert all(e["views"] == 3 and e["object_to_world"] is None and e["folder"] == n for n, e in index.items())
    mesh = asymmetric_mesh()
    assert assert_depth_matches_mesh(out / "asym", mesh.vertices, mesh.faces) == 3
    assert_nothing_partial(out)

    # Restart: nothing is rendered again, the earlier failures still count.
    stamps = {n: os.stat(os.path.join(f, "cameras.json")).st_mtime_ns for n, f in finished.items()}
    assert main(["batch", str(dataset), "--out", str(out), *SMALL_ARGS]) == 1
    assert "0 rendered, 4 already done, 4 failed" in capsys.readouterr().out
    assert stamps == {n: os.stat(os.path.join(f, "cameras.json")).st_mtime_ns for n, f in finished.items()}
    # --retry-failed tries them again; they are listed once each, not twice.
    (dataset / "bad" / "empty.obj").unlink()
    box_obj(dataset / "bad" / "empty.obj")  # fixed by the user
    assert main(["batch", str(dataset), "--out", str(out), *SMALL_ARGS, "--retry-failed"]) == 1
    failures = read_failures(str(out))
    assert sorted(r["name"] for r in failures) == ["bad/corrupt", "bad/nan", "bad/points"]
    assert sorted(e["name"] for e in read_index(str(out))) == sorted([*finished, "bad/empty"])
    assert_nothing_partial(out)


def test_one_and_two_workers_give_identical_outputs(dataset, tmp_path):
    one = run_batch(str(dataset), tmp_path / "one", SMALL, workers=1)
    two = run_batch(str(dataset), tmp_path / "two", SMALL, workers=2)
    assert (one.rendered, two.rendered, one.failed, two.failed) == (4, 4, 0, 0)
    folders_one, folders_two = finished_folders(tmp_path / "one"), finished_folders(tmp_path / "two")
    assert sorted(folders_one) == sorted(folders_two) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    for name in folders_one:
        cameras_one, depths_one = load_folder(folders_one[name])
        cameras_two, depths_two = load_folder(folders_two[name])
        assert cameras_one == cameras_two
        for a, b in zip(depths_one, depths_two):
            assert np.array_equal(a, b)
    strip = lambda entries: sorted((e["name"], e["views"], e["radius"]) for e in entries)  # noqa: E731
    assert strip(read_index(str(tmp_path / "one"))) == strip(read_index(str(tmp_path / "two")))


def test_batch_writes_what_render_writes(dataset, tmp_path):
    run_batch(str(dataset / "asym.ply"), tmp_path / "batch", SMALL, workers=1)
    assert main(["render", str(dataset / "asym.ply"), "--out", str(tmp_path / "render"), "--quiet",
                 "--views", "3", "--resolution", "48", "40"]) == 0
    cameras_batch, depths_batch = load_folder(tmp_path / "batch" / "asym")
    cameras_render, depths_render = load_folder(tmp_path / "render" / "asym")
    assert cameras_batch == cameras_render
    assert all(np.array_equal(a, b) for a, b in zip(depths_batch, depths_render))


def test_shards_render_every_input_exactly_once(dataset, tmp_path):
    out = tmp_path / "out"
    rendered = []
    for k in range(3):
        summary = run_batch(str(dataset), out, SMALL, workers=1, part=(k, 3))
        rendered.append(summary.rendered)
        assert summary.inputs == summary.rendered
    assert sum(rendered) == 4
    assert sorted(finished_folders(out)) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    journals = sorted(f for f in os.listdir(out) if f.startswith("index"))
    assert journals == [f"index.part-{k}-of-3.jsonl" for k in range(3) if rendered[k]]
    names = [e["name"] for j in journals for e in map(json.loads, open(out / j))]
    assert sorted(names) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    assert run_batch(str(dataset), out, SMALL, workers=1).skipped == 4


def test_streaming_api_yields_float32_views_with_the_same_resume_and_failure_rules(dataset, tmp_path):
    bad_meshes(dataset / "bad")
    out = tmp_path / "out"
    views = list(stream_views(str(dataset), out, SMALL, workers=1))
    assert len(views) == 4 * 3
    assert sorted({v.name for v in views}) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    for view in views:
        assert view.depth.dtype == np.float32 and view.depth.shape == (40, 48)
        on_disk = read_depth(os.path.join(out, view.name, "depth", f"{view.index:04d}.exr"))
        assert np.array_equal(view.depth, on_disk)
        assert view.K.shape == (3, 3) and view.world_to_camera.shape == (4, 4)
    assert len(read_failures(str(out))) == 4
    assert list(stream_views(str(dataset), out, SMALL, workers=1)) == []
    again = list(stream_views(str(dataset), out, SMALL, workers=1, include_finished=True))
    assert [(v.name, v.index) for v in again] == sorted((v.name, v.index) for v in views)


def test_resume_after_sigkill_in_the_middle_of_a_mesh(dataset, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "depth_views", "batch", str(dataset), "--out", str(out),
               "--views", "40", "--resolution", "48", "40", "--workers", "1", "--progress", "lines"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out / ".partial"
    deadline = time.monotonic() + 120
    try:
        # Kill once the second mesh has some views on disk but is not finished.
        while time.monotonic() < deadline:
            if len(finished_folders(out)) >= 1 and partial.is_dir() and any(
                    os.listdir(os.path.join(partial, p, "depth")) for p in os.listdir(partial)
                    if os.path.isdir(os.path.join(partial, p, "depth"))):
                break
            time.sleep(0.02)
        else:
            pytest.fail("the batch never got to its second mesh")
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    before = finished_folders(out)
    assert 1 <= len(before) < 4
    assert os.listdir(partial), "the kill did not land in the middle of a mesh"
    for folder in before.values():  # what exists under its own name is complete
        assert len(load_folder(folder)[1]) == 40
    inodes = {n: os.stat(os.path.join(f, "cameras.json")).st_ino for n, f in before.items()}

    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    after = finished_folders(out)
    assert sorted(after) == ["asym", "boxes/flat", "boxes/tall", "plane"]
    assert inodes == {n: os.stat(os.path.join(after[n], "cameras.json")).st_ino for n in before}
    assert f"{4 - len(before)} rendered, {len(before)} already done, 0 failed" in result.stdout
    index = [e["name"] for e in map(json.loads, open(out / "index.jsonl"))]
    assert sorted(index) == sorted(after)  # each mesh listed exactly once
    assert_nothing_partial(out)
