"""The compositor tree that writes metric depth, and the one place that knows each Blender's node API.

Tree built by :func:`build_depth_output_tree` (idempotent, our nodes are named ``DepthViews ...``)::

    Render Layers ──Depth──▶ File Output (OPEN_EXR, 32-bit float, lossless codec)
                  ──Image──▶ Composite (Blender <= 4.5) / Group Output (Blender >= 5.0)

Nodes the user made are never removed or rewired.  Version differences (checked on bpy 4.2, 4.5
and 5.0):

* 5.0 keeps the tree in ``scene.compositing_node_group`` (a ``CompositorNodeTree`` data-block); 4.x in
  ``scene.node_tree`` after ``scene.use_nodes = True``.
* 5.0 has no Composite node: the image leaves through a Group Output socket of the tree interface.
* 5.0's File Output uses ``directory``/``file_name``/``file_output_items`` and needs
  ``format.media_type = 'IMAGE'`` before ``file_format``; 4.x uses ``base_path``/``file_slots``.
* File names differ (4.x: ``<slot><frame>.exr``, 5.0: ``<file_name><item>.exr``), so callers give
  the node a folder of its own and take whatever EXR appears there (see ``render/renderer.py``).
"""

from __future__ import annotations

import bpy

from ..errors import DepthViewsError
from .compat import (LOSSLESS_EXR_CODECS, ensure_file_output_input, existing_compositor_tree,
                     ensure_tree_image_output_socket, image_output_node_type, new_compositor_tree,
                     object_index_socket_name, set_exr_float32, set_file_output_directory,
                     detach_compositor_tree)

NODE_PREFIX = "DepthViews"
RENDER_LAYERS_NAME = f"{NODE_PREFIX} Render Layers"
FILE_OUTPUT_NAME = f"{NODE_PREFIX} Depth File Output"
IMAGE_OUTPUT_NAME = f"{NODE_PREFIX} Image Output"
TREE_NAME = f"{NODE_PREFIX} Compositor"
DEPTH_INPUT_NAME = "Depth"


def compositor_tree(scene, *, create: bool = True):
    """The scene's compositor node tree; made (and enabled) when missing and ``create`` is true."""
    tree = existing_compositor_tree(scene)
    if tree is None and create:
        tree = new_compositor_tree(scene, TREE_NAME)
    return tree


def _image_output_node(tree):
    """The node that carries the image out of the tree (Composite or Group Output), made if absent.

    An output node the user already has is reused as it is and never rewired.
    """
    ensure_tree_image_output_socket(tree)
    node_type = image_output_node_type()
    existing = [n for n in tree.nodes if n.bl_idname == node_type]
    if existing:
        return existing[0]
    node = tree.nodes.new(node_type)
    node.name = node.label = IMAGE_OUTPUT_NAME
    node.location = (400, 200)
    return node


def _named_node(tree, name: str, bl_idname: str, location):
    node = tree.nodes.get(name)
    if node is not None and node.bl_idname != bl_idname:
        tree.nodes.remove(node)
        node = None
    if node is None:
        node = tree.nodes.new(bl_idname)
        node.name = node.label = name
        node.location = location
    return node


def _link(tree, from_socket, to_socket) -> None:
    for link in list(to_socket.links):
        if link.from_socket != from_socket:
            tree.links.remove(link)
    if not to_socket.is_linked:
        tree.links.new(from_socket, to_socket)


