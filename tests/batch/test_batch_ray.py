"""The batch on a local Ray cluster (2 CPUs) gives the same files as the local worker processes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("bpy")
ray = pytest.importorskip("ray")

from depth_views.batch import read_failures, read_index, run_batch  # noqa: E402
from depth_views.batch.worker import FAULT_ENV  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402

OPTIONS = RenderOptions(views=3, resolution=(40, 32))


def box_obj(path, size) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    corners = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    faces = [(1, 3, 4, 2), (5, 6, 8, 7), (1, 2, 6, 5), (3, 7, 8, 4), (1, 5, 7, 3), (2, 4, 8, 6)]
    with open(path, "w") as stream:
        for corner in corners:
            stream.write("v %g %g %g\n" % tuple(c * s for c, s in zip(corner, size)))
        for a, b, c, d in faces:
            stream.write(f"f {a} {b} {c}\nf {a} {c} {d}\n")
    return str(path)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster with 2 CPUs; worker processes see the crash hook for crash.obj."""
    os.environ[FAULT_ENV] = "segfault:crash.obj"
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        del os.environ[FAULT_ENV]
    yield
    ray.shutdown()


def outputs(out) -> dict:
    found = {}
    for entry in read_index(str(out)):
        folder = os.path.join(out, entry["folder"])
        cameras = json.load(open(os.path.join(folder, "cameras.json")))
        found[entry["name"]] = (cameras, [read_depth(os.path.join(folder, v["files"]["depth"]))
                                          for v in cameras["views"]])
    return found


def test_ray_output_equals_the_local_run_and_a_lost_actor_is_retried(local_ray, tmp_path):
    src = tmp_path / "src"
    for i, size in enumerate([(1, 2, 3), (2, 1, 0.5), (0.3, 0.3, 1)]):
        box_obj(src / "set" / f"box{i}.obj", size)
    (src / "empty.obj").write_text("")
    local = run_batch(str(src), tmp_path / "local", OPTIONS, workers=1)
    box_obj(src / "crash.obj", (1, 1, 1))  # segfaults the Ray actor every time
    on_ray = run_batch(str(src), tmp_path / "ray", OPTIONS, use_ray=True, workers=2)
    assert (local.rendered, on_ray.rendered) == (3, 3)
    local_files, ray_files = outputs(tmp_path / "local"), outputs(tmp_path / "ray")
    assert sorted(local_files) == sorted(ray_files) == ["set/box0", "set/box1", "set/box2"]
    for name, (cameras, depths) in local_files.items():
        assert ray_files[name][0] == cameras
        assert all(np.array_equal(a, b) for a, b in zip(depths, ray_files[name][1]))
    failures = {f["name"]: f for f in read_failures(str(tmp_path / "ray"))}
    assert sorted(failures) == ["crash", "empty"]
    assert failures["empty"]["stage"] == "check"
    assert failures["crash"]["stage"] == "crash" and "died 2 times" in failures["crash"]["error"]
    assert not os.path.exists(tmp_path / "ray" / ".partial")
