"""Finding an input's material libraries and textures, and saying which ones are missing.

Files from the wild name their MTL libraries and texture images by paths that were right on the
author's machine (``C:\\Users\\...\\oak.jpg``, ``mats/chair.mtl``) or by a name that differs from the
file beside it (``chair.obj.mtl``).  Blender's importers look where the path says (OBJ: also the
bare name beside the OBJ/MTL).  This module looks further, beside the input file (by name, then
case-insensitively), and for what is still missing: names it, and cuts the image out of its
material so that the colour shows the material's own base colour instead of Blender's magenta.
An OBJ's ``mtllib`` names come from the guard's read of the file
(:attr:`depth_views.inputs.mesh_guard.MeshFileFacts.material_libraries`); this module never opens
the OBJ itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile

import bpy


def _base_name(path: str) -> str:
    """The last component of ``path`` whether it uses ``/`` or Windows ``\\`` separators."""
    return re.split(r"[\\/]", path.strip().strip('"'))[-1]


def find_beside(folder: str, name: str) -> str | None:
    """``folder``/``name`` (``name``'s last path component) if it is a file, else a file of ``folder``
    whose name matches case-insensitively, else None."""
    base = _base_name(name)
    if not base:
        return None
    exact = os.path.join(folder, base)
    if os.path.isfile(exact):
        return exact
    try:
        entries = os.listdir(folder)
    except OSError:
        return None
    for entry in sorted(entries):
        if entry.casefold() == base.casefold() and os.path.isfile(os.path.join(folder, entry)):
            return os.path.join(folder, entry)
    return None


def _mtl_found_by_blender(obj_path: str, name: str) -> bool:
    """Whether Blender's OBJ importer finds MTL ``name``: the path as written (relative to the OBJ), or
    its bare name beside the OBJ."""
    folder = os.path.dirname(obj_path)
    as_written = name if os.path.isabs(name) else os.path.join(folder, name)
    return os.path.isfile(as_written) or os.path.isfile(os.path.join(folder, _base_name(name)))


def mtl_substitutes(obj_path: str, material_libraries) -> dict[str, str]:
    """``{mtllib name: file}`` for each of the OBJ's ``material_libraries`` (its ``mtllib`` names) that
    the importer would miss but that lies beside the OBJ: its name in another case, ``<name>.obj.mtl``
    or ``<name>.mtl`` (where ``<name>`` is the OBJ's)."""
    folder = os.path.dirname(obj_path)
    stem = os.path.basename(obj_path)
    found = {}
    for name in material_libraries:
        if _mtl_found_by_blender(obj_path, name):
            continue
        for candidate in (name, stem + ".mtl", os.path.splitext(stem)[0] + ".mtl"):
            path = find_beside(folder, candidate)
            if path is not None:
                found[name] = path
                break
    return found


@contextlib.contextmanager
def obj_import_path(obj_path: str, material_libraries):
    """The path to give Blender's OBJ importer so that it finds every MTL :func:`mtl_substitutes` finds
    for the OBJ's ``material_libraries``.

    Usually ``obj_path`` itself; otherwise a temporary folder of links: the OBJ under its own name,
    each substitute under the name the OBJ asks for (Blender then finds it by that bare name).
    Textures the MTL names relatively are then found by :func:`resolve_images`, beside the input.
    """
    substitutes = mtl_substitutes(obj_path, material_libraries)
    if not substitutes:
        yield obj_path
        return
    folder = tempfile.mkdtemp(prefix="depth-views-obj-")
    try:
        linked = os.path.join(folder, os.path.basename(obj_path))
        os.symlink(obj_path, linked)
        for name, path in substitutes.items():
            target = os.path.join(folder, _base_name(name))
            if not os.path.lexists(target):
                os.symlink(path, target)
        yield linked
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _image_file(image) -> str:
    return bpy.path.abspath(image.filepath_raw or image.filepath)


def resolve_images(input_path: str, images=None) -> list[str]:
    """Repoint file images of ``images`` (default: all) whose file is missing to a file of that name
    beside ``input_path``; return ``"name (path)"`` for each image still missing.

    A missing image is cut out of every material that uses it (its node's output links are removed),
    so the material renders with its own base colour rather than Blender's magenta.
    """
    folder = os.path.dirname(os.path.abspath(input_path))
    missing, lost = [], set()
    for image in list(bpy.data.images if images is None else images):
        if image.source not in ("FILE", "SEQUENCE", "TILED") or image.packed_file is not None:
            continue
        path = _image_file(image)
        if os.path.isfile(path):
            continue
        found = find_beside(folder, image.filepath_raw or image.filepath) or find_beside(folder, image.name)
        if found is not None:
            image.filepath = found
            image.reload()
            continue
        missing.append(f"{image.name} ({image.filepath_raw or image.filepath})")
        lost.add(image.name)
    if lost:
        _cut_out_images(lost)
    return missing


def _cut_out_images(names: set) -> None:
    trees = [m.node_tree for m in bpy.data.materials if m.node_tree is not None]
    trees += list(bpy.data.node_groups)
    for tree in trees:
        for node in tree.nodes:
            image = getattr(node, "image", None)
            if node.bl_idname == "ShaderNodeTexImage" and image is not None and image.name in names:
                for output in node.outputs:
                    for link in list(output.links):
                        tree.links.remove(link)
