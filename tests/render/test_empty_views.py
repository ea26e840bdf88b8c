"""Blank views flagged (issue 21, item 4): a camera file with one camera that looks past a small box but
onto a wide slab.  Each view's coverage (the fraction of pixels with a surface) is exact against the
depth read back; the empty view is named in a warning by render, batch and render --formats
webdataset, recorded in cameras.json, the shard json and the index; with ``--empty-views fail`` that
mesh alone fails (render: exit 1 for it, the other still renders; batch: failures.jsonl, stage render,
the view named)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from camera_files import world_to_camera_seeing, write_transforms  # noqa: E402
from meshes import box_obj  # noqa: E402

from depth_views.batch import read_failures, read_index  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.datasets import DepthViews  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.outputs import shards  # noqa: E402

K = [[36.0, 0.0, 19.5], [0.0, 36.0, 14.5], [0.0, 0.0, 1.0]]   # 40 x 30 pixels, about 58 degrees across
EMPTY = 2   # the view of the small box that sees nothing


@pytest.fixture
def scene(tmp_path):
    """small.obj (a unit cube at the origin), wide.obj (a 12 x 12 x 1 slab at the origin), and a camera
    file: cameras 0 and 1 look at the origin, camera 2 straight down at (3.5, 0, 0), which is
    beside the cube (it shows x from about 1 to 6) but on the slab."""
    small = box_obj(tmp_path / "in" / "small.obj", size=(1.0, 1.0, 1.0), offset=(-0.5, -0.5, -0.5))
    wide = box_obj(tmp_path / "in" / "wide.obj", size=(12.0, 12.0, 1.0), offset=(-6.0, -6.0, -0.5))
    cameras = [(K, world_to_camera_seeing(position, target, K, 40, 30), 40, 30)
               for position, target in [((4.0, 0.5, 3.0), (0, 0, 0)), ((-0.5, -4.0, 3.0), (0, 0, 0)),
                                        ((3.5, 0.0, 5.0), (3.5, 0.0, 0.0))]]
    return small, wide, write_transforms(tmp_path / "transforms.json", cameras, per_frame=True)


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if "warning:" in line and "coverage 0" in line]


def test_render_names_the_empty_view_and_records_coverage(scene, tmp_path, capfd):
    small, wide, cameras = scene
    assert main(["render", small, wide, "--cameras", cameras, "--out", str(tmp_path / "out"), "--quiet"]) == 0
    warned = warnings_of(capfd.readouterr().err)
    assert warned == [f"depth-views: warning: {small}: view {EMPTY} sees no surface (coverage 0; 1 of 3 views): "
                      "the cameras look past the object, or it has no visible surface "
                      "(--empty-views fail makes this a failure)"]
    for name in ("small", "wide"):
        folder = tmp_path / "out" / name
        document = json.load(open(folder / "cameras.json"))
        for view in document["views"]:
            depth = read_depth(str(folder / view["files"]["depth"]), allow_constant=True)
            assert view["coverage"] == np.isfinite(depth).sum() / depth.size   # exact, as the definition says
        coverage = [view["coverage"] for view in document["views"]]
        if name == "small":
            assert coverage[EMPTY] == 0.0 and all(0.0 < c < 1.0 for i, c in enumerate(coverage) if i != EMPTY)
        else:
            assert coverage[EMPTY] == 1.0 and min(coverage) > 0.0   # the slab fills camera 2's view
    # the folder layout's samples carry the same coverage
    assert sorted((s["name"], s["view_index"]) for s in DepthViews(str(tmp_path / "out")) if s["coverage"] == 0) == \
        [("small", EMPTY)]


def test_empty_views_fail_fails_that_input_alone(scene, tmp_path, capfd):
    small, wide, cameras = scene
    out = tmp_path / "out"
    assert main(["render", small, wide, "--cameras", cameras, "--out", str(out), "--quiet",
                 "--empty-views", "fail"]) == 1
    printed = capfd.readouterr()
    assert f"depth-views: error: {small}: view {EMPTY} sees no surface (coverage 0) and --empty-views fail" \
        in printed.err
    assert "rendered 1 of 2 inputs" in printed.out and "; 1 failed" in printed.out
    assert (out / "wide" / "cameras.json").exists() and not (out / "small" / "cameras.json").exists()


def test_batch_and_shards_flag_the_view_and_fail_the_mesh_with_the_option(scene, tmp_path, capfd):
    small, wide, cameras = scene
    common = ["--cameras", cameras, "--progress", "lines", "--workers", "1"]
    # warn (the default): the WebDataset batch warns, the json, cameras document and index say which
    out = tmp_path / "wds"
    assert main(["batch", small, wide, "--out", str(out), *common, "--formats", "webdataset"]) == 0
    warned = warnings_of(capfd.readouterr().err)
    assert len(warned) == 1 and f"{small}: view {EMPTY} sees no surface" in warned[0]
    index = {entry["name"]: entry for entry in read_index(str(out))}
    assert index["small"]["empty_views"] == [EMPTY] and index["small"]["coverage_min"] == 0.0
    assert index["wide"]["empty_views"] == [] and index["wide"]["coverage_min"] > 0.0
    samples = {(s["name"], s["view_index"]): s for s in DepthViews(str(out))}
    for (name, index_), sample in samples.items():
        assert sample["coverage"] == np.isfinite(sample["depth"]).sum() / sample["depth"].size
        assert (sample["coverage"] == 0.0) == ((name, index_) == ("small", EMPTY))
    documents = {d["name"]: d for d in DepthViews(str(out)).cameras()}
    assert [v["coverage"] for v in documents["small"]["views"]] == [samples[("small", i)]["coverage"] for i in range(3)]
    # fail: that mesh alone fails, in failures.jsonl with the view named; the other is done
    for formats in ("webdataset", "exr"):
        out = tmp_path / f"fail-{formats}"
        assert main(["batch", small, wide, "--out", str(out), *common, "--formats", formats,
                     "--empty-views", "fail"]) == 1
        capfd.readouterr()
        [failure] = read_failures(str(out))
        assert failure["name"] == "small" and failure["stage"] == "render"
        assert f"view {EMPTY} sees no surface (coverage 0)" in failure["error"]
        assert [entry["name"] for entry in read_index(str(out))] == ["wide"]
        assert sorted({s["name"] for s in DepthViews(str(out))}) == ["wide"]
        assert not os.path.exists(out / ".partial")
    # render --formats webdataset: the same run, in this process
    out = tmp_path / "render-wds"
    assert main(["render", small, wide, "--cameras", cameras, "--out", str(out), "--formats", "webdataset",
                 "--quiet"]) == 0
    warned = warnings_of(capfd.readouterr().err)
    assert len(warned) == 1 and f"{small}: view {EMPTY} sees no surface" in warned[0]
    assert {s["name"] for s in DepthViews(str(out)) if s["coverage"] == 0} == {"small"}
    assert shards.finished_shards(str(out))


def test_the_addon_reports_the_empty_views_as_warnings(tmp_path, capfd):
    """The add-on's operator replays the job's warnings (operators._finish_job): a clip end before the
    object empties every view, and the report names them."""
    import depth_views
    from meshes import asymmetric_mesh, write_blend

    from depth_views.operators.scene import scene_job

    depth_views.register()
    try:
        bpy.ops.wm.open_mainfile(filepath=write_blend(asymmetric_mesh(), tmp_path / "scene.blend"), load_ui=False)
        settings = bpy.context.scene.depth_views
        settings.target, settings.views, settings.resolution_x, settings.resolution_y = "SCENE", 3, 24, 20
        settings.output_dir = str(tmp_path / "out")
        settings.clip_auto, settings.clip_start, settings.clip_end = False, 0.1, 0.2
        with scene_job(bpy.context.scene, settings, []) as job:
            while not job.finished:
                job.step()
            report = job.finish()
        assert [w for w in report.warnings if "coverage 0" in w] == \
            [f"{job.loaded.path}: views 0, 1, 2 see no surface (coverage 0; 3 of 3 views): the cameras look past "
             "the object, or it has no visible surface (--empty-views fail makes this a failure)"]
        capfd.readouterr()
        assert bpy.ops.depth_views.render() == {"FINISHED"}
        assert "views 0, 1, 2 see no surface (coverage 0" in "".join(capfd.readouterr())
    finally:
        depth_views.unregister()
