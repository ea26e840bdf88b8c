"""The depth output tree on every Blender version, and each version shim of ``compositor/compat.py``
checked against what this Blender's API does (never against a version number)."""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")

from depth_views import compositor  # noqa: E402
from depth_views.compositor import compat  # noqa: E402
from depth_views.errors import DepthViewsError  # noqa: E402


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
    scene = bpy.context.scene
    assert compat.existing_compositor_tree(scene) is None
    tree = compat.new_compositor_tree(scene, "t")
    assert compat.existing_compositor_tree(scene) == tree
    # the tree lives where this Blender's compositor reads it
    assert getattr(scene, "compositing_node_group" if compat.uses_compositing_node_group() else "node_tree") == tree
    compat.ensure_tree_image_output_socket(tree)
    tree.nodes.new(compat.image_output_node_type())   # an image output node this Blender has
    scene.render.engine = compat.eevee_engine_id()     # an engine id this Blender accepts
    assert scene.render.engine == compat.eevee_engine_id()
    node = tree.nodes.new("CompositorNodeOutputFile")
    socket = compat.ensure_file_output_input(node, "Depth")
    assert compat.ensure_file_output_input(node, "Depth") == socket
    assert compat.file_output_input_names(node) == ["Depth"]
    compat.set_file_output_directory(node, "/tmp/x")
    assert compat.file_output_directory(node) == "/tmp/x"
    compat.set_exr_float32(node.format, "piz")
    assert node.format.exr_codec == "PIZ" and node.format.color_depth == "32"
    with pytest.raises(DepthViewsError, match="lossless"):
        compat.set_exr_float32(node.format, "DWAA")
    switch = compat.compositor_switch(scene)
    compat.set_compositor_switch(scene, False)
    compat.set_compositor_switch(scene, switch)
    assert compat.compositor_switch(scene) == switch and compat.existing_compositor_tree(scene) == tree
    compat.detach_compositor_tree(scene, "t")
    if compat.uses_compositing_node_group():   # a node group: detached and deleted
        assert compat.existing_compositor_tree(scene) is None and "t" not in bpy.data.node_groups
    material = bpy.data.materials.new("m")
    compat.enable_material_nodes(material)
    assert material.node_tree is not None


def test_version_shims_for_the_extra_passes():
    # the denoiser a Cycles build has is a build option: the setting takes it exactly when it is there
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    try:
        scene.cycles.denoiser = "OPENIMAGEDENOISE"
        takes_it = True
    except TypeError:   # enum "OPENIMAGEDENOISE" not found: a build without it (Debian's 3.4)
        takes_it = False
    assert compat.cycles_has_denoiser() == takes_it
    world = bpy.data.worlds.new("w")
    compat.enable_world_nodes(world)
    assert any(n.bl_idname == "ShaderNodeBackground" for n in world.node_tree.nodes)
    scene.view_layers[0].use_pass_object_index = True   # the Object Index pass exists only for Cycles
    compositor.build_depth_output_tree(scene, "/tmp/unused-depth")
    for name in ("normal", "mask", "rgb"):
        node = compositor.build_pass_output(scene, f"/tmp/unused-{name}", name)
        again = compositor.build_pass_output(scene, f"/tmp/unused-{name}", name)
        assert node == again and node.inputs[0].is_linked
    assert node.format.color_mode == "RGBA" and node.format.color_depth == "32"
    assert scene.view_layers[0].use_pass_normal and scene.view_layers[0].use_pass_object_index
    render_layers = compositor.compositor_tree(scene).nodes[compositor.RENDER_LAYERS_NAME]
    assert compat.object_index_socket_name() in [s.name for s in render_layers.outputs if s.enabled]
    assert compositor.remove_depth_output_tree(scene) >= 5   # Render Layers, 4 File Outputs (+ image output)
    assert not any(n.name.startswith("DepthViews") for n in compositor.compositor_tree(scene).nodes)
