"""Stage 2, inputs: mesh files into the scene, in the file's own frame.

- :mod:`.mesh_guard`: one read of a mesh file *before* Blender's importer (structure, counts against
  the size, non-finite vertices, hostile headers; an OBJ's material libraries), one module per format,
  and the OFF reader (Blender has no importer for it) - pure Python, no bpy;
- :mod:`.scene_import`: the guard, then Blender's importers, the frame fix-ups and scene reset (needs bpy);
- :mod:`.textures`: finding material libraries and textures the file names wrongly (needs bpy).
"""
