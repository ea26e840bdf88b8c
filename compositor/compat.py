"""Every difference between the Blender versions we support (4.2 LTS, 4.5 LTS, 5.0), one function each.

Nothing else in Depth Views looks at ``bpy.app.version``.  Each function is covered by
``tests/render/test_in_memory_api.py`` on every supported version (the Custom camera's, which lens models
need, by ``tests/render/test_lens_render.py``).
"""

from __future__ import annotations

import bpy

from ..errors import DepthViewsError

LOSSLESS_EXR_CODECS = ("NONE", "ZIP", "ZIPS", "PIZ", "RLE")


def uses_compositing_node_group() -> bool:
    """True on Blender >= 5.0, where the compositor tree is a node group on the scene."""
    return bpy.app.version >= (5, 0, 0)


def set_file_output_directory(node, directory: str) -> None:
    """Point a File Output node at ``directory`` (5.0: ``directory``; 4.x: ``base_path``)."""
    if hasattr(node, "file_output_items"):
        node.directory = directory
        node.file_name = "depth_"
    else:
        node.base_path = directory


def file_output_directory(node) -> str:
    """The folder a File Output node writes to."""
    return node.directory if hasattr(node, "file_output_items") else node.base_path


def ensure_file_output_input(node, name: str, socket_type: str = "FLOAT"):
    """The File Output node's input socket ``name``, made when missing.

    ``socket_type`` (``FLOAT``, ``VECTOR`` or ``RGBA``) matters on 5.0 only, whose items are typed;
    4.x slots take whatever is linked.
    """
    if hasattr(node, "file_output_items"):
        if name not in node.file_output_items:
            node.file_output_items.new(socket_type, name)
        return node.inputs[name]
    slots = node.file_slots
    if len(slots) == 1 and slots[0].path != name and not node.inputs[0].is_linked:
        slots[0].path = name  # the default "Image" slot of a fresh node
    elif name not in [slot.path for slot in slots]:
        slots.new(name)
    index = [slot.path for slot in slots].index(name)
    return node.inputs[index]


def set_exr_float32(image_format, codec: str = "ZIP", color_mode: str = "BW") -> None:
    """Make ``image_format`` a single-layer OpenEXR with 32-bit float channels and a lossless codec.

    ``color_mode`` is ``BW`` (one channel where the version has it, else R = G = B), ``RGB`` or ``RGBA``.
    """
    codec = codec.upper()
    if codec not in LOSSLESS_EXR_CODECS:
        raise DepthViewsError(f"EXR codec {codec!r} is not a lossless codec; choose one of {LOSSLESS_EXR_CODECS}")
    if hasattr(image_format, "media_type"):
        image_format.media_type = "IMAGE"
    image_format.file_format = "OPEN_EXR"
    image_format.color_depth = "32"
    image_format.exr_codec = codec
    if color_mode != "BW":
        image_format.color_mode = color_mode
        return
    try:
        image_format.color_mode = "BW"  # one channel where the version allows it (4.5, 5.0)
    except TypeError:
        image_format.color_mode = "RGB"  # 4.2's EXR output has no BW mode: R = G = B = depth


def prefer_multilayer_scratch(image_format) -> None:
    """Switch a 32-bit float EXR File Output to multilayer where that is faster (Blender 5.0).

    Blender 5.0's File Output writes a multilayer EXR straight from the compositor's buffers, about
    3 ms (7 %) less per 512x512 depth view than the single-layer path (benchmarks/RESULTS.md); the
    one channel is then named ``<input>.V``.  4.x showed no gain and names multilayer files
    differently, so it keeps the single-layer format.  Only for render/renderer.py's private scratch files.
    """
    if not hasattr(image_format, "media_type"):
        return
    image_format.media_type = "MULTI_LAYER_IMAGE"
    image_format.file_format = "OPEN_EXR_MULTILAYER"
    image_format.color_depth = "32"


def eevee_engine_id() -> str:
    """The render engine identifier of EEVEE (4.2 to 4.5: ``BLENDER_EEVEE_NEXT``; 5.0: ``BLENDER_EEVEE``)."""
    return "BLENDER_EEVEE" if bpy.app.version >= (5, 0, 0) else "BLENDER_EEVEE_NEXT"


def new_compositor_tree(scene, name: str):
    """Make and attach an empty compositor tree (5.0: a node group; 4.x: the scene's own tree)."""
    if uses_compositing_node_group():
        tree = bpy.data.node_groups.new(name, "CompositorNodeTree")
        scene.compositing_node_group = tree
        return tree
    scene.use_nodes = True
    return scene.node_tree


def existing_compositor_tree(scene):
    """The scene's compositor tree, or None when it has none (or, on 4.x, does not use nodes)."""
    if uses_compositing_node_group():
        return scene.compositing_node_group
    return scene.node_tree if scene.use_nodes else None


