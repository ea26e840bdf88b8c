"""Stage 2, inputs: mesh files into the scene, in the file's own frame.

- :mod:`.mesh_check` and :mod:`.mesh_scan`: guards that read a file *before* Blender does (size,
  counts, non-finite vertices, hostile headers) - pure Python, no bpy;
- :mod:`.off_format`: the OFF reader (Blender has no importer for it) - pure Python;
- :mod:`.scene_import`: Blender's importers, the frame fix-ups and scene reset (needs bpy).
"""
