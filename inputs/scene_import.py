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

import contextlib
import io
import os
import sys
import tempfile
from dataclasses import dataclass, field

import bpy
import numpy as np
from mathutils import Matrix

from ..errors import DepthViewsError
from .mesh_guard import MeshFileFacts, guard_mesh_file
from .textures import obj_import_path, resolve_images
from ..options import MESH_SUFFIXES, SUPPORTED_SUFFIXES  # noqa: F401  (defined there for the batch too)

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
    missing_textures: list = field(default_factory=list)   # "image (path as the file gives it)"


def reset_blender() -> None:
    """Start from an empty factory scene (no cube, camera or light), as at a fresh start."""
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _import_off(path: str, facts: MeshFileFacts) -> None:
    vertices, faces = facts.parsed_mesh  # read by the guard (Blender has no OFF importer)
    name = os.path.splitext(os.path.basename(path))[0]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(vertices.tolist(), [], faces)
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)


def _run_importer(path: str, suffix: str, facts: MeshFileFacts) -> None:
    axes = {"forward_axis": "Y", "up_axis": "Z", "global_scale": 1.0}
    if suffix == ".obj":
        with obj_import_path(path, facts.material_libraries) as import_path:
            bpy.ops.wm.obj_import(filepath=import_path, **axes)
    elif suffix == ".ply":
        bpy.ops.wm.ply_import(filepath=path, **axes)
    elif suffix == ".stl":
        bpy.ops.wm.stl_import(filepath=path, use_scene_unit=False, **axes)
    elif suffix in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=path)
    elif suffix == ".fbx":
        with fbx_light_settings_compat():
            bpy.ops.import_scene.fbx(filepath=path, use_manual_orientation=True, axis_forward="Y",
                                     axis_up="Z", global_scale=1.0)
    elif suffix == ".off":
        _import_off(path, facts)


@contextlib.contextmanager
def fbx_light_settings_compat():
    """Let Blender 5.0's FBX importer read files with lights (e.g. assimp's spider.fbx).

    It sets ``light.cycles.cast_shadow``, which 5.0's Cycles no longer has (shadows moved to
    ``light.use_shadow``, which the importer also sets), and fails with ``'CyclesLightSettings' object
    has no attribute 'cast_shadow'``.  While it runs, the settings get a stand-in property that
    nothing reads; it is removed afterwards.  Blenders whose Cycles has the property are untouched.
    """
    light = bpy.data.lights.new("DepthViews FBX compat probe", "POINT")
    settings = type(getattr(light, "cycles", None))   # the Cycles add-on's PropertyGroup class
    bpy.data.lights.remove(light)
    if not hasattr(settings, "bl_rna") or "cast_shadow" in settings.bl_rna.properties:
        yield
        return
    settings.cast_shadow = bpy.props.BoolProperty(name="Cast Shadow (FBX importer stand-in)", default=True)
    try:
        yield
    finally:
        del settings.cast_shadow


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
        with importer_log_captured():
            bpy.ops.wm.open_mainfile(filepath=path, load_ui=False, use_scripts=False)
    except RuntimeError as error:
        raise DepthViewsError(f"{path}: Blender cannot open this .blend file ({_first_line(error)})") from None
    scene = bpy.context.scene
    return LoadedInput(path, scene, render_geometry_objects(scene), scene_units(scene),
                       missing_textures=resolve_images(path))


def scene_units(scene) -> str:
    """How a Blender scene's lengths are meant, as written to cameras.json ``units``."""
    units = scene.unit_settings
    if units.system == "NONE":
        return "Blender units"
    return f"Blender {units.system.lower()} units, unit scale {units.scale_length:g}"


def _first_line(error: BaseException) -> str:
    """The line of a Blender operator error that says what went wrong.

    For a Python importer that raised, ``str(error)`` is a whole traceback ending in a
    ``Location: .../bpy/ops.py`` line; the exception line just before it is the useful one.
    """
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Location:")]
    if not lines:
        return type(error).__name__
    line = lines[-1]
    return (line[len("Error: "):] if line.startswith("Error: ") else line)[:200]


