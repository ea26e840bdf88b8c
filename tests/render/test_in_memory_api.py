"""The in-memory Python API, the compositor tree on every Blender version, and the version shims."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from meshes import asymmetric_mesh, write_mesh  # noqa: E402

from depth_views import compositor  # noqa: E402
from depth_views.cameras.files import load_cameras  # noqa: E402
from depth_views.cameras import Intrinsics, View  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.compositor import compat  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.render.renderer import render_views, scratch_folder_root  # noqa: E402
from depth_views.inputs.scene_import import load_input  # noqa: E402


def test_in_memory_views_equal_the_written_files_and_leave_no_files(tmp_path):
    path = write_mesh(asymmetric_mesh(), tmp_path / "asym.obj")
    assert main(["render", path, "--out", str(tmp_path / "out"), "--views", "3",
                 "--resolution", "40", "30", "--quiet"]) == 0
    cameras = load_cameras(tmp_path / "out" / "asym")
    views = [View(v["index"], v["azimuth_deg"], v["elevation_deg"], v["radius"], v["camera_to_world"],
                  v["world_to_camera"]) for v in cameras["views"]]
    scratch_before = set(glob.glob(os.path.join(scratch_folder_root() or "/tmp", "depth-views-*")))
    load_input(path)
    results = list(render_views(views, Intrinsics(40, 30), clip_start=cameras["clip_start"],
                                clip_end=cameras["clip_end"]))
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
    generator = render_views([view, view], Intrinsics(16, 16))
    first = next(generator)
    assert np.isfinite(first.depth).any()
    generator.close()
    assert scene.render.engine == engine_before and scene.camera is None
    assert not any(o.name.startswith("DepthViews") for o in bpy.data.objects)


def test_depth_tree_is_idempotent_and_leaves_user_nodes_alone(tmp_path):
    scene = bpy.context.scene
    tree = compositor.compositor_tree(scene)
    user_node = tree.nodes.new("CompositorNodeBlur")
    user_node.name = "my blur"
    compositor.build_depth_output_tree(scene, str(tmp_path))
    shape = sorted((n.name, n.bl_idname) for n in tree.nodes)
    links = sorted((l.from_node.name, l.to_node.name) for l in tree.links)
    compositor.build_depth_output_tree(scene, str(tmp_path))
    assert sorted((n.name, n.bl_idname) for n in tree.nodes) == shape
    assert sorted((l.from_node.name, l.to_node.name) for l in tree.links) == links
    file_output = tree.nodes[compositor.FILE_OUTPUT_NAME]
    assert file_output.format.file_format == "OPEN_EXR" and file_output.format.color_depth == "32"
    assert compat.file_output_directory(file_output) == str(tmp_path)
    assert (compositor.RENDER_LAYERS_NAME, compositor.FILE_OUTPUT_NAME) in links
    assert scene.view_layers[0].use_pass_z
    assert compositor.remove_depth_output_tree(scene) >= 2
    assert "my blur" in tree.nodes and not compositor.depth_tree_nodes(scene)


def test_version_shims_match_this_blender():
    five = bpy.app.version >= (5, 0, 0)
    assert compat.uses_compositing_node_group() == five
    assert compat.eevee_engine_id() == ("BLENDER_EEVEE" if five else "BLENDER_EEVEE_NEXT")
    assert compat.image_output_node_type() == ("NodeGroupOutput" if five else "CompositorNodeComposite")
    scene = bpy.context.scene
    assert compat.existing_compositor_tree(scene) is None
    tree = compat.new_compositor_tree(scene, "t")
    assert compat.existing_compositor_tree(scene) == tree
    compat.ensure_tree_image_output_socket(tree)
    node = tree.nodes.new("CompositorNodeOutputFile")
    socket = compat.ensure_file_output_input(node, "Depth")
    assert compat.ensure_file_output_input(node, "Depth") == socket
    assert compat.file_output_input_names(node) == ["Depth"]
    compat.set_file_output_directory(node, "/tmp/x")
    assert compat.file_output_directory(node) == "/tmp/x"
    compat.set_exr_float32(node.format, "piz")
    assert node.format.exr_codec == "PIZ"
    from depth_views.errors import DepthViewsError
    with pytest.raises(DepthViewsError, match="lossless"):
        compat.set_exr_float32(node.format, "DWAA")
    switch = compat.compositor_switch(scene)
    assert switch is None if five else switch is True
    compat.detach_compositor_tree(scene, "t")
    assert (compat.existing_compositor_tree(scene) is None) == five
    material = bpy.data.materials.new("m")
    compat.enable_material_nodes(material)
    assert material.node_tree is not None


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
