"""Batch runs under faults: random SIGKILLs, a Blender segfault, a hanging importer, a long run.

Self-contained (meshes are written here as plain OBJ text); the batch runs in real worker
processes, and faults inside Blender are injected with the worker's test hook
``DEPTH_VIEWS_TEST_FAULTS`` ("segfault:FILE", "abort:FILE", "hang:FILE").
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("bpy")

from depth_views.batch import read_failures, read_index, run_batch  # noqa: E402
from depth_views.batch.worker import FAULT_ENV  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from meshes import box_obj  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402

TINY = ["--views", "4", "--resolution", "32", "24", "--progress", "lines"]



def make_boxes(folder, count) -> list[str]:
    return [box_obj(os.path.join(folder, f"box{i:03d}.obj"), (1 + 0.1 * i, 1.0, 0.5 + 0.05 * i), (i, 0, 0))
            for i in range(count)]


def batch_command(src, out, *extra) -> list[str]:
    return [sys.executable, "-m", "depth_views", "batch", str(src), "--out", str(out), *TINY, *extra]


def check_output(out, expected_names, views):
    """Exactly ``expected_names`` are finished, each complete and readable, each indexed once,
    and nothing partial or temporary is left anywhere."""
    finished = []
    for folder, subdirs, files in os.walk(out):
        assert not [f for f in files if f.startswith(".tmp")], folder
        assert ".partial" not in subdirs, f"partial work left in {folder}"
        if "depth" in subdirs:
            assert "cameras.json" in files, f"{folder} has depth files but no cameras.json"
        if "cameras.json" in files:
            finished.append(os.path.relpath(folder, out))
            cameras = json.load(open(os.path.join(folder, "cameras.json")))
            assert len(cameras["views"]) == views
            assert sorted(os.listdir(os.path.join(folder, "depth"))) == [f"{i:04d}.exr" for i in range(views)]
            for view in cameras["views"]:
                depth = read_depth(os.path.join(folder, view["files"]["depth"]))
                assert depth.dtype == np.float32 and np.isfinite(depth).any()
    assert sorted(finished) == sorted(expected_names)
    indexed = [json.loads(line)["name"] for line in open(os.path.join(out, "index.jsonl"))]
    assert sorted(indexed) == sorted(expected_names), "every mesh is indexed exactly once"


def depth_files_on_disk(out) -> int:
    return sum(name.endswith(".exr") for _, _, files in os.walk(out) for name in files)


def workers_of(parent: int) -> list[int]:
    """Worker processes started by batch process ``parent`` that are still alive."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as stream:
                environ = stream.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as stream:
                state = stream.read().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if f"DEPTH_VIEWS_BATCH_PARENT={parent}".encode() in environ and state != "Z":
            found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="looks for orphan workers in /proc")
def test_repeated_random_sigkills_then_resume_render_every_mesh_exactly_once(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    make_boxes(src, 8)  # 8 meshes x 4 views = 32 depth files in all
    rng = random.Random(20240611)
    kills = 0
    for attempt in range(5):
        process = subprocess.Popen(batch_command(src, out, "--workers", "2"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill at a random point of the work (not of the clock, which depends on the machine): the
        # first time while the workers start, then after 1 to 6 more depth files reach the disk.
        target = depth_files_on_disk(out) + (0 if attempt == 0 else rng.randint(1, 6))
        while process.poll() is None and depth_files_on_disk(out) < target:
            time.sleep(0.005)
        if attempt == 0:
            time.sleep(rng.uniform(0.0, 0.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        deadline = time.monotonic() + 10
        while workers_of(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not workers_of(process.pid), "workers outlived the killed batch"
        # After every kill: whatever sits under a mesh's own name is complete.
        for folder, subdirs, _ in os.walk(out):
            subdirs[:] = [d for d in subdirs if d != ".partial"]
            if os.path.basename(folder) == "depth":
                assert os.path.isfile(os.path.join(os.path.dirname(folder), "cameras.json"))
    assert kills == 5
    result = subprocess.run(batch_command(src, out, "--workers", "2"), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    check_output(out, [f"box{i:03d}" for i in range(8)], views=4)
    assert not read_failures(str(out))


@pytest.mark.parametrize("fault", ["segfault", "abort"])
def test_a_blender_crash_costs_only_the_mesh_it_was_on(tmp_path, monkeypatch, fault):
    src, out = tmp_path / "src", tmp_path / "out"
    make_boxes(src, 4)
    monkeypatch.setenv(FAULT_ENV, f"{fault}:box001.obj")
    result = subprocess.run(batch_command(src, out, "--workers", "1"), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    check_output(out, ["box000", "box002", "box003"], views=4)
    failures = read_failures(str(out))
    assert [(f["name"], f["stage"]) for f in failures] == [("box001", "crash")]
    signal_name = "SIGSEGV" if fault == "segfault" else "SIGABRT"
    assert signal_name in failures[0]["error"] and str(src / "box001.obj") in failures[0]["error"]
    assert "[crash]" in result.stderr and "box001.obj" in result.stderr


def test_a_hanging_importer_is_stopped_by_the_timeout(tmp_path, monkeypatch):
    src, out = tmp_path / "src", tmp_path / "out"
    make_boxes(src, 3)
    monkeypatch.setenv(FAULT_ENV, "hang:box000.obj")
    result = subprocess.run(batch_command(src, out, "--workers", "1", "--timeout", "8"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    check_output(out, ["box001", "box002"], views=4)
    failures = read_failures(str(out))
    assert [(f["name"], f["stage"]) for f in failures] == [("box000", "timeout")]
    assert "--timeout 8 s" in failures[0]["error"]


def rss_curve(out_root, count, **settings) -> list[int]:
    summary = run_batch(str(out_root / "src"), out_root / "out",
                        RenderOptions(views=1, resolution=(16, 16)), workers=1, **settings)
    assert summary.rendered == count and not summary.failed
    return summary.rss


@pytest.mark.parametrize("count", [40])
def test_soak_memory_stays_flat(tmp_path, count):
    """A small soak run in CI (benchmarks/batch_memory.py runs hundreds): print the RSS curve and
    check that the worker's memory after warm-up grows by less than 40 MB."""
    make_boxes(tmp_path / "src", count)
    curve = rss_curve(tmp_path, count)
    megabytes = [r / 2**20 for r in curve]
    print("\nworker RSS after each mesh (MB): " + " ".join(f"{m:.0f}" for m in megabytes))
    assert all(r > 0 for r in curve)
    warm = megabytes[count // 4:]
    assert max(warm) - warm[0] < 40, f"worker memory grew from {warm[0]:.0f} MB to {max(warm):.0f} MB"
    check_output(tmp_path / "out", [f"box{i:03d}" for i in range(count)], views=1)
    assert len(read_index(str(tmp_path / "out"))) == count
