"""A batch through a lens model (Cycles' Custom camera).

Blender 4.5 and 5.0 render it in the worker processes, each view through its distortion.  Blender 4.2 has no
Custom camera: the run is refused once, before its first mesh, in one line that names the Blender version it
needs (the workers say so as they start; the in-process pool as it is made), with nothing rendered, undistorted
or at all, and nothing recorded as failed, so the same command on a newer Blender renders every input into the
same folder.  A Ray actor refuses its first mesh the same way (tested with a stand-in actor: the clusters of
these tests run Blender 5.0).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from meshes import asymmetric_mesh, box_obj, write_mesh  # noqa: E402

from depth_views.batch import batch_events, dataset_status, read_failures, read_index, run_batch  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.compositor.compat import custom_camera_problem  # noqa: E402
from depth_views.errors import DepthViewsError  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402

PROBLEM = custom_camera_problem()
# a phone-like OPENCV lens at 40 x 30 (COLMAP's parameters: principal point off-centre, fx != fy)
LENS = ("OPENCV", (33.0, 33.4, 20.6, 15.3, -0.12, 0.03, 0.0012, -0.0008))
OPTIONS = RenderOptions(views=2, resolution=(40, 30), lens_model=LENS[0], lens_params=LENS[1])
ARGS = ["--views", "2", "--resolution", "40", "30", "--lens-model", LENS[0], "--lens-params", *map(str, LENS[1])]
REFUSAL = (f"camera model OPENCV (a lens model) needs Blender 4.5 or newer (Cycles' Custom camera); this is "
           f"Blender {bpy.app.version_string}")
needs_custom_camera = pytest.mark.skipif(PROBLEM is not None, reason=f"lens renders need Cycles' Custom camera: {PROBLEM}")
without_custom_camera = pytest.mark.skipif(PROBLEM is None, reason="this Blender has Cycles' Custom camera")


@pytest.fixture
def three_meshes(tmp_path):
    src = tmp_path / "src"
    box_obj(src / "tall.obj", size=(0.5, 0.7, 2.0))
    box_obj(src / "flat.obj", size=(2.0, 1.5, 0.3), offset=(1, 2, 3))
    write_mesh(asymmetric_mesh(), src / "asym.ply")
    return src


def left_in(out) -> list[str]:
    """Every file under ``out``, relative."""
    return sorted(os.path.relpath(os.path.join(root, name), out) for root, _, names in os.walk(out) for name in names)


@without_custom_camera
def test_a_lens_batch_is_refused_once_before_its_first_mesh(three_meshes, tmp_path, capsys):
    """Two workers, three meshes: one line (not one failure per mesh), exit code 2, no mesh folder, no
    failures.jsonl, and no record of the options: the folder is not pinned to them, so a run with other
    options (here: no lens) renders into it."""
    out = tmp_path / "out"
    code = main(["batch", str(three_meshes), "--out", str(out), "--workers", "2", "--progress", "lines", *ARGS])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.strip().splitlines() == [f"depth-views: error: {REFUSAL}"]
    # the folder's inputs are recorded (as by any run that started); its options are not, so they pin nothing
    assert [name for name in left_in(out) if not name.startswith(".runs" + os.sep)] == []
    with pytest.raises(DepthViewsError, match="not a batch output folder"):   # nothing was rendered into it
        dataset_status(out)
    # the same command again: the same one line (no mesh was recorded as failed, none is skipped)
    assert main(["batch", str(three_meshes), "--out", str(out), "--workers", "1", *ARGS]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"depth-views: error: {REFUSAL}"]
    # other options into the same folder (no lens): not refused as "rendered with other options"
    assert main(["batch", str(three_meshes), "--out", str(out), "--workers", "1", "--progress", "lines",
                 "--views", "2", "--resolution", "40", "30", "--quiet"]) == 0


@without_custom_camera
def test_the_in_process_pool_refuses_a_lens_before_its_first_mesh(three_meshes, tmp_path, capsys):
    """batch_events(in_process=True) raises the one line; render --formats webdataset refuses before it writes
    anything at all."""
    events = batch_events(str(three_meshes), tmp_path / "in_process", OPTIONS, in_process=True)
    with pytest.raises(DepthViewsError) as refused:
        list(events)
    assert str(refused.value) == REFUSAL
    assert read_failures(str(tmp_path / "in_process")) == [] and read_index(str(tmp_path / "in_process")) == []
    code = main(["render", str(three_meshes / "tall.obj"), str(three_meshes / "asym.ply"), "--out",
                 str(tmp_path / "shards"), "--formats", "webdataset", "--quiet", *ARGS])
    assert code == 2 and capsys.readouterr().err.strip().splitlines() == [f"depth-views: error: {REFUSAL}"]
    assert not (tmp_path / "shards").exists()


@without_custom_camera
def test_a_batch_without_distortion_still_renders_with_blenders_own_camera(three_meshes, tmp_path):
    """The refusal is for distortion only: the same lens with zero distortion is Blender's perspective camera."""
    plain = RenderOptions(views=2, resolution=(40, 30), lens_model="OPENCV", lens_params=LENS[1][:4] + (0.0,) * 4)
    summary = run_batch(str(three_meshes), tmp_path / "plain", plain, workers=1)
    assert (summary.rendered, summary.failed) == (3, 0)


