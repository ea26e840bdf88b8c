"""Runs that share one DIR (a job array, several machines) with real Blender workers: each exits 0 once
the meshes it took are done, whatever other live runs still hold; ``depth-views status DIR`` is the
gate that says when DIR is complete; a SIGKILLed run's meshes are taken over by the next run.

Runs are held in the middle of a mesh with the workers' fault hook (``pause:NAME`` waits for a release
file, ``hang:NAME`` never returns; each leaves a marker first), so the order of events is fixed.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("bpy")

from depth_views.batch import dataset_status, faults, read_failures, read_index  # noqa: E402

ARGS = ["--views", "3", "--resolution", "32", "24", "--workers", "1", "--progress", "lines"]
NAMES = ["asym", "boxes/flat", "boxes/tall", "plane"]
DEADLINE = 180.0


def start(src, out, marks, *extra, fault=None):
    env = dict(os.environ)
    env.pop(faults.FAULT_ENV, None)
    if fault:
        env[faults.FAULT_ENV], env[faults.FAULT_MARKS_ENV] = fault, str(marks)
    command = [sys.executable, "-m", "depth_views", "batch", str(src), "--out", str(out), *ARGS, *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for(path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def status_cli(out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "depth_views", "status", str(out)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("layout", ["folders", "webdataset"])
def test_two_runs_that_share_the_work_both_exit_0_and_status_is_the_gate(four_meshes, tmp_path, layout):
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    extra = ["--formats", "webdataset"] if layout == "webdataset" else []
    first = start(four_meshes, out, marks, *extra, fault="pause:asym.ply")   # holds asym, its first mesh
    try:
        wait_for(marks / "pause-asym.ply")
        second = start(four_meshes, out, marks, *extra)
        stdout, stderr = second.communicate(timeout=DEADLINE)
        assert second.returncode == 0, stderr   # its meshes are done; asym is the first run's to finish
        assert "3 rendered, 0 already done, 0 failed" in stdout
        assert f"1 left to other live runs on this folder that hold them ('depth-views status {out}'" in stdout

        gate = status_cli(out)   # the first run is alive and holds asym: in progress
        assert gate.returncode == 3, gate.stdout + gate.stderr
        lines = gate.stdout.splitlines()
        assert lines[0] == (f"{out} ({layout}): 4 inputs: 3 done, 1 held by live runs, 0 failed, 0 not started; "
                            "1 live run")
        assert any(line.startswith(f"  asym  {platform.node()} pid {first.pid}, claimed ") for line in lines)
        assert lines[-1] == "in progress: 1 live runs, 1 meshes held (exit code 3)"

        (marks / "release-asym.ply").touch()
        stdout, stderr = first.communicate(timeout=DEADLINE)
        assert first.returncode == 0, stderr
        assert "1 rendered, 3 already done, 0 failed" in stdout   # the other three: the second run did them
    finally:
        for run in (first,):
            if run.poll() is None:
                run.kill()
                run.wait()
    gate = status_cli(out)
    assert gate.returncode == 0, gate.stdout
    assert gate.stdout.splitlines()[-1] == "complete: every input is done (exit code 0)"
    assert sorted(e["name"] for e in read_index(str(out))) == NAMES and read_failures(str(out)) == []


def test_a_killed_runs_meshes_are_held_then_taken_over(four_meshes, tmp_path):
    """SIGKILL a run in the middle of a mesh (WebDataset: its open shard holds finished meshes too):
    while it lives status reports the mesh held by it; once it is gone (on this host: its process is
    not alive; from another host: when its heartbeat is stale) the mesh is not started and the next
    run renders it, and everything else, once."""
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    extra = ["--formats", "webdataset"]
    run = start(four_meshes, out, marks, *extra, fault="hang:plane.stl")   # plane is its last mesh
    try:
        wait_for(marks / "hang-plane.stl")
        status = dataset_status(out)
        held = {mesh.name: mesh.detail["pid"] for mesh in status.held}
        assert held == {name: run.pid for name in NAMES}   # plane, and the three in its open shard
        assert status.exit_code == 3 and [r["pid"] for r in status.runs] == [run.pid]
        run.send_signal(signal.SIGKILL)
        run.wait()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    status = dataset_status(out)
    assert status.held == [] and status.runs == [] and status.exit_code == 4
    assert sorted(m.name for m in status.not_started) == NAMES
    assert all(m.detail["pid"] == run.pid for m in status.not_started)   # the claims of a gone run
    gate = status_cli(out)
    assert gate.returncode == 4
    assert "(claim of a run that is gone: " in gate.stdout and "run the batch again to finish" in gate.stdout

    again = start(four_meshes, out, marks, *extra)
    stdout, stderr = again.communicate(timeout=DEADLINE)
    assert again.returncode == 0, stderr
    assert "4 rendered, 0 already done, 0 failed" in stdout
    assert status_cli(out).returncode == 0
    assert not (out / ".claims").exists() and not (out / ".partial").exists()
    assert not [n for n in os.listdir(out / "shards") if n.startswith(".")]   # the killed run's shard: gone