def build_depth_output_tree(scene, directory: str, *, view_layer=None, codec: str = "ZIP"):
    """Wire Render Layers' Depth into a 32-bit float EXR File Output writing into ``directory``.

    Enables the view layer's Depth pass.  Running it again gives the same tree.  Returns the File
    Output node.  ``codec`` is a lossless EXR codec name (``NONE``, ``ZIP``, ``ZIPS``, ``PIZ``,
    ``RLE``).
    """
    view_layer = view_layer or scene.view_layers[0]
    view_layer.use_pass_z = True
    tree = compositor_tree(scene)
    render_layers = _named_node(tree, RENDER_LAYERS_NAME, "CompositorNodeRLayers", (0, 0))
    render_layers.scene = scene
    render_layers.layer = view_layer.name
    file_output = _named_node(tree, FILE_OUTPUT_NAME, "CompositorNodeOutputFile", (400, -100))
    set_exr_float32(file_output.format, codec)
    set_file_output_directory(file_output, directory)
    depth_input = ensure_file_output_input(file_output, DEPTH_INPUT_NAME)
    _link(tree, render_layers.outputs["Depth"], depth_input)
    image_output = _image_output_node(tree)
    if image_output.name == IMAGE_OUTPUT_NAME and image_output.inputs:
        _link(tree, render_layers.outputs["Image"], image_output.inputs[0])
    return file_output


PASS_SOCKETS = {
    # pass -> (Render Layers output, File Output socket type on 5.0, EXR colour mode)
    "normal": ("Normal", "VECTOR", "RGB"),
    "mask": (None, "FLOAT", "BW"),       # object index; the socket name differs by version
    "rgb": ("Image", "RGBA", "RGBA"),
}


def pass_output_name(pass_name: str) -> str:
    """Name of the File Output node :func:`build_pass_output` makes for ``pass_name``."""
    return f"{NODE_PREFIX} {pass_name.capitalize()} File Output"


def build_pass_output(scene, directory: str, pass_name: str, *, view_layer=None, codec: str = "ZIP"):
    """Wire one more Render Layers pass (``normal``, ``mask`` or ``rgb``) into its own 32-bit float
    EXR File Output writing into ``directory``; enables the view layer's pass.  Idempotent.

    ``normal`` is Cycles' Normal pass (world frame), ``mask`` the Object Index pass (the objects'
    ``pass_index``), ``rgb`` the combined Image with alpha, linear.  Call after
    :func:`build_depth_output_tree`.  Returns the File Output node.
    """
    view_layer = view_layer or scene.view_layers[0]
    if pass_name == "normal":
        view_layer.use_pass_normal = True
    elif pass_name == "mask":
        view_layer.use_pass_object_index = True
    elif pass_name != "rgb":
        raise ValueError(f"no compositor output for pass {pass_name!r}")
    socket_name, socket_type, color_mode = PASS_SOCKETS[pass_name]
    socket_name = socket_name or object_index_socket_name()
    tree = compositor_tree(scene)
    render_layers = tree.nodes[RENDER_LAYERS_NAME]
    file_output = _named_node(tree, pass_output_name(pass_name), "CompositorNodeOutputFile",
                              (400, -300 - 200 * list(PASS_SOCKETS).index(pass_name)))
    set_exr_float32(file_output.format, codec, color_mode)
    set_file_output_directory(file_output, directory)
    if socket_name not in render_layers.outputs:
        raise DepthViewsError(f"the {pass_name} pass ({socket_name}) is not available with render engine "
                              f"{scene.render.engine}; use Cycles")
    _link(tree, render_layers.outputs[socket_name],
          ensure_file_output_input(file_output, pass_name.capitalize(), socket_type))
    return file_output


def remove_depth_output_tree(scene) -> int:
    """Remove the nodes :func:`build_depth_output_tree` made; return how many were removed."""
    tree = compositor_tree(scene, create=False)
    if tree is None:
        return 0
    ours = [n for n in tree.nodes if n.name.startswith(NODE_PREFIX)]
    for node in ours:
        tree.nodes.remove(node)
    return len(ours)


def depth_tree_nodes(scene) -> dict:
    """Our nodes in the scene's compositor tree by name (empty when there is no tree)."""
    tree = compositor_tree(scene, create=False)
    if tree is None:
        return {}
    return {n.name: n for n in tree.nodes if n.name.startswith(NODE_PREFIX)}


def remove_compositor_tree(scene) -> None:
    """Take out a compositor tree that Depth Views made where the scene had none."""
    remove_depth_output_tree(scene)
    detach_compositor_tree(scene, TREE_NAME)
