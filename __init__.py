"""Depth Views: metric depth maps of meshes from cameras on a sphere, rendered with Blender.

Importing the package needs no ``bpy``: the readers (``depth_views.exr_io``, ``depth_views.cameras``,
``depth_views.camera_files``) work in any Python with numpy and OpenEXR.  ``register()`` and
``unregister()`` make it a Blender add-on; they import the Blender-side modules only when called.
"""

bl_info = {
    "name": "Depth Views",
    "author": "Depth Views developers",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "View3D > Sidebar > Depth Views",
    "description": "Render metric depth maps (true distances) of objects from cameras on a sphere",
    "category": "Render",
}

__version__ = "0.1.0"


def register():
    """Register the add-on's properties, operators and panels with Blender."""
    from . import addon

    addon.register()


def unregister():
    """Remove everything :func:`register` added."""
    from . import addon

    addon.unregister()
