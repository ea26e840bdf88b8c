"""Small meshes with exactly known geometry, written with trimesh in every format we read."""

from __future__ import annotations

import os

import numpy as np

# An asymmetric object: a box 1 x 2 x 3 off the origin with a tetrahedral spike on its +X face,
# so any swapped or flipped axis moves some surface.
BOX_MIN = np.array([0.25, 0.5, 1.0])
BOX_SIZE = np.array([1.0, 2.0, 3.0])


def asymmetric_mesh():
    import trimesh

    box = trimesh.creation.box(extents=BOX_SIZE)
    box.apply_translation(BOX_MIN + BOX_SIZE / 2)
    x = BOX_MIN[0] + BOX_SIZE[0]
    spike_vertices = np.array([[x, 0.9, 1.4], [x, 1.9, 1.4], [x, 0.9, 2.9], [x + 1.5, 1.1, 1.8]])
    spike_faces = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [2, 0, 3]])
    spike = trimesh.Trimesh(spike_vertices, spike_faces, process=False)
    return trimesh.util.concatenate([box, spike])


def tilted_plane(angle_x_deg=30.0, angle_y_deg=-20.0, size=2.0, offset=(0.1, -0.2, 0.3)):
    """A square of side ``size`` tilted about X then Y, moved by ``offset``; two triangles."""
    import trimesh

    half = size / 2
    vertices = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]], float)
    rotation = (trimesh.transformations.rotation_matrix(np.radians(angle_y_deg), [0, 1, 0])
                @ trimesh.transformations.rotation_matrix(np.radians(angle_x_deg), [1, 0, 0]))
    vertices = vertices @ rotation[:3, :3].T + np.asarray(offset)
    return trimesh.Trimesh(vertices, [[0, 1, 2], [0, 2, 3]], process=False)


def write_mesh(mesh, path) -> str:
    """Export ``mesh`` to ``path`` (format from the suffix) and return the path as a string."""
    mesh.export(str(path))
    return str(path)


def write_blend(mesh, path) -> str:
    """Save ``mesh`` as the only object of a .blend file (Blender world = mesh coordinates)."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    data = bpy.data.meshes.new("mesh")
    data.from_pydata(mesh.vertices.tolist(), [], mesh.faces.tolist())
    obj = bpy.data.objects.new("mesh", data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return str(path)


def box_obj(path, size=(1.0, 1.0, 1.0), offset=(0.0, 0.0, 0.0)) -> str:
    """An axis-aligned box as a plain OBJ (8 vertices, 12 triangles); needs no trimesh."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    corners = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    faces = [(1, 3, 4, 2), (5, 6, 8, 7), (1, 2, 6, 5), (3, 7, 8, 4), (1, 5, 7, 3), (2, 4, 8, 6)]
    with open(path, "w") as stream:
        for corner in corners:
            stream.write("v %g %g %g\n" % tuple(o + c * s for c, s, o in zip(corner, size, offset)))
        for a, b, c, d in faces:
            stream.write(f"f {a} {b} {c}\nf {a} {c} {d}\n")
    return str(path)