@needs_custom_camera
def test_a_lens_batch_renders_each_view_through_its_distortion(three_meshes, tmp_path):
    """Two workers render every mesh through the lens: each folder states the lens, and its depth is the
    render command's, to the bit."""
    summary = run_batch(str(three_meshes), tmp_path / "batch", OPTIONS, workers=2)
    assert (summary.rendered, summary.failed) == (3, 0)
    assert main(["render", str(three_meshes / "asym.ply"), "--out", str(tmp_path / "render"), "--quiet", *ARGS]) == 0
    for name in ("tall", "flat", "asym"):
        cameras = json.loads((tmp_path / "batch" / name / "cameras.json").read_text())
        assert cameras["camera_model"] == "OPENCV" and cameras["lens_params"] == list(LENS[1])
        depth = read_depth(tmp_path / "batch" / name / "depth" / "0000.exr")
        assert np.isfinite(depth).sum() > 50
    for view in ("0000", "0001"):
        a = read_depth(tmp_path / "batch" / "asym" / "depth" / f"{view}.exr")
        b = read_depth(tmp_path / "render" / "asym" / "depth" / f"{view}.exr")
        assert np.array_equal(a, b, equal_nan=True)


class RefusingActor:
    """A stand-in for :class:`~depth_views.batch.ray_pool.BlenderActor` on a Blender without the Custom
    camera: it answers every mesh with ``refused``, as that actor does."""

    def __init__(self, setup_pickle: bytes, threads: int):
        self.refusal = REFUSAL

    def render(self, path: str, name: str, stage: str) -> dict:
        return {"event": "refused", "error": self.refusal}


def test_a_ray_actor_that_refuses_stops_the_run_in_one_line(three_meshes, tmp_path):
    """RayPool: the first refused mesh ends the run with that line; no mesh is failed or rendered and every
    attempt folder is gone."""
    ray = pytest.importorskip("ray")
    from depth_views.batch import ray_pool
    from depth_views.batch.events import MeshFailed, MeshRendered
    from depth_views.batch.inputs import collect_inputs
    from depth_views.resolved import resolve

    ray.cloudpickle.register_pickle_by_value(sys.modules[RefusingActor.__module__])
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = tmp_path / "ray"
        pool = ray_pool.RayPool(resolve(OPTIONS), str(out), actor_class=RefusingActor)
        events = []
        with pytest.raises(DepthViewsError) as refused:
            for event in pool.run(collect_inputs([str(three_meshes)])):
                events.append(event)
        assert str(refused.value) == REFUSAL
        assert not [e for e in events if isinstance(e, (MeshFailed, MeshRendered))]
        assert left_in(out) == []
    finally:
        if started_here:
            ray.shutdown()
