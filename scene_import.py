"""Bringing an input file into Blender so that Blender's world frame IS the file's own frame.

"World" in everything Depth Views writes means the input's own coordinate frame: the frame that
trimesh or Open3D load the file in, so that a vertex ``p`` of the file projects with
``K @ world_to_camera @ p``.  Blender's importers convert some formats to its Z-up frame; this module
imports without conversion where the importer allows (OBJ, PLY, STL with forward=Y, up=Z; FBX with
manual orientation) and undoes the conversion where it does not (glTF/GLB are always turned from
Y-up to Z-up: we turn the imported root objects back).  FBX is read as Blender's importer reads it
with no axis conversion (the file's unit scale is applied).  A ``.blend`` file's world is its
scene's world; it is opened with Python auto-execution off, whatever the user's preference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import bpy
import numpy as np
from mathutils import Matrix

from .errors import DepthViewsError
from .mesh_scan import count_non_finite_vertices
from .off_format import read_off
from .options import MESH_SUFFIXES, SUPPORTED_SUFFIXES  # noqa: F401  (defined there for the batch too)

GEOMETRY_OBJECT_TYPES = {"MESH", "CURVE", "SURFACE", "META", "FONT"}

# glTF is Y-up; Blender's importer maps file (x, y, z) to Blender (x, -z, y), a +90 degree turn about X.
GLTF_FILE_TO_BLENDER = Matrix.Rotation(np.pi / 2, 4, "X")


@dataclass
class LoadedInput:
    """An input in the current Blender scene: its geometry objects and what frame/units they use."""

    path: str
    scene: object
    objects: list = field(default_factory=list)
    units: str = "input file units"


def reset_blender() -> None:
    """Start from an empty factory scene (no cube, camera or light), as at a fresh start."""
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _import_off(path: str) -> None:
    vertices, faces = read_off(path)
    name = os.path.splitext(os.path.basename(path))[0]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(vertices.tolist(), [], faces)
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)


def _run_importer(path: str, suffix: str) -> None:
    axes = {"forward_axis": "Y", "up_axis": "Z", "global_scale": 1.0}
    if suffix == ".obj":
        bpy.ops.wm.obj_import(filepath=path, **axes)
    elif suffix == ".ply":
        bpy.ops.wm.ply_import(filepath=path, **axes)
    elif suffix == ".stl":
        bpy.ops.wm.stl_import(filepath=path, use_scene_unit=False, **axes)
    elif suffix in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=path)
    elif suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=path, use_manual_orientation=True, axis_forward="Y",
                                 axis_up="Z", global_scale=1.0)
    elif suffix == ".off":
        _import_off(path)


def transform_root_objects(objects, matrix) -> None:
    """Left-multiply ``matrix`` (4x4, world) onto every object in ``objects`` that has no parent."""
    matrix = Matrix(np.asarray(matrix, dtype=float).tolist())
    for obj in objects:
        if obj.parent is None:
            obj.matrix_world = matrix @ obj.matrix_world
    bpy.context.view_layer.update()


def _open_blend(path: str) -> LoadedInput:
    bpy.context.preferences.filepaths.use_scripts_auto_execute = False
    try:
        bpy.ops.wm.open_mainfile(filepath=path, load_ui=False, use_scripts=False)
    except RuntimeError as error:
        raise DepthViewsError(f"{path}: Blender cannot open this .blend file ({_first_line(error)})") from None
    scene = bpy.context.scene
    units = scene.unit_settings
    unit_text = ("Blender units" if units.system == "NONE"
                 else f"Blender {units.system.lower()} units, unit scale {units.scale_length:g}")
    return LoadedInput(path, scene, render_geometry_objects(scene), unit_text)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1].strip() if text else type(error).__name__


def load_input(path) -> LoadedInput:
    """Reset Blender and load ``path`` (a mesh file or a .blend) with world = the file's own frame.

    Raises :class:`DepthViewsError` naming the file when it is missing, of an unsupported type,
    or when the importer fails or brings in no geometry.
    """
    path = os.path.abspath(os.fspath(path))
    suffix = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        raise DepthViewsError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise DepthViewsError(f"{path}: not a file")
    if suffix not in SUPPORTED_SUFFIXES:
        raise DepthViewsError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; supported: {' '.join(SUPPORTED_SUFFIXES)}")
    if not os.access(path, os.R_OK):
        raise DepthViewsError(f"{path}: the file is not readable (permission denied)")
    if suffix == ".blend":
        return _open_blend(path)
    non_finite = count_non_finite_vertices(path)
    if non_finite:
        raise DepthViewsError(
            f"{path}: {non_finite} vertices have NaN or infinite coordinates "
            "(Blender's importer would silently turn them into 0)")
    reset_blender()
    before = set(bpy.data.objects)
    try:
        _run_importer(path, suffix)
    except RuntimeError as error:
        raise DepthViewsError(f"{path}: Blender's importer failed ({_first_line(error)})") from None
    imported = [obj for obj in bpy.data.objects if obj not in before]
    if suffix in (".glb", ".gltf"):
        transform_root_objects(imported, GLTF_FILE_TO_BLENDER.inverted())
    scene = bpy.context.scene
    return LoadedInput(path, scene, [o for o in imported if o.type in GEOMETRY_OBJECT_TYPES])


def render_geometry_objects(scene) -> list:
    """Objects of ``scene`` that can show up in a render (geometry types, not hidden from render)."""
    view_layer = scene.view_layers[0]
    return [obj for obj in scene.objects
            if obj.type in GEOMETRY_OBJECT_TYPES and not obj.hide_render
            and obj.visible_get(view_layer=view_layer)]


def world_vertices_and_face_count(objects) -> tuple[np.ndarray, int]:
    """World-space vertex positions (float64, (N, 3)) and face count of the evaluated ``objects``.

    Modifiers are applied, as in the render.
    """
    depsgraph = bpy.context.evaluated_depsgraph_get()
    chunks, n_faces = [], 0
    for obj in objects:
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        try:
            coords = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
            mesh.vertices.foreach_get("co", coords)
            n_faces += len(mesh.polygons)
        finally:
            evaluated.to_mesh_clear()
        matrix = np.array(evaluated.matrix_world, dtype=np.float64)
        coords = coords.reshape(-1, 3)
        chunks.append(coords @ matrix[:3, :3].T + matrix[:3, 3])
    vertices = np.concatenate(chunks) if chunks else np.empty((0, 3))
    return vertices, n_faces


def checked_geometry(loaded: LoadedInput) -> np.ndarray:
    """World-space vertices of ``loaded``, after refusing inputs that cannot give a depth map.

    Raises :class:`DepthViewsError` for no geometry, no faces (points- or lines-only files) and
    NaN/infinite coordinates, with the file named.
    """
    if not loaded.objects:
        raise DepthViewsError(f"{loaded.path}: no mesh was found in the file (empty or unreadable)")
    vertices, n_faces = world_vertices_and_face_count(loaded.objects)
    if n_faces == 0:
        raise DepthViewsError(
            f"{loaded.path}: the mesh has no faces ({len(vertices)} vertices, 0 faces); "
            "points-only and lines-only files have no surface to render")
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise DepthViewsError(
            f"{loaded.path}: {int(bad.sum())} of {len(vertices)} vertices have NaN or infinite coordinates")
    return vertices
