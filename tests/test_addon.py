"""The add-on: registration, operators equal to the core, compositor set-up from the UI."""

from __future__ import annotations

import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from meshes import asymmetric_mesh, write_blend  # noqa: E402

import depth_views  # noqa: E402
from depth_views import compositor  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402


@pytest.fixture
def addon():
    depth_views.register()
    yield
    depth_views.unregister()


def test_register_twice_and_unregister_twice_leaves_nothing_behind():
    depth_views.register()
    depth_views.register()
    assert hasattr(bpy.types.Scene, "depth_views")
    assert hasattr(bpy.ops.depth_views, "render")
    depth_views.unregister()
    depth_views.unregister()
    assert not hasattr(bpy.types.Scene, "depth_views")
    from depth_views.addon import CLASSES
    assert not any(cls.is_registered for cls in CLASSES)


def test_render_operator_equals_the_cli_on_the_same_scene(tmp_path, addon):
    blend = write_blend(asymmetric_mesh(), tmp_path / "scene.blend")
    assert main(["render", blend, "--out", str(tmp_path / "cli"), "--views", "3",
                 "--resolution", "40", "30", "--quiet"]) == 0
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    settings = bpy.context.scene.depth_views
    settings.views, settings.resolution_x, settings.resolution_y = 3, 40, 30
    settings.output_dir = str(tmp_path / "operator")
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    assert settings.last_output.startswith("3 views")
    for index in range(3):
        name = f"depth/{index:04d}.exr"
        assert np.array_equal(read_depth(tmp_path / "operator" / name),
                              read_depth(tmp_path / "cli" / "scene" / name), equal_nan=True)


def test_render_operator_reports_errors_and_cancels(tmp_path, addon):
    bpy.context.scene.depth_views.output_dir = str(tmp_path / "out")
    with pytest.raises(RuntimeError, match="no mesh"):  # bpy turns an ERROR report into RuntimeError
        bpy.ops.depth_views.render()
    assert not os.path.exists(tmp_path / "out" / "cameras.json")


def test_render_restores_the_users_scene(tmp_path, addon):
    blend = write_blend(asymmetric_mesh(), tmp_path / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = 123, 77
    scene.frame_current = 5
    before_objects = sorted(o.name for o in bpy.data.objects)
    scene.depth_views.views, scene.depth_views.output_dir = 2, str(tmp_path / "out")
    scene.depth_views.resolution_x = scene.depth_views.resolution_y = 16
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    assert scene.render.engine == "BLENDER_WORKBENCH"
    assert (scene.render.resolution_x, scene.render.resolution_y, scene.frame_current) == (123, 77, 5)
    assert scene.camera is None and not scene.view_layers[0].use_pass_z
    assert sorted(o.name for o in bpy.data.objects) == before_objects
    assert compositor.compositor_tree(scene, create=False) is None or not compositor.depth_tree_nodes(scene)
    assert not any(m.name.startswith("DepthViews") for m in bpy.data.materials)


def test_setup_depth_output_makes_f12_write_metric_depth(tmp_path, addon):
    blend = write_blend(asymmetric_mesh(), tmp_path / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    scene = bpy.context.scene
    camera = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    scene.collection.objects.link(camera)
    camera.location = (0.75, 1.5, 10.0)  # straight above the box, looking down -Z
    scene.camera = camera
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 1
    scene.render.resolution_x = scene.render.resolution_y = 32
    scene.depth_views.output_dir = str(tmp_path / "f12")
    assert bpy.ops.depth_views.setup_depth_output() == {"FINISHED"}
    tree = compositor.compositor_tree(scene, create=False)
    first = sorted((n.name, n.bl_idname) for n in tree.nodes)
    assert bpy.ops.depth_views.setup_depth_output() == {"FINISHED"}  # idempotent
    assert sorted((n.name, n.bl_idname) for n in tree.nodes) == first
    assert {compositor.RENDER_LAYERS_NAME, compositor.FILE_OUTPUT_NAME} <= set(compositor.depth_tree_nodes(scene))
    bpy.ops.render.render(write_still=False)
    written = [f for f in os.listdir(tmp_path / "f12") if f.endswith(".exr")]
    assert len(written) == 1
    depth = read_depth(tmp_path / "f12" / written[0])
    assert np.isclose(depth[16, 16], 10.0 - 4.0, atol=1e-4)  # the box's top face is at z = 4
    assert bpy.ops.depth_views.remove_depth_output() == {"FINISHED"}
    assert compositor.depth_tree_nodes(scene) == {}
