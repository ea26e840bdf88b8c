"""The in-memory Python API (render_views): the same depth as the written files, no files left, the scene
restored; and depth from the other engines."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from meshes import asymmetric_mesh, write_mesh  # noqa: E402

import depth_views  # noqa: E402
from depth_views import RenderOptions, View, load_cameras  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.render.renderer import scratch_folder_root  # noqa: E402
from depth_views.inputs.scene_import import load_input  # noqa: E402


def test_in_memory_views_equal_the_written_files_and_leave_no_files(tmp_path):
    path = write_mesh(asymmetric_mesh(), tmp_path / "asym.obj")
    assert main(["render", path, "--out", str(tmp_path / "out"), "--views", "3",
                 "--resolution", "40", "30", "--quiet"]) == 0
    cameras = load_cameras(tmp_path / "out" / "asym")
    scratch_before = set(glob.glob(os.path.join(scratch_folder_root() or "/tmp", "depth-views-*")))
    load_input(path)
    # the same options plan the same cameras; given views render as given (here: the files' own)
    views = [View(v["index"], v["azimuth_deg"], v["elevation_deg"], v["radius"], v["camera_to_world"],
                  v["world_to_camera"]) for v in cameras["views"]]
    for results in (list(depth_views.render_views(RenderOptions(views=3, resolution=(40, 30)))),
                    list(depth_views.render_views(RenderOptions(resolution=(40, 30), clip_start=cameras["clip_start"],
                                                                clip_end=cameras["clip_end"]), views=views))):
        assert [r.view.index for r in results] == [0, 1, 2]
        for result, view in zip(results, cameras["views"]):
            assert result.depth.dtype == np.float32 and result.depth.shape == (30, 40)
            assert np.array_equal(result.K, cameras["K"])
            assert np.array_equal(result.world_to_camera, view["world_to_camera"])
            written = read_depth(tmp_path / "out" / "asym" / view["files"]["depth"])
            assert np.array_equal(result.depth, written)
    assert set(glob.glob(os.path.join(scratch_folder_root() or "/tmp", "depth-views-*"))) == scratch_before
    assert bpy.context.scene.camera is None and not bpy.data.materials


def test_closing_the_generator_early_restores_the_scene(tmp_path):
    load_input(write_mesh(asymmetric_mesh(), tmp_path / "asym.ply"))
    scene = bpy.context.scene
    engine_before = scene.render.engine
    view = View(0, 0.0, 0.0, 10.0, np.array([[0, 0, 1, 10], [1, 0, 0, 1.5], [0, 1, 0, 2.5], [0, 0, 0, 1.0]]),
                np.eye(4))
    generator = depth_views.render_views(RenderOptions(resolution=(16, 16)), views=[view, view])
    first = next(generator)
    assert np.isfinite(first.depth).any()
    generator.close()
    assert scene.render.engine == engine_before and scene.camera is None
    assert not any(o.name.startswith("DepthViews") for o in bpy.data.objects)


@pytest.mark.parametrize("engine", ["workbench"])
def test_other_engines_give_metric_depth_near_the_cycles_values(tmp_path, engine):
    """Workbench rasterises: depth agrees with Cycles away from edges, within float precision."""
    path = write_mesh(asymmetric_mesh(), tmp_path / "asym.obj")
    common = ["--views", "2", "--resolution", "40", "30", "--quiet"]
    assert main(["render", path, "--out", str(tmp_path / "cycles"), *common]) == 0
    assert main(["render", path, "--out", str(tmp_path / engine), "--engine", engine, *common]) == 0
    for index in range(2):
        reference = read_depth(tmp_path / "cycles" / "asym" / "depth" / f"{index:04d}.exr")
        depth = read_depth(tmp_path / engine / "asym" / "depth" / f"{index:04d}.exr")
        both = np.isfinite(reference) & np.isfinite(depth)
        assert both.mean() > 0.05
        assert np.median(np.abs(depth[both] - reference[both])) < 1e-3 * np.nanmax(reference[both])


def test_render_views_renders_the_frame_asked_for_and_gives_the_frame_back(tmp_path):
    """``RenderOptions(frame=...)`` poses the scene for render_views as for a render to a folder (--frame):
    an object scaled 2x at frame 10 renders as the same object scaled 2x without animation."""
    loaded = load_input(write_mesh(asymmetric_mesh(), tmp_path / "asym.ply"))
    (obj,) = loaded.objects
    scene = bpy.context.scene
    obj.keyframe_insert("scale", frame=1)
    obj.scale = (2.0, 2.0, 2.0)
    obj.keyframe_insert("scale", frame=10)
    scene.frame_set(1)
    view = View(0, 0.0, 0.0, 10.0, np.array([[0, 0, 1, 10], [1, 0, 0, 1.5], [0, 1, 0, 2.5], [0, 0, 0, 1.0]]),
                np.eye(4))

    def depth(**settings):
        (result,) = list(depth_views.render_views(RenderOptions(resolution=(16, 16), **settings), views=[view]))
        return result.depth

    at_frame_1, at_frame_10 = depth(), depth(frame=10)
    assert scene.frame_current == 1 and tuple(obj.scale) == (1.0, 1.0, 1.0)
    obj.animation_data_clear()
    obj.scale = (2.0, 2.0, 2.0)
    scaled = depth()
    assert np.isfinite(scaled).any() and np.array_equal(at_frame_10, scaled)
    assert np.nanmin(at_frame_10) < np.nanmin(at_frame_1) - 1