@contextlib.contextmanager
def importer_log_captured():
    """Hold back what an importer prints to stderr while it runs.

    Blender prints a whole Python traceback when an importer add-on raises, before ``bpy.ops``
    raises the RuntimeError that becomes our one-line error.  Both file descriptor 2 (C code) and
    ``sys.stderr`` (Python tracebacks) are held back; the text is replayed to stderr when the import
    succeeds (warnings stay visible) and dropped when it fails.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to hold back
        yield
        return
    python_log = io.StringIO()
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        failed = True
        try:
            with contextlib.redirect_stderr(python_log):
                yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if not failed:
                log.seek(0)
                text = log.read().decode("utf-8", errors="replace") + python_log.getvalue()
                if text:
                    sys.stderr.write(text)
                    sys.stderr.flush()


def load_input(path) -> LoadedInput:
    """Reset Blender and load ``path`` (a mesh file or a .blend) with world = the file's own frame.

    A mesh file is read once by the guard (:func:`.mesh_guard.guard_mesh_file`), which refuses what
    the importer would crash on, hang on or silently alter and hands on what the import needs (an
    OBJ's material libraries, an OFF's mesh); then Blender's importer reads it: at most two opens.
    Raises :class:`DepthViewsError` naming the file when it is missing, of an unsupported type,
    refused by the guard, or when the importer fails or brings in no geometry.
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
    facts = guard_mesh_file(path)  # refuses files the importer would crash or hang on, or silently alter
    reset_blender()
    before = set(bpy.data.objects)
    try:
        with importer_log_captured():
            _run_importer(path, suffix, facts)
    except RuntimeError as error:
        raise DepthViewsError(f"{path}: Blender's importer failed ({_first_line(error)})") from None
    imported = [obj for obj in bpy.data.objects if obj not in before]
    if suffix in (".glb", ".gltf"):
        transform_root_objects(imported, GLTF_FILE_TO_BLENDER.inverted())
    scene = bpy.context.scene
    shown = rendered_collections(scene)
    # Only what renders: glTF's bone shapes, for one, sit in a collection hidden from renders.
    objects = [o for o in imported if o.type in GEOMETRY_OBJECT_TYPES and not o.hide_render
               and any(c in shown for c in o.users_collection)]
    return LoadedInput(path, scene, objects, missing_textures=resolve_images(path))


def rendered_collections(scene) -> set:
    """The collections of ``scene`` whose objects can render: not hidden from renders (nor any
    collection above them) and not excluded from the first view layer."""
    shown = set()

    def walk(layer_collection):
        for child in layer_collection.children:
            if not child.exclude and not child.collection.hide_render:
                shown.add(child.collection)
                walk(child)

    shown.add(scene.collection)
    walk(scene.view_layers[0].layer_collection)
    return shown


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
    vertices, n_faces, _ = world_geometry_summary(objects)
    return vertices, n_faces


def world_geometry_summary(objects) -> tuple[np.ndarray, int, int]:
    """``(vertices, n_faces, n_triangles_with_area)`` of the evaluated ``objects``, in world space.

    ``vertices`` is float64 (N, 3); a triangle has area when its doubled area (computed in float64
    from the world positions) exceeds 1e-12 of the squared size of the whole geometry.
    """
    depsgraph = bpy.context.evaluated_depsgraph_get()
    chunks, triangle_chunks, n_faces = [], [], 0
    for obj in objects:
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        try:
            coords = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
            mesh.vertices.foreach_get("co", coords)
            n_faces += len(mesh.polygons)
            mesh.calc_loop_triangles()
            triangles = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int64)
            mesh.loop_triangles.foreach_get("vertices", triangles)
        finally:
            evaluated.to_mesh_clear()
        matrix = np.array(evaluated.matrix_world, dtype=np.float64)
        coords = coords.reshape(-1, 3)
        chunks.append(coords @ matrix[:3, :3].T + matrix[:3, 3])
        triangle_chunks.append(triangles.reshape(-1, 3) + sum(len(chunk) for chunk in chunks[:-1]))
    vertices = np.concatenate(chunks) if chunks else np.empty((0, 3))
    triangles = np.concatenate(triangle_chunks) if triangle_chunks else np.empty((0, 3), np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        a, b, c = (vertices[triangles[:, i]] for i in range(3))
        doubled_area = np.linalg.norm(np.cross(b - a, c - a), axis=1)
        size = float(np.ptp(vertices, axis=0).max()) if len(vertices) else 0.0
        n_with_area = int(np.count_nonzero(doubled_area > 1e-12 * size * size))
    return vertices, n_faces, n_with_area


MAX_COORDINATE = 1e15
"""Largest coordinate magnitude (scene units) Blender's 32-bit renderer places correctly; beyond
it (measured: 1e17 with --normalize) the depth maps come out empty."""


def checked_geometry(loaded: LoadedInput) -> np.ndarray:
    """World-space vertices of ``loaded``, after refusing inputs that cannot give a depth map.

    Raises :class:`DepthViewsError` for no geometry, no faces (points- or lines-only files), faces
    that all have zero area, NaN/infinite coordinates and coordinates beyond
    :data:`MAX_COORDINATE`, with the file named.
    """
    if not loaded.objects:
        raise DepthViewsError(f"{loaded.path}: no mesh was found in the file (empty or unreadable)")
    vertices, n_faces, n_with_area = world_geometry_summary(loaded.objects)
    if n_faces == 0:
        raise DepthViewsError(
            f"{loaded.path}: the mesh has no faces ({len(vertices)} vertices, 0 faces); "
            "points-only and lines-only files have no surface to render")
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise DepthViewsError(
            f"{loaded.path}: {int(bad.sum())} of {len(vertices)} vertices have NaN or infinite coordinates")
    largest = float(np.abs(vertices).max())
    if largest > MAX_COORDINATE:
        raise DepthViewsError(
            f"{loaded.path}: coordinates reach {largest:.3g} scene units; Blender's 32-bit renderer loses "
            f"geometry beyond {MAX_COORDINATE:g} (rescale the file)")
    if n_with_area == 0:
        raise DepthViewsError(
            f"{loaded.path}: all {n_faces} faces have zero area (degenerate: collinear or repeated "
            "vertices), so there is no surface to render")
    return vertices
