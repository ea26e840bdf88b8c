"""Depth Views: metric depth maps of meshes from cameras on a sphere, rendered with Blender.

The supported Python API is :mod:`depth_views.api`, also reachable from here
(``from depth_views import RenderOptions, render_mesh, read_depth, DepthViews``); the other modules are
internal.  Importing the package needs no ``bpy``: the readers work in any Python with numpy and
OpenEXR, and the rendering functions import Blender when first called.  ``register()`` and
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


def __getattr__(name):
    """The front door: ``depth_views.X`` for every name of :mod:`depth_views.api`, imported on first use
    (so that loading the add-on, or ``import depth_views``, imports nothing else)."""
    import os

    folder = os.path.dirname(__file__)
    submodule = os.path.exists(os.path.join(folder, name + ".py")) or os.path.isdir(os.path.join(folder, name))
    if not name.startswith("_") and not submodule:   # ``from . import addon`` asks here first: not the API
        from importlib import import_module

        api = import_module(".api", __name__)
        if name in api.__all__:
            return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