def image_output_node_type() -> str:
    """The node that carries the image out of a compositor tree (5.0: Group Output; 4.x: Composite)."""
    return "NodeGroupOutput" if uses_compositing_node_group() else "CompositorNodeComposite"


def ensure_tree_image_output_socket(tree) -> None:
    """Give a 5.0 compositor node group an ``Image`` output socket if it has no output (4.x: nothing to do)."""
    if not uses_compositing_node_group():
        return
    if not any(item.item_type == "SOCKET" and item.in_out == "OUTPUT" for item in tree.interface.items_tree):
        tree.interface.new_socket(name="Image", in_out="OUTPUT", socket_type="NodeSocketColor")


def detach_compositor_tree(scene, name: str) -> None:
    """Detach and delete the 5.0 compositor node group ``name`` from ``scene`` (4.x: nothing to do).

    On 4.x the tree belongs to the scene; turning ``use_nodes`` off is the caller's restore step.
    """
    if not uses_compositing_node_group():
        return
    tree = scene.compositing_node_group
    if tree is not None and tree.name == name:
        scene.compositing_node_group = None
        if tree.users == 0:
            bpy.data.node_groups.remove(tree)


def compositor_switch(scene):
    """The scene's "use nodes" switch for the compositor (4.x), or None where there is none (5.0)."""
    return None if uses_compositing_node_group() else scene.use_nodes


def set_compositor_switch(scene, value) -> None:
    """Put back what :func:`compositor_switch` returned (nothing to do on 5.0)."""
    if value is not None and not uses_compositing_node_group():
        scene.use_nodes = value


def enable_material_nodes(material) -> None:
    """Give a material a node tree (5.0 materials always have one; 4.x needs ``use_nodes``)."""
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True


def enable_world_nodes(world) -> None:
    """Give a world a node tree with Background and World Output (5.0 worlds always have one)."""
    if bpy.app.version < (5, 0, 0):
        world.use_nodes = True


def file_output_input_names(node) -> list[str]:
    """Names of a File Output node's inputs (5.0: item names; 4.x: slot paths, the file name parts)."""
    if hasattr(node, "file_output_items"):
        return [item.name for item in node.file_output_items]
    return [slot.path for slot in node.file_slots]


def object_index_socket_name() -> str:
    """Render Layers' object index output (4.x: ``IndexOB``; 5.0: ``Object Index``)."""
    return "Object Index" if bpy.app.version >= (5, 0, 0) else "IndexOB"


def cycles_has_denoiser() -> bool:
    """True when this Blender build's Cycles has OpenImageDenoise (a build option, not a version one)."""
    try:
        import _cycles
    except ImportError:
        return False
    return bool(getattr(_cycles, "with_openimagedenoise", False))


def panorama_settings(camera_data):
    """Where a panoramic camera's ``panorama_type``, ``fisheye_fov`` and latitude/longitude ranges live:
    the camera data itself on 4.x and 5.0 (measured on 4.2, 4.5 and 5.0.1), ``camera_data.cycles``
    on the 3.x builds that kept them in Cycles' own settings."""
    if hasattr(camera_data, "panorama_type"):
        return camera_data
    owner = getattr(camera_data, "cycles", None)
    if owner is None or not hasattr(owner, "panorama_type"):
        raise DepthViewsError("this Blender has no panoramic camera settings (fisheye/equirectangular need Cycles)")
    return owner



def custom_camera_problem() -> str | None:
    """None when this Blender renders Cycles' Custom camera (an OSL camera shader: the lens models of
    render/lens_camera.py), else the one line saying what is missing.  4.2 has no ``CUSTOM`` camera type
    (camera data type is PERSP, ORTHO or PANO); 4.5 and 5.0 have it."""
    types = {item.identifier for item in bpy.types.Camera.bl_rna.properties["type"].enum_items}
    if "CUSTOM" not in types:
        return f"needs Blender 4.5 or newer (Cycles' Custom camera); this is Blender {bpy.app.version_string}"
    try:
        import _cycles
    except ImportError:
        return f"needs Cycles' Custom camera; this Blender {bpy.app.version_string} has no Cycles"
    if not getattr(_cycles, "with_osl", False) or not hasattr(_cycles, "osl_compile"):
        return f"needs Cycles with OSL (Cycles' Custom camera); this Blender {bpy.app.version_string} was built without it"
    return None


def compile_osl(source_path: str, target_path: str) -> str:
    """Compile the OSL shader at ``source_path`` with Cycles' own compiler; return the bytecode (.oso text)."""
    import _cycles

    if not _cycles.osl_compile(source_path, target_path):
        raise DepthViewsError(f"{source_path}: Cycles' OSL compiler failed on the lens camera's shader")
    with open(target_path, encoding="utf-8") as stream:
        return stream.read()


def gpu_backends_with_custom_camera() -> tuple[str, ...]:
    """The Cycles GPU backends that run OSL camera shaders (Cycles compiles them for OptiX only; CUDA, HIP,
    Metal and oneAPI have no OSL kernels)."""
    return ("OPTIX",)
